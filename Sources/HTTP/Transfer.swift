import CCurl
import Foundation
import Host
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a finished (or failed) transfer left behind: the response as far as it came and the error.
struct TransferOutcome: Sendable {
    var response: HTTPResponse
    /// Body bytes handed to the sink by 2xx responses (after any skipped prefix).
    var delivered: Int64
    var error: (any Error)?
}

/// The state of one `curl_easy_perform` on one thread: request body source, response sink,
/// headers as they arrive. libcurl's callbacks reach it through their `userdata` pointer.
final class Transfer {
    static let errorBodyLimit = 64 << 10
    /// In-memory bodies up to this size are sent with the headers (see configureMethodAndBody).
    static let inlineBodyLimit = 1 << 20

    let easy: CurlEasy
    let request: HTTPRequest
    /// Set by task cancellation (see `Blocking.run`); the progress callback then aborts the transfer.
    let cancel: CancelFlag
    let progress: ProgressHandler?
    let sink: ResponseSink
    /// When a `Range` request gets a full 200 answer, this many leading bytes were already delivered.
    let skipOnFullResponse: Int64

    var status = 0
    var headers = HTTPHeaders()
    var memoryBody: [UInt8] = []
    var errorBody: [UInt8] = []
    var delivered: Int64 = 0
    var skipped: Int64 = 0
    /// An error raised inside a callback (our I/O, or the caller's stream closure), rethrown after perform.
    var callbackError: (any Error)?

