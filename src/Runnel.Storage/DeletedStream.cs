using System.Globalization;

namespace Runnel.Storage;

/// <summary>The one error for a shard log asked of a stream that was deleted (stream ids are never reused, so it never
/// opens again); the server answers it as ResourceNotFoundException.</summary>
public static class DeletedStream
{
    public static ObjectDisposedException Error(long streamId) =>
        new(string.Create(CultureInfo.InvariantCulture, $"stream {streamId}"), "The stream was deleted.");
}
