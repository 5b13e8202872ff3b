import Foundation
import HTTP
import SigV4
import Synchronization

/// An object's metadata, from a listing or a HEAD.
public struct S3Object: Sendable, Equatable {
    public var key: String
    public var size: Int64
    public var eTag: String
    public var lastModified: Date?
    public var contentType: String?
    /// `x-amz-meta-*` headers, without the prefix.
    public var metadata: [String: String] = [:]
}

/// One page of ListObjectsV2.
public struct S3ObjectPage: Sendable {
    public var objects: [S3Object]
    public var commonPrefixes: [String]
}

/// Amazon S3 (REST-XML): the calls devbox and adminctl use, streaming bodies to and from files.
/// Path-style addressing when the endpoint is configured (the simulated cloud), virtual-hosted otherwise.
public struct S3: Sendable {
    let client: AWSClient

    public init(_ client: AWSClient) { self.client = client }

    /// The multipart part size used by `upload`: 8 MiB, more for files over 80 GiB (10,000 parts max).
    public static let minimumPartSize: Int64 = 8 << 20

    // MARK: Buckets

    public func createBucket(_ bucket: String) async throws {
        var body: RequestBody = .empty
        if client.region != "us-east-1" {
            body = .string("<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                           + "<LocationConstraint>\(client.region)</LocationConstraint></CreateBucketConfiguration>")
        }
        _ = try await client.send(request("CreateBucket", .put, bucket: bucket, body: body))
    }

    public func deleteBucket(_ bucket: String) async throws {
        _ = try await client.send(request("DeleteBucket", .delete, bucket: bucket))
    }

    /// True when the bucket exists and we may use it.
    public func bucketExists(_ bucket: String) async throws -> Bool {
        do {
            _ = try await client.send(request("HeadBucket", .head, bucket: bucket))
            return true
        } catch let error as AWSError where error.httpStatus == 404 {
            return false
        }
    }

    // MARK: Listing

    /// ListObjectsV2, page by page (up to `pageSize` keys each).
    public func listObjects(bucket: String, prefix: String? = nil, delimiter: String? = nil,
                            pageSize: Int? = nil) -> Paginator<S3ObjectPage> {
        Paginator { token in
            var query: [(name: String, value: String)] = [("list-type", "2")]
            if let prefix { query.append(("prefix", prefix)) }
            if let delimiter { query.append(("delimiter", delimiter)) }
            if let pageSize { query.append(("max-keys", String(pageSize))) }
            if let token { query.append(("continuation-token", token)) }
            let response = try await client.send(request("ListObjectsV2", .get, bucket: bucket, query: query))
            let root = try XMLNode.parse(response.body)
            let objects = root.children("Contents").map { node in
                S3Object(key: node.string("Key") ?? "", size: Int64(node.string("Size") ?? "") ?? 0,
                         eTag: node.string("ETag") ?? "", lastModified: node.date("LastModified"))
            }
            let prefixes = root.children("CommonPrefixes").compactMap { $0.string("Prefix") }
            let truncated = root.bool("IsTruncated") ?? false
            return (S3ObjectPage(objects: objects, commonPrefixes: prefixes),
                    truncated ? root.string("NextContinuationToken") : nil)
        }
    }

    // MARK: Objects

    /// The object's metadata, or nil when there is no such key.
    public func headObject(bucket: String, key: String) async throws -> S3Object? {
        do {
            let response = try await client.send(request("HeadObject", .head, bucket: bucket, key: key))
            return object(key: key, headers: response.headers)
        } catch let error as AWSError where error.httpStatus == 404 {
            return nil
        }
    }

    /// The whole object in memory (small objects: checksums, pointers).
    public func getObject(bucket: String, key: String) async throws -> [UInt8] {
        try await client.send(request("GetObject", .get, bucket: bucket, key: key)).body
    }

    /// Downloads the object to `path`, resuming after dropped connections, and from an existing
    /// partial file when `resumeExisting` is set. Returns the object's metadata.
    @discardableResult
    public func download(bucket: String, key: String, to path: String, resumeExisting: Bool = false,
                         progress: ProgressHandler? = nil) async throws -> S3Object {
        let response = try await client.download(request("GetObject", .get, bucket: bucket, key: key), to: path,
                                                 resumeExisting: resumeExisting, progress: progress)
        var info = object(key: key, headers: response.headers)
        if let total = HTTPRangeTotal.parse(response.headers["Content-Range"]) { info.size = total }
        return info
    }

    /// Streams the object chunk by chunk to `consume` (never whole in memory); `range` as in
    /// HTTP ("bytes=0-1023").
    @discardableResult
    public func stream(bucket: String, key: String, range: String? = nil, progress: ProgressHandler? = nil,
                       into consume: @escaping @Sendable (UnsafeRawBufferPointer) throws -> Void) async throws -> S3Object {
        var get = request("GetObject", .get, bucket: bucket, key: key)
        if let range { get.headers.set("Range", range) }
        let response = try await client.stream(get, progress: progress, into: consume)
        return object(key: key, headers: response.headers)
    }

    /// PUTs a body (bytes or a file) as one object; returns its ETag.
    @discardableResult
    /// `checksumSHA256` (base64 of the digest) makes S3 refuse a body that does not match it.
    public func putObject(bucket: String, key: String, body: RequestBody, contentType: String? = nil,
                          metadata: [String: String] = [:], checksumSHA256: String? = nil,
                          progress: ProgressHandler? = nil) async throws -> String {
        var put = request("PutObject", .put, bucket: bucket, key: key, body: body)
        if let contentType { put.headers.set("Content-Type", contentType) }
        if let checksumSHA256 { put.headers.set("x-amz-checksum-sha256", checksumSHA256) }
        for (name, value) in metadata { put.headers.set("x-amz-meta-\(name)", value) }
        let response = try await client.send(put, progress: progress)
        return response.headers["ETag"] ?? ""
    }

    public func copyObject(from source: (bucket: String, key: String), to destination: (bucket: String, key: String)) async throws {
        var copy = request("CopyObject", .put, bucket: destination.bucket, key: destination.key)
        copy.headers.set("x-amz-copy-source", "/\(source.bucket)/\(URIEncoding.encode(source.key, keepSlash: true))")
        let response = try await client.send(copy)
        try Self.checkEmbeddedError(response, operation: "CopyObject", requestID: response.headers["x-amz-request-id"])
    }

    /// Deletes the key (in a versioned bucket: adds a delete marker), or with `versionID` that
    /// one version for good.
    public func deleteObject(bucket: String, key: String, versionID: String? = nil) async throws {
        let query: [(name: String, value: String)] = versionID.map { [("versionId", $0)] } ?? []
        _ = try await client.send(request("DeleteObject", .delete, bucket: bucket, key: key, query: query))
    }

    /// One object version or delete marker, from ListObjectVersions.
    public struct ObjectVersion: Sendable, Equatable {
        public var key: String
        public var versionID: String
        public var isDeleteMarker: Bool
    }

    /// ListObjectVersions, page by page: every version and delete marker (what must go before a
    /// versioned bucket can be deleted).
    public func listObjectVersions(bucket: String, prefix: String? = nil) -> Paginator<[ObjectVersion]> {
        Paginator { token in
            var query: [(name: String, value: String)] = [("versions", "")]
            if let prefix { query.append(("prefix", prefix)) }
            let markers = token?.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            if let markers, markers.count == 2 {
                query.append(("key-marker", markers[0]))
                if !markers[1].isEmpty { query.append(("version-id-marker", markers[1])) }
            }
            let response = try await client.send(request("ListObjectVersions", .get, bucket: bucket, query: query))
            let root = try XMLNode.parse(response.body)
            let versions = root.children("Version").map {
                ObjectVersion(key: $0.string("Key") ?? "", versionID: $0.string("VersionId") ?? "null", isDeleteMarker: false)
            } + root.children("DeleteMarker").map {
                ObjectVersion(key: $0.string("Key") ?? "", versionID: $0.string("VersionId") ?? "null", isDeleteMarker: true)
            }
            guard root.bool("IsTruncated") == true else { return (versions, nil) }
            return (versions, "\(root.string("NextKeyMarker") ?? "")\n\(root.string("NextVersionIdMarker") ?? "")")
        }
    }

    /// A URL that lets its holder GET (or PUT) the object without credentials until it expires.
    public func presignedURL(method: HTTPMethod = .get, bucket: String, key: String, expires: Duration = .seconds(3600)) async throws -> String {
        let credentials = try await client.configuration.credentials.credentials()
        let endpoint = client.configuration.endpoint(for: .s3)
        let base = request("GetObject", method, bucket: bucket, key: key)
        let (url, host) = AWSClient.address(of: base, at: endpoint)
        let signer = SigV4Signer(service: "s3", region: client.region)
        let signing = SigningRequest(method: method.rawValue, path: base.path, headers: [("host", host)],
                                     payloadHash: SigV4Signer.unsignedPayload)
        let query = signer.presignedQuery(for: signing, credentials: credentials.signing,
                                          date: SigningDate(secondsSince1970: client.configuration.clock()),
                                          expires: Int(expires.components.seconds))
        return url + base.path + "?" + query.map { "\(URIEncoding.encode($0.name))=\(URIEncoding.encode($0.value))" }
            .joined(separator: "&")
    }

    // MARK: Multipart

    /// Uploads a file in parts of `partSize`, `concurrency` at a time. A failure aborts the upload
    /// (no orphaned parts are billed) unless `keepOnFailure`, in which case the error carries the
    /// upload id and a later call with `resuming:` that id sends only the missing parts.
    @discardableResult
    public func upload(file path: String, bucket: String, key: String, partSize: Int64? = nil, concurrency: Int = 4,
                       contentType: String? = nil, metadata: [String: String] = [:], resuming uploadID: String? = nil,
                       keepOnFailure: Bool = false, progress: ProgressHandler? = nil) async throws -> String {
        let size = try Self.fileSize(path)
        let part = max(partSize ?? Self.minimumPartSize, (size + 9_999) / 10_000, 5 << 20)
        if size <= part && uploadID == nil {
            return try await putObject(bucket: bucket, key: key, body: .file(path: path), contentType: contentType,
                                       metadata: metadata, progress: progress)
        }
        let upload: String
        if let uploadID {
            upload = uploadID
        } else {
            upload = try await createMultipartUpload(bucket: bucket, key: key, contentType: contentType, metadata: metadata,
                                                     checksummed: true)
        }
        let partCount = Int((size + part - 1) / part)
        var done: [Int: Part] = [:]
        if uploadID != nil {
            for existing in try await listParts(bucket: bucket, key: key, uploadID: upload) {
                let offset = Int64(existing.number - 1) * part
                let expected = existing.number == partCount ? size - offset : part
                // A part counts only if its size and checksum match the file as it is now.
                if existing.size == expected, let crc = existing.crc32,
                   crc == (try FileDigest.crc32Base64(path: path, offset: offset, length: expected)) {
                    done[existing.number] = existing
                }
            }
        }
        let sent = TransferTally(total: size, already: done.keys.reduce(Int64(0)) { total, number in
            total + (number == partCount ? size - Int64(partCount - 1) * part : part)
        }, progress: progress)
        do {
            let missing = (1...partCount).filter { done[$0] == nil }
            try await withThrowingTaskGroup(of: (Int, Part).self) { group in
                var next = missing.makeIterator()
                func enqueue() {
                    guard let number = next.next() else { return }
                    let offset = Int64(number - 1) * part
                    let length = min(part, size - offset)
                    group.addTask {
                        let crc = try FileDigest.crc32Base64(path: path, offset: offset, length: length)
                        let eTag = try await self.uploadPart(bucket: bucket, key: key, uploadID: upload, number: number,
                                                             body: .file(path: path, offset: offset, length: length),
                                                             crc32: crc, progress: sent.handler(for: number))
                        sent.finish(number, bytes: length)
                        return (number, Part(number: number, eTag: eTag, size: length, crc32: crc))
                    }
                }
                for _ in 0..<max(1, concurrency) { enqueue() }
                while let (number, finished) = try await group.next() {
                    done[number] = finished
                    enqueue()
                }
            }
            return try await completeMultipartUpload(bucket: bucket, key: key, uploadID: upload,
                                                     parts: done.sorted { $0.key < $1.key }.map(\.value))
        } catch {
            if keepOnFailure {
                throw S3UploadInterrupted(uploadID: upload, underlying: error)
            }
            try? await abortMultipartUpload(bucket: bucket, key: key, uploadID: upload)
            throw error
        }
    }

    /// Starts a multipart upload; `checksummed` uploads carry a CRC-32 per part that S3 verifies.
    public func createMultipartUpload(bucket: String, key: String, contentType: String? = nil,
                                      metadata: [String: String] = [:], checksummed: Bool = false) async throws -> String {
        var create = request("CreateMultipartUpload", .post, bucket: bucket, key: key, query: [("uploads", "")])
        if checksummed { create.headers.set("x-amz-checksum-algorithm", "CRC32") }
        if let contentType { create.headers.set("Content-Type", contentType) }
        for (name, value) in metadata { create.headers.set("x-amz-meta-\(name)", value) }
        let response = try await client.send(create)
        guard let id = try XMLNode.parse(response.body).string("UploadId") else {
            throw AWSError(service: "S3", operation: "CreateMultipartUpload", code: "MalformedResponse",
                           message: "no UploadId in the answer", httpStatus: response.status)
        }
        return id
    }

    public func uploadPart(bucket: String, key: String, uploadID: String, number: Int, body: RequestBody,
                           crc32: String? = nil, progress: ProgressHandler? = nil) async throws -> String {
        var put = request("UploadPart", .put, bucket: bucket, key: key,
                          query: [("partNumber", String(number)), ("uploadId", uploadID)], body: body)
        if let crc32 { put.headers.set("x-amz-checksum-crc32", crc32) }
        let response = try await client.send(put, progress: progress)
        return response.headers["ETag"] ?? ""
    }

    public struct Part: Sendable, Equatable {
        public var number: Int
        public var eTag: String
        public var size: Int64
        /// Base64 CRC-32 for checksummed uploads.
        public var crc32: String?

        public init(number: Int, eTag: String, size: Int64, crc32: String? = nil) {
            self.number = number
            self.eTag = eTag
            self.size = size
            self.crc32 = crc32
        }
    }

    public func listParts(bucket: String, key: String, uploadID: String) async throws -> [Part] {
        var parts: [Part] = []
        var marker: String?
        repeat {
            var query: [(name: String, value: String)] = [("uploadId", uploadID)]
            if let marker { query.append(("part-number-marker", marker)) }
            let response = try await client.send(request("ListParts", .get, bucket: bucket, key: key, query: query))
            let root = try XMLNode.parse(response.body)
            parts += root.children("Part").map {
                Part(number: $0.int("PartNumber") ?? 0, eTag: $0.string("ETag") ?? "", size: Int64($0.string("Size") ?? "") ?? 0,
                     crc32: $0.string("ChecksumCRC32"))
            }
            marker = root.bool("IsTruncated") == true ? root.string("NextPartNumberMarker") : nil
        } while marker != nil
        return parts
    }

    @discardableResult
    public func completeMultipartUpload(bucket: String, key: String, uploadID: String, parts: [Part]) async throws -> String {
        let xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
            + parts.map { part in
                "<Part><PartNumber>\(part.number)</PartNumber><ETag>\(Self.escape(part.eTag))</ETag>"
                    + (part.crc32.map { "<ChecksumCRC32>\($0)</ChecksumCRC32>" } ?? "") + "</Part>"
            }.joined()
            + "</CompleteMultipartUpload>"
        let response = try await client.send(request("CompleteMultipartUpload", .post, bucket: bucket, key: key,
                                                     query: [("uploadId", uploadID)], body: .string(xml)))
        try Self.checkEmbeddedError(response, operation: "CompleteMultipartUpload",
                                    requestID: response.headers["x-amz-request-id"])
        return (try? XMLNode.parse(response.body).string("ETag")) ?? ""
    }

    public func abortMultipartUpload(bucket: String, key: String, uploadID: String) async throws {
        _ = try await client.send(request("AbortMultipartUpload", .delete, bucket: bucket, key: key,
                                          query: [("uploadId", uploadID)]))
    }

    /// Multipart uploads started and not finished under `prefix`.
    public func listMultipartUploads(bucket: String, prefix: String? = nil) async throws -> [(key: String, uploadID: String)] {
        var query: [(name: String, value: String)] = [("uploads", "")]
        if let prefix { query.append(("prefix", prefix)) }
        let response = try await client.send(request("ListMultipartUploads", .get, bucket: bucket, query: query))
        return try XMLNode.parse(response.body).children("Upload").map { ($0.string("Key") ?? "", $0.string("UploadId") ?? "") }
    }

    // MARK: Helpers

    func request(_ operation: String, _ method: HTTPMethod, bucket: String, key: String? = nil,
                 query: [(name: String, value: String)] = [], body: RequestBody = .empty) -> AWSRequest {
        let pathStyle = client.configuration.endpoint(for: .s3).isCustom || bucket.contains(".")
        var path = pathStyle ? "/\(bucket)" : ""
        if let key { path += "/" + URIEncoding.encode(key, keepSlash: true) }
        if path.isEmpty { path = "/" }
        return AWSRequest(service: .s3, operation: operation, method: method, path: path, query: query, body: body,
                          errorFormat: .restXML, hostPrefix: pathStyle ? nil : "\(bucket).")
    }

    func object(key: String, headers: HTTPHeaders) -> S3Object {
        var metadata: [String: String] = [:]
        for field in headers where field.name.lowercased().hasPrefix("x-amz-meta-") {
            metadata[String(field.name.dropFirst("x-amz-meta-".count)).lowercased()] = field.value
        }
        return S3Object(key: key, size: Int64(headers["Content-Length"] ?? "") ?? 0, eTag: headers["ETag"] ?? "",
                        lastModified: headers["Last-Modified"].flatMap(HTTPDate.parse),
                        contentType: headers["Content-Type"], metadata: metadata)
    }

    /// S3 can answer 200 and put an `<Error>` in the body (CopyObject, CompleteMultipartUpload).
    static func checkEmbeddedError(_ response: HTTPResponse, operation: String, requestID: String?) throws {
        guard let root = try? XMLNode.parse(response.body), root.name == "Error" else { return }
        throw AWSError(service: "S3", operation: operation, code: root.string("Code") ?? "InternalError",
                       message: root.string("Message") ?? "", requestID: root.string("RequestId") ?? requestID,
                       httpStatus: response.status)
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "\"", with: "&quot;")
            .replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    static func fileSize(_ path: String) throws -> Int64 {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.size] as? NSNumber)?.int64Value ?? 0
    }
}

