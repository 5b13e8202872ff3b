/// Lower-case hexadecimal, as digests are shown and compared (`sha256sum`, S3 checksums).
public enum Hex {
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var output = [UInt8]()
        output.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes { output += [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]] }
        return String(decoding: output, as: UTF8.self)
    }
}
