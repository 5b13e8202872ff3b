import Foundation

/// AWS CloudFormation: the shared stack and one stack per developer, created and changed through
/// change sets so the admin sees what will change before it does.
public struct CloudFormation: QueryService {
    let client: AWSClient
    static let version = "2010-05-15"
    static let service = AWSService.cloudFormation

    public init(_ client: AWSClient) { self.client = client }


    public struct Stack: Sendable, Equatable {
        public var id: String
        public var name: String
        /// CREATE_COMPLETE, UPDATE_IN_PROGRESS, ROLLBACK_COMPLETE, ...
        public var status: String
        public var statusReason: String?
        public var outputs: [String: String]
        public var parameters: [String: String]
        public var tags: [String: String]
        public var created: Date?
        /// Nil until the stack is first updated.
        public var lastUpdated: Date?

        /// Finished, one way or the other.
        public var isSettled: Bool { !status.hasSuffix("_IN_PROGRESS") }
        public var isHealthy: Bool { ["CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"].contains(status) }
    }

    static func pairs(_ node: XMLNode, list: String, key: String, value: String) -> [String: String] {
        var result: [String: String] = [:]
        for item in node.list(list) { result[item.string(key) ?? ""] = item.string(value) ?? "" }
        return result
    }

    static func add(parameters values: [String: String], tags: [String: String], to parameters: inout QueryParameters) {
        parameters.structures("Parameters", values.sorted { $0.key < $1.key }) { params, prefix, pair in
            params.set("\(prefix).ParameterKey", pair.key)
            params.set("\(prefix).ParameterValue", pair.value)
        }
        parameters.tags("Tags", tags.isEmpty ? nil : tags)
    }

    public func describeStacks(name: String? = nil) -> Paginator<[Stack]> {
        Paginator { token in
            var parameters = QueryParameters()
            parameters.set("StackName", name)
            parameters.set("NextToken", token)
            let result = try await call("DescribeStacks", parameters)
            let stacks = result.list("Stacks").map { node in
                Stack(id: node.string("StackId") ?? "", name: node.string("StackName") ?? "",
                      status: node.string("StackStatus") ?? "", statusReason: node.string("StackStatusReason"),
                      outputs: Self.pairs(node, list: "Outputs", key: "OutputKey", value: "OutputValue"),
                      parameters: Self.pairs(node, list: "Parameters", key: "ParameterKey", value: "ParameterValue"),
                      tags: Self.pairs(node, list: "Tags", key: "Key", value: "Value"),
                      created: node.date("CreationTime"), lastUpdated: node.date("LastUpdatedTime"))
            }
            return (stacks, result.string("NextToken"))
        }
    }

    /// The stack, or nil when it does not exist.
    public func stack(_ name: String) async throws -> Stack? {
        do {
            return try await describeStacks(name: name).all { $0 }.first
        } catch let error as AWSError where error.code == "ValidationError" && error.message.contains("does not exist") {
            return nil
        }
    }

    // Every call that changes a stack carries CloudFormation's idempotency token, made once per
    // call (the default argument) and resent unchanged on every retry, so a retry after a lost
    // answer is recognised as the same request. A caller that must survive its own restart
    // passes its own token. The stack's events carry it too.

    @discardableResult
    public func createStack(name: String, template: String, parameters values: [String: String] = [:],
                            tags: [String: String] = [:], capabilities: [String] = ["CAPABILITY_NAMED_IAM"],
                            clientRequestToken: String = UUID().uuidString) async throws -> String {
        var parameters = QueryParameters()
        parameters.set("StackName", name)
        parameters.set("TemplateBody", template)
        parameters.list("Capabilities", capabilities)
        parameters.set("ClientRequestToken", clientRequestToken)
        Self.add(parameters: values, tags: tags, to: &parameters)
        return try await call("CreateStack", parameters).string("StackId") ?? ""
    }

