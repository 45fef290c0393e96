using System.Text;
using System.Text.Json;
using Npgsql;
using Runnel.Firehose.Destinations;
using Runnel.Firehose.Naming;

namespace Runnel.Firehose.Delivery;

/// <summary>How a Redshift destination is reached: PostgreSQL stands in for the cluster (docs/compatibility.md).</summary>
/// <param name="Host">The PostgreSQL server (the server's <c>--redshift-endpoint</c>); the database is the JDBC URL's.</param>
public sealed record RedshiftSettings(string Host, int Port, string Database, string Username, string Password, RedshiftCopy Copy, TimeSpan RetryDuration);

/// <summary>
/// The delivery of one delivery stream to Redshift, served by PostgreSQL (docs/adr/0002-firehose-delivery.md, 8): each
/// due batch is first written to the intermediate bucket (<c>S3Configuration</c>) as an object, as Firehose stages it,
/// then loaded into the table in one transaction by PostgreSQL's <c>COPY … FROM STDIN</c>, the rows made from the
/// staged records as Redshift's COPY would make them (<see cref="RedshiftCopy"/>). A failed load is retried every
/// backoff until <c>RetryOptions.DurationInSeconds</c> (default 3600) has passed since the first failure; then the
/// batch is skipped and a manifest of its staged object is written under <c>errors/</c> in the bucket, for a manual
/// COPY, as Firehose does. Not thread-safe: one pump at a time.
/// </summary>
public sealed class RedshiftDelivery(
    string name, long version, IRecordSource source, BufferingHints hints, DeliveryPosition position, RedshiftSettings settings,
    IObjectStore staging, string stagingBucket, ObjectCompression stagingCompression, (S3Prefix Prefix, S3Prefix ErrorOutput) stagingPrefixes, Action<string> warn,
    RecordSplitter? splitter = null, Transform.TransformStage? transform = null)
    : BufferedDelivery(source, hints, position, splitter, transform)
{
    private readonly Dictionary<DeliveryBatch, (string? StagedKey, long? FirstFailureMillis, string? LastError)> _progress = new(ReferenceEqualityComparer.Instance);

    protected override DeliveryBatch? Add(SourceRecord record, long nowMillis, IReadOnlyDictionary<string, string>? lambdaKeys) => Buffers.Add("", record, nowMillis);

    protected override void Forget(DeliveryBatch batch) => _progress.Remove(batch);

    protected override async Task<Exception?> AttemptAsync(DeliveryBatch batch, int failuresBefore, long nowMillis, CancellationToken cancellationToken)
    {
        if (batch.Partition.StartsWith('\0')) // records the transformation failed: to the intermediate bucket, as error records
            return await WriteErrorsAsync(staging, stagingPrefixes.ErrorOutput, stagingCompression, name, version, batch, cancellationToken).ConfigureAwait(false);
        var progress = _progress.GetValueOrDefault(batch);
        var at = DateTimeOffset.FromUnixTimeMilliseconds(batch.OldestArrivalMillis);
        if (progress.StagedKey is null)
        {
            string key = stagingPrefixes.Prefix.Evaluate(at) + ObjectName.Suffix(name, version, at, Guid.NewGuid(), stagingCompression.Extension);
            try
            {
                await staging.WriteAsync(key, batch.Payload, stagingCompression, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return e;
            }
            _progress[batch] = progress = progress with { StagedKey = key };
        }
        if (progress.FirstFailureMillis is { } first && nowMillis - first >= settings.RetryDuration.TotalMilliseconds)
            return await SkipAsync(batch, progress.StagedKey!, progress.LastError ?? "", at, cancellationToken).ConfigureAwait(false);
        string? error = await LoadAsync(batch, cancellationToken).ConfigureAwait(false);
        if (error is null)
            return null;
        _progress[batch] = progress with { FirstFailureMillis = progress.FirstFailureMillis ?? nowMillis, LastError = error };
        if (settings.RetryDuration <= TimeSpan.Zero)
            return await SkipAsync(batch, progress.StagedKey!, error, at, cancellationToken).ConfigureAwait(false);
        return new IOException($"Loading into {settings.Copy.Table} failed ({error}); retried until {settings.RetryDuration.TotalSeconds:0} s after the first failure, then skipped with a manifest under errors/.");
    }

    /// <summary>Loads the batch's rows in one transaction; the error (Firehose's code and the database's message) if it failed.</summary>
    private async Task<string?> LoadAsync(DeliveryBatch batch, CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnectionStringBuilder
        {
            Host = settings.Host,
            Port = settings.Port,
            Database = settings.Database,
            Username = settings.Username,
            Password = settings.Password,
            Timeout = 30,
            Pooling = true,
        }.ConnectionString;
        try
        {
            await using var data = new NpgsqlSlimDataSourceBuilder(connection).Build();
            await using var db = await data.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            var columns = settings.Copy.Columns.Count > 0 ? settings.Copy.Columns : await ColumnsAsync(db, cancellationToken).ConfigureAwait(false);
            if (columns.Count == 0)
                return $"Redshift.TableNotFound: the table {settings.Copy.Table} does not exist.";
            var rows = settings.Copy.Rows(batch.Payload, columns).ToList();
            await using var transaction = await db.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            var quoted = string.Join(", ", columns.Select(Quote));
            await using (var writer = await db.BeginTextImportAsync($"COPY {QuoteTable(settings.Copy.Table)} ({quoted}) FROM STDIN", cancellationToken).ConfigureAwait(false))
            {
                foreach (var row in rows)
                    await writer.WriteLineAsync(string.Join('\t', row.Select(Escape))).ConfigureAwait(false);
            }
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (PostgresException e)
        {
            string code = e.SqlState switch
            {
                "42P01" => "Redshift.TableNotFound",
                "42703" => "Redshift.ColumnNotFound",
                "3D000" => "Redshift.DatabaseNotFound",
                "28P01" or "28000" => "Redshift.AuthenticationFailed",
                "42501" => "Redshift.InsufficientPrivilege",
                "42601" => "Redshift.SyntaxError",
                _ => "Redshift.DataLoadFailed",
            };
            return $"{code}: {e.MessageText}";
        }
        catch (Exception e) when (e is NpgsqlException or InvalidDataException or JsonException or TimeoutException or System.Net.Sockets.SocketException)
        {
            return $"{(e is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException ? "Redshift.ConnectionFailed" : "Redshift.DataLoadFailed")}: {e.Message}";
        }
    }

    private async Task<List<string>> ColumnsAsync(NpgsqlConnection db, CancellationToken cancellationToken)
    {
        var (schema, table) = settings.Copy.Table.Split('.', 2) is [var s, var t] ? (s, t) : ("public", settings.Copy.Table);
        await using var query = new NpgsqlCommand("SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position", db);
        query.Parameters.Add(new NpgsqlParameter { Value = schema });
        query.Parameters.Add(new NpgsqlParameter { Value = table });
        var columns = new List<string>();
        await using var reader = await query.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            columns.Add(reader.GetString(0));
        return columns;
    }

    /// <summary>The batch is given up: a manifest of its staged object under <c>errors/</c>, for a manual COPY … MANIFEST.</summary>
    private async Task<Exception?> SkipAsync(DeliveryBatch batch, string stagedKey, string error, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var manifest = new MemoryStream();
        using (var json = new Utf8JsonWriter(manifest))
        {
            json.WriteStartObject();
            json.WriteStartArray("entries");
            json.WriteStartObject();
            json.WriteString("url", $"s3://{stagingBucket}/{stagedKey}");
            json.WriteBoolean("mandatory", true);
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteEndObject();
        }
        string key = "errors/manifests/" + ObjectName.Suffix(name, version, at, Guid.NewGuid(), "");
        try
        {
            await staging.WriteAsync(key, manifest.ToArray(), ObjectCompression.Uncompressed, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return e;
        }
        warn($"Firehose {name}: {batch.Count} records could not be loaded into {settings.Copy.Table} within {settings.RetryDuration.TotalSeconds:0} s ({error}); the batch was skipped, its manifest is s3://{stagingBucket}/{key}.");
        return null;
    }

    private static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private static string QuoteTable(string table) => string.Join('.', table.Split('.').Select(Quote));

    /// <summary>A value in COPY's text format: \N for NULL, backslash, tab, newline and carriage return escaped.</summary>
    private static string Escape(string? value) => value is null ? "\\N"
        : new StringBuilder(value).Replace("\\", "\\\\").Replace("\t", "\\t").Replace("\n", "\\n").Replace("\r", "\\r").ToString();
}
