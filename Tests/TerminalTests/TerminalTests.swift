import Foundation
import Synchronization
import Terminal
import Testing

/// A clock the test moves by hand.
final class ManualClock: Sendable {
    private let now = Mutex(1000.0)
    func advance(_ seconds: Double) { now.withLock { $0 += seconds } }
    var read: SecondsClock { { [self] in now.withLock { $0 } } }
}

@Suite struct ColorPolicyTests {
    @Test func terminalGetsColour() {
        #expect(ColorPolicy(environment: ["TERM": "xterm-256color"], isInteractive: true).enabled)
    }

    @Test func noColorTermDumbAndPipesGetNone() {
        #expect(!ColorPolicy(environment: ["NO_COLOR": "1"], isInteractive: true).enabled)
        #expect(!ColorPolicy(environment: ["TERM": "dumb"], isInteractive: true).enabled)
        #expect(!ColorPolicy(environment: [:], isInteractive: false).enabled)
        // An empty NO_COLOR does not count (no-color.org).
        #expect(ColorPolicy(environment: ["NO_COLOR": ""], isInteractive: true).enabled)
    }

    @Test func forcedColourReachesPipesButNoColorWins() {
        #expect(ColorPolicy(environment: ["CLICOLOR_FORCE": "1"], isInteractive: false).enabled)
        #expect(!ColorPolicy(environment: ["CLICOLOR_FORCE": "1", "NO_COLOR": "1"], isInteractive: false).enabled)
    }

    @Test func stylesOnlyWhenEnabled() {
        #expect(Style.red.apply("x", ColorPolicy(enabled: true)) == "\u{1B}[31mx\u{1B}[0m")
        #expect(Style.red.apply("x", ColorPolicy(enabled: false)) == "x")
        #expect(visibleText(Style.bold.apply("héllo", ColorPolicy(enabled: true))) == "héllo")
    }
}

