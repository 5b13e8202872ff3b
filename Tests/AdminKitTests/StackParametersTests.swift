import AdminKit
import Foundation
import Nuvola
import Testing
import TestSupport

/// The settings meet the shared template where it declares its parameters.
@Suite struct StackParametersTests {
    /// `Parameters:` of adminctl/templates/shared.yaml: each name and whether it has a Default.
    /// Line-based: the section's keys are the lines indented by two spaces.
    static func templateParameters() throws -> [String: Bool] {
        let template = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("adminctl/templates/shared.yaml")
        var parameters: [String: Bool] = [:]
        var inParameters = false
        var current: String?
        for line in try String(contentsOf: template, encoding: .utf8).components(separatedBy: "\n") {
            if !line.hasPrefix(" "), !line.hasPrefix("#"), !line.isEmpty {
                inParameters = line.hasPrefix("Parameters:")
                continue
            }
            guard inParameters else { continue }
            if line.hasPrefix("  "), !line.hasPrefix("   "), !line.hasPrefix("  #"), let colon = line.firstIndex(of: ":") {
                current = String(line[line.index(line.startIndex, offsetBy: 2)..<colon])
                parameters[current!] = false
            } else if let current, line.trimmingCharacters(in: .whitespaces).hasPrefix("Default:") {
                parameters[current] = true
            }
        }
        return parameters
    }

    @Test func everyParameterIsTheTemplatesAndEveryRequiredOneIsGiven() throws {
        let template = try Self.templateParameters()
        #expect(template["ProjectName"] == true && template["ImageId"] == true && template.count > 20, "\(template)")
        let setup = try TemporaryDirectory()
        defer { setup.remove() }
        // Every setting set, so every mapped parameter is sent.
        let environment = ["HOME": setup.path, "ADMINCTL_PROJECT_NAME": "shop", "ADMINCTL_BUCKETS_ARTIFACTS": "shop-a1-artifacts",
                           "ADMINCTL_BUCKETS_DUMPS": "shop-a1-dumps", "ADMINCTL_BUCKETS_LOGS": "shop-a1-logs",
                           "ADMINCTL_NETWORK_ADMIN_CIDRS": "198.51.100.7/32",
                           "ADMINCTL_NETWORK_CERTIFICATE_ARN": "arn:aws:acm:eu-west-3:123456789012:certificate/abc-123"]
        let parameters = try AdminConfig.load(directory: setup.path, environment: environment).stackParameters()
        for name in parameters.keys.sorted() { #expect(template[name] != nil, "\(name) is not a parameter of shared.yaml") }
        for (name, hasDefault) in template where !hasDefault { #expect(parameters[name] != nil, "\(name) has no default and is not given") }
        #expect(parameters.count == AdminConfig.templateParameters.count)
        #expect(parameters["ProjectName"] == "shop" && parameters["ProdMinSize"] == "2" && parameters["AdminCidr"] == "198.51.100.7/32")
        for (_, key) in AdminConfig.templateParameters { #expect(AdminConfig.schema.setting(key) != nil, "\(key)") }
    }

    @Test func unsetSettingsLeaveTheTemplatesDefaultsAndANameIsRequired() throws {
        let setup = try TemporaryDirectory()
        defer { setup.remove() }
        let unnamed = try AdminConfig.load(directory: setup.path, environment: ["HOME": setup.path])
        let error = #expect(throws: ConfigError.self) { try unnamed.stackParameters() }
        #expect(error?.message == "project.name is not set. Run `adminctl init` to write adminctl.toml, or set ADMINCTL_PROJECT_NAME.")
        let named = try AdminConfig.load(directory: setup.path, environment: ["HOME": setup.path, "ADMINCTL_PROJECT_NAME": "shop"])
        let parameters = try named.stackParameters()
        #expect(parameters["ArtifactsBucketName"] == nil && parameters["CertificateArn"] == nil && parameters["AdminCidr"] == nil)
    }
}
