import Nuvola

extension AdminConfig {
    /// Settings → the shared template's parameter names, in one place. Settings left unset are
    /// not sent, so the template's defaults apply (empty bucket names derive from the account).
    public static let templateParameters: [(parameter: String, key: String)] = [
        ("ProjectName", "project.name"),
        ("ProdInstanceType", "prod.instance_type"),
        ("ProdMinSize", "prod.min_size"),
        ("ProdMaxSize", "prod.max_size"),
        ("RequestsPerInstanceTarget", "prod.requests_per_instance"),
        ("ProdDatabaseClass", "prod.database_class"),
        ("DevInstanceType", "dev.instance_type"),
        ("DevMinSize", "dev.min_size"),
        ("DevMaxSize", "dev.max_size"),
        ("DevDatabaseClass", "dev.database_class"),
        ("DatabaseEngineVersion", "database.engine_version"),
        ("DatabaseStorageGiB", "database.storage_gib"),
        ("AdminCidr", "network.admin_cidrs"),
        ("AdminCidr2", "network.admin_cidrs"),
        ("AdminCidr3", "network.admin_cidrs"),
        ("CertificateArn", "network.certificate_arn"),
        ("ArtifactsBucketName", "buckets.artifacts"),
        ("DumpsBucketName", "buckets.dumps"),
        ("LogsBucketName", "buckets.logs"),
        ("DumpRetentionDays", "dumps.retention_days"),
    ]

    /// The project's name, or the error that says how to set it.
    public func requiredProjectName() throws(ConfigError) -> String {
        guard let projectName else {
            throw ConfigError(.value(key: "project.name"), message: "project.name is not set. Run `adminctl init` to write "
                + "\(Self.fileName), or set ADMINCTL_PROJECT_NAME.")
        }
        return projectName
    }

    /// The CloudFormation parameters of the shared stack; throws when the project has no name.
    public func stackParameters() throws(ConfigError) -> [String: String] {
        _ = try requiredProjectName()
        var parameters: [String: String] = [:]
        for (parameter, key) in Self.templateParameters {
            guard let value = value(key), !value.isEmpty else { continue }
            parameters[parameter] = key == "network.admin_cidrs" ? Self.adminRange(parameter, of: adminCIDRs) : value
        }
        return parameters
    }

    /// The template has one parameter per admin range (AdminCidr, AdminCidr2, AdminCidr3); the
    /// ones past the list are sent empty, so a shorter list removes their rules.
    static let adminRangeParameters = ["AdminCidr", "AdminCidr2", "AdminCidr3"]
    static func adminRange(_ parameter: String, of ranges: [String]) -> String {
        let index = adminRangeParameters.firstIndex(of: parameter) ?? 0
        return index < ranges.count ? ranges[index] : ""
    }
}
