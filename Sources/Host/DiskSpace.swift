import Foundation

/// Free space of the filesystem holding a path.
public enum DiskSpace {
    /// Bytes available to an unprivileged user at `path` (or its nearest existing parent).
    public static func available(at path: String) -> Int64? {
        var probe = path
        while !FileManager.default.fileExists(atPath: probe), probe != "/" {
            probe = (probe as NSString).deletingLastPathComponent
            if probe.isEmpty { probe = "/" }
        }
        var stats = statvfs()
        guard statvfs(probe, &stats) == 0 else { return nil }
        return Int64(stats.f_bavail) * Int64(stats.f_frsize)
    }
}
