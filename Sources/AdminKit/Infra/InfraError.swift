import Host

/// `adminctl infra` could not do what was asked. Callers decide by `kind`; the text is for people:
/// what failed, why, and the command that fixes it.
public typealias InfraError = KindedError<InfraErrorKind>

/// What went wrong, for callers to switch on (never on the text).
public enum InfraErrorKind: Sendable, Equatable {
    /// adminctl/templates/shared.yaml cannot be found or read.
    case template
    /// The stack is in a state CloudFormation refuses to change (ROLLBACK_COMPLETE, *_FAILED).
    case stackState
    /// Another operation on the stack is under way.
    case busy
    /// CloudFormation could not make the change set (a template or parameter error).
    case changeSet
    /// Other stacks stand on the shared one (developer stacks, imports of its exports).
    case dependents
    /// The change was applied and failed; the stack rolled back (or is rolling back).
    case deployFailed
}