    public func updateStack(name: String, template: String, parameters values: [String: String] = [:],
                            capabilities: [String] = ["CAPABILITY_NAMED_IAM"],
                            clientRequestToken: String = UUID().uuidString) async throws {
        var parameters = QueryParameters()
        parameters.set("StackName", name)
        parameters.set("TemplateBody", template)
        parameters.list("Capabilities", capabilities)
        parameters.set("ClientRequestToken", clientRequestToken)
        Self.add(parameters: values, tags: [:], to: &parameters)
        _ = try await call("UpdateStack", parameters)
    }

    public func deleteStack(_ name: String, clientRequestToken: String = UUID().uuidString) async throws {
        var parameters = QueryParameters()
        parameters.set("StackName", name)
        parameters.set("ClientRequestToken", clientRequestToken)
        _ = try await call("DeleteStack", parameters)
    }

    /// An exported output: its region-wide name, value and the stack that exports it.
    public struct Export: Sendable, Equatable {
        public var name: String
        public var value: String
        public var exportingStackID: String
    }

    public func listExports() -> Paginator<[Export]> {
        Paginator { token in
            var parameters = QueryParameters()
            parameters.set("NextToken", token)
            let result = try await call("ListExports", parameters)
            let exports = result.list("Exports").map {
                Export(name: $0.string("Name") ?? "", value: $0.string("Value") ?? "", exportingStackID: $0.string("ExportingStackId") ?? "")
            }
            return (exports, result.string("NextToken"))
        }
    }

    /// The names of the stacks importing the export; empty when none does (CloudFormation answers
    /// that case with a ValidationError "... is not imported by any stack").
    public func listImports(exportName: String) async throws -> [String] {
        do {
            return try await Paginator<[String]> { token in
                var parameters = QueryParameters()
                parameters.set("ExportName", exportName)
                parameters.set("NextToken", token)
                let result = try await call("ListImports", parameters)
                return (result.list("Imports").map(\.text), result.string("NextToken"))
            }.all { $0 }
        } catch let error as AWSError where error.code == "ValidationError" && error.message.contains("not imported") {
            return []
        }
    }

    /// One resource of a stack, as ListStackResources gives it.
    public struct Resource: Sendable, Equatable {
        public var logicalID: String
        public var physicalID: String
        public var type: String
        public var status: String
    }

    public func listStackResources(_ stack: String) -> Paginator<[Resource]> {
        Paginator { token in
            var parameters = QueryParameters()
            parameters.set("StackName", stack)
            parameters.set("NextToken", token)
            let result = try await call("ListStackResources", parameters)
            let resources = result.list("StackResourceSummaries").map {
                Resource(logicalID: $0.string("LogicalResourceId") ?? "", physicalID: $0.string("PhysicalResourceId") ?? "",
                         type: $0.string("ResourceType") ?? "", status: $0.string("ResourceStatus") ?? "")
            }
            return (resources, result.string("NextToken"))
        }
    }

    /// The template the stack runs now, as it was sent.
    public func template(of stack: String) async throws -> String {
        var parameters = QueryParameters()
        parameters.set("StackName", stack)
        parameters.set("TemplateStage", "Original")
        return try await call("GetTemplate", parameters).string("TemplateBody") ?? ""
    }

    /// Starts drift detection on the stack; returns the detection's id.
    public func detectStackDrift(_ stack: String) async throws -> String {
        var parameters = QueryParameters()
        parameters.set("StackName", stack)
        return try await call("DetectStackDrift", parameters).string("StackDriftDetectionId") ?? ""
    }

    public struct DriftDetection: Sendable, Equatable {
        /// DETECTION_IN_PROGRESS, DETECTION_COMPLETE, DETECTION_FAILED.
        public var detectionStatus: String
        /// DRIFTED, IN_SYNC, UNKNOWN, NOT_CHECKED.
        public var stackDriftStatus: String?
        public var reason: String?
        public var driftedResources: Int
    }

