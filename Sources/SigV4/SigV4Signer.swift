import Crypto
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The secret material a signature is made from. Printing or dumping it shows only the key id.
public struct SigningCredentials: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    public var description: String { "signing credentials \(accessKeyID)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror {
        Mirror(self, children: ["accessKeyID": accessKeyID, "secretAccessKey": "<redacted>",
                                "sessionToken": sessionToken == nil ? "none" : "<redacted>"],
               displayStyle: .struct)
    }
}

/// A request as the signer sees it.
public struct SigningRequest: Sendable {
    public var method: String
    /// The path exactly as it goes on the wire (already percent-encoded by the caller).
    public var path: String
    /// Query parameters, decoded (the signer encodes them); repeated and empty values allowed.
    public var query: [(name: String, value: String)]
    /// Headers to sign. Names compare case-insensitively; repeated names are joined with ",".
    public var headers: [(name: String, value: String)]
    /// Lower-case hex SHA-256 of the body, or `UNSIGNED-PAYLOAD`.
    public var payloadHash: String

    public init(method: String, path: String, query: [(name: String, value: String)] = [],
                headers: [(name: String, value: String)], payloadHash: String) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.payloadHash = payloadHash
    }
}

/// AWS Signature Version 4, split into the specification's stages so each can be tested:
/// canonical request, string to sign, signing key, signature.
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
public struct SigV4Signer: Sendable {
    public static let algorithm = "AWS4-HMAC-SHA256"
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    public var service: String
    public var region: String
    /// S3 signs the path as sent; every other service URI-encodes it again and normalises it.
    public var isS3: Bool

    public init(service: String, region: String) {
        self.service = service
        self.region = region
        self.isS3 = service == "s3"
    }

    // MARK: Header signing

    /// The headers to add for header-based auth: `Authorization`, `X-Amz-Date`, and
    /// `X-Amz-Security-Token` for temporary credentials (which is itself signed).
    /// `request.headers` must already contain `host` and anything else to be signed.
    public func authorizationHeaders(for request: SigningRequest, credentials: SigningCredentials,
                                     date: SigningDate) -> [(name: String, value: String)] {
        var request = request
        var added: [(name: String, value: String)] = [("X-Amz-Date", date.timestamp)]
        if let token = credentials.sessionToken { added.append(("X-Amz-Security-Token", token)) }
        request.headers.removeAll { header in added.contains { $0.name.lowercased() == header.name.lowercased() } }
        request.headers += added
        let canonical = canonicalRequest(request)
        let signature = self.signature(stringToSign: stringToSign(canonicalRequest: canonical.text, date: date),
                                       secret: credentials.secretAccessKey, date: date)
        let authorization = "\(Self.algorithm) Credential=\(credentials.accessKeyID)/\(scope(date)), "
            + "SignedHeaders=\(canonical.signedHeaders), Signature=\(signature)"
        return added + [("Authorization", authorization)]
    }

    // MARK: Query-string signing (presigned URLs)

    /// The query parameters that presign `request` for `expires` seconds: the request's own
    /// parameters plus the `X-Amz-*` ones, `X-Amz-Signature` last. Only `host` is signed.
    public func presignedQuery(for request: SigningRequest, credentials: SigningCredentials, date: SigningDate,
                               expires: Int) -> [(name: String, value: String)] {
        var request = request
        request.headers = request.headers.filter { $0.name.lowercased() == "host" }
        var query = request.query.filter { !$0.name.hasPrefix("X-Amz-") }
        query += [
            ("X-Amz-Algorithm", Self.algorithm),
            ("X-Amz-Credential", "\(credentials.accessKeyID)/\(scope(date))"),
            ("X-Amz-Date", date.timestamp),
            ("X-Amz-Expires", String(expires)),
            ("X-Amz-SignedHeaders", "host"),
        ]
        if let token = credentials.sessionToken { query.append(("X-Amz-Security-Token", token)) }
        request.query = query
        let canonical = canonicalRequest(request)
        let signature = self.signature(stringToSign: stringToSign(canonicalRequest: canonical.text, date: date),
                                       secret: credentials.secretAccessKey, date: date)
        return query + [("X-Amz-Signature", signature)]
    }

    // MARK: The stages

