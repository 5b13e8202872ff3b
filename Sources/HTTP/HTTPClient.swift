import Foundation
import Host

/// Sends HTTP requests over libcurl. Blocking transfers run on their own threads, off Swift's
/// cooperative pool; cancelling the awaiting task aborts the transfer. Safe to share.
public final class HTTPClient: Sendable {
    private let pool = CurlHandlePool()
    private let proxies: ProxySettings
    private let userAgent: String

    /// - Parameter environment: where proxy variables are read from (the process's by default).
    public init(userAgent: String = "nuvola-tools", environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.userAgent = "\(userAgent) libcurl/\(Curl.versionDescription.split(separator: " ").first ?? "")"
        self.proxies = ProxySettings(environment: environment)
    }

    /// Sends `request` and returns the response, whatever its status; only transport failures throw.
    /// Non-2xx bodies always land in `response.body`; 2xx bodies go to `sink`.
    public func send(_ request: HTTPRequest, into sink: ResponseSink = .memory,
                     progress: ProgressHandler? = nil) async throws -> HTTPResponse {
        let outcome = await perform(request, into: sink, skipOnFullResponse: 0, progress: progress)
        if let error = outcome.error { throw error }
        return outcome.response
    }

    /// Downloads to a file, resuming with `Range` after a dropped connection (up to `maxResumes`
    /// times), and from an existing partial file when `resumeExisting` is set. `If-Range` with the
    /// first answer's ETag makes sure the pieces come from one version of the resource.
    /// Throws `HTTPError` for non-2xx answers.
    public func download(_ request: HTTPRequest, to path: String, resumeExisting: Bool = false, maxResumes: Int = 5,
                         progress: ProgressHandler? = nil) async throws -> HTTPResponse {
        var start: Int64 = 0
        if resumeExisting, let size = try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber {
            start = size.int64Value
        }
        return try await resumable(request, from: start, toFile: true, maxResumes: maxResumes, progress: progress) { offset in
            .file(path: path, append: offset > 0)
        }
    }

    /// Streams the body to `consume` chunk by chunk, resuming with `Range` after a dropped
    /// connection so `consume` sees every byte exactly once. Throws `HTTPError` for non-2xx answers.
    public func stream(_ request: HTTPRequest, maxResumes: Int = 5, progress: ProgressHandler? = nil,
                       into consume: @escaping @Sendable (UnsafeRawBufferPointer) throws -> Void) async throws -> HTTPResponse {
        try await resumable(request, from: 0, toFile: false, maxResumes: maxResumes, progress: progress) { _ in
            .stream(consume)
        }
    }

    private func resumable(_ request: HTTPRequest, from start: Int64, toFile: Bool, maxResumes: Int, progress: ProgressHandler?,
                           sink: (Int64) -> ResponseSink) async throws -> HTTPResponse {
        var offset = start
        var validator: String?
        var resumes = 0
        while true {
            var attempt = request
            if offset > 0 {
                attempt.headers.set("Range", "bytes=\(offset)-")
                if let validator { attempt.headers.set("If-Range", validator) }
            }
            let base = offset
            let shifted: ProgressHandler? = progress.map { report in
                { @Sendable in
                    var value = $0
                    value.downloaded += base
                    value.downloadTotal = value.downloadTotal.map { $0 + base }
                    report(value)
                }
            }
            let outcome = await perform(attempt, into: sink(offset), skipOnFullResponse: offset, progress: shifted)
            let response = outcome.response
            if validator == nil { validator = response.headers["ETag"] ?? response.headers["Last-Modified"] }
            if let error = outcome.error {
                guard let failure = error as? HTTPError, failure.isTransient, failure.status == nil,
                      resumes < maxResumes, outcome.delivered > 0 || resumes == 0 else { throw error }
                if response.status == 206 || (response.status == 200 && !toFile) {
                    // A 206 continued from `offset`; so did a 200 to a stream, which skipped what it had.
                    offset += outcome.delivered
                } else if response.status == 200 {
                    // A 200 to a file truncated it and started over.
                    offset = outcome.delivered
                }
                resumes += 1
                continue
            }
            if response.status == 416, offset > 0, Self.completeLength(response.headers["Content-Range"]) == offset {
                // We already hold every byte.
                var complete = response
                complete.status = 206
                complete.body = []
                return complete
            }
            return try response.ensureSuccess(method: request.method)
        }
    }

    /// The total length in a `Content-Range: bytes */N` or `bytes a-b/N` header.
    static func completeLength(_ header: String?) -> Int64? {
        guard let header, let slash = header.lastIndex(of: "/") else { return nil }
        return Int64(header[header.index(after: slash)...].trimmingCharacters(in: .whitespaces))
    }

    private func perform(_ request: HTTPRequest, into sink: ResponseSink, skipOnFullResponse: Int64,
                         progress: ProgressHandler?) async -> TransferOutcome {
        let proxy = proxies.proxy(for: request.url)
        let pool = self.pool
        let userAgent = self.userAgent
        return await Blocking.run(stackSize: 1 << 20) { cancel in
            let easy: CurlEasy
            do {
                easy = try pool.take()
            } catch {
                let response = HTTPResponse(status: 0, headers: [:], body: [], url: request.url, metrics: HTTPMetrics())
                return TransferOutcome(response: response, delivered: 0, error: error)
            }
            let transfer = Transfer(easy: easy, request: request, sink: sink, cancel: cancel,
                                    progress: progress, skipOnFullResponse: skipOnFullResponse)
            // The handle points into the transfer (callback data, header list, error buffer) until
            // it is reset, so the transfer must outlive the reset `give(back:)` does; Swift may
            // otherwise end its lifetime right after its last use.
            return withExtendedLifetime(transfer) {
                let outcome = transfer.perform(proxy: proxy, userAgent: userAgent)
                pool.give(back: easy)
                return outcome
            }
        }
    }
}
