import Archive
import Git
import HTTP

/// The version of devbox and adminctl (they ship together) and of the C libraries they link.
public enum ToolVersion {
    public static let number = "0.1.0"

    /// Two lines for `--version`: the tool's own version, then the linked libraries.
    public static func text(tool: String) -> String {
        "\(tool) \(number)\n" + libraries
    }

    public static var libraries: String {
        "libgit2 \(GitLibrary.version), libcurl \(HTTPLibrary.version), libarchive \(ArchiveLibrary.version)"
    }
}
