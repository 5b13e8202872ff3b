import Foundation
import Git
import Testing
import TestSupport

@Suite(.serialized) struct GitConfigTests {
    @Test func linkedVersionIsLibgit2() {
        let parts = GitLibrary.version.split(separator: ".")
        #expect(parts.count == 3)
        #expect(parts.allSatisfy { Int($0) != nil })
    }

    @Test func readsTheUsersGlobalConfig() throws {
        // libgit2 finds ~/.gitconfig through HOME; point it at a scratch home for this test.
        let scratch = try TemporaryDirectory("git-home")
        defer { scratch.remove() }
        let home = scratch.path
        try "[user]\n\tname = Ada Dev\n".write(toFile: home + "/.gitconfig", atomically: true, encoding: .utf8)
        let config = try withHome(home) { try GitConfig.global() }
        #expect(try config.string("user.name") == "Ada Dev")
        #expect(try config.string("nuvola.not-set") == nil)
    }
}

/// libgit2 looks up the global config's directory once per process from HOME, through its
/// search path option; set it explicitly for the duration of `body`.
func withHome<T>(_ home: String, _ body: () throws -> T) rethrows -> T {
    GitSearchPath.setGlobal(home)
    defer { GitSearchPath.setGlobal(nil) }
    return try body()
}
