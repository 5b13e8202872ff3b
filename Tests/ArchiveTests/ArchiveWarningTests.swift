import Archive
import CArchive
import Testing

/// libarchive's non-fatal answers (ARCHIVE_WARN, ARCHIVE_RETRY) are negative numbers where a
/// byte count or an entry is expected; the reader turns them into errors instead of passing
/// them on. Each test first shows, calling libarchive directly, that the crafted archive really
/// gets that answer from the linked libarchive.
@Suite struct ArchiveWarningTests {
    let fixtures = Fixtures.shared

    /// What the first `archive_read_data` of the first entry answers, and libarchive's message.
    func rawFirstRead(_ name: String) -> (code: Int, message: String) {
        let archive = archive_read_new()
        defer { archive_read_free(archive) }
        archive_read_support_filter_all(archive)
        archive_read_support_format_all(archive)
        guard archive_read_open_filename(archive, fixtures.path(name), 1 << 16) == ARCHIVE_OK else { return (-999, "") }
        var entry: OpaquePointer?
        guard archive_read_next_header(archive, &entry) == ARCHIVE_OK else { return (-998, "") }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var count = 0
        repeat {
            count = buffer.withUnsafeMutableBytes { archive_read_data(archive, $0.baseAddress, $0.count) }
        } while count > 0
        return (count, archive_error_string(archive).map { String(cString: $0) } ?? "")
    }

    /// What `archive_read_next_header` answers for each call, with the entry's path when OK,
    /// calling again after RETRY as libarchive allows, up to the end.
    func rawHeaders(_ name: String) -> [(code: Int32, path: String?)] {
        let archive = archive_read_new()
        defer { archive_read_free(archive) }
        archive_read_support_format_all(archive)
        guard archive_read_open_filename(archive, fixtures.path(name), 1 << 16) == ARCHIVE_OK else { return [] }
        var answers: [(code: Int32, path: String?)] = []
        var entry: OpaquePointer?
        while answers.count < 1000 {
            let code = archive_read_next_header(archive, &entry)
            let path = code == ARCHIVE_OK ? archive_entry_pathname(entry).map { String(cString: $0) } : nil
            answers.append((code, path))
            if code == ARCHIVE_EOF || code == ARCHIVE_FATAL { break }
        }
        return answers
    }

    @Test func aWarningFromReadDataIsAnErrorNeverANegativeCount() throws {
        let raw = rawFirstRead("bad-crc.zip")
        #expect(raw.code == Int(ARCHIVE_WARN))
        #expect(raw.message.contains("ZIP bad CRC"))

        let reader = try ArchiveReader(path: fixtures.path("bad-crc.zip"))
        #expect(try reader.nextEntry()?.path == "dump/01-users.sql")
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        let error = #expect(throws: ArchiveError.self) {
            while try buffer.withUnsafeMutableBytes({ try reader.read(into: $0) }) > 0 {}
        }
        #expect(error?.kind == .library(code: ARCHIVE_WARN))
        #expect(error?.description.contains("ZIP bad CRC") == true)
        #expect(reader.bytesProduced >= 0)
    }

    @Test func aDamagedHeaderInALaterEntryIsAnErrorNotTheEnd() throws {
        // libarchive answers RETRY for the damaged second header; asked again it resyncs on the
        // third, so retrying would lose the second member silently.
        let raw = rawHeaders("damaged-header.tar")
        #expect(raw.prefix(2).map(\.code) == [ARCHIVE_OK, ARCHIVE_RETRY])
        #expect(raw.compactMap(\.path) == ["dump/01-users.sql", "dump/03-items.sql"])
        #expect(raw.last?.code == ARCHIVE_EOF)

        let reader = try ArchiveReader(path: fixtures.path("damaged-header.tar"))
        #expect(try reader.nextEntry()?.path == "dump/01-users.sql")
        let error = #expect(throws: ArchiveError.self) { try reader.nextEntry() }
        #expect(error?.kind == .library(code: ARCHIVE_RETRY))
        #expect(error?.description.contains("Damaged tar archive") == true)
    }
}
