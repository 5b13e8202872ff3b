import Foundation
import Host
import Synchronization

/// Somewhere text can be written: a file descriptor, or a buffer in tests.
public protocol TextOutput: Sendable {
    func write(_ text: String)
    /// True when a person is watching (a terminal), so redrawing lines in place makes sense.
    var isInteractive: Bool { get }
}

/// Writes straight to a file descriptor (stdout, stderr), unbuffered so progress shows at once.
public struct FileDescriptorOutput: TextOutput {
    public let descriptor: Int32
    public let isInteractive: Bool

    public init(descriptor: Int32) {
        self.descriptor = descriptor
        self.isInteractive = isatty(descriptor) == 1
    }

    public static let standardOutput = FileDescriptorOutput(descriptor: STDOUT_FILENO)
    public static let standardError = FileDescriptorOutput(descriptor: STDERR_FILENO)

    public func write(_ text: String) {
        // A closed pipe: nothing sensible is left to do with the text.
        try? Array(text.utf8).withUnsafeBytes { try FileDescriptor.writeAll(descriptor, $0) }
    }
}

/// Collects text in memory; tests read it back with `text`.
public final class CapturedOutput: TextOutput {
    private let buffer = Mutex("")
    public let isInteractive: Bool

    public init(isInteractive: Bool = false) { self.isInteractive = isInteractive }

    public func write(_ text: String) { buffer.withLock { $0 += text } }
    public var text: String { buffer.withLock { $0 } }
}
