import AWS
import Foundation
import Synchronization
import Testing
import TestSupport

/// Records the backoff delays instead of sleeping them.
final class SleepRecorder: Sendable {
    private let delays = Mutex<[Duration]>([])
    var sleep: @Sendable (Duration) async throws -> Void {
        { [self] delay in delays.withLock { $0.append(delay) } }
    }
    var recorded: [Duration] { delays.withLock { $0 } }
}

@Suite struct RetryStrategyTests {
    func throttled() -> AWSError { AWSError(service: "STS", operation: "X", code: "Throttling", message: "", httpStatus: 400) }

    @Test func fullJitterBackoffIsCappedAt20Seconds() {
        let strategy = RetryStrategy(maxAttempts: 10, random: { 0.999 })
        #expect(strategy.backoff(attempt: 1) == .milliseconds(1998))
        #expect(strategy.backoff(attempt: 3) == .milliseconds(7992))
        #expect(strategy.backoff(attempt: 6) == .milliseconds(19980))
        #expect(RetryStrategy(random: { 0 }).backoff(attempt: 5) == .zero)
    }

    @Test func onlyTransientErrorsAndOnlyWithinTheAttemptBudget() {
        let strategy = RetryStrategy(maxAttempts: 3, random: { 0.5 })
        #expect(strategy.retry(after: 1, error: throttled())?.delay == .milliseconds(1000))
        #expect(strategy.retry(after: 2, error: throttled())?.delay == .milliseconds(2000))
        #expect(strategy.retry(after: 3, error: throttled()) == nil)
        let denied = AWSError(service: "S3", operation: "X", code: "AccessDenied", message: "", httpStatus: 403)
        #expect(strategy.retry(after: 1, error: denied) == nil)
        for status in [500, 502, 503, 504] {
            #expect(strategy.retry(after: 1, error: AWSError(service: "S", operation: "X", code: "Whatever", message: "",
                                                            httpStatus: status)) != nil)
        }
    }

    @Test func retryQuotaDrainsAndRefills() {
        let strategy = RetryStrategy(maxAttempts: 2, random: { 0 })
        var granted = 0
        while strategy.retry(after: 1, error: throttled()) != nil { granted += 1 }
        #expect(granted == 100)  // 500 tokens / 5 per retry
        #expect(strategy.availableTokens == 0)
        strategy.recordSuccess(lastRetryCost: 5)
        #expect(strategy.availableTokens == 5)
        strategy.recordSuccess(lastRetryCost: nil)
        #expect(strategy.availableTokens == 6)
        let timeout = AWSError(service: "S", operation: "X", code: AWSError.connectionFailed, message: "the connection timed out",
                               httpStatus: 0)
        #expect(strategy.retry(after: 1, error: timeout) == nil)  // 6 tokens left, a timeout retry costs 10
    }

    @Test func maxAttemptsFromEnvironment() {
        #expect(RetryStrategy(environment: ["AWS_MAX_ATTEMPTS": "5"]).maxAttempts == 5)
        #expect(RetryStrategy(environment: ["AWS_MAX_ATTEMPTS": "0"]).maxAttempts == 3)
        #expect(RetryStrategy(environment: [:]).maxAttempts == 3)
    }
}

@Suite("Retries against injected faults", .serialized)
struct RetryFaultTests {
    @Test func throttlingIsRetriedWithBackoffThenSucceeds() async throws {
        let fleet = try await Fleet.start()
        defer { Task { try? await fleet.stop() } }
        try await fleet.inject(kind: "throttle", service: "sts", operation: "GetCallerIdentity", count: 2)
        let recorder = SleepRecorder()
        let client = fleet.client(retry: RetryStrategy(maxAttempts: 3, random: { 0.25 }), sleep: recorder.sleep)
        let identity = try await STS(client).getCallerIdentity()
        #expect(identity.arn.hasSuffix(":user/fleet-admin"))
        #expect(recorder.recorded == [.milliseconds(500), .milliseconds(1000)])

        try await fleet.inject(kind: "throttle", service: "sts", operation: "GetCallerIdentity", count: 3)
        let error = await #expect(throws: AWSError.self) { try await STS(client).getCallerIdentity() }
        #expect(error?.code == "Throttling")
        #expect(error?.attempts == 3)
        #expect(error?.description.contains("after 3 attempts") == true)
        #expect(error?.hint?.contains("rate-limiting") == true)
    }

