import Foundation
import Host
import TestSupport
import Testing

/// 1 GiB each way through `http-probe` (the HTTP module in a process of its own), so the peak
/// RSS it reports is the transfer's and proves bodies are streamed, not held.
@Suite("1 GiB transfers stay small in memory", .serialized)
struct LargeTransferTests {
    static let size = 1 << 30
    static let rssLimitKiB = 48 << 10
    let server: TestServer
    init() async { server = await TestServer.shared() }

    struct ProbeResult: Decodable {
        var status: Int
        var bytes: Int64
        var seconds: Double
        var peakRSSKiB: Int
        var body: String
    }

    func probe(_ arguments: [String]) async throws -> ProbeResult {
        let result = try await ChildProcess.run(BuildProducts.executable("http-probe").path, arguments,
                                                timeout: .seconds(300))
        try #require(result.status == 0, "http-probe failed: \(result.errorOutput)")
        return try JSONDecoder().decode(ProbeResult.self, from: Data(result.standardOutput))
    }

    @Test func downloadAndUploadOneGiBWithSmallPeakRSS() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = dir.file("1gib.bin")

        let download = try await probe(["get", server.url("/bytes/\(Self.size)"), file])
        #expect(download.status == 200)
        #expect(download.bytes == Int64(Self.size))
        #expect(download.peakRSSKiB < Self.rssLimitKiB, "download peak RSS \(download.peakRSSKiB) KiB")
        let attributes = try FileManager.default.attributesOfItem(atPath: file)
        #expect((attributes[.size] as? NSNumber)?.intValue == Self.size)

        // The server checks every uploaded byte against its pattern, so this also proves the
        // downloaded file is exact.
        let upload = try await probe(["put", server.url("/verify"), file])
        #expect(upload.status == 200)
        #expect(upload.bytes == Int64(Self.size))
        #expect(upload.peakRSSKiB < Self.rssLimitKiB, "upload peak RSS \(upload.peakRSSKiB) KiB")
        #expect(upload.body == "{\"bytes\": \(Self.size), \"matches\": true}")
    }
}
