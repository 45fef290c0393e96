namespace Runnel.Storage.Tests.Contract;

// Every IShardLog implementation runs the behavioural suite from here: one line each. A durable
// implementation (one that keeps its records across Dispose and Open) derives from
// DurableShardLogContractTests, which adds the reopen tests; any other derives from ShardLogContractTests.

public sealed class EmbeddedShardLogTests() : DurableShardLogContractTests(new EmbeddedShardLogFactory());

// The JetStream log at R3 on a three-node cluster of real nats-server processes, shared with the JetStream tests.
[Collection(Runnel.Storage.Tests.JetStream.NatsClusterCollection.Name)]
public sealed class JetStreamShardLogTests(Runnel.Storage.Tests.JetStream.NatsClusterFixture nats)
    : DurableShardLogContractTests(new JetStreamShardLogFactory(nats));

// The embedded log behind encryption at rest, every append sealed: what the suite sees must not change.
public sealed class EncryptedShardLogTests() : DurableShardLogContractTests(new EncryptedShardLogFactory());
