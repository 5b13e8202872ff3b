import Foundation

/// AWS Systems Manager: Run Command (the fleet fan-out), instance inventory, Parameter Store
/// (release pointers, secrets as SecureString) and documents.
public struct SSM: Sendable {
    let client: AWSClient
    static let prefix = "AmazonSSM"

    public init(_ client: AWSClient) { self.client = client }

    func call<Input: Encodable, Output: Decodable>(_ operation: String, _ input: Input, _ output: Output.Type = Output.self,
                                                   idempotency: AWSRequest.Idempotency = .idempotent) async throws -> Output {
        try await client.json(.ssm, targetPrefix: Self.prefix, operation: operation, input, as: output, idempotency: idempotency)
    }

    // MARK: Run Command

    public struct Target: Codable, Sendable, Equatable {
        public var Key: String
        public var Values: [String]
        public init(key: String, values: [String]) {
            Key = key
            Values = values
        }
        /// Instances carrying tag `name` with one of `values`.
        public static func tag(_ name: String, _ values: [String]) -> Target { Target(key: "tag:\(name)", values: values) }
    }

    public struct SendCommandInput: Encodable, Sendable {
        public var DocumentName: String
        public var InstanceIds: [String]?
        public var Targets: [Target]?
        public var Parameters: [String: [String]]?
        public var Comment: String?
        public var TimeoutSeconds: Int?
        public var MaxConcurrency: String?
        public var MaxErrors: String?
        public var OutputS3BucketName: String?
        public var OutputS3KeyPrefix: String?

        public init(documentName: String = "AWS-RunShellScript", instanceIDs: [String]? = nil, targets: [Target]? = nil,
                    parameters: [String: [String]]? = nil, comment: String? = nil, timeoutSeconds: Int? = nil,
                    maxConcurrency: String? = nil, maxErrors: String? = nil, outputS3Bucket: String? = nil,
                    outputS3KeyPrefix: String? = nil) {
            DocumentName = documentName
            InstanceIds = instanceIDs
            Targets = targets
            Parameters = parameters
            Comment = comment
            TimeoutSeconds = timeoutSeconds
            MaxConcurrency = maxConcurrency
            MaxErrors = maxErrors
            OutputS3BucketName = outputS3Bucket
            OutputS3KeyPrefix = outputS3KeyPrefix
        }

        /// `AWS-RunShellScript` with these lines.
        public static func shell(_ commands: [String], instanceIDs: [String]? = nil, targets: [Target]? = nil,
                                 workingDirectory: String? = nil, executionTimeout: Int? = nil) -> SendCommandInput {
            var parameters = ["commands": commands]
            if let workingDirectory { parameters["workingDirectory"] = [workingDirectory] }
            if let executionTimeout { parameters["executionTimeout"] = [String(executionTimeout)] }
            return SendCommandInput(instanceIDs: instanceIDs, targets: targets, parameters: parameters)
        }
    }

    public struct Command: Decodable, Sendable {
        public var CommandId: String
        public var DocumentName: String?
        public var Status: String?
        public var StatusDetails: String?
        public var TargetCount: Int?
        public var CompletedCount: Int?
        public var ErrorCount: Int?
        public var DeliveryTimedOutCount: Int?
        public var RequestedDateTime: Date?
        public var Comment: String?
        public var InstanceIds: [String]?
    }

    /// Sends the command. AWS has no idempotency token for SendCommand and runs a resent one a
    /// second time, so it is resent only after failures that show AWS did not take it
    /// (throttling, no connection). Any other failure without an answer throws an `AWSError`
    /// with `mayHaveTakenEffect`: the caller must look for the command (ListCommands, by a unique
    /// `Comment` it set) before sending it again.
    public func sendCommand(_ input: SendCommandInput) async throws -> Command {
        struct Output: Decodable { var Command: Command }
        return try await call("SendCommand", input, Output.self, idempotency: .repeatsWork).Command
    }

