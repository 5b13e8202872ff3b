import Foundation
import Nuvola
import Terminal

/// What adminctl's values must look like where AWS (or the shared template) has a rule: each
/// returns the end of a sentence after the key, or nil when the value is fine.
enum AdminRules {
    static func shown(_ value: String) -> String { "'\(Printable.escaping(value))'" }

    /// `eu-west-3`, `us-gov-west-1`, `ap-southeast-4`: partition-free region names.
    static func region(_ value: String) -> String? {
        let parts = value.split(separator: "-", omittingEmptySubsequences: false)
        let letters = { (part: Substring) in !part.isEmpty && part.unicodeScalars.allSatisfy { ("a"..."z").contains($0) } }
        guard (3...5).contains(parts.count), parts.first?.count == 2, parts.dropLast().allSatisfy(letters),
              let number = parts.last, !number.isEmpty, number.allSatisfy(\.isASCII), Int(number) != nil else {
            return "does not look like an AWS region (such as eu-west-3 or us-east-1): \(shown(value))"
        }
        return nil
    }

    /// No credentials in the repository's URL: it goes into the developer stacks' parameters, the
    /// machines' config and adminctl's messages; tokens come from ADMINCTL_GIT_TOKEN or GH_TOKEN.
    /// An HTTP(S) user alone counts (`https://<token>@github.com/...`); `ssh://git@host/...` does not.
    static func repositoryURL(_ value: String) -> String? {
        guard let url = URLComponents(string: value), let scheme = url.scheme?.lowercased(), let user = url.user else { return nil }
        guard url.password != nil || (["http", "https"].contains(scheme) && !user.isEmpty) else { return nil }
        var bare = url
        bare.user = nil
        bare.password = nil
        return "holds credentials before its host (the URL without them: \(shown(bare.string ?? ""))); the URL is shown in stack "
            + "parameters and messages, so remove them and give the token in ADMINCTL_GIT_TOKEN or GH_TOKEN instead"
    }

    /// An IPv4 CIDR block such as 198.51.100.7/32, with the host bits clear.
    static func cidr(_ value: String) -> String? {
        let problem = "is not an IPv4 CIDR block such as 198.51.100.7/32: \(shown(value))"
        let halves = value.split(separator: "/", omittingEmptySubsequences: false)
        guard halves.count == 2, let bits = Int(halves[1]), (0...32).contains(bits), halves[1].allSatisfy(\.isASCII) else { return problem }
        let octets = halves[0].split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4, octets.allSatisfy({ $0.allSatisfy(\.isASCII) }) else { return problem }
        let numbers = octets.compactMap { UInt8($0) }
        guard numbers.count == 4 else { return problem }
        let address = numbers.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let mask: UInt32 = bits == 0 ? 0 : ~UInt32(0) << (32 - bits)
        guard address & ~mask == 0 else {
            let network = (0..<4).map { String((address & mask) >> (24 - 8 * $0) & 0xFF) }.joined(separator: ".")
            return "has host bits set (\(shown(value))); the block is \(network)/\(bits)"
        }
        return nil
    }

    /// Every item of a comma-separated list is a CIDR block.
    static func cidrs(_ value: String) -> String? {
        let items = Setting.items(value)
        if items.isEmpty { return "needs at least one IPv4 CIDR block such as 198.51.100.7/32" }
        return items.lazy.compactMap(cidr).first
    }

    /// deploy.shared_paths: paths inside a release (each is `rm -rf`-ed there before it is linked
    /// to shared/), so relative and without `..`: `../../etc/` would reach outside it on every instance.
    static func sharedPaths(_ value: String) -> String? {
        for item in Setting.items(value) {
            let parts = item.split(separator: "/", omittingEmptySubsequences: false).dropLast(item.hasSuffix("/") ? 1 : 0)
            if item.hasPrefix("/") || parts.isEmpty || parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) {
                return "takes paths inside a release such as var/log/ or .env.local (relative, no '.' or '..' parts, no '//'): \(shown(item))"
            }
        }
        return nil
    }

    /// An ACM certificate ARN (empty for HTTP only).
    static func certificateARN(_ value: String) -> String? {
        let parts = value.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard value.isEmpty || (parts.count == 6 && parts[0] == "arn" && parts[1].hasPrefix("aws") && parts[2] == "acm"
                                && region(String(parts[3])) == nil && parts[4].count == 12 && parts[4].allSatisfy(\.isNumber)
                                && parts[5].hasPrefix("certificate/") && parts[5].count > 12) else {
            return "is not an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>): \(shown(value))"
        }
        return nil
    }

    /// `t3.small`, `m7g.large`: family and size.
    static func instanceType(_ value: String) -> String? {
        pattern(value, prefix: nil) ? nil : "is not an EC2 instance type such as t3.small: \(shown(value))"
    }

    /// `db.t4g.medium`.
    static func databaseClass(_ value: String) -> String? {
        pattern(value, prefix: "db.") ? nil : "is not an RDS instance class such as db.t4g.medium: \(shown(value))"
    }

    /// MySQL 8.0, optionally pinned to a minor version (the template's rule).
    static func engineVersion(_ value: String) -> String? {
        let rest = value.dropFirst(3)
        guard value.hasPrefix("8.0"), rest.isEmpty || (rest.hasPrefix(".") && rest.count > 1 && rest.dropFirst().allSatisfy(\.isWholeNumber))
        else { return "must be MySQL 8.0 or one of its minor versions such as 8.0.39, not \(shown(value))" }
        return nil
    }

    private static func pattern(_ value: String, prefix: String?) -> Bool {
        var rest = Substring(value)
        if let prefix {
            guard rest.hasPrefix(prefix) else { return false }
            rest = rest.dropFirst(prefix.count)
        }
        let parts = rest.split(separator: ".", omittingEmptySubsequences: false)
        let allowed = { (part: Substring) in !part.isEmpty && part.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" } }
        return parts.count == 2 && parts.allSatisfy(allowed) && parts[0].unicodeScalars.first.map { ("a"..."z").contains($0) } == true
    }
}
