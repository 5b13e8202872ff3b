/// A template as it is sent to CloudFormation: its comments and blank lines are for people, and
/// TemplateBody takes at most 51,200 bytes (bigger templates must go through S3). Comment-only and
/// blank lines are dropped, except inside block scalars (`|`, `>`: the user-data scripts), whose
/// every line is content. What remains parses to the same template.
public enum TemplateBody {
    /// CreateStack's, UpdateStack's and CreateChangeSet's limit on TemplateBody, in bytes.
    public static let limit = 51_200

    public static func compacted(_ yaml: String) -> String {
        var kept: [Substring] = []
        var scalarIndent: Int?          // the indentation of the line that opened a block scalar
        for line in yaml.split(separator: "\n", omittingEmptySubsequences: false) {
            let indent = line.prefix { $0 == " " }.count
            let content = line.dropFirst(indent)
            if let opener = scalarIndent {
                // A block scalar's lines are more indented than the line that opened it; blank lines belong to it.
                if content.isEmpty || indent > opener {
                    kept.append(line)
                    continue
                }
                scalarIndent = nil
            }
            if content.isEmpty || content.hasPrefix("#") { continue }
            kept.append(line)
            if opensBlockScalar(content) { scalarIndent = indent }
        }
        return kept.joined(separator: "\n") + (yaml.hasSuffix("\n") ? "\n" : "")
    }

    /// `key: |`, `- >-`, `- !Sub |`, `key: |2`: the line ends with a block scalar indicator.
    static func opensBlockScalar(_ content: Substring) -> Bool {
        guard let last = content.split(separator: " ").last else { return false }
        guard let indicator = last.first, indicator == "|" || indicator == ">" else { return false }
        return last.dropFirst().allSatisfy { $0 == "-" || $0 == "+" || $0.isNumber }
    }
}
