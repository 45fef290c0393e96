using Runnel.DynamoDb.Tables;
using Runnel.Storage.Metadata;

namespace Runnel.DynamoDb.Service;

/// <summary>
/// DynamoDB as the handlers see it: the tables, items, reads and transactions over one metadata store, the settings
/// and the one clock. Knows nothing of HTTP. Thread-safe.
/// </summary>
public sealed class DynamoDbService
{
    public DynamoDbService(IMetadataStore metadata, DynamoDbOptions options, TimeProvider clock)
    {
        var store = new TableStore(metadata);
        Options = options;
        Clock = clock;
        Tables = new TableService(store, options, clock);
        Items = new ItemService(store);
        Reads = new ReadService(store);
        Transactions = new TransactionService(store);
    }

    public DynamoDbOptions Options { get; }
    public TimeProvider Clock { get; }
    public TableService Tables { get; }
    public ItemService Items { get; }
    public ReadService Reads { get; }
    public TransactionService Transactions { get; }
}