    @Test func serverErrorsAndDroppedConnectionsAreRetried() async throws {
        let fleet = try await Fleet.start()
        defer { Task { try? await fleet.stop() } }
        let recorder = SleepRecorder()
        let client = fleet.client(retry: RetryStrategy(maxAttempts: 3, random: { 0 }), sleep: recorder.sleep)
        let s3 = S3(client)
        let bucket = unique("faults")
        try await s3.createBucket(bucket)
        let payload = (0..<2_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try await s3.putObject(bucket: bucket, key: "dump.sql.gz", body: .bytes(payload))

        try await fleet.inject(kind: "error503", service: "s3", operation: "GetObject", count: 1)
        #expect(try await s3.getObject(bucket: bucket, key: "dump.sql.gz") == payload)
        #expect(recorder.recorded.count == 1)

        // Cut mid-body: the download resumes with Range, continuing the same file.
        try await fleet.inject(kind: "drop", service: "s3", operation: "GetObject", count: 1, afterBytes: 700_000)
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try await s3.download(bucket: bucket, key: "dump.sql.gz", to: dir.file("dump"))
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir.file("dump")))) == payload)

        // Cut before any byte of the answer: an AWS-level retry.
        try await fleet.inject(kind: "drop", service: "ssm", operation: "PutParameter", count: 1, afterBytes: 0)
        #expect(try await SSM(client).putParameter(name: "/faults/p", value: "v") == 1)

        try await fleet.inject(kind: "error500", service: "ssm", operation: "GetParameter", count: 5)
        let error = await #expect(throws: AWSError.self) { try await SSM(client).getParameter("/faults/p") }
        #expect(error?.httpStatus == 500)
        #expect(error?.attempts == 3)
    }

    @Test func failedMultipartUploadIsAbortedOrResumed() async throws {
        let fleet = try await Fleet.start()
        defer { Task { try? await fleet.stop() } }
        let s3 = S3(fleet.client(retry: RetryStrategy(maxAttempts: 1)))
        let bucket = unique("multipart")
        try await s3.createBucket(bucket)
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let source = dir.file("dump.bin")
        let bytes = (0..<(16 << 20) + 999).map { UInt8(truncatingIfNeeded: $0 &* 13 ^ $0 >> 11) }
        try Data(bytes).write(to: URL(fileURLWithPath: source))

        // Every part fails: the upload is aborted, nothing is left to bill.
        try await fleet.inject(kind: "error500", service: "s3", operation: "UploadPart", count: 100)
        await #expect(throws: AWSError.self) {
            try await s3.upload(file: source, bucket: bucket, key: "dump.bin", partSize: 5 << 20, concurrency: 2)
        }
        #expect(try await s3.listMultipartUploads(bucket: bucket).isEmpty)
        try await fleet.clearFaults()

        // Kept on failure, then resumed: parts already there (same size and CRC-32) are not sent again.
        try await fleet.inject(kind: "error500", service: "s3", operation: "UploadPart", count: 100)
        let interrupted = await #expect(throws: S3UploadInterrupted.self) {
            try await s3.upload(file: source, bucket: bucket, key: "dump.bin", partSize: 5 << 20, keepOnFailure: true)
        }
        try await fleet.clearFaults()
        let uploadID = try #require(interrupted?.uploadID)
        let first = try FileDigest.crc32Base64(path: source, offset: 0, length: 5 << 20)
        _ = try await s3.uploadPart(bucket: bucket, key: "dump.bin", uploadID: uploadID, number: 1,
                                    body: .file(path: source, offset: 0, length: 5 << 20), crc32: first)
        try await fleet.inject(kind: "error500", service: "s3", operation: "UploadPart", count: 1)
        // One injected failure left: with part 1 skipped, the resume must still send parts 2-4
        // and so meets it; a second resume finishes.
        _ = try? await s3.upload(file: source, bucket: bucket, key: "dump.bin", partSize: 5 << 20, concurrency: 1,
                                 resuming: uploadID, keepOnFailure: true)
        try await s3.upload(file: source, bucket: bucket, key: "dump.bin", partSize: 5 << 20, concurrency: 1,
                            resuming: uploadID, keepOnFailure: true)
        let back = dir.file("back.bin")
        try await s3.download(bucket: bucket, key: "dump.bin", to: back)
        #expect(try Data(contentsOf: URL(fileURLWithPath: back)) == Data(bytes))
        #expect(try await s3.listMultipartUploads(bucket: bucket).isEmpty)
    }

    @Test func nonTransientErrorsAreNotRetried() async throws {
        let fleet = try await Fleet.shared()
        let recorder = SleepRecorder()
        let client = fleet.client(secret: "wrong", retry: RetryStrategy(maxAttempts: 3), sleep: recorder.sleep)
        await #expect(throws: AWSError.self) { try await STS(client).getCallerIdentity() }
        #expect(recorder.recorded.isEmpty)
    }
}
