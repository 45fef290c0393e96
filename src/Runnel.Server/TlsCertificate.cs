using System.Security.Cryptography.X509Certificates;

namespace Runnel.Server;

/// <summary>Loads the certificate for <c>--tls-port</c> from PEM files.</summary>
internal static class TlsCertificate
{
    /// <summary>
    /// The certificate with its private key, from a PEM certificate (chain) and a PEM key (PKCS#8, PKCS#1 or
    /// EC). Exported and re-imported as PKCS#12 because the TLS stack on Linux cannot use an ephemeral key.
    /// Throws <see cref="System.Security.Cryptography.CryptographicException"/> when the files do not hold a
    /// matching certificate and key.
    /// </summary>
    public static X509Certificate2 Load(string certificatePath, string keyPath)
    {
        using var pem = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), password: null);
    }
}