    /// SendCommand for a command whose `Comment` no other command has: when the answer is lost
    /// after AWS may have taken it (`mayHaveTakenEffect`), the command is looked for by that
    /// comment (ListCommands can lag: `lookups` tries a second apart) and returned when found, so
    /// it is followed like any other; sending it again would run it twice, and following nothing
    /// would leave what it does unseen. Not found, the original error is thrown.
    public func sendCommand(_ input: SendCommandInput, lookingForALostAnswer lookups: Int) async throws -> Command {
        precondition(input.Comment != nil, "a lost answer is found by the command's unique Comment")
        let sentAfter = Date().addingTimeInterval(-300)   // room for a clock that is off
        do {
            return try await sendCommand(input)
        } catch let error as AWSError where error.mayHaveTakenEffect {
            for attempt in 0..<lookups {
                if attempt > 0 { try await Task.sleep(for: .seconds(1)) }
                let found = try? await listCommands(filters: [.invokedAfter(sentAfter)], pageSize: 50)
                    .all { $0 }.first { $0.Comment == input.Comment }
                if let found { return found }
            }
            throw error
        }
    }

    public struct PluginResult: Decodable, Sendable {
        public var Name: String?
        public var Status: String?
        public var StatusDetails: String?
        public var ResponseCode: Int?
        public var Output: String?
        public var OutputS3BucketName: String?
        public var OutputS3KeyPrefix: String?
        public var ResponseStartDateTime: Date?
        public var ResponseFinishDateTime: Date?
    }

    public struct Invocation: Decodable, Sendable {
        public var CommandId: String
        public var InstanceId: String
        public var InstanceName: String?
        public var Status: String?
        public var StatusDetails: String?
        public var RequestedDateTime: Date?
        public var CommandPlugins: [PluginResult]?
    }

    /// Every instance's invocation of a command, page by page; `details` adds plugin output.
    public func listCommandInvocations(commandID: String? = nil, instanceID: String? = nil, details: Bool = false,
                                       pageSize: Int? = nil) -> Paginator<[Invocation]> {
        struct Input: Encodable {
            var CommandId: String?
            var InstanceId: String?
            var Details: Bool
            var MaxResults: Int?
            var NextToken: String?
        }
        struct Output: Decodable {
            var CommandInvocations: [Invocation]?
            var NextToken: String?
        }
        return Paginator { token in
            let output = try await call("ListCommandInvocations", Input(CommandId: commandID, InstanceId: instanceID,
                                                                         Details: details, MaxResults: pageSize,
                                                                         NextToken: token), Output.self)
            return (output.CommandInvocations ?? [], output.NextToken)
        }
    }

    public struct InvocationResult: Decodable, Sendable {
        public var CommandId: String
        public var InstanceId: String
        public var Status: String
        public var StatusDetails: String?
        public var ResponseCode: Int?
        public var StandardOutputContent: String?
        public var StandardErrorContent: String?
        public var StandardOutputUrl: String?
        public var ExecutionStartDateTime: String?
        public var ExecutionEndDateTime: String?
    }

    /// One instance's result. AWS answers `InvocationDoesNotExist` for a moment after SendCommand.
    public func getCommandInvocation(commandID: String, instanceID: String) async throws -> InvocationResult {
        struct Input: Encodable { var CommandId: String; var InstanceId: String }
        return try await call("GetCommandInvocation", Input(CommandId: commandID, InstanceId: instanceID))
    }

    /// A ListCommands filter (CommandFilter): `InvokedAfter` / `InvokedBefore` (ISO 8601), `Status`,
    /// `ExecutionStage`, `DocumentName`.
    public struct CommandFilter: Encodable, Sendable {
        public var key: String
        public var value: String
        public init(key: String, value: String) {
            self.key = key
            self.value = value
        }

        /// Commands requested at or after `date`.
        public static func invokedAfter(_ date: Date) -> CommandFilter {
            CommandFilter(key: "InvokedAfter", value: date.formatted(.iso8601))
        }
    }

