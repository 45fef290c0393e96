using System.Net.Http.Headers;
using Runnel.Core.Errors;
using Runnel.Core.Model;
using Runnel.Functions.Mappings;
using Runnel.Server.Streams;

namespace Runnel.Server.Functions;

/// <summary>
/// The on-failure destinations of event-source mappings, in Runnel's terms (docs/compatibility.md, "Lambda"): a
/// Kinesis stream of this endpoint (the record put through the same writer as PutRecord, under the shard's id as
/// partition key), or an http or https URL (the record POSTed as JSON). SQS and SNS ARNs, AWS's destinations, name
/// services Runnel does not have. Thread-safe.
/// </summary>
public sealed class FailureDestinations(StreamService streams, RecordWriter writer, HttpClient http) : IFailureDestinations
{
    public async Task<(bool Delivered, string? Reason)> SendAsync(string account, string destination, string partitionKey, byte[] record, CancellationToken cancellationToken)
    {
        if (destination.StartsWith("http://", StringComparison.Ordinal) || destination.StartsWith("https://", StringComparison.Ordinal))
        {
            try
            {
                using var content = new ByteArrayContent(record);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                using var response = await http.PostAsync(destination, content, cancellationToken).ConfigureAwait(false);
                return response.IsSuccessStatusCode ? (true, null) : (false, $"it answered HTTP {(int)response.StatusCode}");
            }
            catch (HttpRequestException e)
            {
                return (false, e.Message);
            }
        }
        var parts = destination.Split(':', 6);
        if (parts.Length == 6 && parts[2] == "kinesis" && parts[5].StartsWith("stream/", StringComparison.Ordinal))
        {
            try
            {
                var stream = writer.WritableStream(StreamNames.Qualify(parts[4], parts[5]["stream/".Length..], streams.AccountId));
                using var records = new IncomingRecords(1, record.Length);
                record.CopyTo(records.DataSpace(record.Length));
                records.Add(partitionKey, System.Text.Encoding.UTF8.GetByteCount(partitionKey), null, record.Length);
                var outcome = await writer.PutOneAsync(stream.Name, records, "PutRecord").ConfigureAwait(false);
                return outcome.ErrorCode is null ? (true, null) : (false, $"{outcome.ErrorCode}: {outcome.ErrorMessage}");
            }
            catch (KinesisException e)
            {
                return (false, $"{e.ErrorType}: {e.WireMessage}");
            }
        }
        return (false, "Runnel delivers on-failure records to a Kinesis stream of this endpoint or to an http(s) URL; SQS and SNS are not served");
    }
}
