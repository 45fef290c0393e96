namespace Runnel.Client.Internal;

/// <summary>
/// The CRC-32 of zlib and gzip (reflected polynomial 0xEDB88320, initial value and final XOR 0xFFFFFFFF): the
/// event-stream framing's checksums and DynamoDB's x-amz-crc32. System.IO.Hashing's, which folds with carry-less
/// multiplication where the processor has it: a fan-out consumer checks every byte it reads. Thread-safe.
/// </summary>
internal static class Crc32
{
    public static uint Compute(ReadOnlySpan<byte> bytes) => System.IO.Hashing.Crc32.HashToUInt32(bytes);
}
