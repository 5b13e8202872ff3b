import AWS
import Foundation

extension Fleet {
    /// A client with the fleet's endpoint and admin credentials, or with `secret` / `clock` changed.
    public func client(secret: String? = nil, accessKeyID: String? = nil, retry: RetryStrategy? = nil,
                clock: (@Sendable () -> Int)? = nil, sleep: (@Sendable (Duration) async throws -> Void)? = nil) -> AWSClient {
        let credentials = Credentials(accessKeyID: accessKeyID ?? environment["AWS_ACCESS_KEY_ID"]!,
                                      secretAccessKey: secret ?? environment["AWS_SECRET_ACCESS_KEY"]!,
                                      source: .environment("AWS_ACCESS_KEY_ID"))
        var configuration = AWSConfiguration(region: Region(environment["AWS_REGION"]!),
                                             credentials: StaticCredentialsProvider(credentials),
                                             environment: ["AWS_ENDPOINT_URL": endpoint], retry: retry)
        if let clock { configuration.clock = clock }
        if let sleep { configuration.sleep = sleep }
        return AWSClient(configuration)
    }
}
