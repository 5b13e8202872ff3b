import Foundation

/// Writing whole buffers to file descriptors.
public enum FileDescriptor {
    /// Writes every byte of `bytes` to `fd`, retrying short writes and EINTR; throws the errno.
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws(POSIXError) {
        var offset = 0
        while offset < bytes.count {
            let written = Foundation.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
            }
            offset += written
        }
    }
}
