import CArchive

/// The linked libarchive, for `--version` and `doctor`.
public enum ArchiveLibrary {
    /// e.g. "3.6.2".
    public static var version: String {
        guard let text = archive_version_string() else { return "unknown" }
        let full = String(cString: text)
        return full.split(separator: " ").last.map(String.init) ?? full
    }

    /// Compression libraries libarchive was built with, e.g. "zlib/1.2.13 liblzma/5.4.1 ...".
    public static var details: String {
        archive_version_details().map { String(cString: $0) } ?? ""
    }
}
