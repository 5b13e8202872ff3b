import DumpImport
import Foundation
import Git
import Nuvola

/// adminctl's merged configuration: built-in defaults, then the `adminctl.toml` found from the
/// current directory upwards (else ~/.config/adminctl/adminctl.toml), then `ADMINCTL_*`
/// variables, then flags — the same engine and rules as devbox's.
public struct AdminConfig: Sendable {
    public static let fileName = "adminctl.toml"

    public static let schema = SettingsSchema(tool: "adminctl", environmentPrefix: "ADMINCTL", settings: [
        Setting(key: "project.name", help: "lowercase, 3-20 characters: it names the stack, buckets, IAM roles and parameters",
                rule: ResourceNames.projectNameProblem),
        Setting(key: "aws.region", help: "where the shared infrastructure lives (else AWS_REGION or the profile's)", rule: AdminRules.region),
        Setting(key: "repository.url", help: "the app's git repository, cloned by developer machines", rule: AdminRules.repositoryURL),
        Setting(key: "repository.integration_branch", defaultValue: "new_features",
                help: "where features are integrated; the dev environment runs it", rule: branchProblem),
        Setting(key: "repository.production_branch", defaultValue: "main", help: "what production runs", rule: branchProblem),
        Setting(key: "buckets.artifacts", help: "release tarballs (empty: <project>-artifacts-<account>-<region>)", rule: bucketProblem),
        Setting(key: "buckets.dumps", help: "production dumps (empty: <project>-dumps-<account>-<region>)", rule: bucketProblem),
        Setting(key: "buckets.logs", help: "access logs of the load balancer and the buckets (empty: <project>-logs-<account>-<region>)",
                rule: bucketProblem),
        Setting(key: "prod.instance_type", defaultValue: "t3.small", help: "EC2 type of production app instances", rule: AdminRules.instanceType),
        Setting(key: "prod.min_size", defaultValue: "2", help: "fewest production instances: at least one in each of two zones",
                shape: .integer(2...100)),
        Setting(key: "prod.max_size", defaultValue: "6", help: "most production instances the scaling policy may run", shape: .integer(2...100)),
        Setting(key: "prod.requests_per_instance", defaultValue: "600",
                help: "target-tracking value: requests per instance per minute before it scales out", shape: .integer(10...Int.max)),
        Setting(key: "prod.database_class", defaultValue: "db.t4g.medium", help: "RDS class of the production database (Multi-AZ)",
                rule: AdminRules.databaseClass),
        Setting(key: "dev.instance_type", defaultValue: "t3.micro", help: "EC2 type of dev app instances", rule: AdminRules.instanceType),
        Setting(key: "dev.min_size", defaultValue: "1", help: "fewest dev instances", shape: .integer(0...100)),
        Setting(key: "dev.max_size", defaultValue: "2", help: "most dev instances", shape: .integer(1...100)),
        Setting(key: "dev.database_class", defaultValue: "db.t4g.micro", help: "RDS class of the dev database (single-AZ)",
                rule: AdminRules.databaseClass),
        Setting(key: "database.engine_version", defaultValue: "8.0", help: "MySQL version (8.0, or a minor such as 8.0.39)",
                rule: AdminRules.engineVersion),
        Setting(key: "database.storage_gib", defaultValue: "20", help: "initial storage of each database; prod grows it by itself",
                shape: .integer(20...999)),
        Setting(key: "network.admin_cidrs", help: "who may reach the dev environment, as CIDR blocks (empty: nobody outside the VPC)",
                shape: .list, rule: AdminRules.cidrs),
        Setting(key: "network.certificate_arn", help: "ACM certificate for HTTPS on the load balancer (empty: HTTP only)",
                rule: AdminRules.certificateARN),
        Setting(key: "release.build", defaultValue: "composer install --no-dev --optimize-autoloader",
                help: "run in the exported tree before it is archived (this default only when composer.json exists; empty: none)"),
        Setting(key: "deploy.lock_lease_seconds", defaultValue: "120",
                help: "how long a deploy's lock outlives a deploy that stopped renewing it (killed, cut off)", shape: .integer(3...3600)),
        Setting(key: "deploy.batch", defaultValue: "50%",
                help: "instances switched per wave of a rolling deploy or rollback: a count or a percentage (--batch)",
                rule: { FleetLimits.problem($0, name: "deploy.batch", allowsZero: false) }),
        Setting(key: "deploy.min_healthy_percent", defaultValue: "50",
                help: "share of the instances a wave never touches: waves are at most the rest (at least one instance)",
                shape: .integer(0...100)),
        Setting(key: "deploy.keep_releases", defaultValue: "5",
                help: "releases kept on each instance (the current and the previous one always)", shape: .integer(2...100)),
        Setting(key: "deploy.health_path", defaultValue: "/health",
                help: "what a new release must answer 200 on, served locally on the instance, before it is switched to",
                rule: { $0.hasPrefix("/") ? nil : "must start with / (such as /health), not \"\($0)\"" }),
        Setting(key: "deploy.shared_paths", defaultValue: "var/log/,public/uploads/,.env.local",
                help: "linked into every release from /srv/app/shared: a trailing / marks a directory (made when missing), "
                    + "else a file (linked when it exists)", shape: .list, rule: AdminRules.sharedPaths),
        Setting(key: "deploy.step_timeout_seconds", defaultValue: "300",
                help: "how long one step (staging, migrations, a wave) may run on an instance", shape: .integer(10...3600)),
        Setting(key: "deploy.refresh_min_healthy_percent", defaultValue: "90",
                help: "deploy --refresh: share of the group kept in service while instances are replaced", shape: .integer(0...100)),
        Setting(key: "deploy.refresh_warmup_seconds", defaultValue: "60",
                help: "deploy --refresh: seconds a new healthy instance warms up before it counts", shape: .integer(0...3600)),
        Setting(key: "dumps.retention_days", defaultValue: "30", help: "days a production dump is kept", shape: .integer(1...3650)),
        Setting(key: "dumps.keep", defaultValue: "7", help: "complete dumps `adminctl db dump prod` keeps (older ones deleted)",
                shape: .integer(1...1000)),
    ], extensionSections: ["sanitize"])

