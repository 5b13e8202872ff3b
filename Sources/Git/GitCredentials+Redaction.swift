/// Printing or dumping credentials names their kind and user, never the password or token.
extension GitCredentials: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        switch self {
        case .none: "no credentials"
        case .userPassword(let username, _): "user \(username) with a password or token"
        case .sshAgent(let username): "ssh-agent" + (username.map { " as \($0)" } ?? "")
        }
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        switch self {
        case .none: Mirror(self, children: [:], displayStyle: .enum)
        case .userPassword(let username, _):
            Mirror(self, children: ["username": username, "password": "<redacted>"], displayStyle: .enum)
        case .sshAgent(let username): Mirror(self, children: ["username": username as Any], displayStyle: .enum)
        }
    }
}
