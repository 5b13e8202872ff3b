import Foundation

/// AWS Identity and Access Management: developer users and their keys, groups, policies, and the
/// roles and instance profiles machines run with.
public struct IAM: QueryService {
    let client: AWSClient
    static let version = "2010-05-08"
    static let service = AWSService.iam

    public init(_ client: AWSClient) { self.client = client }


    static func parameters(_ pairs: (String, String?)...) -> QueryParameters {
        var parameters = QueryParameters()
        for (name, value) in pairs { parameters.set(name, value) }
        return parameters
    }

    /// Runs `body`, treating AWS's "NoSuchEntity" as absence.
    static func optional<T>(_ body: () async throws -> T) async throws -> T? {
        do {
            return try await body()
        } catch let error as AWSError where error.code == "NoSuchEntity" {
            return nil
        }
    }

    /// Marker-paginated list calls.
    func pages(_ action: String, _ base: QueryParameters, list: String) -> Paginator<[XMLNode]> {
        Paginator { marker in
            var parameters = base
            parameters.set("Marker", marker)
            let result = try await call(action, parameters)
            return (result.list(list), result.bool("IsTruncated") == true ? result.string("Marker") : nil)
        }
    }

    // MARK: Users

    public struct User: Sendable, Equatable {
        public var name: String
        public var arn: String
        public var id: String
        public var path: String
        public var tags: [String: String]

        init(_ node: XMLNode) {
            name = node.string("UserName") ?? ""
            arn = node.string("Arn") ?? ""
            id = node.string("UserId") ?? ""
            path = node.string("Path") ?? "/"
            var tags: [String: String] = [:]
            for tag in node.list("Tags") { tags[tag.string("Key") ?? ""] = tag.string("Value") ?? "" }
            self.tags = tags
        }
    }

    @discardableResult
    public func createUser(_ name: String, path: String = "/", tags: [String: String] = [:]) async throws -> User {
        var parameters = Self.parameters(("UserName", name), ("Path", path))
        parameters.tags("Tags", tags.isEmpty ? nil : tags)
        return User(try await call("CreateUser", parameters).child("User") ?? XMLNode(name: "User"))
    }

    public func getUser(_ name: String) async throws -> User? {
        try await Self.optional { User(try await call("GetUser", Self.parameters(("UserName", name))).child("User")!) }
    }

    public func listUsers(pathPrefix: String? = nil, pageSize: Int? = nil) -> Paginator<[User]> {
        var parameters = Self.parameters(("PathPrefix", pathPrefix))
        parameters.set("MaxItems", pageSize)
        return pages("ListUsers", parameters, list: "Users").map { $0.map(User.init) }
    }

    public func allUsers(pathPrefix: String? = nil) async throws -> [User] {
        try await listUsers(pathPrefix: pathPrefix).all { $0 }
    }

    public func deleteUser(_ name: String) async throws {
        _ = try await call("DeleteUser", Self.parameters(("UserName", name)))
    }

    // MARK: Groups

    public func createGroup(_ name: String, path: String = "/") async throws {
        _ = try await call("CreateGroup", Self.parameters(("GroupName", name), ("Path", path)))
    }

    public func addUser(_ user: String, toGroup group: String) async throws {
        _ = try await call("AddUserToGroup", Self.parameters(("GroupName", group), ("UserName", user)))
    }

    public func removeUser(_ user: String, fromGroup group: String) async throws {
        _ = try await call("RemoveUserFromGroup", Self.parameters(("GroupName", group), ("UserName", user)))
    }

    public func groups(ofUser user: String) async throws -> [String] {
        try await pages("ListGroupsForUser", Self.parameters(("UserName", user)), list: "Groups")
            .all { $0.compactMap { $0.string("GroupName") } }
    }

    public func deleteGroup(_ name: String) async throws {
        _ = try await call("DeleteGroup", Self.parameters(("GroupName", name)))
    }

    // MARK: Policies

    /// Inline policy of a user (replaces one of the same name).
    public func putUserPolicy(user: String, name: String, document: String) async throws {
        _ = try await call("PutUserPolicy", Self.parameters(("UserName", user), ("PolicyName", name),
                                                            ("PolicyDocument", document)))
    }

