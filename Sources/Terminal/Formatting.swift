/// Human-readable sizes and durations, as the progress bars and tables show them.
public enum Format {
    /// Binary units, one decimal from KiB up: "512 B", "1.5 KiB", "3.2 GiB".
    public static func bytes(_ count: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var value = Double(count)
        var unit = 0
        while abs(value) >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(count) B" : "\(oneDecimal(value)) \(units[unit])"
    }

    /// "850 ms", "4.2 s", "3m05s", "2h07m".
    public static func duration(_ seconds: Double) -> String {
        if seconds < 1 { return "\(Int((seconds * 1000).rounded())) ms" }
        if seconds < 60 { return "\(oneDecimal(seconds)) s" }
        let total = Int(seconds.rounded())
        if total < 3600 { return "\(total / 60)m\(pad2(total % 60))s" }
        return "\(total / 3600)h\(pad2(total % 3600 / 60))m"
    }

    /// "3 h ago" style ages, coarse on purpose.
    public static func age(_ seconds: Double) -> String {
        let s = max(0, Int(seconds))
        switch s {
        case ..<60: return "\(s) s ago"
        case ..<3600: return "\(s / 60) min ago"
        case ..<(48 * 3600): return "\(s / 3600) h ago"
        default: return "\(s / 86400) days ago"
        }
    }

    static func oneDecimal(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(abs(tenths % 10))"
    }

    static func pad2(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
}