/// A multipart upload stopped part-way and was kept (see `S3.upload(keepOnFailure:)`): pass
/// `uploadID` as `resuming:` to finish it.
public struct S3UploadInterrupted: Error, CustomStringConvertible, Sendable {
    public var uploadID: String
    public var underlying: any Error
    public var description: String { "upload \(uploadID) interrupted: \(underlying)" }
}

/// Progress across parallel parts: each part reports its own bytes, the tally adds them up.
final class TransferTally: Sendable {
    private let state: Mutex<(finished: Int64, inFlight: [Int: Int64])>
    private let total: Int64
    private let progress: ProgressHandler?

    init(total: Int64, already: Int64, progress: ProgressHandler?) {
        self.total = total
        self.progress = progress
        state = Mutex((already, [:]))
    }

    func handler(for part: Int) -> ProgressHandler? {
        guard let progress else { return nil }
        return { [self] value in
            let uploaded = state.withLock { state -> Int64 in
                state.inFlight[part] = value.uploaded
                return state.finished + state.inFlight.values.reduce(0, +)
            }
            progress(TransferProgress(downloaded: 0, downloadTotal: nil, uploaded: uploaded, uploadTotal: total))
        }
    }

    func finish(_ part: Int, bytes: Int64) {
        state.withLock { state in
            state.inFlight[part] = nil
            state.finished += bytes
        }
    }
}

/// `Content-Range: bytes a-b/N` -> N.
enum HTTPRangeTotal {
    static func parse(_ header: String?) -> Int64? {
        guard let header, let slash = header.lastIndex(of: "/") else { return nil }
        return Int64(header[header.index(after: slash)...])
    }
}

/// HTTP dates ("Sun, 06 Nov 1994 08:49:37 GMT").
public enum HTTPDate {
    public static func parse(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text)
    }
}

