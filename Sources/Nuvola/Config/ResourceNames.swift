import Terminal

/// The naming rules AWS imposes on what both tools name from the project: refused when written,
/// not when CloudFormation fails on them.
public enum ResourceNames {
    /// The project name is in bucket names, IAM names and parameter paths, so it follows the
    /// strictest of them (the template's ProjectName pattern): 3-20 lowercase letters, digits and
    /// hyphens, starting with a letter and not ending with a hyphen.
    public static func projectNameProblem(_ name: String) -> String? {
        let shown = "'\(Printable.escaping(name))'"
        guard (3...20).contains(name.count) else {
            return "must be 3 to 20 characters (it goes into S3 bucket and IAM names), not \(name.count) (\(shown))"
        }
        guard name.unicodeScalars.allSatisfy({ isLowercaseLetter($0) || isDigit($0) || $0 == "-" }),
              let first = name.unicodeScalars.first, isLowercaseLetter(first), name.last != "-" else {
            return "must be lowercase letters, digits and '-', starting with a letter and not ending with '-' "
                + "(S3 bucket and IAM names allow no more), not \(shown)"
        }
        return nil
    }

    /// S3's bucket naming rules (general purpose buckets), as the end of a sentence; nil when fine.
    /// https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
    public static func bucketNameProblem(_ name: String) -> String? {
        let shown = "'\(Printable.escaping(name))'"
        guard (3...63).contains(name.count) else { return "must be 3 to 63 characters long (S3's rule), not \(name.count) (\(shown))" }
        guard name.unicodeScalars.allSatisfy({ isLowercaseLetter($0) || isDigit($0) || $0 == "-" || $0 == "." }) else {
            return "may hold only lowercase letters, digits, '.' and '-' (S3's rule), not \(shown)"
        }
        guard let first = name.unicodeScalars.first, let last = name.unicodeScalars.last,
              isLowercaseLetter(first) || isDigit(first), isLowercaseLetter(last) || isDigit(last) else {
            return "must begin and end with a letter or digit (S3's rule), not \(shown)"
        }
        if name.contains("..") { return "may not hold two adjacent periods (S3's rule): \(shown)" }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 4, parts.allSatisfy({ UInt8($0) != nil }) { return "may not look like an IP address (S3's rule): \(shown)" }
        for prefix in ["xn--", "sthree-", "amzn-s3-demo-"] where name.hasPrefix(prefix) {
            return "may not start with '\(prefix)' (S3 reserves it): \(shown)"
        }
        for suffix in ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"] where name.hasSuffix(suffix) {
            return "may not end with '\(suffix)' (S3 reserves it): \(shown)"
        }
        return nil
    }

    static func isLowercaseLetter(_ scalar: Unicode.Scalar) -> Bool { ("a"..."z").contains(scalar) }
    static func isDigit(_ scalar: Unicode.Scalar) -> Bool { ("0"..."9").contains(scalar) }
}
