import Foundation
import Nuvola

/// A built release: a deterministic tarball of one commit's tree after the build step, in
/// `artifacts/<env>/<id>.tar.gz`, recorded in `/<project>/<env>/releases/<id>`.
public struct Release: Codable, Sendable, Equatable {
    /// `<UTC time>-<short sha>`, e.g. `20261201T093512Z-1a2b3c4`: sorts by build time, names the commit.
    public var id: String
    public var environment: AppEnvironment
    /// The full commit id and the ref it was resolved from (`new_features`, a tag, a sha).
    public var commit: String
    public var ref: String
    /// The commit's tree: two commits with one tree and one build step give identical bytes.
    public var tree: String
    public var subject: String
    public var builtAt: Date
    public var builtBy: String
    /// The build step that ran in the exported tree; nil when none did.
    public var build: String?
    public var key: String
    public var size: Int64
    public var sha256: String
    /// When the release pointer first named it after a deploy, rollback or refresh of it: a
    /// release that never served is not rolled back to (a rollback checks no health). Nil for a
    /// release only built, or whose deploy failed or was interrupted.
    public var servedAt: Date? = nil

    /// `20261201T093512Z-1a2b3c4`.
    public static func id(builtAt: Date, commit: String) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: builtAt) + "-" + commit.prefix(7)
    }

    /// The names the instances' install script accepts (and SSM allows in a parameter name).
    public static func isValidID(_ id: String) -> Bool {
        guard let first = id.unicodeScalars.first, id.count <= 128 else { return false }
        let allowed = { (c: Unicode.Scalar) in ("A"..."Z").contains(c) || ("a"..."z").contains(c) || ("0"..."9").contains(c) }
        return allowed(first) && id.unicodeScalars.allSatisfy { allowed($0) || $0 == "." || $0 == "_" || $0 == "-" }
    }

    /// The `.sha256` object's content, as `sha256sum` prints it.
    public var checksumLine: String { "\(sha256)  \(id).tar.gz\n" }
}
