import Foundation

/// Amazon RDS: the prod and dev databases the shared stack owns. adminctl reads them, lifts their
/// deletion protection for `infra down` (putting it back if the deletion fails), and finds or
/// removes the final snapshots CloudFormation leaves behind.
public struct RDS: QueryService {
    let client: AWSClient
    static let version = "2014-10-31"
    static let service = AWSService.rds

    public init(_ client: AWSClient) { self.client = client }

    public struct Instance: Sendable, Equatable {
        public var identifier: String
        /// available, creating, modifying, deleting, ...
        public var status: String
        public var deletionProtection: Bool
        public var multiAZ: Bool
        public var endpoint: String?
        public var port: Int?
        /// The database created with the instance (DBName), and its master user.
        public var databaseName: String?
        public var masterUsername: String?
        /// The Secrets Manager secret RDS keeps the master password in (ManageMasterUserPassword).
        public var masterUserSecretARN: String?

        init(_ node: XMLNode) {
            identifier = node.string("DBInstanceIdentifier") ?? ""
            status = node.string("DBInstanceStatus") ?? ""
            deletionProtection = node.bool("DeletionProtection") ?? false
            multiAZ = node.bool("MultiAZ") ?? false
            endpoint = node["Endpoint", "Address"]?.text
            port = node["Endpoint"]?.int("Port")
            databaseName = node.string("DBName")
            masterUsername = node.string("MasterUsername")
            masterUserSecretARN = node["MasterUserSecret", "SecretArn"]?.text
        }
    }

    /// The instance, or nil when there is none by that identifier.
    public func instance(_ identifier: String) async throws -> Instance? {
        var parameters = QueryParameters()
        parameters.set("DBInstanceIdentifier", identifier)
        do {
            // RDS names its list members after their type (<DBInstances><DBInstance>), not <member>.
            return try await call("DescribeDBInstances", parameters).child("DBInstances")?.children("DBInstance").map(Instance.init).first
        } catch let error as AWSError where error.code == "DBInstanceNotFound" || error.code == "DBInstanceNotFoundFault" {
            return nil
        }
    }

    /// Turns deletion protection on or off at once (ApplyImmediately).
    public func setDeletionProtection(_ identifier: String, _ protected: Bool) async throws {
        var parameters = QueryParameters()
        parameters.set("DBInstanceIdentifier", identifier)
        parameters.set("DeletionProtection", protected ? "true" : "false")
        parameters.set("ApplyImmediately", "true")
        _ = try await call("ModifyDBInstance", parameters)
    }

    public struct Snapshot: Sendable, Equatable {
        public var identifier: String
        public var instanceIdentifier: String
        /// manual or automated.
        public var type: String
        public var status: String
        public var created: Date?
    }

    /// The snapshots of one instance (it may be gone: snapshots outlive it).
    public func snapshots(ofInstance identifier: String, type: String? = nil) async throws -> [Snapshot] {
        try await Paginator<[Snapshot]> { marker in
            var parameters = QueryParameters()
            parameters.set("DBInstanceIdentifier", identifier)
            parameters.set("SnapshotType", type)
            parameters.set("Marker", marker)
            let result = try await call("DescribeDBSnapshots", parameters)
            let snapshots = (result.child("DBSnapshots")?.children("DBSnapshot") ?? []).map {
                Snapshot(identifier: $0.string("DBSnapshotIdentifier") ?? "", instanceIdentifier: $0.string("DBInstanceIdentifier") ?? "",
                         type: $0.string("SnapshotType") ?? "", status: $0.string("Status") ?? "", created: $0.date("SnapshotCreateTime"))
            }
            return (snapshots, result.string("Marker"))
        }.all { $0 }
    }

    public func deleteSnapshot(_ identifier: String) async throws {
        var parameters = QueryParameters()
        parameters.set("DBSnapshotIdentifier", identifier)
        _ = try await call("DeleteDBSnapshot", parameters)
    }
}
