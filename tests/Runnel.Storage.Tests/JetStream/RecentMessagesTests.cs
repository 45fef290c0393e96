using Runnel.Storage.JetStream;

namespace Runnel.Storage.Tests.JetStream;

/// <summary>The window of a shard's newest messages stays within its bounds and forgets what retention removed.</summary>
public class RecentMessagesTests
{
    private static ShardMessage Message(ulong sequence, int bytes) => new(sequence, sequence * 10, 10, 1000, false, new byte[bytes]);

    [Fact]
    public void Keeps_the_newest_messages_within_count_and_bytes()
    {
        var recent = new RecentMessages();
        for (ulong s = 1; s <= RecentMessages.MaxMessages + 5; s++)
            recent.Add(Message(s, 100));
        Assert.Null(recent.Get(5)); // the oldest went
        Assert.NotNull(recent.Get(6));
        Assert.NotNull(recent.Get(RecentMessages.MaxMessages + 5));

        recent.Add(Message(100, RecentMessages.MaxBytes / 2));
        recent.Add(Message(101, RecentMessages.MaxBytes / 2));
        Assert.Null(recent.Get(RecentMessages.MaxMessages + 5)); // made room in bytes
        Assert.NotNull(recent.Get(100));
        Assert.NotNull(recent.Get(101));

        recent.Add(Message(102, RecentMessages.MaxBytes + 1)); // larger than the whole window: not kept
        Assert.Null(recent.Get(102));
        Assert.NotNull(recent.Get(101));
    }

    [Fact]
    public void Forgets_what_retention_removed_and_keeps_the_rest()
    {
        var recent = new RecentMessages();
        for (ulong s = 1; s <= 5; s++)
            recent.Add(Message(s, 10));
        recent.RemoveBelow(4);
        Assert.Null(recent.Get(3));
        Assert.Equal(4UL, recent.Get(4)!.Sequence);
        Assert.Equal(5UL, recent.Get(5)!.Sequence);
        recent.Add(Message(5, 10)); // told twice: kept once
        for (ulong s = 6; s < 6 + RecentMessages.MaxMessages - 2; s++)
            recent.Add(Message(s, 10));
        Assert.NotNull(recent.Get(4)); // exactly at the bound: the duplicate took no place
    }
}
