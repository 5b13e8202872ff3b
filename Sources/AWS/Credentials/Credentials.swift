import Foundation

/// AWS credentials. `description`, `debugDescription` and the mirror `dump` reads never show the
/// secret or the session token.
public struct Credentials: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?
    /// When temporary credentials stop working; nil for long-term keys.
    public var expiration: Date?
    public var source: SettingSource

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil, expiration: Date? = nil,
                source: SettingSource) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.expiration = expiration
        self.source = source
    }

    /// The key id with all but its first four and last four characters masked: "AKIA…WXYZ".
    public var maskedAccessKeyID: String {
        accessKeyID.count > 8 ? "\(accessKeyID.prefix(4))…\(accessKeyID.suffix(4))" : "…"
    }

    public var description: String { "credentials \(maskedAccessKeyID) from \(source)" }
    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(self, children: ["accessKeyID": maskedAccessKeyID, "secretAccessKey": "<redacted>",
                                "sessionToken": sessionToken == nil ? "none" : "<redacted>",
                                "expiration": expiration as Any, "source": source],
               displayStyle: .struct)
    }

    /// Static keys from `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`).
    public static func fromEnvironment(_ environment: [String: String]) -> Credentials? {
        guard let id = environment["AWS_ACCESS_KEY_ID"], !id.isEmpty,
              let secret = environment["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty else { return nil }
        let token = environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        return Credentials(accessKeyID: id, secretAccessKey: secret, sessionToken: token,
                           source: .environment("AWS_ACCESS_KEY_ID"))
    }

    /// Static keys written in a profile (`aws_access_key_id`, `aws_secret_access_key`).
    public static func fromProfile(_ name: String, shared: SharedConfig) -> Credentials? {
        guard let profile = shared.profile(name),
              let id = profile["aws_access_key_id"], !id.isEmpty,
              let secret = profile["aws_secret_access_key"], !secret.isEmpty else { return nil }
        return Credentials(accessKeyID: id, secretAccessKey: secret, sessionToken: profile["aws_session_token"],
                           source: .profile(name))
    }
}
