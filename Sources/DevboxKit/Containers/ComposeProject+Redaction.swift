/// compose's environment carries the database password (`NUVOLA_DB_PASSWORD`): printing or
/// dumping a project shows the variables' names only.
extension ComposeProject: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        "compose project \(name) in \(directory) (\(flavour.rawValue), \(environment.count) environment variables)"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(self, children: ["name": name, "directory": directory, "flavour": flavour, "engine": engine,
                                "environment": environment.keys.sorted()],
               displayStyle: .struct)
    }
}
