import DumpImport
import Foundation
import Terminal

/// The `--json` summary of a sync, and its text form.
public struct SyncReport: Sendable, Encodable {
    public struct Dump: Sendable, Encodable {
        public var source: String
        public var size: Int64?
        public var lastModified: Date?
        public var sha256: String?
        public var fromCache = false
    }

    public var dump: Dump
    public var database: String
    public var snapshot: String?
    public var pruned: [String]
    /// `--keep 0`: the previous data was not kept.
    public var previousDataDiscarded: Bool
    public var tables: Int
    public var rows: Int
    public var sqlBytes: Int64
    /// Seconds per phase (download, load, indexes, verify, swap) and in total.
    public var seconds: PhaseTimes
    public var collations: [String: String]
    public var sanitized: [String]
    /// Ctrl-C (or SIGTERM/SIGHUP) came once the swap had begun: it was finished, not abandoned.
    public var interruptedDuringSwap: Bool

    init(dump: Dump, importer: DumpImporter, summary: ImportSummary) {
        self.dump = dump
        database = importer.target.display
        snapshot = summary.snapshot
        pruned = summary.pruned
        previousDataDiscarded = summary.previousDataDiscarded
        tables = summary.tables
        rows = summary.rows
        sqlBytes = summary.sqlBytes
        seconds = summary.phases
        collations = summary.collations
        sanitized = summary.sanitized
        interruptedDuringSwap = summary.interruptedDuringSwap
    }

    /// What a person reads after a sync.
    public func render() -> String {
        var lines = ["✔ \(database) now holds \(rows) rows in \(tables) tables from \(Printable.escaping(dump.source)) in \(Format.duration(seconds.total))."]
        lines.append("  " + seconds.line(Format.duration))
        if interruptedDuringSwap {
            lines.append("  the swap had already begun when the signal came, so it was finished rather than left half-done")
        }
        if let snapshot {
            lines.append("  previous data kept as \(snapshot) (`devbox db restore` brings it back)")
        } else if previousDataDiscarded {
            lines.append("  no snapshot of the previous data was kept (--keep 0)")
        }
        if !pruned.isEmpty { lines.append("  pruned \(pruned.count) older snapshot(s)") }
        if !sanitized.isEmpty { lines.append("  sanitised: " + sanitized.joined(separator: ", ")) }
        return lines.joined(separator: "\n")
    }
}