    public func listCommands(commandID: String? = nil, filters: [CommandFilter]? = nil, pageSize: Int? = nil) -> Paginator<[Command]> {
        struct Input: Encodable { var CommandId: String?; var Filters: [CommandFilter]?; var MaxResults: Int?; var NextToken: String? }
        struct Output: Decodable { var Commands: [Command]?; var NextToken: String? }
        return Paginator { token in
            let output = try await call("ListCommands", Input(CommandId: commandID, Filters: filters, MaxResults: pageSize, NextToken: token),
                                        Output.self)
            return (output.Commands ?? [], output.NextToken)
        }
    }

    public func cancelCommand(_ commandID: String, instanceIDs: [String]? = nil) async throws {
        struct Input: Encodable { var CommandId: String; var InstanceIds: [String]? }
        _ = try await call("CancelCommand", Input(CommandId: commandID, InstanceIds: instanceIDs), Empty.self)
    }

    public struct InstanceInformation: Decodable, Sendable {
        public var InstanceId: String
        public var PingStatus: String?
        public var LastPingDateTime: Date?
        public var AgentVersion: String?
        public var PlatformType: String?
        public var PlatformName: String?
        public var ComputerName: String?
        public var IPAddress: String?
    }

    public struct InstanceInformationFilter: Encodable, Sendable {
        public var Key: String
        public var Values: [String]
        public init(key: String, values: [String]) {
            Key = key
            Values = values
        }
    }

    /// Instances whose agent has registered, with their ping status.
    public func describeInstanceInformation(filters: [InstanceInformationFilter]? = nil,
                                            pageSize: Int? = nil) -> Paginator<[InstanceInformation]> {
        struct Input: Encodable { var Filters: [InstanceInformationFilter]?; var MaxResults: Int?; var NextToken: String? }
        struct Output: Decodable { var InstanceInformationList: [InstanceInformation]?; var NextToken: String? }
        return Paginator { token in
            let output = try await call("DescribeInstanceInformation",
                                        Input(Filters: filters, MaxResults: pageSize, NextToken: token), Output.self)
            return (output.InstanceInformationList ?? [], output.NextToken)
        }
    }

    // MARK: Session Manager

    public struct Session: Decodable, Sendable {
        public var SessionId: String
        public var Target: String?
        /// Connected, Connecting, Disconnected, Terminated, Terminating or Failed.
        public var Status: String?
        /// The ARN of whoever started it.
        public var Owner: String?
        public var StartDate: Date?
        public var EndDate: Date?
        public var DocumentName: String?
    }

    public struct SessionFilter: Encodable, Sendable {
        public var key: String
        public var value: String
        public init(key: String, value: String) {
            self.key = key
            self.value = value
        }
        /// Sessions on this instance.
        public static func target(_ instanceID: String) -> SessionFilter { SessionFilter(key: "Target", value: instanceID) }
        /// Sessions started by this principal (its ARN).
        public static func owner(_ arn: String) -> SessionFilter { SessionFilter(key: "Owner", value: arn) }
    }

    /// Sessions not ended (`active`: connected or disconnected) or ended in the last 30 days, page by page.
    public func describeSessions(active: Bool = true, filters: [SessionFilter] = [], pageSize: Int? = nil) -> Paginator<[Session]> {
        struct Input: Encodable { var State: String; var Filters: [SessionFilter]?; var MaxResults: Int?; var NextToken: String? }
        struct Output: Decodable { var Sessions: [Session]?; var NextToken: String? }
        return Paginator { token in
            let output = try await call("DescribeSessions", Input(State: active ? "Active" : "History",
                                                                  Filters: filters.isEmpty ? nil : filters,
                                                                  MaxResults: pageSize, NextToken: token), Output.self)
            return (output.Sessions ?? [], output.NextToken)
        }
    }

    /// Ends a session for good (it cannot be resumed); ending one already ended is no error.
    public func terminateSession(_ sessionID: String) async throws {
        struct Input: Encodable { var SessionId: String }
        _ = try await call("TerminateSession", Input(SessionId: sessionID), Empty.self)
    }

