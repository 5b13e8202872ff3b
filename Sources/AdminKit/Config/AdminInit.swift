import AWS
import Foundation
import Host
import Nuvola
import Terminal

/// `adminctl init`: a first `adminctl.toml` from what can be guessed (flags, `ADMINCTL_*` and
/// `AWS_*` variables, the profile, the repository URL), asking on a terminal only for the rest.
public struct AdminInit: Sendable {
    /// Where the file goes: `<directory>/adminctl.toml`.
    public var directory: String
    public var environment: [String: String]
    public var name: String?
    public var region: String?
    public var repositoryURL: String?

    public init(directory: String, environment: [String: String], name: String?, region: String?, repositoryURL: String?) {
        self.directory = directory
        self.environment = environment
        self.name = name
        self.region = region
        self.repositoryURL = repositoryURL
    }

    public var path: String { (directory as NSString).appendingPathComponent(AdminConfig.fileName) }

    /// What was written: the file and its settings.
    public struct Report: Sendable, Encodable {
        public var file: String
        public var settings: [String: String]
        /// Settings the file leaves commented out (their defaults or nothing apply).
        public var unset: [String]

        public func render() -> String {
            let project = settings["project.name"] ?? "?"
            let region = settings["aws.region"] ?? "?"
            return "Wrote \(Printable.escaping(file)) (project \(Printable.escaping(project)), region \(Printable.escaping(region))). "
                + "Edit it as you like; `adminctl config show` prints what is in effect."
        }
    }

    /// Why init stops before writing: the file exists (exit 1), or it has a question and no
    /// terminal to ask it on (a usage error: `--yes` is missing).
    public struct Refusal: Error, CustomStringConvertible, Sendable {
        public enum Kind: Sendable, Equatable { case exists, needsYes }
        public var kind: Kind
        public var message: String
        public var description: String { message }

        static func exists(_ path: String) -> Refusal {
            Refusal(kind: .exists, message: "\(path) already exists; adminctl init never overwrites it. "
                + "`adminctl config show` prints what it holds (edit the file to change it).")
        }
    }

    struct Question {
        var key: String
        /// What the question is about, as a sentence names it.
        var what: String
        var prompt: String
        var suggestion: String?
    }