    public func driftDetectionStatus(_ detectionID: String) async throws -> DriftDetection {
        var parameters = QueryParameters()
        parameters.set("StackDriftDetectionId", detectionID)
        let result = try await call("DescribeStackDriftDetectionStatus", parameters)
        return DriftDetection(detectionStatus: result.string("DetectionStatus") ?? "", stackDriftStatus: result.string("StackDriftStatus"),
                              reason: result.string("DetectionStatusReason"), driftedResources: result.int("DriftedStackResourceCount") ?? 0)
    }

    public struct ResourceDrift: Sendable, Equatable {
        public struct Difference: Sendable, Equatable {
            public var path: String
            public var expected: String
            public var actual: String
            /// ADD, REMOVE, NOT_EQUAL.
            public var type: String
        }
        public var logicalID: String
        public var physicalID: String
        public var resourceType: String
        /// IN_SYNC, MODIFIED, DELETED, NOT_CHECKED.
        public var status: String
        public var differences: [Difference]
    }

    /// The latest detection's result for each resource, limited to `statuses` when given.
    public func resourceDrifts(_ stack: String, statuses: [String] = []) async throws -> [ResourceDrift] {
        try await Paginator<[ResourceDrift]> { token in
            var parameters = QueryParameters()
            parameters.set("StackName", stack)
            parameters.list("StackResourceDriftStatusFilters", statuses.isEmpty ? nil : statuses)
            parameters.set("NextToken", token)
            let result = try await call("DescribeStackResourceDrifts", parameters)
            let drifts = result.list("StackResourceDrifts").map { node in
                ResourceDrift(logicalID: node.string("LogicalResourceId") ?? "", physicalID: node.string("PhysicalResourceId") ?? "",
                              resourceType: node.string("ResourceType") ?? "", status: node.string("StackResourceDriftStatus") ?? "",
                              differences: node.list("PropertyDifferences").map {
                                  ResourceDrift.Difference(path: $0.string("PropertyPath") ?? "", expected: $0.string("ExpectedValue") ?? "",
                                                           actual: $0.string("ActualValue") ?? "", type: $0.string("DifferenceType") ?? "")
                              })
            }
            return (drifts, result.string("NextToken"))
        }.all { $0 }
    }

    public struct Event: Sendable, Equatable {
        public var id: String
        public var logicalID: String
        public var resourceType: String
        public var status: String
        public var reason: String?
        public var timestamp: Date?
    }

    /// Newest first, as AWS returns them.
    public func describeStackEvents(_ name: String) -> Paginator<[Event]> {
        Paginator { token in
            var parameters = QueryParameters()
            parameters.set("StackName", name)
            parameters.set("NextToken", token)
            let result = try await call("DescribeStackEvents", parameters)
            let events = result.list("StackEvents").map {
                Event(id: $0.string("EventId") ?? "", logicalID: $0.string("LogicalResourceId") ?? "",
                      resourceType: $0.string("ResourceType") ?? "", status: $0.string("ResourceStatus") ?? "",
                      reason: $0.string("ResourceStatusReason"), timestamp: $0.date("Timestamp"))
            }
            return (events, result.string("NextToken"))
        }
    }

    public struct ChangeSet: Sendable, Equatable {
        public struct Change: Sendable, Equatable {
            /// Add, Modify, Remove.
            public var action: String
            public var logicalID: String
            public var resourceType: String
            public var replacement: String?
        }
        public var id: String
        public var status: String
        public var statusReason: String?
        public var executionStatus: String?
        public var changes: [Change]

        /// Still being computed (CREATE_PENDING, CREATE_IN_PROGRESS).
        public var isPending: Bool { status == "CREATE_PENDING" || status == "CREATE_IN_PROGRESS" }
        /// FAILED because the template and parameters change nothing: CloudFormation's two wordings.
        public var hasNoChanges: Bool {
            status == "FAILED" && (statusReason.map {
                $0.contains("didn't contain changes") || $0.contains("No updates are to be performed")
            } ?? false)
        }
    }

