using Mono.Cecil;
using Mono.Cecil.Cil;

namespace Runnel.Server.Tests;

/// <summary>
/// The layers of docs/architecture.md, read from the compiled server: handlers (Runnel.Server.Kinesis) and the
/// shard layer (Runnel.Server.Streams) reach storage only through its backend-neutral interface
/// (<c>IShardStore</c>, <c>IShardLog</c>, the record types), never through a type of the embedded engine in
/// <c>Runnel.Storage.Log</c> or of the cluster's in <c>Runnel.Storage.JetStream</c>, so that a backend plugs in
/// without touching them. Only the composition root (<c>Runnel.Server.Storage</c>, which <see cref="RunnelServer"/>
/// opens, and the options) names an engine. Every reference counts: signatures,
/// fields, base types, and every type, method and field an instruction names, in nested and compiler-made types too.
/// </summary>
public class ArchitectureTests
{
    private const string Engine = "Runnel.Storage.Log";
    private const string ClusterEngine = "Runnel.Storage.JetStream";

    [Theory]
    [InlineData("Runnel.Server.Kinesis")]
    [InlineData("Runnel.Server.Streams")]
    public void Handlers_and_the_shard_layer_do_not_reference_the_embedded_engine(string layer)
    {
        var found = References(layer).Where(r => r.Type.StartsWith(Engine + ".", StringComparison.Ordinal) || r.Type.StartsWith(ClusterEngine + ".", StringComparison.Ordinal)).Select(r => $"{r.From} -> {r.Type}").Distinct().ToList();
        Assert.True(found.Count == 0, $"{layer} must reach storage through Runnel.Storage's interfaces only:\n" + string.Join("\n", found));
    }

    [Fact]
    public void The_check_sees_the_references_it_looks_for()
    {
        // The composition root opens the embedded engine; if the scan did not see that, it would prove nothing above.
        Assert.Contains(References("Runnel.Server.Storage").Where(r => r.From.StartsWith("Runnel.Server.Storage.EmbeddedStorage", StringComparison.Ordinal)), r => r.Type == Engine + ".LogStore");
        Assert.Contains(References("Runnel.Server.Storage").Where(r => r.From.StartsWith("Runnel.Server.Storage.ClusterStorage", StringComparison.Ordinal)), r => r.Type == ClusterEngine + ".JetStreamShardStore");
        Assert.Contains(References("Runnel.Server.Kinesis"), r => r.Type == "Runnel.Server.Streams.StreamService");
    }

    /// <summary>Every type named by the types of <paramref name="ns"/> (exactly that namespace), with the naming type.</summary>
    private static IEnumerable<(string From, string Type)> References(string ns)
    {
        using var module = ModuleDefinition.ReadModule(typeof(RunnelServer).Assembly.Location);
        var found = new List<(string, string)>();
        foreach (var type in module.GetTypes().Where(t => NamespaceOf(t) == ns))
        {
            void Add(TypeReference? t)
            {
                if (t is null)
                    return;
                foreach (string name in Names(t))
                    found.Add((type.FullName, name));
            }
            void AddMethod(MethodReference m)
            {
                Add(m.DeclaringType);
                Add(m.ReturnType);
                foreach (var p in m.Parameters)
                    Add(p.ParameterType);
                if (m is GenericInstanceMethod g)
                    foreach (var a in g.GenericArguments)
                        Add(a);
            }
            Add(type.BaseType);
            foreach (var i in type.Interfaces)
                Add(i.InterfaceType);
            foreach (var f in type.Fields)
                Add(f.FieldType);
            foreach (var p in type.Properties)
                Add(p.PropertyType);
            foreach (var method in type.Methods)
            {
                AddMethod(method);
                if (!method.HasBody)
                    continue;
                foreach (var v in method.Body.Variables)
                    Add(v.VariableType);
                foreach (var instruction in method.Body.Instructions)
                {
                    switch (instruction.Operand)
                    {
                        case TypeReference t: Add(t); break;
                        case MethodReference m: AddMethod(m); break;
                        case FieldReference f: Add(f.DeclaringType); Add(f.FieldType); break;
                    }
                }
            }
        }
        return found;
    }

    /// <summary>The full names in a type reference: the type itself, its element type, and its generic arguments.</summary>
    private static IEnumerable<string> Names(TypeReference t)
    {
        switch (t)
        {
            case GenericInstanceType g:
                foreach (string n in Names(g.ElementType))
                    yield return n;
                foreach (var a in g.GenericArguments)
                    foreach (string n in Names(a))
                        yield return n;
                break;
            case TypeSpecification s: // arrays, by-ref, pointers
                foreach (string n in Names(s.ElementType))
                    yield return n;
                break;
            case GenericParameter:
                break;
            default:
                yield return NamespaceOf(t) + "." + t.Name;
                break;
        }
    }

    /// <summary>A nested type's namespace is its outermost declaring type's (Cecil leaves it empty).</summary>
    private static string NamespaceOf(TypeReference t)
    {
        while (t.DeclaringType is not null)
            t = t.DeclaringType;
        return t.Namespace;
    }
}
