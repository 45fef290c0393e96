using Runnel.Storage.Log;

namespace Runnel.Storage.Tests;

/// <summary>The in-memory index: chunked so that no array of it is a large object, searched exactly, and a
/// snapshot never changes while the writer goes on adding.</summary>
public class SegmentIndexTests
{
    private static IndexEntry Entry(int i) => new((ulong)(i * 3), 32 + (long)i * 4096, 1_000 + i / 10);

    [Fact]
    public void Searches_agree_with_a_linear_scan_across_chunks()
    {
        var index = new SegmentIndex();
        const int count = SegmentIndex.ChunkSize * 2 + 77;
        for (int i = 0; i < count; i++)
            index.Add(Entry(i));
        var snapshot = index.Published;
        var all = Enumerable.Range(0, count).Select(Entry).ToList();
        Assert.Equal(count, snapshot.Count);
        foreach (int probe in new[] { 0, 1, 2, 3, 100, SegmentIndex.ChunkSize - 1, SegmentIndex.ChunkSize, SegmentIndex.ChunkSize * 2 + 5, count - 1, count })
        {
            ulong offset = (ulong)(probe * 3 + 1);
            Assert.Equal(all.LastOrDefault(e => e.Offset <= offset), snapshot.Floor(offset) ?? default);
            long millis = 1_000 + probe / 10;
            Assert.Equal(all.LastOrDefault(e => e.ArrivalMillis < millis), snapshot.LastBefore(millis) ?? default);
            long position = 32 + (long)probe * 4096 - 1;
            Assert.Equal(all.FirstOrDefault(e => e.Position > position), snapshot.FirstAfter(position) ?? default);
        }
        Assert.True(snapshot.Footprint < 3L * SegmentIndex.ChunkSize * SegmentIndex.EntrySize + 1);
        Assert.True(SegmentIndex.ChunkSize * SegmentIndex.EntrySize < 85_000, "a chunk must stay out of the large object heap");
    }

    [Fact]
    public void A_snapshot_does_not_change_as_the_writer_adds_and_grows_the_first_chunk()
    {
        var index = new SegmentIndex();
        for (int i = 0; i < 10; i++)
            index.Add(Entry(i));
        var early = index.Published;
        for (int i = 10; i < SegmentIndex.ChunkSize + 10; i++)
            index.Add(Entry(i));
        Assert.Equal(10, early.Count);
        Assert.Equal(Entry(9), early.Floor(ulong.MaxValue));
        Assert.Null(early.FirstAfter(Entry(9).Position));
        Assert.Equal(SegmentIndex.ChunkSize + 10, index.Published.Count);
        Assert.Equal(Entry(SegmentIndex.ChunkSize + 9), index.Published.Floor(ulong.MaxValue));
    }

    [Fact]
    public void Serialized_and_read_back_across_chunks()
    {
        var index = new SegmentIndex();
        for (int i = 0; i < SegmentIndex.ChunkSize + 3; i++)
            index.Add(Entry(i));
        var read = SegmentIndex.TryDeserialize(index.Serialize(0, 99_999, 5_000, 1 << 24), 0);
        Assert.NotNull(read);
        Assert.Equal(index.Count, read.Value.Index.Count);
        for (int i = 0; i < index.Count; i++)
            Assert.Equal(index[i], read.Value.Index[i]);
    }
}
