using System.Globalization;
using Runnel.Client.Leases;

namespace Runnel.Client.Tests.Fleet;

/// <summary>
/// One worker's hold of one shard, from its <c>init</c> line to its last line: what it was given in order, its last
/// journaled checkpoint, and how it ended (shard end, lease lost, shutdown, or nothing: the worker was killed or still runs).
/// </summary>
internal sealed class Tenure(string worker, string shard, long startTicks)
{
    public string Worker { get; } = worker;

    public string Shard { get; } = shard;

    public long StartTicks { get; } = startTicks;

    public List<(ExtendedSequenceNumber Position, string Data, long Ticks)> Given { get; } = [];

    public ExtendedSequenceNumber? LastCheckpoint { get; set; }

    /// <summary>The time of the <c>end</c> line followed by a stored SHARD_END checkpoint.</summary>
    public long? EndedTicks { get; set; }

    public long? EndingTicks { get; set; }

    public bool Lost { get; set; }

    public bool ShutDown { get; set; }

    /// <summary>Whether a record given here may be given again by the next holder: it came after the last checkpoint
    /// this journal shows, and the tenure ended without one covering it (the worker was killed or lost the lease).</summary>
    public bool MayRepeat((ExtendedSequenceNumber Position, string Data, long Ticks) given, bool killed) =>
        (killed || Lost) && (LastCheckpoint is not { } checkpoint || given.Position > checkpoint);
}

/// <summary>Reads the journals that tests/Runnel.Client.FleetWorker writes (the format is in its FleetJournal).</summary>
internal static class FleetJournalReader
{
    /// <summary>The tenures of one journal in the order they began. A torn last line (a SIGKILL mid-write) is left out.</summary>
    public static List<Tenure> Read(string path)
    {
        var tenures = new List<Tenure>();
        if (!File.Exists(path))
            return tenures;
        string text;
        using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        using (var reader = new StreamReader(file))
            text = reader.ReadToEnd();
        var current = new Dictionary<string, Tenure>();
        var lines = text.Split('\n');
        foreach (var line in lines.Take(lines.Length - 1))
        {
            var f = line.Split('\t');
            long ticks = long.Parse(f[0], CultureInfo.InvariantCulture);
            string kind = f[1], worker = f[2], shard = f[3];
            if (kind == "init")
            {
                var tenure = new Tenure(worker, shard, ticks);
                current[shard] = tenure;
                tenures.Add(tenure);
                continue;
            }
            if (!current.TryGetValue(shard, out var held))
            {
                // A processor may hear of a lease lost before it was initialized; there is nothing of it to check.
                if (kind is "lost" or "shutdown")
                    continue;
                throw new InvalidDataException($"{path}: {kind} of {shard} before its init line");
            }
            switch (kind)
            {
                case "record":
                    held.Given.Add((new ExtendedSequenceNumber(f[4], long.Parse(f[5], CultureInfo.InvariantCulture)), f[6], ticks));
                    break;
                case "checkpoint" when f[4] == "SHARD_END":
                    held.LastCheckpoint = ExtendedSequenceNumber.ShardEnd;
                    held.EndedTicks = held.EndingTicks;
                    break;
                case "checkpoint":
                    held.LastCheckpoint = new ExtendedSequenceNumber(f[4], long.Parse(f[5], CultureInfo.InvariantCulture));
                    break;
                case "end":
                    held.EndingTicks = ticks;
                    break;
                case "lost":
                    held.Lost = true;
                    break;
                case "shutdown":
                    held.ShutDown = true;
                    break;
                default:
                    throw new InvalidDataException($"{path}: unknown line {line}");
            }
        }
        return tenures;
    }
}
