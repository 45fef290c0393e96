namespace Runnel.Core.Model;

/// <summary>
/// Streams of every account on one server (docs/security.md, "Accounts"): a stream of the server's own account
/// (<c>--account-id</c>) is held under its name, as always; a stream of another account (a key's <c>account_id</c> in
/// the credentials file) under <c>{account}/{name}</c>, which no stream name can be (names are
/// <c>[a-zA-Z0-9_.-]</c>). That qualified name is the stream's key in the catalog and the metadata store; clients
/// only ever see the plain name and the account, in ARNs and messages.
/// </summary>
public static class StreamNames
{
    private const char Separator = '/';

    /// <summary>The name a stream of <paramref name="account"/> is held under.</summary>
    public static string Qualify(string account, string name, string serverAccount) =>
        account == serverAccount ? name : account + Separator + name;

    /// <summary>The stream's own name, as clients know it.</summary>
    public static string Plain(string qualified)
    {
        int at = qualified.IndexOf(Separator, StringComparison.Ordinal);
        return at < 0 ? qualified : qualified[(at + 1)..];
    }

    /// <summary>The stream's own name and its account, as messages show them.</summary>
    public static (string Name, string Account) Split(string qualified, string serverAccount) =>
        (Plain(qualified), AccountOf(qualified, serverAccount));

    /// <summary>The account the stream belongs to.</summary>
    public static string AccountOf(string qualified, string serverAccount)
    {
        int at = qualified.IndexOf(Separator, StringComparison.Ordinal);
        return at < 0 ? serverAccount : qualified[..at];
    }
}
