import AWS
import Foundation
import HTTP
import Testing
import TestSupport

@Suite("S3 against the simulated cloud with authentication on")
struct S3Tests {
    func bucket(_ fleet: Fleet) async throws -> (S3, String) {
        let s3 = S3(fleet.client())
        let name = unique("bucket")
        try await s3.createBucket(name)
        return (s3, name)
    }

    @Test func putHeadGetCopyDelete() async throws {
        let fleet = try await Fleet.shared()
        let (s3, bucket) = try await bucket(fleet)
        #expect(try await s3.bucketExists(bucket))
        #expect(try await !s3.bucketExists(unique("missing")))
        let key = "dumps/prod/2026-11-28 ünïcode+plus&amp.sql.gz"
        let eTag = try await s3.putObject(bucket: bucket, key: key, body: .string("hello dump"),
                                          contentType: "application/gzip", metadata: ["sha256": "abc"])
        #expect(!eTag.isEmpty)
        let head = try #require(try await s3.headObject(bucket: bucket, key: key))
        #expect(head.size == 10)
        #expect(head.eTag == eTag)
        #expect(head.contentType == "application/gzip")
        #expect(head.metadata["sha256"] == "abc")
        #expect(head.lastModified != nil)
        #expect(try await s3.headObject(bucket: bucket, key: "nope") == nil)
        #expect(String(decoding: try await s3.getObject(bucket: bucket, key: key), as: UTF8.self) == "hello dump")

        try await s3.copyObject(from: (bucket, key), to: (bucket, "copy/of it"))
        #expect(String(decoding: try await s3.getObject(bucket: bucket, key: "copy/of it"), as: UTF8.self) == "hello dump")
        try await s3.deleteObject(bucket: bucket, key: key)
        #expect(try await s3.headObject(bucket: bucket, key: key) == nil)

        let missing = await #expect(throws: AWSError.self) { try await s3.getObject(bucket: bucket, key: "gone") }
        #expect(missing?.code == "NoSuchKey")
        #expect(missing?.description.hasPrefix("S3 GetObject failed: NoSuchKey (HTTP 404)") == true)

        try await s3.deleteObject(bucket: bucket, key: "copy/of it")
        try await s3.deleteBucket(bucket)
        #expect(try await !s3.bucketExists(bucket))
    }

    @Test func listingPaginatesAcrossPages() async throws {
        let fleet = try await Fleet.shared()
        let (s3, bucket) = try await bucket(fleet)
        for index in 0..<7 {
            try await s3.putObject(bucket: bucket, key: "dumps/prod/\(index).sql.gz", body: .string("x\(index)"))
        }
        try await s3.putObject(bucket: bucket, key: "other/file", body: .string("y"))
        var pages = 0
        var keys: [String] = []
        for try await page in s3.listObjects(bucket: bucket, prefix: "dumps/prod/", pageSize: 3) {
            pages += 1
            keys += page.objects.map(\.key)
        }
        #expect(pages == 3)
        #expect(keys == (0..<7).map { "dumps/prod/\($0).sql.gz" })
        let top = try await s3.listObjects(bucket: bucket, delimiter: "/").all(\.commonPrefixes)
        #expect(top == ["dumps/", "other/"])
    }

    @Test func downloadAndStreamLargeObject() async throws {
        let fleet = try await Fleet.shared()
        let (s3, bucket) = try await bucket(fleet)
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let source = dir.file("source.bin")
        let bytes = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }
        try Data(bytes).write(to: URL(fileURLWithPath: source))
        try await s3.putObject(bucket: bucket, key: "big.bin", body: .file(path: source))

        let target = dir.file("target.bin")
        let info = try await s3.download(bucket: bucket, key: "big.bin", to: target)
        #expect(info.size == 3_000_000)
        #expect(try Data(contentsOf: URL(fileURLWithPath: target)) == Data(bytes))

        let collected = Collector()
        try await s3.stream(bucket: bucket, key: "big.bin", range: "bytes=1000-1999") { collected.append($0) }
        #expect(collected.bytes == Array(bytes[1000...1999]))
    }

    @Test func multipartUploadInParallelParts() async throws {
        let fleet = try await Fleet.shared()
        let (s3, bucket) = try await bucket(fleet)
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let source = dir.file("multi.bin")
        let size = 17 << 20 + 12345
        let bytes = (0..<size).map { UInt8(truncatingIfNeeded: ($0 >> 3) ^ $0) }
        try Data(bytes).write(to: URL(fileURLWithPath: source))
        let progress = Collector()
        try await s3.upload(file: source, bucket: bucket, key: "multi.bin", partSize: 5 << 20, concurrency: 3) {
            progress.note($0.uploaded)
        }
        let head = try #require(try await s3.headObject(bucket: bucket, key: "multi.bin"))
        #expect(head.size == Int64(size))
        #expect(head.eTag.hasSuffix("-4\""), "a 4-part multipart ETag")
        #expect(progress.last == Int64(size))
        let target = dir.file("back.bin")
        try await s3.download(bucket: bucket, key: "multi.bin", to: target)
        #expect(try Data(contentsOf: URL(fileURLWithPath: target)) == Data(bytes))
        #expect(try await s3.listMultipartUploads(bucket: bucket).isEmpty)
    }

    @Test func presignedURLsWorkWithoutCredentials() async throws {
        let fleet = try await Fleet.shared()
        let (s3, bucket) = try await bucket(fleet)
        try await s3.putObject(bucket: bucket, key: "shared/file.txt", body: .string("presigned!"))
        let url = try await s3.presignedURL(bucket: bucket, key: "shared/file.txt", expires: .seconds(600))
        #expect(url.contains("X-Amz-Signature="))
        let response = try await HTTPClient(environment: [:]).send(HTTPRequest(url: url))
        #expect(response.status == 200)
        #expect(response.text == "presigned!")

        let put = try await s3.presignedURL(method: .put, bucket: bucket, key: "shared/upload.txt")
        let uploaded = try await HTTPClient(environment: [:]).send(HTTPRequest(method: .put, url: put, body: .string("via url")))
        #expect(uploaded.status == 200)
        #expect(String(decoding: try await s3.getObject(bucket: bucket, key: "shared/upload.txt"), as: UTF8.self) == "via url")
    }
}

/// Collects bytes or progress values from @Sendable callbacks.
final class Collector: Sendable {
    private let state = Mutex<(bytes: [UInt8], last: Int64)>(([], 0))
    func append(_ chunk: UnsafeRawBufferPointer) { state.withLock { $0.bytes.append(contentsOf: chunk) } }
    func note(_ value: Int64) { state.withLock { $0.last = max($0.last, value) } }
    var bytes: [UInt8] { state.withLock { $0.bytes } }
    var last: Int64 { state.withLock { $0.last } }
}

import Synchronization