    public static var settings: [Setting] { schema.settings }

    static func branchProblem(_ value: String) -> String? {
        BranchName.problem(value).map { "is not a valid branch name (\(AdminRules.shown(value))): \($0)" }
    }

    static func bucketProblem(_ value: String) -> String? {
        value.isEmpty ? nil : ResourceNames.bucketNameProblem(value).map { "is not a valid bucket name: it \($0)" }
    }

    public private(set) var layers: LayeredSettings
    /// `[[sanitize]]` rules (devbox's format) that `adminctl db refresh dev` applies to the dev copy.
    public private(set) var sanitizeRules: [SanitizeRule] = []
    /// The file read, if one was found.
    public private(set) var file: String?

    public var warnings: [String] { layers.warnings }

    /// The file adminctl reads: `adminctl.toml` in `directory` or the nearest parent holding
    /// one, else the user's (`~/.config/adminctl/adminctl.toml`) when it exists.
    public static func locate(from directory: String, home: String) -> String? {
        var current = URL(fileURLWithPath: directory).standardizedFileURL.path
        while true {
            let candidate = (current as NSString).appendingPathComponent(fileName)
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
            let parent = (current as NSString).deletingLastPathComponent
            if parent == current || parent.isEmpty { break }
            current = parent
        }
        let user = userFile(home: home)
        return FileManager.default.fileExists(atPath: user) ? user : nil
    }

    public static func userFile(home: String) -> String { "\(home)/.config/adminctl/\(fileName)" }

    /// Merges every source; `flags` maps setting keys to the flag's spelling and value.
    public static func load(directory: String, environment: [String: String],
                            flags: [String: (flag: String, value: String)] = [:]) throws(ConfigError) -> AdminConfig {
        let home = environment["HOME"] ?? NSHomeDirectory()
        var config = AdminConfig(layers: LayeredSettings(schema: schema), file: locate(from: directory, home: home))
        var rules: [SanitizeRule] = []
        try config.layers.load(files: config.file.map { [$0] } ?? [], environment: environment, flags: flags) {
            (document, path) throws(ConfigError) in rules = try SanitizeRule.rules(from: document.values, file: path)
        }
        config.sanitizeRules = rules
        try config.checkSizes()
        return config
    }

    /// What one value cannot say alone: a group's sizes in order, at most the template's three admin ranges.
    func checkSizes() throws(ConfigError) {
        for environment in ["prod", "dev"] where layers.integer("\(environment).min_size") > layers.integer("\(environment).max_size") {
            let origins = ["min_size", "max_size"].map { "\(environment).\($0) from \(layers.origin(of: "\(environment).\($0)"))" }
            throw ConfigError(.value(key: "\(environment).min_size"), message: "\(origins.joined(separator: " and ")) disagree: "
                + "min_size \(layers.integer("\(environment).min_size")) is above max_size \(layers.integer("\(environment).max_size")). "
                + "Raise max_size or lower min_size.")
        }
        if adminCIDRs.count > Self.adminRangeParameters.count {
            throw ConfigError(.value(key: "network.admin_cidrs"), message: "network.admin_cidrs from \(layers.origin(of: "network.admin_cidrs")) "
                + "lists \(adminCIDRs.count) ranges, but the shared template takes up to \(Self.adminRangeParameters.count). "
                + "Merge some into a block that covers them.")
        }
    }

    public func value(_ key: String) -> String? { layers.value(key) }

    public var projectName: String? { value("project.name") }
    public var region: String? { value("aws.region") }
    public var repositoryURL: String? { value("repository.url") }
    public var adminCIDRs: [String] { value("network.admin_cidrs").map(Setting.items) ?? [] }

    /// What `adminctl config show` reports.
    public var report: SettingsReport {
        SettingsReport(settings: layers.rows, files: file.map { [$0] } ?? [])
    }
}
