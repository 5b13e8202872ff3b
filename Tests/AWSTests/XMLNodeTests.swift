@testable import AWS
import Testing

@Suite struct XMLNodeTests {
    @Test func parsesAWSResponsesWithEntitiesCDATAAndNamespaces() throws {
        let root = try XMLNode.parse("""
            <?xml version="1.0" encoding="UTF-8"?>
            <!-- a comment -->
            <DescribeChangeSetResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">
              <DescribeChangeSetResult>
                <Changes><member><Type>Resource</Type><ResourceChange><Action>Modify</Action>
                  <LogicalResourceId>Pointer</LogicalResourceId></ResourceChange></member></Changes>
                <StatusReason>a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos; &#233;&#x263A;</StatusReason>
                <Data><![CDATA[<raw> & stuff]]></Data>
                <x:Prefixed xmlns:x="urn:x" attr='single'>v</x:Prefixed>
                <Empty/>
              </DescribeChangeSetResult>
            </DescribeChangeSetResponse>
            """)
        let result = try #require(root.child("DescribeChangeSetResult"))
        #expect(result.list("Changes").first?["ResourceChange", "Action"]?.text == "Modify")
        #expect(result.string("StatusReason") == "a <b> & \"c\" 'd' é☺")
        #expect(result.string("Data") == "<raw> & stuff")
        #expect(result.child("Prefixed")?.attributes["attr"] == "single")
        #expect(result.string("Empty") == "")
        #expect(root.first("LogicalResourceId")?.text == "Pointer")
    }

    @Test func ec2ListsUseItem() throws {
        let root = try XMLNode.parse("<R><reservationSet><item><instancesSet><item><instanceId>i-1</instanceId></item>"
                                     + "<item><instanceId>i-2</instanceId></item></instancesSet></item></reservationSet></R>")
        let ids = root.list("reservationSet").flatMap { $0.list("instancesSet").compactMap { $0.string("instanceId") } }
        #expect(ids == ["i-1", "i-2"])
    }

    @Test(arguments: ["", "<a>", "<a></b>", "<a x=1></a>", "<a>&bogus;</a>", "<a></a><b/>", "text"])
    func malformedDocumentsAreRejected(text: String) {
        #expect(throws: XMLParseError.self) { try XMLNode.parse(text) }
    }
}