    /// Opens a session on an instance and returns its id (the shell itself is the Session Manager
    /// plugin's WebSocket, which adminctl never opens; tests use this to have a session to end).
    public func startSession(target: String, documentName: String? = nil, reason: String? = nil) async throws -> String {
        struct Input: Encodable { var Target: String; var DocumentName: String?; var Reason: String? }
        struct Output: Decodable { var SessionId: String }
        return try await call("StartSession", Input(Target: target, DocumentName: documentName, Reason: reason), Output.self,
                              idempotency: .repeatsWork).SessionId
    }

    // MARK: Parameter Store

    public struct Parameter: Decodable, Sendable, Equatable {
        public var Name: String
        public var `Type`: String?
        public var Value: String?
        public var Version: Int?
        public var LastModifiedDate: Date?
    }

    /// Creates or (with `overwrite`) replaces a parameter; SecureString values are encrypted at rest.
    @discardableResult
    public func putParameter(name: String, value: String, type: String = "String", overwrite: Bool = true,
                             description: String? = nil) async throws -> Int {
        struct Input: Encodable {
            var Name: String
            var Value: String
            var `Type`: String
            var Overwrite: Bool
            var Description: String?
        }
        struct Output: Decodable { var Version: Int? }
        return try await call("PutParameter", Input(Name: name, Value: value, Type: type, Overwrite: overwrite,
                                                    Description: description), Output.self).Version ?? 0
    }

    /// The parameter, decrypted when it is a SecureString and `decrypt` is set; nil when missing.
    public func getParameter(_ name: String, decrypt: Bool = true) async throws -> Parameter? {
        struct Input: Encodable { var Name: String; var WithDecryption: Bool }
        struct Output: Decodable { var Parameter: Parameter }
        do {
            return try await call("GetParameter", Input(Name: name, WithDecryption: decrypt), Output.self).Parameter
        } catch let error as AWSError where error.code == "ParameterNotFound" {
            return nil
        }
    }

    public func getParametersByPath(_ path: String, recursive: Bool = true, decrypt: Bool = true,
                                    pageSize: Int? = nil) -> Paginator<[Parameter]> {
        struct Input: Encodable {
            var Path: String
            var Recursive: Bool
            var WithDecryption: Bool
            var MaxResults: Int?
            var NextToken: String?
        }
        struct Output: Decodable { var Parameters: [Parameter]?; var NextToken: String? }
        return Paginator { token in
            let output = try await call("GetParametersByPath", Input(Path: path, Recursive: recursive, WithDecryption: decrypt,
                                                                     MaxResults: pageSize, NextToken: token), Output.self)
            return (output.Parameters ?? [], output.NextToken)
        }
    }

    public func deleteParameter(_ name: String) async throws {
        struct Input: Encodable { var Name: String }
        _ = try await call("DeleteParameter", Input(Name: name), Empty.self)
    }

    // MARK: Documents

    public struct Document: Decodable, Sendable {
        public var Name: String
        public var DocumentType: String?
        public var Status: String?
        public var DocumentVersion: String?
    }

    /// Creates a Command document (our own fleet operations, in addition to AWS-RunShellScript).
    @discardableResult
    public func createDocument(name: String, content: String, format: String = "JSON",
                               type: String = "Command") async throws -> Document {
        struct Input: Encodable { var Name: String; var Content: String; var DocumentFormat: String; var DocumentType: String }
        struct Output: Decodable { var DocumentDescription: Document }
        return try await call("CreateDocument", Input(Name: name, Content: content, DocumentFormat: format,
                                                      DocumentType: type), Output.self).DocumentDescription
    }

    public func describeDocument(_ name: String) async throws -> Document? {
        struct Input: Encodable { var Name: String }
        struct Output: Decodable { var Document: Document }
        do {
            return try await call("DescribeDocument", Input(Name: name), Output.self).Document
        } catch let error as AWSError where error.code == "InvalidDocument" {
            return nil
        }
    }

    public func deleteDocument(_ name: String) async throws {
        struct Input: Encodable { var Name: String }
        _ = try await call("DeleteDocument", Input(Name: name), Empty.self)
    }
}
