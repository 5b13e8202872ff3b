import Foundation

/// The project's shared infrastructure as one CloudFormation stack: its name, its template
/// (adminctl/templates/shared.yaml) and the tags every resource carries.
public struct SharedStack: Sendable {
    public static let templateFile = "shared.yaml"
    /// Where templates sit relative to a checkout or an installation's root.
    public static let templatesFolder = "adminctl/templates"

    public var project: String
    public var name: String { "\(project)-shared" }
    public var tags: [String: String] { ["Project": project, "ManagedBy": "adminctl"] }

    public init(project: String) { self.project = project }

    /// The template's path: `$ADMINCTL_TEMPLATES/shared.yaml` when that variable is set, else the
    /// first `adminctl/templates/shared.yaml` found walking up from the executable's directory.
    public static func templatePath(environment: [String: String], file templateFile: String = SharedStack.templateFile,
                                    executable: String? = executablePath()) throws(InfraError) -> String {
        if let folder = environment["ADMINCTL_TEMPLATES"], !folder.isEmpty {
            let path = (folder as NSString).appendingPathComponent(templateFile)
            guard FileManager.default.fileExists(atPath: path) else {
                throw InfraError(.template, "ADMINCTL_TEMPLATES is \(folder), but there is no \(templateFile) in it. "
                    + "Point ADMINCTL_TEMPLATES at the folder holding \(templatesFolder)/\(templateFile), or unset it.")
            }
            return path
        }
        let start = executable.map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().deletingLastPathComponent().path }
        var current = start
        while let directory = current {
            let candidate = "\(directory)/\(templatesFolder)/\(templateFile)"
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
            let parent = (directory as NSString).deletingLastPathComponent
            current = parent == directory || parent.isEmpty ? nil : parent
        }
        throw InfraError(.template, "The template \(templatesFolder)/\(templateFile) was not found: ADMINCTL_TEMPLATES "
            + "is not set, and no folder from \(start ?? "the executable's directory") upwards holds it. "
            + "Export ADMINCTL_TEMPLATES=/path/to/\(templatesFolder) (the folder holding \(templateFile)).")
    }

    /// The template's text.
    public static func template(environment: [String: String],
                                file: String = SharedStack.templateFile) throws(InfraError) -> (path: String, body: String) {
        let path = try templatePath(environment: environment, file: file)
        do {
            return (path, try String(contentsOfFile: path, encoding: .utf8))
        } catch {
            throw InfraError(.template, "\(path) cannot be read: \(error.localizedDescription)")
        }
    }

    /// This process's executable, symlinks resolved where the system says (Linux: /proc/self/exe).
    public static func executablePath() -> String? {
        if let link = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return link }
        return Bundle.main.executablePath ?? CommandLine.arguments.first
    }
}
