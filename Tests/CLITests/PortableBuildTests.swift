import Foundation
import Host
import TestSupport
import Testing

/// scripts/check-portable, which fails the portable devbox build (scripts/build-devbox-static) when
/// the binary needs more than glibc 2.34, and the C that build links in. The portable build itself
/// (a release link) runs in `make build-release`/`make demo`, not here.
@Suite("Portable devbox: the check and the glibc 2.34 definitions")
struct PortableBuildTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let check = root.appendingPathComponent("scripts/check-portable").path

    func check(_ arguments: [String]) async throws -> ProcessResult {
        try await ChildProcess.run(Self.check, arguments, environment: CLI.environment([:]), timeout: .seconds(120))
    }

    @Test func theDynamicDebugDevboxIsRefusedWithWhatItNeeds() async throws {
        let result = try await check([BuildProducts.executable("devbox").path])
        #expect(result.status == 1)
        #expect(result.output.contains("libcurl.so.4"))
        #expect(result.errorOutput.contains("NOT PORTABLE: needs libgit2.so"), "\(result.errorOutput)")
        #expect(result.errorOutput.contains("NOT PORTABLE: needs libarchive.so.13"))
    }

    @Test func aProgramThatNeedsOnlyGlibcPassesAndRunsInTheGlibcOnlySandbox() async throws {
        let result = try await check(["--run", "--version", "/bin/true"])
        #expect(result.status == 0, "\(result.output)\(result.errorOutput)")
        #expect(result.output.contains("portable: glibc's libraries only"))
        #expect(result.output.contains("$ true --version   (exit 0)"))
        #expect(result.output.contains("ran with glibc alone: 1 command(s)"))
    }

    @Test func aNewerGlibcThanTheLimitIsRefusedWithItsSymbols() async throws {
        let result = try await check(["--max-glibc", "2.3", "/bin/true"])
        #expect(result.status == 1)
        #expect(result.errorOutput.contains("NOT PORTABLE: needs glibc 2.34, newer than 2.3"))
        #expect(result.errorOutput.contains("__libc_start_main (GLIBC_2.34)"))
    }

    @Test func usageErrorsExitTwo() async throws {
        #expect(try await check([]).status == 2)
        #expect(try await check(["/nonexistent/binary"]).status == 2)
    }

    /// scripts/static/glibc-2.34.c replaces glibc 2.35/2.36 functions: they must behave as glibc's,
    /// and a program linked with it must ask glibc for none of them.
    @Test func theGlibcDefinitionsWorkAndNeedNoNewerGlibc() async throws {
        let dir = try TemporaryDirectory("portable")
        defer { dir.remove() }
        let program = """
            #define _GNU_SOURCE
            #include <dlfcn.h>
            #include <math.h>
            #include <stdint.h>
            #include <stdio.h>
            #include <stdlib.h>
            uint32_t arc4random(void);
            void arc4random_buf(void *, size_t);
            int main(void) {
                struct dl_find_object found;
                if (_dl_find_object((void *)main, &found) != 0 || found.dlfo_eh_frame == NULL) return 10;
                if (!((char *)found.dlfo_map_start <= (char *)main && (char *)main < (char *)found.dlfo_map_end)) return 11;
                if (_dl_find_object((void *)16, &found) != -1) return 12;
                unsigned char bytes[64] = {0}; arc4random_buf(bytes, sizeof bytes);
                int zero = 0; for (int i = 0; i < 64; i++) zero += bytes[i] == 0;
                if (zero > 16) return 13;
                if (arc4random() == arc4random() && arc4random() == arc4random()) return 14;
                volatile double x = 3, y = 4; volatile float a = 5, b = 12;
                if (hypot(x, y) != 5.0 || hypotf(a, b) != 13.0f) return 15;
                puts("ok");
                return 0;
            }
            """
        try program.write(toFile: dir.file("main.c"), atomically: true, encoding: .utf8)
        let build = try await ChildProcess.run("/usr/bin/cc", [
            "-O2", "-Wall", "-Werror", "-o", dir.file("main"), dir.file("main.c"),
            Self.root.appendingPathComponent("scripts/static/glibc-2.34.c").path, "-lm",
        ], environment: CLI.environment([:]), timeout: .seconds(120))
        #expect(build.succeeded, "\(build.errorOutput)")
        let run = try await ChildProcess.run(dir.file("main"), [], environment: CLI.environment([:]), timeout: .seconds(20))
        #expect(run.status == 0 && run.output == "ok\n", "exit \(run.status)")
        let checked = try await check([dir.file("main")])
        #expect(checked.status == 0, "\(checked.output)\(checked.errorOutput)")
        #expect(!checked.output.contains("GLIBC_2.35") && !checked.output.contains("GLIBC_2.36"), "\(checked.output)")
    }

    /// libgcc_eh's unwinder finds a frame's unwind tables through _dl_find_object: a C++ exception
    /// (libstdc++ and ICU are C++) must still be caught when it is ours.
    @Test func exceptionsAreCaughtThroughOurDlFindObject() async throws {
        let dir = try TemporaryDirectory("portable")
        defer { dir.remove() }
        try """
            #include <cstdio>
            #include <stdexcept>
            int main() { try { throw std::runtime_error("x"); } catch (const std::exception &) { std::puts("caught"); } }
            """.write(toFile: dir.file("main.cc"), atomically: true, encoding: .utf8)
        let object = try await ChildProcess.run("/usr/bin/cc", [
            "-O2", "-c", Self.root.appendingPathComponent("scripts/static/glibc-2.34.c").path, "-o", dir.file("glibc.o"),
        ], environment: CLI.environment([:]), timeout: .seconds(120))
        #expect(object.succeeded, "\(object.errorOutput)")
        let build = try await ChildProcess.run("/usr/bin/g++", [
            "-O2", "-static-libgcc", "-static-libstdc++", "-o", dir.file("main"), dir.file("main.cc"), dir.file("glibc.o"),
        ], environment: CLI.environment([:]), timeout: .seconds(120))
        #expect(build.succeeded, "\(build.errorOutput)")
        let run = try await ChildProcess.run(dir.file("main"), [], environment: CLI.environment([:]), timeout: .seconds(20))
        #expect(run.status == 0 && run.output == "caught\n", "exit \(run.status)")
    }

    /// The stand-ins for GSS-API, LDAP and RTMP compile cleanly each on its own, as the build makes them.
    @Test(arguments: ["GSSAPI", "LDAP", "LBER", "RTMP"])
    func theAbsentFeatureStandInsCompile(feature: String) async throws {
        let dir = try TemporaryDirectory("portable")
        defer { dir.remove() }
        let build = try await ChildProcess.run("/usr/bin/cc", [
            "-O2", "-fPIC", "-Wall", "-Wextra", "-Werror", "-c", "-DABSENT_\(feature)",
            Self.root.appendingPathComponent("scripts/static/absent-features.c").path, "-o", dir.file("absent.o"),
        ], environment: CLI.environment([:]), timeout: .seconds(120))
        #expect(build.succeeded, "\(build.errorOutput)")
    }
}
