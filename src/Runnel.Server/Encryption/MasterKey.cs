using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Runnel.Server.Encryption;

/// <summary>
/// The key that wraps every data key (docs/security.md): 32 bytes from <c>--master-key-file</c> (raw, base64 or hex),
/// else from <c>RUNNEL_MASTER_KEY</c> (base64 or hex), else a development key generated once at a path outside the data
/// directory (<c>$XDG_CONFIG_HOME/runnel/dev-master.key</c>, default <c>~/.config/runnel/</c>), with a warning. Never
/// stored beside the data: a copy of the data directory alone does not open its records. Thread-safe.
/// </summary>
public sealed class MasterKey
{
    public const int Size = 32;
    private const int NonceSize = 12, TagSize = 16;
    private readonly byte[] _key;

    private MasterKey(byte[] key, string origin)
    {
        _key = key;
        Origin = origin;
    }

    /// <summary>Where the key came from, for logs and errors (never the key).</summary>
    public string Origin { get; }

    /// <summary>
    /// The configured key, or the development key (made on first use). Throws <see cref="ArgumentException"/> with
    /// what to fix when a configured key cannot be read or is not 32 bytes, or when the development key would lie
    /// inside <paramref name="dataDir"/>.
    /// </summary>
    public static MasterKey Load(string? keyFile, string? environmentValue, string developmentFile, string? dataDir, Action<string> warn)
    {
        if (keyFile is not null)
        {
            byte[] bytes;
            try
            {
                bytes = File.ReadAllBytes(keyFile);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new ArgumentException($"--master-key-file {keyFile} could not be read ({e.Message}).");
            }
            return new MasterKey(Parse(bytes) ?? throw new ArgumentException($"--master-key-file {keyFile} must hold 32 bytes: raw, base64 or hex (make one with: head -c 32 /dev/urandom > FILE)."),
                $"--master-key-file {keyFile}");
        }
        if (!string.IsNullOrWhiteSpace(environmentValue))
            return new MasterKey(Parse(Encoding.ASCII.GetBytes(environmentValue)) ?? throw new ArgumentException("RUNNEL_MASTER_KEY must be 32 bytes in base64 or hex (make one with: head -c 32 /dev/urandom | base64)."),
                "RUNNEL_MASTER_KEY");
        string full = Path.GetFullPath(developmentFile);
        if (dataDir is not null && full.StartsWith(Path.GetFullPath(dataDir).TrimEnd('/') + "/", StringComparison.Ordinal))
            throw new ArgumentException($"The development master key {full} would lie inside the data directory, beside the data it protects: give --master-key-file or RUNNEL_MASTER_KEY.");
        if (!File.Exists(full))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            byte[] fresh = RandomNumberGenerator.GetBytes(Size);
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite; // the owner's alone
            try
            {
                using var file = new FileStream(full, options);
                file.Write(Encoding.ASCII.GetBytes(Convert.ToBase64String(fresh) + "\n"));
                file.Flush(flushToDisk: true);
            }
            catch (IOException) when (File.Exists(full))
            {
                // another server made it a moment ago: use theirs
            }
        }
        warn($"No master key is configured (--master-key-file or RUNNEL_MASTER_KEY): encrypted streams use the development key {full}. " +
            "Whoever can read that file can read them; give a production server a key of its own, kept off this disk.");
        return new MasterKey(Parse(File.ReadAllBytes(full)) ?? throw new ArgumentException($"The development master key {full} does not hold 32 bytes; delete it to have a new one made (records sealed under it are then lost)."),
            $"the development key {full}");
    }

    /// <summary>The default place of the development key: <c>$XDG_CONFIG_HOME/runnel/dev-master.key</c>, or under <c>~/.config</c>.</summary>
    public static string DefaultDevelopmentFile()
    {
        string? config = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME");
        if (string.IsNullOrEmpty(config))
            config = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config");
        return Path.Combine(config, "runnel", "dev-master.key");
    }

    /// <summary>32 bytes from raw bytes, or base64 or hex text (surrounding whitespace ignored); null otherwise.</summary>
    private static byte[]? Parse(byte[] content)
    {
        if (content.Length == Size)
            return content;
        string text = Encoding.ASCII.GetString(content).Trim();
        try
        {
            byte[] decoded = text.Length == 2 * Size ? Convert.FromHexString(text) : Convert.FromBase64String(text);
            return decoded.Length == Size ? decoded : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>A data key wrapped for its log and key id: <c>nonce [12] | ciphertext [32] | tag [16]</c> (docs/formats/metadata.md).</summary>
    public byte[] Wrap(byte[] dataKey, long logId, uint keyId, string kmsKeyId)
    {
        byte[] wrapped = new byte[NonceSize + dataKey.Length + TagSize];
        RandomNumberGenerator.Fill(wrapped.AsSpan(0, NonceSize));
        using var aes = new AesGcm(_key, TagSize);
        aes.Encrypt(wrapped.AsSpan(0, NonceSize), dataKey, wrapped.AsSpan(NonceSize, dataKey.Length), wrapped.AsSpan(NonceSize + dataKey.Length), AssociatedData(logId, keyId, kmsKeyId));
        return wrapped;
    }

    /// <summary>The data key of <see cref="Wrap"/>; <see cref="CryptographicException"/> when this master key did not wrap it.</summary>
    public byte[] Unwrap(byte[] wrapped, long logId, uint keyId, string kmsKeyId)
    {
        if (wrapped.Length <= NonceSize + TagSize)
            throw new CryptographicException("a wrapped data key is too short");
        byte[] key = new byte[wrapped.Length - NonceSize - TagSize];
        using var aes = new AesGcm(_key, TagSize);
        aes.Decrypt(wrapped.AsSpan(0, NonceSize), wrapped.AsSpan(NonceSize, key.Length), wrapped.AsSpan(NonceSize + key.Length), key, AssociatedData(logId, keyId, kmsKeyId));
        return key;
    }

    private static byte[] AssociatedData(long logId, uint keyId, string kmsKeyId)
    {
        byte[] kms = Encoding.UTF8.GetBytes(kmsKeyId);
        byte[] aad = new byte[4 + 8 + 4 + kms.Length];
        "RNLK"u8.CopyTo(aad);
        BinaryPrimitives.WriteInt64LittleEndian(aad.AsSpan(4), logId);
        BinaryPrimitives.WriteUInt32LittleEndian(aad.AsSpan(12), keyId);
        kms.CopyTo(aad.AsSpan(16));
        return aad;
    }
}