    /// Task 1: the canonical request, and the `SignedHeaders` list that goes with it.
    public func canonicalRequest(_ request: SigningRequest) -> (text: String, signedHeaders: String) {
        let path = isS3 ? request.path : URIEncoding.encode(Self.normalize(request.path), keepSlash: true)
        var encoded: [(name: String, value: String)] = request.query.map {
            (URIEncoding.encode($0.name), URIEncoding.encode($0.value))
        }
        // Sorted by encoded name, then encoded value, as byte strings.
        encoded.sort { left, right in
            left.name == right.name ? left.value.utf8.lexicographicallyPrecedes(right.value.utf8)
                : left.name.utf8.lexicographicallyPrecedes(right.name.utf8)
        }
        let query = encoded.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
        var merged: [(name: String, values: [String])] = []
        for header in request.headers {
            let name = header.name.lowercased()
            let value = Self.normalizeHeaderValue(header.value)
            if let index = merged.firstIndex(where: { $0.name == name }) {
                merged[index].values.append(value)
            } else {
                merged.append((name, [value]))
            }
        }
        merged.sort { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        let headerLines = merged.map { "\($0.name):\($0.values.joined(separator: ","))\n" }.joined()
        let signedHeaders = merged.map(\.name).joined(separator: ";")
        let text = [request.method, path.isEmpty ? "/" : path, query, headerLines, signedHeaders, request.payloadHash]
            .joined(separator: "\n")
        return (text, signedHeaders)
    }

    /// Task 2: the string to sign.
    public func stringToSign(canonicalRequest: String, date: SigningDate) -> String {
        [Self.algorithm, date.timestamp, scope(date), Self.hexSHA256(Array(canonicalRequest.utf8))]
            .joined(separator: "\n")
    }

    /// Task 3: the signing key, HMAC chained over date, region, service and "aws4_request".
    /// Derived once per secret, day, region and service.
    public func signingKey(secret: String, date: SigningDate) -> SymmetricKey {
        let cacheKey = "\(date.day)/\(region)/\(service)"
        if let cached = SigningKeyCache.shared.key(for: cacheKey, secret: secret) { return cached }
        func hmac(_ key: SymmetricKey, _ text: String) -> SymmetricKey {
            SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: key))
        }
        let dateKey = hmac(SymmetricKey(data: Array("AWS4\(secret)".utf8)), date.day)
        let key = hmac(hmac(hmac(dateKey, region), service), "aws4_request")
        SigningKeyCache.shared.store(key, for: cacheKey, secret: secret)
        return key
    }

    /// Task 4: the signature, lower-case hex.
    public func signature(stringToSign: String, secret: String, date: SigningDate) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: signingKey(secret: secret, date: date))
        return Self.lowercaseHex(code)
    }

    /// "20150830/us-east-1/service/aws4_request".
    public func scope(_ date: SigningDate) -> String { "\(date.day)/\(region)/\(service)/aws4_request" }

    // MARK: Helpers

    public static func hexSHA256(_ bytes: [UInt8]) -> String { lowercaseHex(SHA256.hash(data: bytes)) }

    /// The specification's `Hex()`: lowercase base 16, two digits a byte. Kept here rather than
    /// imported so this module depends on nothing but swift-crypto; others use `Host.Hex`.
    static func lowercaseHex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.reduce(into: "") { text, byte in
            text += String(byte >> 4, radix: 16) + String(byte & 0xF, radix: 16)
        }
    }

    /// Trims the value and collapses runs of whitespace (including folded lines) into one space.
    static func normalizeHeaderValue(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" })
            .joined(separator: " ")
    }

    /// RFC 3986 dot-segment removal plus collapsing of repeated slashes; a trailing slash stays.
    static func normalize(_ path: String) -> String {
        guard !path.isEmpty else { return "/" }
        var output: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch segment {
            case ".": continue
            case "..": if !output.isEmpty { output.removeLast() }
            default: output.append(segment)
            }
        }
        var result = "/" + output.joined(separator: "/")
        // Like botocore (and the test suite): a trailing slash survives only as a slash, not as
        // a final "." or ".." segment.
        if path.hasSuffix("/") && !output.isEmpty { result += "/" }
        return result
    }
}

/// The moment a request is signed, in the two forms SigV4 uses.
public struct SigningDate: Sendable, Equatable {
    /// "20150830T123600Z".
    public let timestamp: String
    /// "20150830".
    public var day: String { String(timestamp.prefix(8)) }

    /// Seconds since 1970 (UTC).
    public init(secondsSince1970: Int) {
        var time = time_t(secondsSince1970)
        var parts = tm()
        gmtime_r(&time, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        timestamp = pad(parts.tm_year + 1900, 4) + pad(parts.tm_mon + 1, 2) + pad(parts.tm_mday, 2) + "T"
            + pad(parts.tm_hour, 2) + pad(parts.tm_min, 2) + pad(parts.tm_sec, 2) + "Z"
    }

    /// Now, from the system clock.
    public static func now() -> SigningDate {
        SigningDate(secondsSince1970: Int(time(nil)))
    }
}

/// SigV4's URI encoding: every byte but the unreserved characters `A-Za-z0-9-_.~` becomes `%XX`
/// (upper-case hex); `/` is kept only in paths.
public enum URIEncoding {
    public static func encode(_ text: String, keepSlash: Bool = false) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count)
        let hex = Array("0123456789ABCDEF".utf8)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                 UInt8(ascii: "~"):
                output.append(byte)
            case UInt8(ascii: "/") where keepSlash:
                output.append(byte)
            default:
                output += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Decodes `%XX` escapes (and nothing else: `+` stays `+`).
    public static func decode(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "%"), iterator.count >= 2,
               let value = UInt8(String(decoding: iterator.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(value)
                iterator = iterator.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Derived signing keys, valid for one day, region and service. A process signs with one or two
/// secrets, so the cache stays tiny; an entry answers only for the secret it was derived from.
final class SigningKeyCache: Sendable {
    static let shared = SigningKeyCache()
    private struct Entry: Sendable {
        var secret: String
        var key: SymmetricKey
    }
    private let entries = Mutex<[String: Entry]>([:])

    func key(for scope: String, secret: String) -> SymmetricKey? {
        entries.withLock { $0[scope].flatMap { $0.secret == secret ? $0.key : nil } }
    }

    func store(_ key: SymmetricKey, for scope: String, secret: String) {
        entries.withLock { entries in
            if entries.count > 64 { entries.removeAll() }
            entries[scope] = Entry(secret: secret, key: key)
        }
    }
}
