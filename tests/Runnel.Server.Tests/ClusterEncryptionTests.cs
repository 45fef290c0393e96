using System.Text;

namespace Runnel.Server.Tests;

/// <summary>Encryption at rest on the cluster backend: two nodes with the same master key; a record sealed through one is
/// read through the other, and JetStream's files on disk hold the plaintext records but not the sealed one.</summary>
public sealed partial class ClusterServerTests
{
    [Fact(Timeout = 120000)]
    public async Task An_encrypted_streams_records_are_sealed_in_JetStream_and_read_through_any_node()
    {
        string keyFile = Path.Combine(Path.GetTempPath(), "runnel-cluster-key-" + Guid.NewGuid().ToString("N"));
        File.WriteAllBytes(keyFile, System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var (a, aClient, _) = await NodeAsync(o => o with { MasterKeyFile = keyFile });
        var (b, bClient, _) = await NodeAsync(o => o with { MasterKeyFile = keyFile });
        await using var nodes = new TwoNodes(a, aClient, b, bClient);
        try
        {
            string stream = ServerFixture.UniqueName("sealed");
            string plain = "plain-" + Guid.NewGuid().ToString("N"), secret = "secret-" + Guid.NewGuid().ToString("N");
            await nodes.A.OkAsync("CreateStream", $$"""{"StreamName":"{{stream}}","ShardCount":1}""");
            await nodes.A.OkAsync("PutRecord", $$"""{"StreamName":"{{stream}}","PartitionKey":"k","Data":"{{B64(plain)}}"}""");
            await nodes.A.OkAsync("StartStreamEncryption", $$"""{"StreamName":"{{stream}}","EncryptionType":"KMS","KeyId":"alias/aws/kinesis"}""");
            var put = await nodes.A.OkAsync("PutRecord", $$"""{"StreamName":"{{stream}}","PartitionKey":"{{secret}}","Data":"{{B64(secret)}}"}""");
            Assert.Equal("KMS", put.GetProperty("EncryptionType").GetString());

            Assert.Equal([plain, secret], await ReadAllAsync(nodes.B, stream));
            var summary = (await nodes.B.OkAsync("DescribeStreamSummary", $$"""{"StreamName":"{{stream}}"}""")).GetProperty("StreamDescriptionSummary");
            Assert.Equal("alias/aws/kinesis", summary.GetProperty("KeyId").GetString());

            // JetStream writes its blocks behind the acknowledgement: wait until the plaintext record is on disk, then look.
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (!StoredByNats(plain) && DateTime.UtcNow < deadline)
                await Task.Delay(200);
            Assert.True(StoredByNats(plain), "the plaintext record never reached JetStream's files");
            Assert.False(StoredByNats(secret), "the sealed record lies in plaintext in JetStream's files");
        }
        finally
        {
            File.Delete(keyFile);
        }
    }

    /// <summary>Whether any file of the NATS servers' stores holds <paramref name="text"/> in UTF-8.</summary>
    private bool StoredByNats(string text)
    {
        byte[] needle = Encoding.UTF8.GetBytes(text);
        foreach (string file in Directory.EnumerateFiles(nats.Cluster.Root, "*.blk", SearchOption.AllDirectories))
        {
            try
            {
                if (File.ReadAllBytes(file).AsSpan().IndexOf(needle) >= 0)
                    return true;
            }
            catch (IOException)
            {
                // a block being compacted away
            }
        }
        return false;
    }
}
