import Foundation

/// Questions asked on the terminal before something that cannot be undone.
public enum Prompt {
    /// Asks `question` on stderr and reads one line from stdin; true only for `expected`
    /// (typed exactly). Nil when stdin is not a terminal: scripts must pass `--yes` instead.
    public static func confirm(_ question: String, expected: String = "yes", output: TextOutput,
                               isInteractive: Bool = isatty(STDIN_FILENO) == 1) -> Bool? {
        guard isInteractive else { return nil }
        output.write("\(question) Type \(expected) to go on: ")
        guard let answer = readLine(strippingNewline: true) else { return false }
        return answer.trimmingCharacters(in: .whitespaces) == expected
    }
}
