using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace Runnel.Core.Tests;

/// <summary>
/// Core is the domain without I/O (docs/architecture.md): no files, sockets, databases, processes or clocks of
/// its own; time comes in as a value or a <see cref="TimeProvider"/>. Read from the compiled assembly's
/// metadata, so a reference added anywhere in Core, by any route, fails the build's tests.
/// </summary>
public class ArchitectureTests
{
    private static readonly string[] ForbiddenNamespaces =
    [
        "System.IO", "System.Net", "System.Data", "Microsoft.Data", "Microsoft.Win32", "System.Diagnostics.Process",
        "Microsoft.AspNetCore", "Microsoft.Extensions.Logging", "Runnel.Storage", "Runnel.Server", "Runnel.Protocol",
    ];

    // Exceptions Core may name, though their namespace is System.IO: InvalidDataException is a domain error.
    private static readonly string[] AllowedTypes = ["System.IO.InvalidDataException"];

    // The system clock read directly: Core takes the time it is given.
    private static readonly (string Type, string Member)[] ForbiddenMembers =
    [
        ("System.DateTime", "get_Now"), ("System.DateTime", "get_UtcNow"), ("System.DateTimeOffset", "get_Now"),
        ("System.DateTimeOffset", "get_UtcNow"), ("System.Environment", "get_TickCount64"), ("System.Diagnostics.Stopwatch", "GetTimestamp"),
    ];

    [Fact]
    public void Core_references_no_input_output_and_no_outer_layer()
    {
        using var reader = Open();
        var metadata = reader.GetMetadataReader();
        var found = new List<string>();
        foreach (var handle in metadata.TypeReferences)
        {
            string name = FullName(metadata, handle);
            if (ForbiddenNamespaces.Any(ns => name.StartsWith(ns + ".", StringComparison.Ordinal)) && !AllowedTypes.Contains(name))
                found.Add(name);
        }
        foreach (var handle in metadata.AssemblyReferences)
        {
            string assembly = metadata.GetString(metadata.GetAssemblyReference(handle).Name);
            if (assembly.StartsWith("Runnel.", StringComparison.Ordinal) || assembly.StartsWith("Microsoft.Data", StringComparison.Ordinal) || assembly.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal))
                found.Add("assembly " + assembly);
        }
        Assert.True(found.Count == 0, "Runnel.Core must not reference: " + string.Join(", ", found.Distinct()));
    }

    [Fact]
    public void Core_reads_no_clock_of_its_own()
    {
        using var reader = Open();
        var metadata = reader.GetMetadataReader();
        var found = new List<string>();
        foreach (var handle in metadata.MemberReferences)
        {
            var member = metadata.GetMemberReference(handle);
            if (member.Parent.Kind != HandleKind.TypeReference)
                continue;
            string type = FullName(metadata, (TypeReferenceHandle)member.Parent);
            string name = metadata.GetString(member.Name);
            if (ForbiddenMembers.Contains((type, name)))
                found.Add($"{type}.{name}");
        }
        Assert.True(found.Count == 0, "Runnel.Core must take the time it is given, not read: " + string.Join(", ", found.Distinct()));
    }

    [Fact]
    public void The_checks_see_what_they_look_for()
    {
        // The storage layer does file I/O; if these checks found nothing there, they would prove nothing for Core.
        using var stream = File.OpenRead(typeof(Runnel.Core.Model.SequenceNumber).Assembly.Location.Replace("Runnel.Core.dll", "Runnel.Core.Tests.dll", StringComparison.Ordinal));
        using var reader = new PEReader(stream);
        var metadata = reader.GetMetadataReader();
        Assert.Contains(metadata.TypeReferences, h => FullName(metadata, h).StartsWith("System.IO.", StringComparison.Ordinal));
    }

    private static PEReader Open() => new(File.OpenRead(typeof(Runnel.Core.Model.SequenceNumber).Assembly.Location));

    private static string FullName(MetadataReader metadata, TypeReferenceHandle handle)
    {
        var type = metadata.GetTypeReference(handle);
        string name = metadata.GetString(type.Name);
        if (type.ResolutionScope.Kind == HandleKind.TypeReference)
            return FullName(metadata, (TypeReferenceHandle)type.ResolutionScope) + "+" + name;
        string ns = metadata.GetString(type.Namespace);
        return ns.Length == 0 ? name : ns + "." + name;
    }
}
