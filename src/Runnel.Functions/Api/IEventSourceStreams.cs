namespace Runnel.Functions.Api;

/// <summary>What the mappings' operations ask the server of a Kinesis source: whether a stream (or a registered consumer of one) exists.</summary>
public interface IEventSourceStreams
{
    /// <summary>Whether <paramref name="arn"/> names a stream of <paramref name="account"/>, or a registered consumer of one.</summary>
    bool Exists(string account, string arn);
}