    /// Creates a change set (`CREATE` for a new stack, `UPDATE` otherwise); returns its id.
    public func createChangeSet(stack: String, name: String, template: String, parameters values: [String: String] = [:],
                                tags: [String: String] = [:], type: String = "UPDATE",
                                capabilities: [String] = ["CAPABILITY_NAMED_IAM"],
                                clientToken: String = UUID().uuidString) async throws -> String {
        var parameters = QueryParameters()
        parameters.set("StackName", stack)
        parameters.set("ChangeSetName", name)
        parameters.set("ClientToken", clientToken)
        parameters.set("TemplateBody", template)
        parameters.set("ChangeSetType", type)
        parameters.list("Capabilities", capabilities)
        Self.add(parameters: values, tags: tags, to: &parameters)
        return try await call("CreateChangeSet", parameters).string("Id") ?? ""
    }

    /// The change set with every change (DescribeChangeSet pages its changes).
    public func describeChangeSet(stack: String, name: String) async throws -> ChangeSet {
        var token: String?
        var changeSet: ChangeSet?
        repeat {
            var parameters = QueryParameters()
            parameters.set("StackName", stack)
            parameters.set("ChangeSetName", name)
            parameters.set("NextToken", token)
            let result = try await call("DescribeChangeSet", parameters)
            let changes = result.list("Changes").map {
                ChangeSet.Change(action: $0["ResourceChange", "Action"]?.text ?? "",
                                 logicalID: $0["ResourceChange", "LogicalResourceId"]?.text ?? "",
                                 resourceType: $0["ResourceChange", "ResourceType"]?.text ?? "",
                                 replacement: $0["ResourceChange", "Replacement"]?.text)
            }
            if changeSet == nil {
                changeSet = ChangeSet(id: result.string("ChangeSetId") ?? "", status: result.string("Status") ?? "",
                                      statusReason: result.string("StatusReason"), executionStatus: result.string("ExecutionStatus"),
                                      changes: changes)
            } else {
                changeSet?.changes += changes
            }
            token = result.string("NextToken").flatMap { $0.isEmpty ? nil : $0 }
        } while token != nil
        return changeSet!
    }

    public func executeChangeSet(stack: String, name: String, clientRequestToken: String = UUID().uuidString) async throws {
        var parameters = QueryParameters()
        parameters.set("StackName", stack)
        parameters.set("ChangeSetName", name)
        parameters.set("ClientRequestToken", clientRequestToken)
        _ = try await call("ExecuteChangeSet", parameters)
    }

    public func deleteChangeSet(stack: String, name: String) async throws {
        var parameters = QueryParameters()
        parameters.set("StackName", stack)
        parameters.set("ChangeSetName", name)
        _ = try await call("DeleteChangeSet", parameters)
    }

    /// Polls until the change set is computed (CREATE_COMPLETE or FAILED); returns it.
    public func waitForChangeSet(stack: String, name: String, every interval: Duration = .seconds(1),
                                 timeout: Duration = .seconds(600)) async throws -> ChangeSet {
        let deadline = ContinuousClock.now + timeout
        while true {
            let changeSet = try await describeChangeSet(stack: stack, name: name)
            if !changeSet.isPending { return changeSet }
            guard ContinuousClock.now < deadline else {
                throw AWSError(service: "CloudFormation", operation: "DescribeChangeSet", code: "WaiterTimeout",
                               message: "change set \(name) of \(stack) was not ready within \(timeout)", httpStatus: 0)
            }
            try await Task.sleep(for: interval)
        }
    }

    /// Polls until the stack settles; returns it (check `isHealthy`).
    public func waitUntilSettled(_ name: String, every interval: Duration = .seconds(2),
                                 timeout: Duration = .seconds(1800)) async throws -> Stack {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let stack = try await stack(name), stack.isSettled { return stack }
            guard ContinuousClock.now < deadline else {
                throw AWSError(service: "CloudFormation", operation: "DescribeStacks", code: "WaiterTimeout",
                               message: "stack \(name) did not settle within \(timeout)", httpStatus: 0)
            }
            try await Task.sleep(for: interval)
        }
    }
}