    private var fileDescriptor: Int32 = -1
    private var source: BodySource
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)

    init(easy: CurlEasy, request: HTTPRequest, sink: ResponseSink, cancel: CancelFlag,
         progress: ProgressHandler?, skipOnFullResponse: Int64) {
        self.easy = easy
        self.request = request
        self.sink = sink
        self.cancel = cancel
        self.progress = progress
        self.skipOnFullResponse = skipOnFullResponse
        self.source = BodySource(request.body)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        // Freeing what the handle still points to would leave it dangling (see `HTTPClient.perform`).
        precondition(easy.pointsInto != ObjectIdentifier(self), "a transfer ended before its curl handle was reset")
        if fileDescriptor >= 0 { close(fileDescriptor) }
        source.close()
        curl_slist_free_all(headerList)
        errorBuffer.deallocate()
    }

    /// Runs the transfer to its end on the calling thread (which must not be a Swift concurrency thread).
    func perform(proxy: String?, userAgent: String) -> TransferOutcome {
        let code: CURLcode
        do {
            try source.open()
            try configure(proxy: proxy, userAgent: userAgent)
            code = curl_easy_perform(easy.handle)
        } catch let error as CurlSetupError {
            return outcome(error: HTTPError(kind: .other(code: Int(error.code.rawValue)), method: request.method,
                                            url: request.url, detail: error.message))
        } catch let error as BodySourceError {
            return outcome(error: HTTPError(kind: .localIO, method: request.method, url: request.url,
                                            detail: error.description))
        } catch {
            return outcome(error: error)
        }
        if code == CURLE_OK {
            if isSinkedStatus, case .file = sink, fileDescriptor < 0 {
                // A 2xx with an empty body still creates (or truncates) the file.
                do { try openFile() } catch { return outcome(error: error) }
            }
            return outcome(error: nil)
        }
        return outcome(error: error(for: code))
    }

    private var isSinkedStatus: Bool {
        if case .memory = sink { return true }
        return (200..<300).contains(status)
    }

    private func outcome(error: (any Error)?) -> TransferOutcome {
        var metrics = HTTPMetrics()
        func duration(_ item: CURLINFO) -> Duration { .microseconds(easy.info(item) as Int64) }
        metrics.nameLookup = duration(CURLINFO_NAMELOOKUP_TIME_T)
        metrics.connect = duration(CURLINFO_CONNECT_TIME_T)
        metrics.tlsHandshake = duration(CURLINFO_APPCONNECT_TIME_T)
        metrics.firstByte = duration(CURLINFO_STARTTRANSFER_TIME_T)
        metrics.total = duration(CURLINFO_TOTAL_TIME_T)
        metrics.bytesDownloaded = easy.info(CURLINFO_SIZE_DOWNLOAD_T)
        metrics.bytesUploaded = easy.info(CURLINFO_SIZE_UPLOAD_T)
        metrics.reusedConnection = status != 0 && (easy.info(CURLINFO_NUM_CONNECTS) as Int) == 0
        metrics.redirects = easy.info(CURLINFO_REDIRECT_COUNT)
        let effectiveURL: String? = easy.info(CURLINFO_EFFECTIVE_URL)
        let body: [UInt8]
        if case .memory = sink { body = memoryBody } else { body = errorBody }
        let response = HTTPResponse(status: status, headers: headers, body: body,
                                    url: RedactedURL.redact(effectiveURL ?? request.url), metrics: metrics)
        return TransferOutcome(response: response, delivered: delivered, error: error)
    }

    // MARK: Setup

    private func configure(proxy: String?, userAgent: String) throws {
        let userdata = Unmanaged.passUnretained(self).toOpaque()
        easy.pointsInto = ObjectIdentifier(self)
        try easy.set(CURLOPT_URL, request.url)
        try easy.set(CURLOPT_NOSIGNAL, true)
        try easy.set(CURLOPT_ERRORBUFFER, pointer: UnsafeMutableRawPointer(errorBuffer))
        try easy.set(CURLOPT_USERAGENT, userAgent)
        try easy.set(CURLOPT_TCP_KEEPALIVE, true)
        try easy.set(CURLOPT_BUFFERSIZE, 256 << 10)
        try easy.set(CURLOPT_UPLOAD_BUFFERSIZE, 1 << 20)
        try easy.set(CURLOPT_SSL_VERIFYPEER, true)
        try easy.set(CURLOPT_SSL_VERIFYHOST, 2)
        // An empty proxy string tells libcurl not to consult the environment itself.
        try easy.set(CURLOPT_PROXY, proxy ?? "")
        // Our tools speak HTTP(S) only; libcurl's other schemes (ldap://, rtmp://, ...) stay closed,
        // also to redirects (the portable devbox links stand-ins for them: scripts/static).
        try easy.set(CURLOPT_PROTOCOLS_STR, "http,https")
        try easy.set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
        if let path = request.caBundlePath ?? SystemTrust.bundle(compiledDefault: easy.info(CURLINFO_CAINFO)) {
            try easy.set(CURLOPT_CAINFO, path)
        }
        if let path = request.unixSocketPath { try easy.set(CURLOPT_UNIX_SOCKET_PATH, path) }

        if request.maxRedirects > 0 {
            try easy.set(CURLOPT_FOLLOWLOCATION, true)
            try easy.set(CURLOPT_MAXREDIRS, request.maxRedirects)
        }
        let timeouts = request.timeouts
        if let connect = timeouts.connect { try easy.set(CURLOPT_CONNECTTIMEOUT_MS, milliseconds(connect)) }
        if let total = timeouts.total { try easy.set(CURLOPT_TIMEOUT_MS, milliseconds(total)) }
        if let rate = timeouts.lowSpeedBytesPerSecond, let window = timeouts.lowSpeedWindow {
            try easy.set(CURLOPT_LOW_SPEED_LIMIT, rate)
            try easy.set(CURLOPT_LOW_SPEED_TIME, max(1, Int(window.seconds.rounded(.up))))
        }

        try check(curl_setopt_write_function(easy.handle, CURLOPT_WRITEFUNCTION, writeCallback), CURLOPT_WRITEFUNCTION)
        try easy.set(CURLOPT_WRITEDATA, pointer: userdata)
        try check(curl_setopt_write_function(easy.handle, CURLOPT_HEADERFUNCTION, headerCallback), CURLOPT_HEADERFUNCTION)
        try easy.set(CURLOPT_HEADERDATA, pointer: userdata)
        try check(curl_setopt_xferinfo_function(easy.handle, progressCallback), CURLOPT_XFERINFOFUNCTION)
        try easy.set(CURLOPT_XFERINFODATA, pointer: userdata)
        try easy.set(CURLOPT_NOPROGRESS, false)

        try configureMethodAndBody(userdata: userdata)

        for field in request.headers {
            // "Name;" is libcurl's way to send a header with an empty value.
            let line = field.value.isEmpty ? "\(field.name);" : "\(field.name): \(field.value)"
            headerList = curl_slist_append(headerList, line)
        }
        if let headerList { try easy.set(CURLOPT_HTTPHEADER, pointer: UnsafeMutableRawPointer(headerList)) }
    }

    private func configureMethodAndBody(userdata: UnsafeMutableRawPointer) throws {
        let method = request.method
        let hasBody: Bool
        if case .empty = request.body { hasBody = false } else { hasBody = true }

        if method == .head {
            try easy.set(CURLOPT_NOBODY, true)
        } else if case .bytes(let bytes) = request.body, bytes.count <= Self.inlineBodyLimit {
            // Small bodies go out with the headers in one write. Through the read callback they
            // would follow in a second segment, and the server's answer would then wait on
            // Nagle and delayed ACKs (25 ms a call was measured against the simulator).
            try easy.set(CURLOPT_POSTFIELDSIZE_LARGE, Int64(bytes.count))
            try bytes.withUnsafeBytes { buffer in
                try check(curl_setopt_pointer(easy.handle, CURLOPT_COPYPOSTFIELDS,
                                              UnsafeMutableRawPointer(mutating: buffer.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!)),
                          CURLOPT_COPYPOSTFIELDS)
            }
            if method != .post { try easy.set(CURLOPT_CUSTOMREQUEST, method.rawValue) }
            // libcurl would otherwise label a POSTFIELDS body as a form.
            if request.headers["Content-Type"] == nil { headerList = curl_slist_append(headerList, "Content-Type:") }
        } else if hasBody || method == .put || method == .post || method == .patch {
            // Every body goes through the read callback as an "upload"; the method is set explicitly.
            try easy.set(CURLOPT_UPLOAD, true)
            if let length = source.length { try easy.set(CURLOPT_INFILESIZE_LARGE, length) }
            try check(curl_setopt_read_function(easy.handle, readCallback), CURLOPT_READFUNCTION)
            try easy.set(CURLOPT_READDATA, pointer: userdata)
            try check(curl_setopt_seek_function(easy.handle, seekCallback), CURLOPT_SEEKFUNCTION)
            try easy.set(CURLOPT_SEEKDATA, pointer: userdata)
            if method != .put { try easy.set(CURLOPT_CUSTOMREQUEST, method.rawValue) }
        } else if method == .get {
            try easy.set(CURLOPT_HTTPGET, true)
        } else {
            try easy.set(CURLOPT_CUSTOMREQUEST, method.rawValue)
        }
    }

    private func check(_ code: CURLcode, _ option: CURLoption) throws(CurlSetupError) {
        guard code == CURLE_OK else { throw CurlSetupError(code: code, option: option) }
    }

    private func milliseconds(_ duration: Duration) -> Int {
        max(1, Int((duration.seconds * 1000).rounded(.up)))
    }

    // MARK: Callbacks

    fileprivate func receiveHeader(_ line: UnsafeRawBufferPointer) {
        var end = line.count
        while end > 0, line[end - 1] == UInt8(ascii: "\n") || line[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: line[..<end]), as: UTF8.self)
        if text.hasPrefix("HTTP/") {
            // A new response starts (after a redirect or a 100 Continue): forget the previous one's headers.
            headers = HTTPHeaders()
            let parts = text.split(separator: " ", maxSplits: 2)
            status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
        } else if let colon = text.firstIndex(of: ":") {
            let name = String(text[..<colon])
            let value = text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers.add(name, value)
        }
    }

    /// Returns false to make libcurl abort with CURLE_WRITE_ERROR.
    fileprivate func receiveBody(_ chunk: UnsafeRawBufferPointer) -> Bool {
        guard isSinkedStatus else {
            let room = Self.errorBodyLimit - errorBody.count
            if room > 0 { errorBody.append(contentsOf: chunk.prefix(room)) }
            return true
        }
        var chunk = chunk
        if status == 200, skipOnFullResponse > skipped, !sinksToFile {
            // The server ignored our Range: drop what the caller already has. (A file is
            // truncated and rewritten instead, see openFile.)
            let drop = Int(min(Int64(chunk.count), skipOnFullResponse - skipped))
            skipped += Int64(drop)
            chunk = UnsafeRawBufferPointer(rebasing: chunk[drop...])
            if chunk.isEmpty { return true }
        }
        do {
            switch sink {
            case .memory(let limit):
                guard memoryBody.count + chunk.count <= limit else {
                    throw HTTPError(kind: .bodyTooLarge(limit: limit), method: request.method, url: request.url,
                                    detail: nil)
                }
                memoryBody.append(contentsOf: chunk)
            case .file:
                if fileDescriptor < 0 { try openFile() }
                try writeAll(chunk)
            case .stream(let consume):
                try consume(chunk)
            case .discard:
                break
            }
            delivered += Int64(chunk.count)
            return true
        } catch {
            callbackError = error
            return false
        }
    }

    private var sinksToFile: Bool {
        if case .file = sink { return true }
        return false
    }

    private func openFile() throws {
        guard case .file(let path, let append) = sink else { return }
        // Resuming appends only to a 206 Partial Content; any other 2xx replaces the file.
        let keep = append && status == 206
        let flags = O_WRONLY | O_CREAT | O_CLOEXEC | (keep ? O_APPEND : O_TRUNC)
        let fd = open(path, flags, 0o600)
        guard fd >= 0 else { throw localError("open \(path)", errno: errno) }
        fileDescriptor = fd
    }

    private func writeAll(_ chunk: UnsafeRawBufferPointer) throws {
        do {
            try FileDescriptor.writeAll(fileDescriptor, chunk)
        } catch {
            throw localError("write", errno: error.code.rawValue)
        }
    }

    fileprivate func fillBody(_ buffer: UnsafeMutableRawBufferPointer) -> Int? {
        do {
            return try source.read(into: buffer)
        } catch {
            callbackError = error
            return nil
        }
    }

    fileprivate func rewindBody(to offset: Int64) -> Bool { source.seek(to: offset) }

    fileprivate func reportProgress(downloadTotal: Int64, downloaded: Int64, uploadTotal: Int64, uploaded: Int64) -> Bool {
        if cancel.isCancelled { return false }
        progress?(TransferProgress(downloaded: downloaded, downloadTotal: downloadTotal > 0 ? downloadTotal : nil,
                                   uploaded: uploaded, uploadTotal: uploadTotal > 0 ? uploadTotal : nil))
        return true
    }

    // MARK: Errors

    func localError(_ operation: String, errno code: Int32) -> HTTPError {
        HTTPError(kind: .localIO, method: request.method, url: request.url,
                  detail: "\(operation): \(String(cString: strerror(code)))")
    }

    private func error(for code: CURLcode) -> any Error {
        if code == CURLE_ABORTED_BY_CALLBACK, cancel.isCancelled { return CancellationError() }
        if let callbackError {
            if let error = callbackError as? HTTPError { return error }
            if let error = callbackError as? BodySourceError {
                return HTTPError(kind: .localIO, method: request.method, url: request.url, detail: error.description)
            }
            if code == CURLE_WRITE_ERROR || code == CURLE_READ_ERROR { return callbackError }
        }
        let buffered = String(cString: errorBuffer)
        let detail = buffered.isEmpty ? String(cString: curl_easy_strerror(code)) : buffered
        let kind: HTTPError.Kind
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: kind = .cannotResolveHost
        case CURLE_COULDNT_CONNECT: kind = .cannotConnect
        case CURLE_OPERATION_TIMEDOUT:
            if detail.contains("too slow") {
                kind = .lowSpeed
            } else if status == 0 && (easy.info(CURLINFO_CONNECT_TIME_T) as Int64) == 0 {
                kind = .connectTimeout
            } else {
                kind = .timeout
            }
        case CURLE_PARTIAL_FILE, CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING, CURLE_HTTP2,
             CURLE_HTTP2_STREAM:
            kind = .connectionLost
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE,
             CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER:
            kind = .tls
        case CURLE_TOO_MANY_REDIRECTS: kind = .tooManyRedirects
        case CURLE_WRITE_ERROR, CURLE_READ_ERROR: kind = .localIO
        default: kind = .other(code: Int(code.rawValue))
        }
        var error = HTTPError(kind: kind, method: request.method, url: request.url, detail: "curl: \(detail)",
                              responseBody: errorBody)
        error.responseHeaders = headers
        return error
    }
}

