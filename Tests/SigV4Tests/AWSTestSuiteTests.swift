import Foundation
import SigV4
import Testing

/// The official AWS SigV4 test suite (Fixtures/aws4_testsuite, Apache-2.0, as shipped with
/// botocore): for each raw request, our canonical request, string to sign and Authorization
/// header must equal the suite's byte for byte. Unlike botocore we skip no case: repeated
/// query keys and the path with a space are handled.
@Suite struct AWSTestSuiteTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/aws4_testsuite")
    static let credentials = SigningCredentials(accessKeyID: "AKIDEXAMPLE",
                                                secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    static let sessionToken = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"
    static let date = SigningDate(secondsSince1970: 1_440_938_160)  // 2015-08-30T12:36:00Z

    static let cases: [String] = {
        let enumerator = FileManager.default.enumerator(atPath: directory.path)
        var names: [String] = []
        while let entry = enumerator?.nextObject() as? String {
            if entry.hasSuffix(".req") { names.append((entry as NSString).deletingPathExtension) }
        }
        return names.sorted()
    }()

    @Test func suiteIsComplete() {
        #expect(Self.cases.count == 34)
    }

    @Test(arguments: cases)
    func signsLikeTheSuite(name: String) throws {
        func read(_ ext: String) throws -> String {
            try String(contentsOf: Self.directory.appendingPathComponent(name + "." + ext), encoding: .utf8)
        }
        let request = try RawRequest(parsing: read("req"))
        let signer = SigV4Signer(service: "service", region: "us-east-1")
        var signing = request.signingRequest
        var credentials = Self.credentials
        if name.hasSuffix("get-vanilla-with-session-token") {
            // The one case signed with temporary credentials: the signer adds and signs the token.
            credentials.sessionToken = Self.sessionToken
        }
        let headers = signer.authorizationHeaders(for: signing, credentials: credentials, date: Self.date)
        #expect(headers.first { $0.name == "Authorization" }?.value == (try read("authz")))

        // The intermediate stages, for the request as it is finally signed.
        signing.headers += headers.filter { $0.name == "X-Amz-Security-Token" }
        let canonical = signer.canonicalRequest(signing)
        #expect(canonical.text == (try read("creq")))
        #expect(signer.stringToSign(canonicalRequest: canonical.text, date: Self.date) == (try read("sts")))
    }

    @Test func dateFormats() {
        #expect(Self.date.timestamp == "20150830T123600Z")
        #expect(Self.date.day == "20150830")
        #expect(SigningDate(secondsSince1970: 0).timestamp == "19700101T000000Z")
    }
}

/// A request in the suite's .req format: request line, headers (continuation lines start with
/// whitespace), blank line, body.
struct RawRequest {
    var method: String
    var path: String
    var query: [(name: String, value: String)] = []
    var headers: [(name: String, value: String)] = []
    var body: [UInt8] = []

    init(parsing text: String) throws {
        var lines = text.components(separatedBy: "\n")[...]
        let requestLine = lines.popFirst() ?? ""
        guard let firstSpace = requestLine.firstIndex(of: " "),
              let version = requestLine.range(of: " HTTP/", options: .backwards) else { throw ParseError() }
        method = String(requestLine[..<firstSpace])
        let target = requestLine[requestLine.index(after: firstSpace)..<version.lowerBound]
        if let question = target.firstIndex(of: "?") {
            path = String(target[..<question])
            for pair in target[target.index(after: question)...].split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                query.append((URIEncoding.decode(parts[0]), parts.count > 1 ? URIEncoding.decode(parts[1]) : ""))
            }
        } else {
            path = String(target)
        }
        while let line = lines.popFirst() {
            if line.isEmpty { break }
            if line.first == " " || line.first == "\t", !headers.isEmpty {
                headers[headers.count - 1].value += "\n" + line
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { throw ParseError() }
            headers.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
        }
        body = Array(lines.joined(separator: "\n").utf8)
    }

    var signingRequest: SigningRequest {
        SigningRequest(method: method, path: path, query: query, headers: headers,
                       payloadHash: SigV4Signer.hexSHA256(body))
    }

    struct ParseError: Error {}
}
