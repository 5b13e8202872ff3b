import CCurl

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
