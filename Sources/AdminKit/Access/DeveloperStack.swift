import Nuvola

/// One developer's CloudFormation stack (adminctl/templates/developer.yaml).
public struct DeveloperStack: DeployableStack {
    public static let templateFile = "developer.yaml"

    public var project: String
    public var developer: String
    public var name: String { DeveloperStackNaming.stackName(project: project, developer: developer) }
    public var tags: [String: String] {
        [NuvolaTag.project: project, NuvolaTag.managedBy: "adminctl", NuvolaTag.role: DeveloperStackNaming.stackRole,
         NuvolaTag.owner: developer]
    }
    public var retryCommand: String { "adminctl onboard \(developer)" }
    public var deleteCommand: String { "adminctl offboard \(developer) --yes" }

    public init(project: String, developer: String) {
        self.project = project
        self.developer = developer
    }

    /// The template's parameters. Machines alternate between the two private subnets (zones) by name.
    public func parameters(shared: String, version: String, repository: String, branch: String,
                           email: String?, instanceType: String?) -> [String: String] {
        var values = ["ProjectName": project, "DeveloperName": developer, "SharedStackName": shared,
                      "DevboxVersion": version, "RepositoryUrl": repository, "IntegrationBranch": branch,
                      "SubnetIndex": String(developer.unicodeScalars.reduce(0) { $0 + Int($1.value) } % 2)]
        if let email { values["DeveloperEmail"] = email }
        if let instanceType { values["InstanceType"] = instanceType }
        return values
    }
}