@available(*, unavailable)
extension Transfer: Sendable {}

// libcurl callbacks: plain C functions that find their Transfer through the userdata pointer.
// passUnretained/takeUnretainedValue only: they run many times and the Transfer outlives them.

private let writeCallback: curl_write_callback = { data, size, count, userdata in
    let transfer = Unmanaged<Transfer>.fromOpaque(userdata!).takeUnretainedValue()
    let length = size * count
    return transfer.receiveBody(UnsafeRawBufferPointer(start: data, count: length)) ? length : 0
}

private let headerCallback: curl_write_callback = { data, size, count, userdata in
    let transfer = Unmanaged<Transfer>.fromOpaque(userdata!).takeUnretainedValue()
    let length = size * count
    transfer.receiveHeader(UnsafeRawBufferPointer(start: data, count: length))
    return length
}

private let readCallback: curl_read_callback = { buffer, size, count, userdata in
    let transfer = Unmanaged<Transfer>.fromOpaque(userdata!).takeUnretainedValue()
    let target = UnsafeMutableRawBufferPointer(start: buffer, count: size * count)
    return transfer.fillBody(target) ?? Int(CURL_READFUNC_ABORT)
}

private let seekCallback: curl_seek_callback = { userdata, offset, origin in
    let transfer = Unmanaged<Transfer>.fromOpaque(userdata!).takeUnretainedValue()
    guard origin == SEEK_SET else { return Int32(CURL_SEEKFUNC_CANTSEEK) }
    return transfer.rewindBody(to: Int64(offset)) ? Int32(CURL_SEEKFUNC_OK) : Int32(CURL_SEEKFUNC_CANTSEEK)
}

private let progressCallback: curl_xferinfo_callback = { userdata, downloadTotal, downloaded, uploadTotal, uploaded in
    let transfer = Unmanaged<Transfer>.fromOpaque(userdata!).takeUnretainedValue()
    let keepGoing = transfer.reportProgress(downloadTotal: Int64(downloadTotal), downloaded: Int64(downloaded),
                                            uploadTotal: Int64(uploadTotal), uploaded: Int64(uploaded))
    return keepGoing ? 0 : 1
}
