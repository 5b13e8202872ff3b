import Foundation
import HTTP

/// The AWS JSON 1.1 protocol (SSM): `X-Amz-Target: <prefix>.<Operation>`, a JSON body each way.
extension AWSClient {
    func json<Input: Encodable, Output: Decodable>(_ service: AWSService, targetPrefix: String, operation: String,
                                                   _ input: Input, as output: Output.Type,
                                                   idempotency: AWSRequest.Idempotency = .idempotent) async throws -> Output {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        let request = AWSRequest(service: service, operation: operation, method: .post, path: "/",
                                 headers: ["Content-Type": "application/x-amz-json-1.1",
                                           "X-Amz-Target": "\(targetPrefix).\(operation)"],
                                 body: .bytes(Array(try encoder.encode(input))), errorFormat: .json, idempotency: idempotency)
        let response = try await send(request)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        do {
            return try decoder.decode(Output.self, from: Data(response.body.isEmpty ? Array("{}".utf8) : response.body))
        } catch {
            throw AWSError(service: service.displayName, operation: operation, code: "MalformedResponse",
                           message: "\(error)", httpStatus: response.status,
                           rawBody: String(decoding: response.body.prefix(1000), as: UTF8.self))
        }
    }
}

/// An empty JSON object, for operations without input or output fields.
public struct Empty: Codable, Sendable {
    public init() {}
}