    /// The inline policy's JSON document, or nil.
    public func getUserPolicy(user: String, name: String) async throws -> String? {
        try await Self.optional {
            let encoded = try await call("GetUserPolicy", Self.parameters(("UserName", user), ("PolicyName", name)))
                .string("PolicyDocument") ?? ""
            return encoded.removingPercentEncoding ?? encoded
        }
    }

    public func listUserPolicies(user: String) async throws -> [String] {
        try await pages("ListUserPolicies", Self.parameters(("UserName", user)), list: "PolicyNames").all { $0.map(\.text) }
    }

    public func deleteUserPolicy(user: String, name: String) async throws {
        _ = try await call("DeleteUserPolicy", Self.parameters(("UserName", user), ("PolicyName", name)))
    }

    /// A managed policy; returns its ARN.
    public func createPolicy(name: String, document: String, path: String = "/", description: String? = nil) async throws -> String {
        try await call("CreatePolicy", Self.parameters(("PolicyName", name), ("PolicyDocument", document), ("Path", path),
                                                       ("Description", description)))["Policy", "Arn"]?.text ?? ""
    }

    public func attachUserPolicy(user: String, policyARN: String) async throws {
        _ = try await call("AttachUserPolicy", Self.parameters(("UserName", user), ("PolicyArn", policyARN)))
    }

    public func detachUserPolicy(user: String, policyARN: String) async throws {
        _ = try await call("DetachUserPolicy", Self.parameters(("UserName", user), ("PolicyArn", policyARN)))
    }

    public func attachedUserPolicies(user: String) async throws -> [String] {
        try await pages("ListAttachedUserPolicies", Self.parameters(("UserName", user)), list: "AttachedPolicies")
            .all { $0.compactMap { $0.string("PolicyArn") } }
    }

    /// The JSON document of a managed policy's default version, or nil when there is no such policy.
    public func policyDocument(arn: String) async throws -> String? {
        try await Self.optional {
            let version = try await call("GetPolicy", Self.parameters(("PolicyArn", arn)))["Policy", "DefaultVersionId"]?.text ?? "v1"
            let encoded = try await call("GetPolicyVersion", Self.parameters(("PolicyArn", arn), ("VersionId", version)))
                .child("PolicyVersion")?.string("Document") ?? ""
            return encoded.removingPercentEncoding ?? encoded
        }
    }

    /// A new default version of a managed policy (the oldest non-default one must go first at five).
    public func createPolicyVersion(arn: String, document: String) async throws {
        _ = try await call("CreatePolicyVersion", Self.parameters(("PolicyArn", arn), ("PolicyDocument", document),
                                                                  ("SetAsDefault", "true")))
    }

    public func deletePolicy(arn: String) async throws {
        _ = try await call("DeletePolicy", Self.parameters(("PolicyArn", arn)))
    }

    // MARK: Access keys

