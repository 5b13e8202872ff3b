/// A developer's name: their IAM user name, the `Owner` tag value of their machine, and part of
/// their stack's name. 2-32 lowercase letters and digits, starting with a letter. No hyphen:
/// Session Manager names sessions `<user>-<id>`, so the policy's `session/${aws:username}-*`
/// would also match the sessions of a user called `alice-b` if `alice` could exist beside them.
/// No capitals: IAM user names are unique regardless of case.
public enum DeveloperName {
    public static func problem(_ name: String) -> String? {
        let scalars = Array(name.unicodeScalars)
        if scalars.count < 2 || scalars.count > 32 {
            return "'\(name)' has \(scalars.count) characters; a developer name has 2 to 32"
        }
        guard let first = scalars.first, ("a"..."z").contains(first) else {
            return "'\(name)' does not start with a lowercase letter"
        }
        if let bad = scalars.first(where: { !("a"..."z").contains($0) && !("0"..."9").contains($0) }) {
            return "'\(name)' holds '\(bad.escaped(asASCII: true))': only lowercase letters and digits are allowed "
                + "(no hyphen: sessions are named <user>-<id>, so `alice-b` would match the session rule of `alice`)"
        }
        return nil
    }
}
