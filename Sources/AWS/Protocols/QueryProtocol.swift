import Foundation
import HTTP

/// The query protocol (IAM, STS, AutoScaling, ELBv2, CloudFormation) and its EC2 dialect:
/// form-encoded `Action`/`Version` parameters in a POST body, XML answers.
public struct QueryParameters: Sendable {
    public private(set) var pairs: [(name: String, value: String)] = []

    public init() {}

    public mutating func set(_ name: String, _ value: String?) {
        guard let value else { return }
        pairs.append((name, value))
    }

    public mutating func set(_ name: String, _ value: Int?) { set(name, value.map(String.init)) }

    public mutating func set(_ name: String, _ value: Bool?) { set(name, value.map { $0 ? "true" : "false" }) }

    /// A list as `Name.member.1`, `Name.member.2` (query) or `Name.1`, `Name.2` (EC2, `member: nil`).
    public mutating func list(_ name: String, _ values: [String]?, member: String? = "member") {
        guard let values else { return }
        if values.isEmpty, member != nil { pairs.append((name, "")) }
        for (index, value) in values.enumerated() {
            pairs.append((member.map { "\(name).\($0).\(index + 1)" } ?? "\(name).\(index + 1)", value))
        }
    }

    /// A list of structures: `body(prefix, element)` sets each element's fields under `prefix`.
    public mutating func structures<Element>(_ name: String, _ values: [Element]?, member: String? = "member",
                                             _ body: (inout QueryParameters, String, Element) -> Void) {
        guard let values else { return }
        for (index, value) in values.enumerated() {
            let prefix = member.map { "\(name).\($0).\(index + 1)" } ?? "\(name).\(index + 1)"
            body(&self, prefix, value)
        }
    }

    /// Tags as `Tags.member.N.Key` / `.Value` (or EC2's `TagSpecification...Tag.N.Key`).
    public mutating func tags(_ name: String, _ tags: [String: String]?, member: String? = "member") {
        guard let tags else { return }
        structures(name, tags.sorted { $0.key < $1.key }, member: member) { params, prefix, tag in
            params.set("\(prefix).Key", tag.key)
            params.set("\(prefix).Value", tag.value)
        }
    }

    /// The form body: `Action=...&Version=...&...`, encoded as SigV4 encodes query values.
    func body(action: String, version: String) -> [UInt8] {
        var all = [("Action", action), ("Version", version)]
        all += pairs.map { ($0.name, $0.value) }
        return Array(all.map { "\(formEncode($0.0))=\(formEncode($0.1))" }.joined(separator: "&").utf8)
    }

    private func formEncode(_ text: String) -> String {
        var output = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                 UInt8(ascii: "~"):
                output.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                output += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return output
    }
}

extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}

extension AWSClient {
    /// Calls a query-protocol action and returns the `<ActionResult>` element (or, for EC2, the
    /// response's root element).
    func query(_ service: AWSService, action: String, version: String, _ parameters: QueryParameters = QueryParameters(),
               idempotency: AWSRequest.Idempotency = .idempotent) async throws -> XMLNode {
        let format: AWSRequest.ErrorFormat = service == .ec2 ? .ec2 : .query
        let request = AWSRequest(service: service, operation: action, method: .post, path: "/",
                                 headers: ["Content-Type": "application/x-www-form-urlencoded; charset=utf-8"],
                                 body: .bytes(parameters.body(action: action, version: version)), errorFormat: format,
                                 idempotency: idempotency)
        let response = try await send(request)
        let root: XMLNode
        do {
            root = try XMLNode.parse(response.body)
        } catch {
            throw AWSError(service: service.displayName, operation: action, code: "MalformedResponse",
                           message: "\(error)", httpStatus: response.status,
                           rawBody: String(decoding: response.body.prefix(1000), as: UTF8.self))
        }
        if service == .ec2 { return root }
        return root.child("\(action)Result") ?? XMLNode(name: "\(action)Result")
    }
}

/// A service spoken in the query protocol (or EC2's dialect): one `call` for all its actions.
protocol QueryService: Sendable {
    var client: AWSClient { get }
    static var service: AWSService { get }
    static var version: String { get }
}

extension QueryService {
    func call(_ action: String, _ parameters: QueryParameters = QueryParameters(),
              idempotency: AWSRequest.Idempotency = .idempotent) async throws -> XMLNode {
        try await client.query(Self.service, action: action, version: Self.version, parameters, idempotency: idempotency)
    }
}

extension XMLNode {
    /// The `member` (query) or `item` (EC2) elements of the list child `name`.
    public func list(_ name: String) -> [XMLNode] {
        guard let container = child(name) else { return [] }
        let members = container.children("member")
        return members.isEmpty ? container.children("item") : members
    }

    public func int(_ name: String) -> Int? { string(name).flatMap { Int($0) } }
    public func bool(_ name: String) -> Bool? { string(name).map { $0 == "true" } }
    public func date(_ name: String) -> Date? { string(name).flatMap(ISO8601.parse) }
}

