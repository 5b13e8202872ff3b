import AWS
import Foundation
import HTTP
import TestSupport

/// Unique names so tests sharing one simulator never collide.
func unique(_ prefix: String) -> String {
    "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
}
