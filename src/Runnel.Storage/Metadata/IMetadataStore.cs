using Runnel.Core.Model;

namespace Runnel.Storage.Metadata;

/// <summary>
/// Where streams, shards, tags, registered consumers, settings, counters, secrets and other services' documents are kept: SQLite in the
/// data directory (<see cref="MetadataStore"/>) or JetStream key-value buckets for a cluster
/// (Runnel.Storage.JetStream). Callers keep the authoritative in-memory copy; a store persists it. Every
/// implementation passes the metadata contract suite (tests/Runnel.Storage.Tests/Contract). Thread-safe.
/// </summary>
public interface IMetadataStore : IDisposable
{
    /// <summary>Where the metadata lives, as log messages name it (a file path, or a bucket and its servers).</summary>
    string Location { get; }

    /// <summary>A random secret that survives restarts (it signs shard iterators), created on first use.</summary>
    byte[] GetOrCreateSecret(string name, int length);

    /// <summary>A setting stored with <see cref="WriteSetting"/>, or null when there is none.</summary>
    byte[]? ReadSetting(string name);

    /// <summary>Stores a setting (a blob under a name), replacing what was there.</summary>
    void WriteSetting(string name, byte[] value);

    /// <summary>The next value of a named counter that never goes back, even across restarts.</summary>
    long NextSequence(string name);

    /// <summary>
    /// Writes a stream with its shards and tags at once, replacing what was stored, and returns it as stored (with
    /// its new <see cref="StreamInfo.Revision"/>). Where other nodes write too, the write happens only if the stored
    /// stream is still at <paramref name="stream"/>'s revision (absent, for a new stream); otherwise it throws
    /// <see cref="MetadataConflictException"/> with the stream as stored now, so that the caller decides again.
    /// </summary>
    StreamInfo Save(StreamInfo stream);

    /// <summary>Deletes a stream with its shards, tags and consumers.</summary>
    void Delete(long streamId);

    /// <summary>Whether a stream of this id is stored now, as the store itself has it (not a copy held in memory).</summary>
    bool Holds(long streamId);

    /// <summary>Stores a new consumer with its tags and returns it as stored (with its id and revision); a second
    /// consumer of the same name on one stream is refused.</summary>
    ConsumerInfo AddConsumer(ConsumerInfo consumer);

    /// <summary>
    /// Writes a stored consumer's status, policy and tags and returns it as stored. Where other nodes write too, the
    /// write happens only if the stored consumer is still at <paramref name="consumer"/>'s revision; otherwise it
    /// throws <see cref="ConsumerConflictException"/> with the consumer as stored now (null when it is gone).
    /// </summary>
    ConsumerInfo SaveConsumer(ConsumerInfo consumer);

    /// <summary>Deletes a consumer with its tags.</summary>
    void DeleteConsumer(long consumerId);

    /// <summary>Every document of <paramref name="kind"/>, ordered by key (ordinal).</summary>
    IReadOnlyList<MetadataDocument> ReadDocuments(string kind);

    /// <summary>One document, or null when none is stored under that kind and key.</summary>
    MetadataDocument? ReadDocument(string kind, string key);

    /// <summary>
    /// Writes a document only if the one stored is at <paramref name="expectedRevision"/> (0: none is stored), and
    /// returns it as stored, with its new revision; otherwise throws <see cref="DocumentConflictException"/> with what
    /// is stored now, so that the caller decides again. On every backend, one node or many.
    /// </summary>
    MetadataDocument WriteDocument(string kind, string key, byte[] body, ulong expectedRevision);

    /// <summary>Deletes a document; nothing happens when none is stored.</summary>
    void DeleteDocument(string kind, string key);

    /// <summary>
    /// Deletes a document only if the one stored is at <paramref name="expectedRevision"/> (0: none is stored, and then
    /// nothing happens); otherwise throws <see cref="DocumentConflictException"/> with what is stored now. The delete of
    /// a conditional write (a DynamoDB item deleted on a condition), atomic on every backend, one node or many.
    /// </summary>
    void DeleteDocument(string kind, string key, ulong expectedRevision);

    /// <summary>Reads every stream and consumer; what does not parse is reported, and the rest loads.</summary>
    LoadedMetadata Load();

    /// <summary>
    /// Reports, in the order they were made, the changes that other nodes make to metadata shared with them, from
    /// the last <see cref="Load"/> on; never this store's own. Called once, after the caller built its copy from
    /// <see cref="Load"/>; <paramref name="apply"/> runs on a thread of the store's. A store that no other node
    /// shares (SQLite in the data directory) has nothing to report and never calls it.
    /// </summary>
    void Follow(Action<MetadataChange> apply)
    {
    }

    /// <summary>
    /// Returns once every change other nodes had made when it was called has been given to <see cref="Follow"/>'s
    /// apply, or after <paramref name="budget"/>; true when caught up. A node that does not find a stream or consumer
    /// calls it before it answers that there is none, so that what a client created through one node is found through
    /// any other at once. A store that no other node shares is always caught up.
    /// </summary>
    bool CatchUp(TimeSpan budget) => true;

    /// <summary>Whether other nodes share this metadata (a cluster), so that a name this node does not know may be one
    /// another node created a moment ago.</summary>
    bool Shared => false;

    /// <summary><see cref="CatchUp"/> without holding a thread while it waits: what request handlers call.</summary>
    ValueTask<bool> CatchUpAsync(TimeSpan budget) => ValueTask.FromResult(CatchUp(budget));
}
