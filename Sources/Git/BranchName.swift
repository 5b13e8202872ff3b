/// git's rules for a branch name (`git check-ref-format --branch`), checked before libgit2 sees
/// the name so that the error can say which rule it breaks rather than "invalid spec".
public enum BranchName {
    /// Characters git refuses anywhere in a reference name.
    static let forbidden: Set<Unicode.Scalar> = [" ", "~", "^", ":", "?", "*", "[", "\\"]

    /// Why `name` cannot be a branch, as the end of a sentence ("it contains a space"); nil when it can.
    public static func problem(_ name: String) -> String? {
        if name.isEmpty { return "it is empty" }
        if name == "HEAD" { return "HEAD is git's name for the current commit, not a branch" }
        if name == "@" { return "'@' alone means HEAD to git" }
        if name.hasPrefix("-") { return "it begins with '-', which git commands would read as an option" }
        if let scalar = name.unicodeScalars.first(where: { $0.value < 0x20 || $0.value == 0x7F || forbidden.contains($0) }) {
            let what = scalar == " " ? "a space" : scalar.value < 0x20 || scalar.value == 0x7F ? "a control character" : "'\(scalar)'"
            return "it contains \(what) (git allows no spaces, control characters or any of ~ ^ : ? * [ \\ in a name)"
        }
        if name.contains("..") { return "it contains '..', which git reads as a range of commits" }
        if name.contains("@{") { return "it contains '@{', which git reads as a reflog position" }
        if name.hasPrefix("/") || name.hasSuffix("/") { return "it begins or ends with '/'" }
        if name.contains("//") { return "it contains '//' (an empty part between slashes)" }
        let parts = name.split(separator: "/")
        if let part = parts.first(where: { $0.hasPrefix(".") }) { return "its part '\(part)' begins with '.'" }
        if let part = parts.first(where: { $0.hasSuffix(".lock") }) {
            return "its part '\(part)' ends with '.lock', which git keeps for lock files"
        }
        if name.hasSuffix(".") { return "it ends with '.'" }
        return nil
    }

    /// Throws a `GitError` of kind `.invalidName` naming the rule `name` breaks.
    public static func validate(_ name: String) throws(GitError) {
        guard let problem = problem(name) else { return }
        throw GitError(.invalidName, function: "BranchName.validate", code: -12,
                       message: "\(String(reflecting: name)) is not a valid branch name: \(problem)")
    }
}
