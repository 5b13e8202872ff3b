import CCurl
import Synchronization

/// Owns one libcurl easy handle. Reused across requests through `CurlHandlePool` so
/// connections stay alive; never used by two transfers at once.
final class CurlEasy {
    let handle: UnsafeMutableRawPointer
    /// The transfer whose callback data, header list and error buffer the handle holds, until `reset`.
    var pointsInto: ObjectIdentifier?

    init() throws(HTTPError) {
        _ = Curl.initialised
        guard let handle = curl_easy_init() else {
            throw HTTPError(kind: .other(code: Int(CURLE_FAILED_INIT.rawValue)), method: .get, url: "",
                            detail: "curl_easy_init returned no handle")
        }
        self.handle = handle
    }

    deinit { curl_easy_cleanup(handle) }

    /// Back to defaults, keeping live connections and the DNS cache.
    func reset() {
        curl_easy_reset(handle)
        pointsInto = nil
    }

    func set(_ option: CURLoption, _ value: Int) throws(CurlSetupError) {
        try check(curl_setopt_long(handle, option, value), option)
    }

    func set(_ option: CURLoption, _ value: Int64) throws(CurlSetupError) {
        try check(curl_setopt_off(handle, option, curl_off_t(value)), option)
    }

    func set(_ option: CURLoption, _ value: Bool) throws(CurlSetupError) {
        try set(option, value ? 1 : 0)
    }

    /// libcurl copies string options, so the Swift string only has to live for the call.
    func set(_ option: CURLoption, _ value: String) throws(CurlSetupError) {
        try check(curl_setopt_string(handle, option, value), option)
    }

    func set(_ option: CURLoption, pointer: UnsafeMutableRawPointer?) throws(CurlSetupError) {
        try check(curl_setopt_pointer(handle, option, pointer), option)
    }

    func info(_ item: CURLINFO) -> Int {
        var value = 0
        return curl_getinfo_long(handle, item, &value) == CURLE_OK ? value : 0
    }

    func info(_ item: CURLINFO) -> Int64 {
        var value: curl_off_t = 0
        return curl_getinfo_off(handle, item, &value) == CURLE_OK ? Int64(value) : 0
    }

    func info(_ item: CURLINFO) -> String? {
        var value: UnsafeMutablePointer<CChar>?
        guard curl_getinfo_string(handle, item, &value) == CURLE_OK, let value else { return nil }
        return String(cString: value)
    }

    private func check(_ code: CURLcode, _ option: CURLoption) throws(CurlSetupError) {
        guard code == CURLE_OK else { throw CurlSetupError(code: code, option: option) }
    }
}

@available(*, unavailable)
extension CurlEasy: Sendable {}

/// A `curl_easy_setopt` that the linked libcurl refused: a bug or a libcurl built without a feature.
struct CurlSetupError: Error {
    var code: CURLcode
    var option: CURLoption

    var message: String {
        "curl_easy_setopt(\(option.rawValue)) failed: " + String(cString: curl_easy_strerror(code))
    }
}

/// Idle easy handles kept for reuse: a handle keeps its connections open, so the next request
/// to the same host skips the TCP and TLS handshakes.
final class CurlHandlePool: Sendable {
    /// A handle in the pool belongs to nobody: it is reset before it goes in (no transfer's
    /// pointers left in it) and only ever touched under the lock while in; taking it out hands it
    /// to exactly one transfer on one thread. `CurlEasy` itself stays non-Sendable so it cannot
    /// be shared any other way; region checking cannot yet express "moved through a Mutex".
    private struct Idle: @unchecked Sendable { let easy: CurlEasy }

    private let idle = Mutex<[Idle]>([])
    private let capacity: Int

    init(capacity: Int = 16) { self.capacity = capacity }

    func take() throws(HTTPError) -> CurlEasy {
        if let entry = idle.withLock({ $0.popLast() }) { return entry.easy }
        return try CurlEasy()
    }

    func give(back easy: CurlEasy) {
        easy.reset()
        let entry = Idle(easy: easy)
        idle.withLock { handles in
            if handles.count < capacity { handles.append(entry) }
        }
    }
}

