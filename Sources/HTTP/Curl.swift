import CCurl

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// libcurl's process-wide state: initialised once, before the first handle exists.
enum Curl {
    /// `curl_global_init` is not thread-safe, so it runs exactly once from this lazy global.
    static let initialised: Bool = {
        curl_global_init(Int(CURL_GLOBAL_ALL)) == CURLE_OK
    }()

    /// The linked libcurl's version and TLS backend, e.g. "7.88.1 (OpenSSL/3.0.15)".
    /// Needs no `curl_global_init`, so `--version` stays cheap.
    static var versionDescription: String {
        guard let info = curl_shim_version_info()?.pointee else { return "unknown" }
        let version = info.version.map { String(cString: $0) } ?? "unknown"
        let ssl = info.ssl_version.map { String(cString: $0) }
        return ssl.map { "\(version) (\($0))" } ?? version
    }
}

/// Versions of the linked C library, for `--version` and `doctor`.
public enum HTTPLibrary {
    public static var version: String { Curl.versionDescription }
}

/// The CA certificates libcurl verifies servers with. libcurl looks where it was built to look
/// (Debian's: /etc/ssl/certs/ca-certificates.crt); the portable devbox, built on Debian, also runs
/// on Amazon Linux, which keeps its bundle elsewhere. When the built-in file is missing, the first
/// of the usual places that exists is used instead (an explicit bundle, AWS_CA_BUNDLE, wins).
public enum SystemTrust {
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