    /// Guesses, asks what it must (or takes the suggestions when `yes`), and writes the file.
    public func run(yes: Bool, console: Console, isInteractive: Bool = isatty(STDIN_FILENO) == 1) async throws -> Report {
        guard !FileManager.default.fileExists(atPath: path) else { throw Refusal.exists(path) }
        var values: [String: String] = [:]
        let repository = repositoryURL ?? environment["ADMINCTL_REPOSITORY_URL"].flatMap { $0.isEmpty ? nil : $0 }
        values["repository.url"] = repository
        values["project.name"] = name ?? nonEmpty("ADMINCTL_PROJECT_NAME") ?? repository.flatMap(Self.projectName(fromRepository:))
        values["aws.region"] = region ?? nonEmpty("ADMINCTL_AWS_REGION")
            ?? Region.resolve(flag: nil, environment: environment, shared: SharedConfig.load(environment: environment))?.name

        let questions = questions(values)
        if !yes, !isInteractive, !questions.isEmpty {
            let suggestions = questions.map { "\($0.key) \($0.suggestion ?? "left unset")" }.joined(separator: ", ")
            let what = questions.map(\.what)
            let list = what.count == 1 ? what[0] : what.dropLast().joined(separator: ", ") + " and " + what[what.count - 1]
            throw Refusal(kind: .needsYes, message: "adminctl init cannot guess \(list), and there is no terminal to ask on: add --yes to take the suggestions (\(suggestions)), or give --repo, --name and --region.")
        }
        // The URL answered first may give the name: then it is not asked.
        for question in questions where values[question.key] == nil {
            let answer = yes ? question.suggestion : try await ask(question, console: console, isInteractive: isInteractive)
            if let answer, !answer.isEmpty { values[question.key] = answer }
            if question.key == "repository.url", values["project.name"] == nil, let answer {
                values["project.name"] = Self.projectName(fromRepository: answer)
            }
        }
        if let project = values["project.name"] {
            let suffix = String((0..<6).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789".randomElement()! })
            values["buckets.artifacts"] = "\(project)-\(suffix)-artifacts"
            values["buckets.dumps"] = "\(project)-\(suffix)-dumps"
            values["buckets.logs"] = "\(project)-\(suffix)-logs"
        }
        for setting in AdminConfig.settings where values[setting.key] == nil {
            values[setting.key] = setting.defaultValue
        }
        let text = try Self.render(values)
        try Self.create(path, contents: text)
        return Report(file: path, settings: values,
                      unset: AdminConfig.settings.map(\.key).filter { values[$0] == nil })
    }

    func nonEmpty(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }

    /// What cannot be guessed, in the order a person answers it (the URL may give the name).
    func questions(_ values: [String: String]) -> [Question] {
        var questions: [Question] = []
        if values["repository.url"] == nil {
            questions.append(Question(key: "repository.url", what: "the repository URL", prompt: "The app's git repository URL (empty: set it later)", suggestion: nil))
        }
        if values["project.name"] == nil {
            questions.append(Question(key: "project.name", what: "the project name", prompt: "Project name (3-20 lowercase letters, digits, '-')", suggestion: "nuvola"))
        }
        if values["aws.region"] == nil {
            questions.append(Question(key: "aws.region", what: "the region", prompt: "AWS region", suggestion: "eu-west-3"))
        }
        return questions
    }

    /// Asks until the answer follows the setting's rule (three tries); nil without a terminal.
    func ask(_ question: Question, console: Console, isInteractive: Bool) async throws -> String? {
        let setting = AdminConfig.schema.setting(question.key)
        for _ in 0..<3 {
            guard let answer = try await Prompt.ask(question.prompt, suggestion: question.suggestion, output: console.err,
                                                    isInteractive: isInteractive) else { return nil }
            guard !answer.isEmpty, let setting, let problem = setting.problem(with: answer) else { return answer }
            console.warning("\(question.key) \(problem).")
        }
        throw ConfigError(.value(key: question.key), message: "no valid \(question.key) after three answers; run `adminctl init` again.")
    }

    /// The repository's last path component made a valid project name (`git@host:acme/Nuvola-App.git`
    /// → `nuvola-app`); nil when nothing valid is left.
    public static func projectName(fromRepository url: String) -> String? {
        var last = url.split(whereSeparator: { $0 == "/" || $0 == ":" }).last.map(String.init) ?? ""
        if last.hasSuffix(".git") { last.removeLast(4) }
        var name = String(last.lowercased().map { ("a"..."z").contains($0) || ("0"..."9").contains($0) ? $0 : "-" })
        while name.first.map({ !("a"..."z").contains($0) }) == true { name.removeFirst() }
        name = String(name.prefix(20))
        while name.hasSuffix("-") { name.removeLast() }
        return ResourceNames.projectNameProblem(name) == nil ? name : nil
    }

    /// The file: each section's settings with their help as comments; settings without a value
    /// stay commented out. Parsed back before it is written, so it is always valid TOML.
    static func render(_ values: [String: String]) throws(ConfigError) -> String {
        var lines = [
            "# adminctl's settings, written by `adminctl init`. `adminctl config show` prints what is in effect:",
            "# ADMINCTL_SECTION_NAME variables override this file, and a command's flags override both.",
        ]
        var section = ""
        for setting in AdminConfig.settings {
            let parts = setting.key.split(separator: ".", maxSplits: 1).map(String.init)
            if parts[0] != section {
                section = parts[0]
                lines += ["", "[\(section)]"]
            }
            lines.append("# \(setting.help)")
            if let value = values[setting.key] {
                lines.append("\(parts[1]) = \(tomlValue(value, shape: setting.shape))")
            } else {
                lines.append("# \(parts[1]) = \(setting.shape == .list ? "[\"198.51.100.7/32\"]" : "\"\"")")
            }
        }
        let text = lines.joined(separator: "\n") + "\n"
        do {
            _ = try TOML.document(text)
        } catch {
            throw ConfigError(.malformed, message: "adminctl init would write invalid TOML (\(error)): this is a bug in adminctl.")
        }
        return text
    }

    static func tomlValue(_ value: String, shape: Setting.Shape) -> String {
        switch shape {
        case .integer: value
        case .list: "[" + Setting.items(value).map(quoted).joined(separator: ", ") + "]"
        case .text: quoted(value)
        }
    }

    static func quoted(_ value: String) -> String {
        var result = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": result += "\\\\"
            case "\"": result += "\\\""
            case _ where scalar.value < 0x20 || scalar.value == 0x7F: result += String(format: "\\u%04X", scalar.value)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }

    /// Creates the file (mode 0644) only if it does not exist, even when another init races this one.
    static func create(_ path: String, contents: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            let code = errno
            if code == EEXIST { throw Refusal.exists(path) }
            throw ConfigError(.unreadable, message: "cannot create \(path): \(String(cString: strerror(code))).")
        }
        defer { close(fd) }
        fchmod(fd, 0o644)
        let bytes = Array(contents.utf8)
        try bytes.withUnsafeBytes { buffer in try FileDescriptor.writeAll(fd, buffer) }
    }
}
