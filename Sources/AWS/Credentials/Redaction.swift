/// What configuration and providers show of themselves in `"\(x)"`, `String(reflecting:)` and
/// `dump`: the environment and the shared files may hold `AWS_SECRET_ACCESS_KEY`,
/// `aws_secret_access_key` or a session token, so only names are shown, never values.

extension AWSConfiguration: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        "AWS configuration for \(region.name) with \(credentials), \(environment.count) environment variables"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(self, children: ["region": region, "credentials": "\(credentials)", "environment": environment.keys.sorted(),
                                "shared": shared, "timeouts": timeouts],
               displayStyle: .struct)
    }
}

extension ConfigFile: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// "[default] region, aws_access_key_id, aws_secret_access_key; [profile ops] role_arn".
    public var description: String {
        sections.keys.sorted().map { "[\($0)] " + (sections[$0] ?? [:]).keys.sorted().joined(separator: ", ") }
            .joined(separator: "; ")
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(self, children: sections.keys.sorted().map { (label: Optional($0), value: (sections[$0] ?? [:]).keys.sorted() as Any) },
               displayStyle: .struct)
    }
}

extension DefaultCredentialsChain: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String { "the default credentials chain (environment, profile, instance metadata)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror {
        Mirror(self, children: ["environment": environment.keys.sorted(), "shared": shared, "region": region],
               displayStyle: .struct)
    }
}

extension ProfileCredentialsProvider: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String { "credentials of profile \(name)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror {
        Mirror(self, children: ["name": name, "settings": settings.keys.sorted(), "environment": environment.keys.sorted(),
                                "shared": shared, "region": region, "visited": visited],
               displayStyle: .struct)
    }
}
