import Foundation
import Host
import SigV4
import Testing

/// Several hundred random requests (unicode and reserved characters in paths and queries,
/// repeated and empty query values, folded and padded header values, session tokens, S3 and
/// other services, header and query signing) signed by botocore from the pinned .venv and by us:
/// canonical requests, Authorization headers and presigned queries must match byte for byte.
@Suite struct BotocoreDifferentialTests {
    struct Vector: Decodable {
        var service: String
        var region: String
        var seconds: Int
        var accessKeyID: String
        var secretAccessKey: String
        var sessionToken: String?
        var method: String
        var path: String
        var query: [[String]]
        var host: String
        var headers: [[String]]
        var payloadHash: String
        var canonicalRequest: String?
        var authorization: String?
        var expires: Int?
        var presignedQuery: [[String]]?
    }

    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static func vectors(count: Int, seed: Int) async throws -> [Vector] {
        let python = packageRoot.appendingPathComponent(".venv/bin/python").path
        let script = packageRoot.appendingPathComponent("Tests/SigV4Tests/Fixtures/botocore_vectors.py").path
        let result = try await ChildProcess.run(python, [script, String(count), String(seed)], timeout: .seconds(120))
        try #require(result.succeeded, "botocore_vectors.py failed (run `make deps` for .venv): \(result.errorOutput)")
        return try JSONDecoder().decode([Vector].self, from: Data(result.standardOutput))
    }

    @Test(arguments: [11, 2026])
    func matchesBotocore(seed: Int) async throws {
        let vectors = try await Self.vectors(count: 300, seed: seed)
        #expect(vectors.count == 300)
        var headerCases = 0, presignCases = 0
        for (index, vector) in vectors.enumerated() {
            let signer = SigV4Signer(service: vector.service, region: vector.region)
            let credentials = SigningCredentials(accessKeyID: vector.accessKeyID, secretAccessKey: vector.secretAccessKey,
                                                 sessionToken: vector.sessionToken)
            let date = SigningDate(secondsSince1970: vector.seconds)
            let request = SigningRequest(method: vector.method, path: vector.path,
                                         query: vector.query.map { ($0[0], $0[1]) },
                                         headers: [("Host", vector.host)] + vector.headers.map { ($0[0], $0[1]) },
                                         payloadHash: vector.payloadHash)
            if let expires = vector.expires, let expected = vector.presignedQuery {
                presignCases += 1
                let query = signer.presignedQuery(for: request, credentials: credentials, date: date, expires: expires)
                let ours = query.map { "\($0.name)=\($0.value)" }.sorted()
                let theirs = expected.map { "\($0[0])=\($0[1])" }.sorted()
                #expect(ours == theirs, "vector \(index) (seed \(seed)): presigned query differs")
            } else {
                headerCases += 1
                var signed = request
                if let token = vector.sessionToken { signed.headers.append(("X-Amz-Security-Token", token)) }
                signed.headers.append(("X-Amz-Date", date.timestamp))
                let canonical = signer.canonicalRequest(signed).text
                #expect(canonical == vector.canonicalRequest, "vector \(index) (seed \(seed)): canonical request differs")
                let headers = signer.authorizationHeaders(for: request, credentials: credentials, date: date)
                #expect(headers.first { $0.name == "Authorization" }?.value == vector.authorization,
                        "vector \(index) (seed \(seed)): Authorization differs")
            }
        }
        #expect(headerCases > 150 && presignCases > 40)
    }
}