@Suite struct FormatTests {
    @Test(arguments: [(Int64(0), "0 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (1536, "1.5 KiB"),
                      (1 << 30, "1.0 GiB"), (5_500_000_000, "5.1 GiB")])
    func bytes(value: Int64, expected: String) {
        #expect(Format.bytes(value) == expected)
    }

    @Test(arguments: [(0.25, "250 ms"), (4.21, "4.2 s"), (185, "3m05s"), (7620, "2h07m")])
    func durations(value: Double, expected: String) {
        #expect(Format.duration(value) == expected)
    }

    @Test func ages() {
        #expect(Format.age(30) == "30 s ago")
        #expect(Format.age(3 * 3600 + 100) == "3 h ago")
        #expect(Format.age(5 * 86400) == "5 days ago")
    }
}

@Suite struct TableTests {
    @Test func columnsAlignAndNumbersGoRight() {
        let table = Table(headers: ["INSTANCE", "STATE", "PORT"],
                          rows: [["i-0a1", "running", "8080"], ["i-0b22222", "stopped", "80"]])
        #expect(table.render() == """
            INSTANCE   STATE    PORT
            i-0a1      running  8080
            i-0b22222  stopped    80
            """)
    }

    @Test func styledCellsAlignByVisibleWidth() {
        let on = ColorPolicy(enabled: true)
        let table = Table(headers: ["A", "B"], rows: [[Style.green.apply("ok", on), "x"], ["failed", "y"]])
        let lines = visibleText(table.render(on)).split(separator: "\n")
        #expect(lines == ["A       B", "ok      x", "failed  y"])
    }
}

@Suite struct ProgressBarTests {
    @Test func plainOutputPrintsPeriodicLinesWithRateAndETA() {
        let output = CapturedOutput(isInteractive: false)
        let clock = ManualClock()
        let bar = ProgressBar(label: "download", total: 100 << 20, output: output, clock: clock.read, plainInterval: 5)
        for step in 1...10 {
            clock.advance(1)
            bar.update(completed: Int64(step) * (5 << 20))
        }
        bar.finish()
        let lines = output.text.split(separator: "\n")
        // Updates at t=1 and t=6 pass the 5 s interval; the other eight are swallowed.
        #expect(lines.count == 3)
        #expect(lines[0] == "download: 5% (5.0 MiB of 100.0 MiB), 5.0 MiB/s, ETA 19.0 s")
        #expect(lines[1] == "download: 30% (30.0 MiB of 100.0 MiB), 5.0 MiB/s, ETA 14.0 s")
        #expect(lines[2] == "download: done, 50.0 MiB in 10.0 s (5.0 MiB/s)")
        #expect(!output.text.contains("\u{1B}"))
    }

    @Test func terminalOutputRedrawsInPlace() {
        let output = CapturedOutput(isInteractive: true)
        let clock = ManualClock()
        let bar = ProgressBar(label: "dump", total: 1000, unit: .items("rows"), output: output, clock: clock.read, width: 60)
        clock.advance(1)
        bar.update(completed: 500)
        let text = output.text
        #expect(text.hasPrefix("\r\u{1B}[2Kdump ["))
        #expect(text.hasSuffix("]  50%  500 rows / 1000 rows  500 rows/s  ETA 1.0 s"))
        #expect(!text.contains("\n"))
        bar.finish("imported")
        #expect(output.text.hasSuffix("\r\u{1B}[2Kdump: imported\n"))
    }

    @Test func unknownTotalShowsAmountAndRate() {
        let output = CapturedOutput(isInteractive: false)
        let clock = ManualClock()
        let bar = ProgressBar(label: "stream", total: nil, output: output, clock: clock.read)
        clock.advance(2)
        bar.update(completed: 4 << 20)
        #expect(output.text == "stream: 4.0 MiB, 2.0 MiB/s\n")
    }

    /// libgit2 reports every object: a million updates within three seconds must stay cheap
    /// (the rate window once kept every sample and trimmed it from the front, quadratically)
    /// and still give the right rate.
    @Test func manyUpdatesKeepTheRateWindowSmall() {
        let output = CapturedOutput(isInteractive: false)
        let clock = ManualClock()
        let bar = ProgressBar(label: "objects", total: 1_000_000, unit: .items("objects"), output: output, clock: clock.read,
                              plainInterval: 2.5)
        let started = ContinuousClock.now
        for step in 1...1_000_000 {
            clock.advance(0.000003)
            bar.update(completed: Int64(step))
        }
        // A window that grew with the updates would take hours for a million; a loaded CI box takes seconds.
        #expect(ContinuousClock.now - started < .seconds(30))
        let last = String(output.text.split(separator: "\n").last ?? "")
        #expect(last.hasPrefix("objects: 83% (8333") && last.hasSuffix(" objects of 1000000 objects), 333333 objects/s, ETA 500 ms"))
    }

    @Test func updatesAfterFinishAreIgnored() {
        let output = CapturedOutput(isInteractive: false)
        let bar = ProgressBar(label: "x", total: 10, output: output, clock: ManualClock().read)
        bar.finish("ok")
        bar.update(completed: 5)
        bar.finish("again")
        #expect(output.text == "x: ok\n")
    }
}

@Suite struct SpinnerTests {
    @Test func plainSpinnerPrintsStartAndEndOnly() {
        let output = CapturedOutput(isInteractive: false)
        let clock = ManualClock()
        let spinner = Spinner("waiting for db", output: output, clock: clock.read)
        spinner.tick()
        clock.advance(2.5)
        spinner.finish("healthy")
        #expect(output.text == "waiting for db...\nwaiting for db: healthy (2.5 s)\n")
    }

    @Test func terminalSpinnerAnimates() {
        let output = CapturedOutput(isInteractive: true)
        let spinner = Spinner("wait", output: output, clock: ManualClock().read)
        spinner.tick()
        spinner.finish("failed", succeeded: false)
        #expect(output.text == "⠋ wait\r\u{1B}[2K⠙ wait\r\u{1B}[2K✘ wait: failed (0 ms)\n")
    }
}

@Suite struct ConsoleTests {
    struct Report: Encodable {
        var name: String
        var path: String
        var count: Int
        var when: Date
    }

    @Test func jsonModeWritesOneSortedDocumentAndNoText() throws {
        let out = CapturedOutput()
        let err = CapturedOutput()
        let console = Console(out: out, err: err, format: .json, environment: [:])
        console.print("human text is suppressed")
        console.note("progress goes to stderr")
        try console.emit(Report(name: "db", path: "/srv/app", count: 2, when: Date(timeIntervalSince1970: 0)))
        #expect(out.text == """
            {
              "count" : 2,
              "name" : "db",
              "path" : "/srv/app",
              "when" : "1970-01-01T00:00:00Z"
            }

            """)
        #expect(err.text == "progress goes to stderr\n")
        let parsed = try JSONSerialization.jsonObject(with: Data(out.text.utf8)) as? [String: Any]
        #expect(parsed?["count"] as? Int == 2)
    }

    @Test func textModeColoursOnlyTheTerminalSide() {
        let out = CapturedOutput(isInteractive: false)
        let err = CapturedOutput(isInteractive: true)
        let console = Console(out: out, err: err, format: .text, environment: ["TERM": "xterm"])
        console.print("result")
        console.warning("careful")
        #expect(out.text == "result\n")
        #expect(err.text == "\u{1B}[33mwarning:\u{1B}[0m careful\n")

        let plain = CapturedOutput(isInteractive: true)
        Console(out: out, err: plain, format: .text, environment: ["NO_COLOR": "1"]).warning("careful")
        #expect(plain.text == "warning: careful\n")
    }
}
