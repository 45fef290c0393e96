using System.Globalization;
using Runnel.Protocol.Requests;

namespace Runnel.Protocol.Firehose;

/// <summary>The hand-written part of the Firehose shapes: how AWS shows some values in its validation messages.</summary>
public static partial class FirehoseShapes
{
    /// <summary>
    /// One record of PutRecordBatch as AWS showed it in 2019 (docs/adr/0002-firehose-api.md, "PutRecordBatch over 500
    /// records"): <c>Record(data=java.nio.HeapByteBuffer[pos=0 lim=15 cap=15])</c>, lim and cap being the decoded length.
    /// </summary>
    private static string RecordText(RequestValue record)
    {
        long length = record.Kind == RequestKind.Object && record.TryGetProperty("Data", out var data)
            && data.Kind is RequestKind.String or RequestKind.Bytes ? data.BlobLength : 0;
        string n = length.ToString(CultureInfo.InvariantCulture);
        return $"Record(data=java.nio.HeapByteBuffer[pos=0 lim={n} cap={n}])";
    }
}
