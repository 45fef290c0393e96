using System.Buffers.Binary;
using Microsoft.Data.Sqlite;

namespace Runnel.Storage.Metadata;

/// <summary>The rows of one table that could be read from a damaged database.</summary>
/// <param name="Rows">Each row as column name → raw value (long, double, string, byte[] or DBNull).</param>
/// <param name="UnreadableRegions">How many runs of rows were skipped because SQLite could not read them (their count is unknown).</param>
/// <param name="FirstError">What SQLite said about the first unreadable run, if any.</param>
public sealed record SalvagedTable(IReadOnlyList<IReadOnlyDictionary<string, object>> Rows, int UnreadableRegions, string? FirstError);

/// <summary>
/// Reads what can be read from a damaged SQLite file, for <see cref="MetadataRepair"/>. Works on a scratch
/// copy only: it rewrites header bytes and SQLite may write while reading.
/// </summary>
internal static class MetadataSalvage
{
    private static readonly byte[] Magic = "SQLite format 3\0"u8.ToArray();
    // Microsoft.Data.Sqlite's page size; used when the header's own value is unusable.
    private const int DefaultPageSize = 4096;

    /// <summary>
    /// Restores the header fields whose correct value is known (the magic string, fixed payload fractions,
    /// a valid page size, journal mode, encoding, the page count) so that a flipped header byte costs
    /// nothing. Returns the offsets it changed.
    /// </summary>
    public static List<int> RepairHeader(string databasePath)
    {
        var changed = new List<int>();
        using var file = new FileStream(databasePath, FileMode.Open, FileAccess.ReadWrite);
        if (file.Length < 100)
            return changed;
        var header = new byte[100];
        file.ReadExactly(header);
        var original = (byte[])header.Clone();
        Magic.CopyTo(header, 0);
        int pageSize = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(16)) is var p && p == 1 ? 65536 : p;
        if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) != 0 || file.Length % pageSize != 0)
        {
            pageSize = DefaultPageSize;
            BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(16), DefaultPageSize);
        }
        if (header[18] is not (1 or 2)) header[18] = 2; // file format write version: 2 is WAL
        if (header[19] is not (1 or 2)) header[19] = 2;
        header[20] = 0; // reserved bytes per page: Runnel never uses any
        header[21] = 64; // max embedded payload fraction: must be 64
        header[22] = 32; // min embedded payload fraction: must be 32
        header[23] = 32; // leaf payload fraction: must be 32
        // The page count is trusted only when "version valid for" (92) equals the change counter (24).
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(28), (uint)(file.Length / pageSize));
        header.AsSpan(24, 4).CopyTo(header.AsSpan(92));
        if (BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(44)) is < 1 or > 4)
            BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(44), 4); // schema format
        if (BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(56)) is < 1 or > 3)
            BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(56), 1); // text encoding: UTF-8
        header.AsSpan(72, 20).Clear(); // reserved for expansion: must be zero
        for (int i = 0; i < header.Length; i++)
            if (header[i] != original[i])
                changed.Add(i);
        if (changed.Count > 0)
        {
            file.Position = 0;
            file.Write(header);
        }
        return changed;
    }

    /// <summary>
    /// True only when the schema can be read and has no such table (a file from before the table existed);
    /// when the schema itself is unreadable the caller reads the table anyway and counts what fails.
    /// </summary>
    public static bool TableIsMissing(SqliteConnection connection, string table)
    {
        try
        {
            using var cmd = connection.CreateCommand();
            cmd.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $name;";
            cmd.Parameters.AddWithValue("$name", table);
            return (long)cmd.ExecuteScalar()! == 0;
        }
        catch (SqliteException)
        {
            return false;
        }
    }

    /// <summary>
    /// Every readable row of <paramref name="table"/>, in rowid order. When SQLite fails on a row or a page,
    /// the read resumes at the smallest rowid after it that reads again (found by doubling, then bisecting,
    /// the distance: a seek goes through the interior pages, so it can step over a damaged leaf).
    /// </summary>
    public static SalvagedTable ReadTable(SqliteConnection connection, string table)
    {
        var rows = new List<IReadOnlyDictionary<string, object>>();
        int regions = 0;
        string? firstError = null;
        // Rowids start at 1 in every table here (SQLite's own and the stream-id sequence), so the search for
        // readable rows after a damaged one covers 0..2^63 by doubling.
        long next = 0;
        while (true)
        {
            try
            {
                using var cmd = connection.CreateCommand();
                cmd.CommandText = $"SELECT rowid, * FROM \"{table}\" WHERE rowid >= $from ORDER BY rowid;";
                cmd.Parameters.AddWithValue("$from", next);
                using var r = cmd.ExecuteReader();
                while (r.Read())
                {
                    var values = new object[r.FieldCount];
                    r.GetValues(values);
                    var row = new Dictionary<string, object>(StringComparer.OrdinalIgnoreCase);
                    for (int i = 1; i < values.Length; i++)
                        row[r.GetName(i)] = values[i];
                    rows.Add(row);
                    long rowid = (long)values[0];
                    if (rowid == long.MaxValue)
                        return new SalvagedTable(rows, regions, firstError);
                    next = rowid + 1;
                }
                return new SalvagedTable(rows, regions, firstError);
            }
            catch (SqliteException e)
            {
                regions++;
                firstError ??= e.Message;
                if (FirstReadableAfter(connection, table, next) is not { } resume)
                    return new SalvagedTable(rows, regions, firstError);
                next = resume;
            }
        }
    }

    private static long? FirstReadableAfter(SqliteConnection connection, string table, long failing)
    {
        long low = failing, step = 1;
        long? high = null;
        while (high is null)
        {
            if (failing > long.MaxValue - step)
                return null;
            long candidate = failing + step;
            if (CanRead(connection, table, candidate))
                high = candidate;
            else
                low = candidate;
            if (step > long.MaxValue / 2)
                return high;
            step *= 2;
        }
        long h = high.Value;
        while (h - low > 1)
        {
            long mid = low + ((h - low) / 2);
            if (CanRead(connection, table, mid))
                h = mid;
            else
                low = mid;
        }
        return h;
    }

    /// <summary>True when the first row at or after <paramref name="from"/> (or the absence of one) can be read.</summary>
    private static bool CanRead(SqliteConnection connection, string table, long from)
    {
        try
        {
            using var cmd = connection.CreateCommand();
            cmd.CommandText = $"SELECT rowid, * FROM \"{table}\" WHERE rowid >= $from ORDER BY rowid LIMIT 1;";
            cmd.Parameters.AddWithValue("$from", from);
            using var r = cmd.ExecuteReader();
            if (r.Read())
                r.GetValues(new object[r.FieldCount]);
            return true;
        }
        catch (SqliteException)
        {
            return false;
        }
    }
}
