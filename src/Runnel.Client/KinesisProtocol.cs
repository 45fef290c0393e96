namespace Runnel.Client;

/// <summary>The encoding of Kinesis requests and answers.</summary>
public enum KinesisProtocol
{
    /// <summary>AWS JSON 1.1 (<c>application/x-amz-json-1.1</c>): blobs in base64, timestamps as epoch seconds.</summary>
    Json11,

    /// <summary>AWS CBOR 1.1 (<c>application/x-amz-cbor-1.1</c>): blobs as byte strings, timestamps under CBOR tag 1; smaller and cheaper for binary records.</summary>
    Cbor,
}
