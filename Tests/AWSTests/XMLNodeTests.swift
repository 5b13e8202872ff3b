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

@Suite struct CRC32Tests {
    @Test func knownVectors() {
        var check = CRC32()
        check.update(Array("123456789".utf8))
        #expect(check.value == 0xCBF4_3926)
        #expect(check.base64 == "y/Q5Jg==")
        #expect(CRC32().value == 0)
        var split = CRC32()
        split.update(Array("1234".utf8))
        split.update(Array("56789".utf8))
        #expect(split.value == 0xCBF4_3926)
    }

    @Test func matchesByteAtATimeReference() {
        let bytes = (0..<10_007).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }
        var reference: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            reference ^= UInt32(byte)
            for _ in 0..<8 { reference = reference & 1 == 1 ? (reference >> 1) ^ 0xEDB8_8320 : reference >> 1 }
        }
        var fast = CRC32()
        fast.update(bytes)
        #expect(fast.value == ~reference)
    }
}
