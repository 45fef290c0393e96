using Runnel.DynamoDb.Model;
using Runnel.DynamoDb.Service;

namespace Runnel.DynamoDb.Expressions;

/// <summary>Document paths applied to items: read, set, remove, and projection. Items are copied, never changed in place.</summary>
public static class Documents
{
    /// <summary>The value at <paramref name="path"/>, or null when any step of it is missing.</summary>
    public static AttributeValue? Resolve(Item? item, DocumentPath path)
    {
        if (item is null || !item.TryGetValue(path.Head, out var value))
            return null;
        for (int i = 1; i < path.Elements.Count && value is not null; i++)
        {
            var element = path.Elements[i];
            value = element.IsIndex
                ? value.Type == AttributeType.L && element.Index < value.List.Count ? value.List[element.Index] : null
                : value.Type == AttributeType.M && value.Map.TryGetValue(element.Name!, out var member) ? member : null;
        }
        return value;
    }

    /// <summary>Sets the value at a path in <paramref name="item"/> (changed in place; the caller owns it). A nested path's
    /// parent must exist; an index past a list's end appends.</summary>
    public static void Set(Item item, DocumentPath path, AttributeValue value)
    {
        if (path.IsTopLevel)
        {
            item[path.Head] = value;
            return;
        }
        if (!item.TryGetValue(path.Head, out var head))
            throw InvalidPath();
        item[path.Head] = SetIn(head, path.Elements, 1, value);
    }

    private static AttributeValue SetIn(AttributeValue container, IReadOnlyList<PathElement> elements, int at, AttributeValue value)
    {
        var element = elements[at];
        bool last = at == elements.Count - 1;
        if (element.IsIndex)
        {
            if (container.Type != AttributeType.L)
                throw InvalidPath();
            var list = container.List.ToList();
            if (element.Index >= list.Count)
            {
                if (!last)
                    throw InvalidPath();
                list.Add(value);
            }
            else
                list[element.Index] = last ? value : SetIn(list[element.Index], elements, at + 1, value);
            return AttributeValue.L(list);
        }
        if (container.Type != AttributeType.M)
            throw InvalidPath();
        var map = new Item(container.Map, StringComparer.Ordinal);
        if (last)
            map[element.Name!] = value;
        else
            map[element.Name!] = map.TryGetValue(element.Name!, out var child) ? SetIn(child, elements, at + 1, value) : throw InvalidPath();
        return AttributeValue.M(map);
    }

    /// <summary>Removes the value at a path, if there is one; a removed list element closes up the list.</summary>
    public static void Remove(Item item, DocumentPath path)
    {
        if (path.IsTopLevel)
        {
            item.Remove(path.Head);
            return;
        }
        if (item.TryGetValue(path.Head, out var head))
            item[path.Head] = RemoveIn(head, path.Elements, 1);
    }

    private static AttributeValue RemoveIn(AttributeValue container, IReadOnlyList<PathElement> elements, int at)
    {
        var element = elements[at];
        bool last = at == elements.Count - 1;
        if (element.IsIndex)
        {
            if (container.Type != AttributeType.L)
                throw InvalidPath();
            if (element.Index >= container.List.Count)
                return container;
            var list = container.List.ToList();
            if (last)
                list.RemoveAt(element.Index);
            else
                list[element.Index] = RemoveIn(list[element.Index], elements, at + 1);
            return AttributeValue.L(list);
        }
        if (container.Type != AttributeType.M)
            throw InvalidPath();
        if (!container.Map.TryGetValue(element.Name!, out var child))
            return container;
        var map = new Item(container.Map, StringComparer.Ordinal);
        if (last)
            map.Remove(element.Name!);
        else
            map[element.Name!] = RemoveIn(child, elements, at + 1);
        return AttributeValue.M(map);
    }

    /// <summary>The parts of an item that the paths name, nested as they were (list elements closed up, in order).</summary>
    public static Item Project(Item item, IReadOnlyList<DocumentPath> paths)
    {
        var result = new Item(StringComparer.Ordinal);
        foreach (var path in paths)
        {
            var value = Resolve(item, path);
            if (value is null)
                continue;
            if (path.IsTopLevel)
            {
                result[path.Head] = value;
                continue;
            }
            result[path.Head] = Merge(result.GetValueOrDefault(path.Head), item[path.Head], path.Elements, 1);
        }
        return result;
    }

    /// <summary>Adds the value at elements[at..] of <paramref name="source"/> to <paramref name="built"/> (what earlier paths took of it).</summary>
    private static AttributeValue Merge(AttributeValue? built, AttributeValue source, IReadOnlyList<PathElement> elements, int at)
    {
        if (at == elements.Count)
            return source;
        var element = elements[at];
        if (element.IsIndex)
        {
            // Elements taken so far, keyed by their index in the source, kept in order; closed up when written.
            var taken = built is { Type: AttributeType.L } ? ProjectedList.Of(built) : new SortedDictionary<int, AttributeValue>();
            taken[element.Index] = Merge(taken.GetValueOrDefault(element.Index), source.List[element.Index], elements, at + 1);
            return ProjectedList.Make(taken);
        }
        var map = built is { Type: AttributeType.M } ? new Item(built.Map, StringComparer.Ordinal) : new Item(StringComparer.Ordinal);
        map[element.Name!] = Merge(map.GetValueOrDefault(element.Name!), source.Map[element.Name!], elements, at + 1);
        return AttributeValue.M(map);
    }

    /// <summary>A projected list remembers the source indexes of its elements until the projection is done.</summary>
    private static class ProjectedList
    {
        private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<AttributeValue, SortedDictionary<int, AttributeValue>> Sources = [];

        public static SortedDictionary<int, AttributeValue> Of(AttributeValue list) =>
            Sources.TryGetValue(list, out var taken) ? new SortedDictionary<int, AttributeValue>(taken) : [];

        public static AttributeValue Make(SortedDictionary<int, AttributeValue> taken)
        {
            var list = AttributeValue.L(taken.Values.ToList());
            Sources.AddOrUpdate(list, taken);
            return list;
        }
    }

    private static DynamoDbException InvalidPath() => DynamoDbErrors.Validation("The document path provided in the update expression is invalid for update");
}
