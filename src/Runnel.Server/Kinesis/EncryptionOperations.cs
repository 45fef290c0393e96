using System.Text.RegularExpressions;
using Runnel.Core.Errors;

namespace Runnel.Server.Kinesis;

/// <summary>
/// StartStreamEncryption and StopStreamEncryption (docs/security.md): the stream goes UPDATING for the usual delay
/// and its records written from then on are sealed at rest under a data key issued for the KMS key id given (every
/// KMS key id maps to Runnel's one master key), or stored as they are again. Keys are kept, so records from before
/// and after read back alike. The checks and their order follow observed AWS behaviour (as kinesis-mock records it):
/// the stream is found, the key id's form, KMS as the type, an ACTIVE stream.
/// </summary>
internal static partial class EncryptionOperations
{
    public static ValueTask Start(KinesisRequest r) => Change(r, start: true);

    public static ValueTask Stop(KinesisRequest r) => Change(r, start: false);

    private static ValueTask Change(KinesisRequest r, bool start)
    {
        string keyId = r.String("KeyId")!;
        string type = r.String("EncryptionType")!;
        r.Streams.Update(r.StreamName(), stream =>
        {
            CheckKeyId(keyId);
            if (type != "KMS")
                throw KinesisErrors.InvalidArgument("KMS is the only valid EncryptionType for this request");
            StreamOperations.RequireActive(r, stream);
            if (!start)
                return stream.Encryption?.Enabled == true ? r.Streams.BeginUpdate(stream with { Encryption = stream.Encryption.Stopped() }) : stream;
            var keyring = r.Streams.Keyring ?? throw KinesisErrors.InvalidArgument("This server stores records without encryption at rest.");
            var encryption = keyring.Issue(stream.Id, stream.Encryption, keyId);
            return ReferenceEquals(encryption, stream.Encryption) ? stream : r.Streams.BeginUpdate(stream with { Encryption = encryption });
        });
        r.EmptyResponse = true;
        return ValueTask.CompletedTask;
    }

    /// <summary>A KMS key as AWS names one: an alias (<c>alias/NAME</c>), a key id (a GUID), or the ARN of either.</summary>
    private static void CheckKeyId(string keyId)
    {
        if (keyId.StartsWith("arn:", StringComparison.Ordinal))
        {
            if (!KmsArn().IsMatch(keyId))
                throw KinesisErrors.InvalidArgument("Received KeyId ARN is not a properly formatted ARN");
            return;
        }
        if (!keyId.StartsWith("alias/", StringComparison.Ordinal) && !Guid.TryParseExact(keyId, "D", out _))
            throw KinesisErrors.InvalidArgument("Received KeyId is not a properly formatted Alias or GUID");
    }

    [GeneratedRegex(@"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(alias|key)/.+$")]
    private static partial Regex KmsArn();
}
