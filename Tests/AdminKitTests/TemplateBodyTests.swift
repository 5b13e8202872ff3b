@testable import AdminKit
import Foundation
import Host
import Testing
import TestSupport

@Suite struct TemplateBodyTests {
    @Test func commentsAndBlankLinesGoButBlockScalarsKeepEveryLine() {
        let yaml = """
            # The stack.
            Resources:

              # A parameter.
              P:
                Type: AWS::SSM::Parameter  # trailing comments stay
                Properties:
                  Value: |
                    #!/bin/bash
                    # a shell comment is content

                    echo "# not a comment"
                  Other: !Sub |-
                      # still content
                  After: x
              # gone
            """
        #expect(TemplateBody.compacted(yaml + "\n") == """
            Resources:
              P:
                Type: AWS::SSM::Parameter  # trailing comments stay
                Properties:
                  Value: |
                    #!/bin/bash
                    # a shell comment is content

                    echo "# not a comment"
                  Other: !Sub |-
                      # still content
                  After: x

            """)
        #expect(TemplateBody.opensBlockScalar("- - !Sub |"[...]) && TemplateBody.opensBlockScalar("Description: >2-"[...]))
        #expect(!TemplateBody.opensBlockScalar("Value: \"a |\""[...]) && !TemplateBody.opensBlockScalar("a > b"[...]))
    }

    /// The shared template as sent fits CloudFormation's limit and reads (with CloudFormation's
    /// own YAML rules, adminctl/tests/cfn_yaml.py) exactly as the file does.
    @Test func theSharedTemplateFitsAndMeansTheSame() async throws {
        let root = TestEngine.repositoryRoot
        let original = try String(contentsOfFile: "\(root)/adminctl/templates/shared.yaml", encoding: .utf8)
        let sent = TemplateBody.compacted(original)
        #expect(sent.utf8.count <= TemplateBody.limit, "shared.yaml is \(sent.utf8.count) bytes as sent")
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try sent.write(toFile: directory.file("sent.yaml"), atomically: true, encoding: .utf8)
        let script = """
            import json, sys
            sys.path.insert(0, "\(root)/adminctl/tests")
            import cfn_yaml
            a, b = (json.dumps(cfn_yaml.load(path), sort_keys=True) for path in sys.argv[1:3])
            print("same" if a == b else "different")
            """
        let result = try await ChildProcess.run("\(root)/.venv/bin/python", ["-c", script, "\(root)/adminctl/templates/shared.yaml",
                                                                       directory.file("sent.yaml")])
        #expect(result.output == "same\n", "\(result.errorOutput)")
    }
}
