extension Duration {
    /// The duration in seconds, fractions included (for reports and for APIs that take a Double).
    public var seconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
