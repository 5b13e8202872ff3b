#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The CA certificates TLS verifies servers with. libcurl and libgit2 look where they were built to
/// look (Debian's: /etc/ssl/certs/ca-certificates.crt); the portable devbox, built on Debian, also
/// runs on Amazon Linux, which keeps its bundle elsewhere. When the built-in file is missing, the
/// first of the usual places that exists is used instead (an explicit bundle, AWS_CA_BUNDLE, wins).
public enum SystemTrust {
    /// Where Debian's libcurl and libgit2 read them.
    public static let debian = "/etc/ssl/certs/ca-certificates.crt"

    public static let bundles = [
        "/etc/ssl/certs/ca-certificates.crt",                // Debian, Ubuntu, Alpine
        "/etc/pki/tls/certs/ca-bundle.crt",                  // Amazon Linux, Fedora, RHEL
        "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", // the same, newer layout
        "/etc/ssl/ca-bundle.pem",                            // openSUSE
        "/etc/ssl/cert.pem",                                 // Arch, macOS
    ]

    /// nil when libcurl's built-in bundle is there (or no other is): then libcurl's default stands.
    public static func bundle(compiledDefault: String?, readable: (String) -> Bool = { access($0, R_OK) == 0 }) -> String? {
        if let compiledDefault, readable(compiledDefault) { return nil }
        return bundles.first(where: readable)
    }
}