    /// A new key pair. The secret exists only in this value: store it (0600) or hand it over.
    public struct AccessKey: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
        public var userName: String
        public var accessKeyID: String
        public var secretAccessKey: String
        public var status: String
        public var created: Date?
        public var description: String { "access key \(accessKeyID) of \(userName) (\(status))" }
        public var debugDescription: String { description }
        public var customMirror: Mirror {
            Mirror(self, children: ["userName": userName, "accessKeyID": accessKeyID, "secretAccessKey": "<redacted>",
                                    "status": status, "created": created as Any],
                   displayStyle: .struct)
        }
    }

    public struct AccessKeyMetadata: Sendable, Equatable {
        public var accessKeyID: String
        public var status: String
        public var created: Date?
    }

    /// A new key pair. Not resent after a lost answer (it would make a second key whose secret
    /// nobody saw); the error then has `mayHaveTakenEffect`: list the user's keys before retrying.
    public func createAccessKey(user: String) async throws -> AccessKey {
        let node = try await call("CreateAccessKey", Self.parameters(("UserName", user)), idempotency: .repeatsWork)
            .child("AccessKey") ?? XMLNode(name: "")
        return AccessKey(userName: node.string("UserName") ?? user, accessKeyID: node.string("AccessKeyId") ?? "",
                         secretAccessKey: node.string("SecretAccessKey") ?? "", status: node.string("Status") ?? "",
                         created: node.date("CreateDate"))
    }

    public func listAccessKeys(user: String) async throws -> [AccessKeyMetadata] {
        try await pages("ListAccessKeys", Self.parameters(("UserName", user)), list: "AccessKeyMetadata").all { nodes in
            nodes.map { AccessKeyMetadata(accessKeyID: $0.string("AccessKeyId") ?? "", status: $0.string("Status") ?? "",
                                          created: $0.date("CreateDate")) }
        }
    }

    /// Active or Inactive: rotation deactivates the old key before deleting it.
    public func updateAccessKey(user: String, accessKeyID: String, active: Bool) async throws {
        _ = try await call("UpdateAccessKey", Self.parameters(("UserName", user), ("AccessKeyId", accessKeyID),
                                                              ("Status", active ? "Active" : "Inactive")))
    }

    /// When the key last signed a request, and for which service; nil when it never did.
    public func accessKeyLastUsed(_ accessKeyID: String) async throws -> (date: Date, service: String?)? {
        let node = try await call("GetAccessKeyLastUsed", Self.parameters(("AccessKeyId", accessKeyID))).child("AccessKeyLastUsed")
        guard let date = node?.date("LastUsedDate") else { return nil }
        return (date, node?.string("ServiceName"))
    }

    public func deleteAccessKey(user: String, accessKeyID: String) async throws {
        _ = try await call("DeleteAccessKey", Self.parameters(("UserName", user), ("AccessKeyId", accessKeyID)))
    }

    // MARK: Roles and instance profiles

    public struct Role: Sendable, Equatable {
        public var name: String
        public var arn: String
    }

    @discardableResult
    public func createRole(name: String, assumeRolePolicy: String, path: String = "/") async throws -> Role {
        let node = try await call("CreateRole", Self.parameters(("RoleName", name), ("AssumeRolePolicyDocument", assumeRolePolicy),
                                                                ("Path", path))).child("Role") ?? XMLNode(name: "")
        return Role(name: node.string("RoleName") ?? name, arn: node.string("Arn") ?? "")
    }

    public func getRole(_ name: String) async throws -> Role? {
        try await Self.optional {
            let node = try await call("GetRole", Self.parameters(("RoleName", name))).child("Role") ?? XMLNode(name: "")
            return Role(name: node.string("RoleName") ?? name, arn: node.string("Arn") ?? "")
        }
    }

    public func putRolePolicy(role: String, name: String, document: String) async throws {
        _ = try await call("PutRolePolicy", Self.parameters(("RoleName", role), ("PolicyName", name), ("PolicyDocument", document)))
    }

    public func deleteRolePolicy(role: String, name: String) async throws {
        _ = try await call("DeleteRolePolicy", Self.parameters(("RoleName", role), ("PolicyName", name)))
    }

    public func deleteRole(_ name: String) async throws {
        _ = try await call("DeleteRole", Self.parameters(("RoleName", name)))
    }

    public struct InstanceProfile: Sendable, Equatable {
        public var name: String
        public var arn: String
        public var roles: [String]
    }

    static func profile(_ node: XMLNode) -> InstanceProfile {
        InstanceProfile(name: node.string("InstanceProfileName") ?? "", arn: node.string("Arn") ?? "",
                        roles: node.list("Roles").compactMap { $0.string("RoleName") })
    }

    @discardableResult
    public func createInstanceProfile(_ name: String, path: String = "/") async throws -> InstanceProfile {
        Self.profile(try await call("CreateInstanceProfile", Self.parameters(("InstanceProfileName", name), ("Path", path)))
            .child("InstanceProfile") ?? XMLNode(name: ""))
    }

    public func addRole(_ role: String, toInstanceProfile profile: String) async throws {
        _ = try await call("AddRoleToInstanceProfile", Self.parameters(("InstanceProfileName", profile), ("RoleName", role)))
    }

    public func removeRole(_ role: String, fromInstanceProfile profile: String) async throws {
        _ = try await call("RemoveRoleFromInstanceProfile", Self.parameters(("InstanceProfileName", profile), ("RoleName", role)))
    }

    public func getInstanceProfile(_ name: String) async throws -> InstanceProfile? {
        try await Self.optional {
            Self.profile(try await call("GetInstanceProfile", Self.parameters(("InstanceProfileName", name)))
                .child("InstanceProfile") ?? XMLNode(name: ""))
        }
    }

    public func deleteInstanceProfile(_ name: String) async throws {
        _ = try await call("DeleteInstanceProfile", Self.parameters(("InstanceProfileName", name)))
    }
}
