import Terminal

/// `adminctl offboard NAME`: removes whatever exists of the developer (DeveloperRemoval) and says what.
public struct Offboarding: Sendable {
    public var access: DeveloperAccess
    public var developer: String
    public var keepVolume: Bool

    public init(access: DeveloperAccess, developer: String, keepVolume: Bool = false) {
        self.access = access
        self.developer = developer
        self.keepVolume = keepVolume
    }

    public struct Report: Sendable, Encodable {
        public var developer: String
        public var removed: [String]

        public func render(_ policy: ColorPolicy) -> String {
            removed.isEmpty ? "Nothing of \(developer) was left to remove."
                : "Removed for \(developer):\n" + removed.map { "  - \($0)" }.joined(separator: "\n")
        }
    }

    /// Nothing found at all is an error: a typo must not look like a success.
    public func run(progress: @Sendable (String) -> Void) async throws -> Report {
        let removed = try await DeveloperRemoval(access: access, developer: developer, keepVolume: keepVolume).run(progress: progress)
        if removed.isEmpty {
            let stack = DeveloperStack(project: access.project, developer: developer).name
            throw AccessError(.unknownDeveloper, "No developer named \(developer): no stack \(stack), no IAM user, nothing to "
                + "remove. `adminctl devs` lists the developers.")
        }
        return Report(developer: developer, removed: removed)
    }
}
