import AdminKit
import AWS
import Foundation
import Nuvola
import Synchronization
import Testing
import TestSupport

extension Fleet {
    /// A client with the simulator's endpoint and admin credentials.
    func client() -> AWSClient {
        let credentials = Credentials(accessKeyID: environment["AWS_ACCESS_KEY_ID"]!, secretAccessKey: environment["AWS_SECRET_ACCESS_KEY"]!,
                                      source: .environment("AWS_ACCESS_KEY_ID"))
        return AWSClient(AWSConfiguration(region: Region(environment["AWS_REGION"]!), credentials: StaticCredentialsProvider(credentials),
                                          environment: ["AWS_ENDPOINT_URL": endpoint]))
    }
}

/// A clock that stands still unless the test moves it (or, unfrozen, runs with real time).
final class TestClock: Sendable {
    private let base = Date()
    private let frozen: Bool
    private let offset = Mutex<TimeInterval>(0)
    init(frozen: Bool = false) { self.frozen = frozen }
    func advance(_ seconds: TimeInterval) { offset.withLock { $0 += seconds } }
    var now: @Sendable () -> Date {
        { [self] in (frozen ? base : Date()).addingTimeInterval(offset.withLock { $0 }) }
    }
}

/// The deploy lock in the simulated cloud's Parameter Store: one holder at a time, released at
/// the end, on failure and on cancellation, taken over once a lease ran out, and a holder that
/// was overtaken stops what it was doing.
@Suite struct DeployLockTests {
    struct Setup {
        let ssm: SSM
        let project = "l" + UUID().uuidString.prefix(8).lowercased()
        func lock(lease: TimeInterval = 60, clock: TestClock = TestClock()) -> DeployLock {
            DeployLock(ssm: ssm, names: ParameterNames(project: project), environment: .prod, lease: lease, clock: clock.now)
        }
        static func make() async throws -> Setup { Setup(ssm: SSM(try await Fleet.shared().client())) }
    }

    @Test func oneHolderAtATimeAndTheNextAfterItsRelease() async throws {
        let setup = try await Setup.make()
        let lock = setup.lock()
        let hold = try await lock.acquire(holder: "alice", purpose: "deploy", release: "r1")
        let refused = await #expect(throws: DeployError.self) { _ = try await lock.acquire(holder: "bob", purpose: "deploy") }
        #expect(refused?.kind == .locked)
        #expect(refused?.message.hasPrefix("prod is locked by alice (deploy of r1, since ") == true, "\(refused?.message ?? "")")
        #expect(refused?.message.contains("--force-unlock") == true)
        await hold.release()
        #expect(try await lock.current()?.isReleased == true)
        let next = try await lock.acquire(holder: "bob", purpose: "deploy")
        // The release was a generation of its own (so no late write to the held one can undo it); bob's is the next.
        #expect(next.generation == hold.generation + 2)
        // Older generations are tidied away once a new one is taken.
        #expect(try await lock.generations().map(\.number) == [next.generation])
        await next.release()
    }

    @Test func ofManyDeploysStartingTogetherExactlyOneGetsTheLock() async throws {
        let setup = try await Setup.make()
        let lock = setup.lock()
        let outcomes = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<8 {
                group.addTask { (try? await lock.acquire(holder: "admin \(index)", purpose: "deploy")) != nil }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 }.count == 1, "\(outcomes)")
    }

    @Test func anExpiredLeaseIsTakenOverAndItsHolderLearnsIt() async throws {
        let setup = try await Setup.make()
        let clock = TestClock(frozen: true)
        let lock = setup.lock(lease: 3, clock: clock)
        let stale = try await lock.acquire(holder: "killed", purpose: "deploy")
        clock.advance(2.5)
        await #expect(throws: DeployError.self) { _ = try await lock.acquire(holder: "early", purpose: "deploy") }
        clock.advance(0.5)
        let notices = Mutex<[String]>([])
        let taker = try await lock.acquire(holder: "taker", purpose: "deploy") { note in notices.withLock { $0.append(note) } }
        #expect(taker.generation == stale.generation + 1)
        #expect(notices.withLock { $0 }.first?.hasPrefix("Taking over the prod deploy lock: killed's lease (deploy) expired at ") == true)
        // The old holder, were it only paused, fails its next renewal and stops.
        let lost = await #expect(throws: DeployError.self) { try await stale.holding { try await Task.sleep(for: .seconds(60)) } }
        #expect(lost?.kind == .lockLost)
        #expect(lost?.message.hasPrefix("The prod deploy lock was taken from this process by taker (deploy)") == true, "\(lost?.message ?? "")")
        // And letting go does not free the taker's lock.
        await stale.release()
        let current = try await lock.current()
        #expect(current?.holder == "taker" && current?.isReleased == false)
        await taker.release()
    }

    @Test func theLeaseIsRenewedWhileTheWorkRunsAndReleasedAfter() async throws {
        let setup = try await Setup.make()
        // Leases of seconds, not minutes, so the test is short; long enough for a loaded machine.
        let lock = setup.lock(lease: 9)
        let hold = try await lock.acquire(holder: "long deploy", purpose: "deploy")
        let first = hold.lease.expiresAt
        let value = try await hold.holding {
            // Past the first lease's end, however slow the machine: only renewals keep others out.
            while Date() < first.addingTimeInterval(1) || hold.lease.renewedAt == hold.lease.acquiredAt {
                try await Task.sleep(for: .milliseconds(200))
            }
            let refused = await #expect(throws: DeployError.self) { _ = try await lock.acquire(holder: "next", purpose: "deploy") }
            #expect(refused?.kind == .locked)
            return 42
        }
        #expect(value == 42)
        let after = try #require(try await lock.current())
        #expect(after.isReleased, "\(after)")
        #expect(after.renewedAt > hold.lease.acquiredAt && after.expiresAt > first, "\(after)")
    }

    /// A write to the held generation still on its way when the work ends (a renewal, or a
    /// `describe` cut off by Ctrl-C) may reach Parameter Store after the release: it must not put a
    /// held lease back (a CI run saw the lock still held after its deploy had let go).
    @Test(arguments: ["renewal", "describe"])
    func aLateWriteToTheHeldGenerationCannotUndoTheRelease(_ write: String) async throws {
        let fleet = try await Fleet.start()
        defer { Task { try? await fleet.stop() } }
        let setup = Setup(ssm: SSM(fleet.client()))
        let lock = setup.lock(lease: 3)
        let hold = try await lock.acquire(holder: "deploy", purpose: "deploy")
        // The next PutParameter after the acquisition's (the first renewal's, or describe's) is held 4 s.
        try await fleet.inject(kind: "latency", service: "ssm", operation: "PutParameter", count: 1, seconds: 4, skip: 1)
        let work = Task {
            try await hold.holding {
                if write == "describe" { try await hold.describe(release: "r9") }
                while try await fleet.faults().first?["hits"] as? Int != 1 { try await Task.sleep(for: .milliseconds(100)) }
                return 0
            }
        }
        if write == "describe" {
            // Ctrl-C while describe's write is held: the work is cancelled, the lock released.
            while try await fleet.faults().first?["hits"] as? Int != 1 { try await Task.sleep(for: .milliseconds(100)) }
            work.cancel()
        }
        _ = await work.result
        let released = try #require(try await lock.current())
        try await Task.sleep(for: .seconds(5))      // past the held write, wherever it went
        let later = try #require(try await lock.current())
        #expect(released.isReleased && later.isReleased, "\(released) then \(later)")
        let next = try await lock.acquire(holder: "next deploy", purpose: "deploy")
        #expect(next.generation == hold.generation + 2)
        await next.release()
    }

    @Test func aRefusalDuringTheWorkLeavesItRunningAndAFailureReleases() async throws {
        let setup = try await Setup.make()
        // A clock that stands still: however slow the simulator, the lease cannot run out here.
        let lock = setup.lock(lease: 3, clock: TestClock(frozen: true))
        let hold = try await lock.acquire(holder: "failing", purpose: "deploy")
        struct BuildFailed: Error {}
        let refusedMeanwhile = Mutex(false)
        await #expect(throws: BuildFailed.self) {
            try await hold.holding {
                // Past the first renewal: the lease is alive and the lock still refuses others.
                try await Task.sleep(for: .seconds(1.5))
                do { _ = try await lock.acquire(holder: "second", purpose: "deploy") } catch let error as DeployError where error.kind == .locked {
                    refusedMeanwhile.withLock { $0 = true }
                }
                throw BuildFailed()
            }
        }
        #expect(refusedMeanwhile.withLock { $0 })
        #expect(try await lock.current()?.isReleased == true)
    }

    @Test func cancellingTheHolderReleasesTheLock() async throws {
        let setup = try await Setup.make()
        let lock = setup.lock(lease: 60)
        let hold = try await lock.acquire(holder: "interrupted", purpose: "deploy")
        let task = Task { try await hold.holding { try await Task.sleep(for: .seconds(60)) } }
        try await Task.sleep(for: .milliseconds(300))
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(try await lock.current()?.isReleased == true)
        _ = try await lock.acquire(holder: "next", purpose: "deploy")
    }

    @Test func forceUnlockFreesALiveLockAndStopsItsHolder() async throws {
        let setup = try await Setup.make()
        // Frozen: the holder's lease stays live however slow the simulator is, so only the force frees it.
        let lock = setup.lock(lease: 3, clock: TestClock(frozen: true))
        #expect(try await lock.forceUnlock(by: "admin") == nil)
        let hold = try await lock.acquire(holder: "stuck", purpose: "deploy")
        let work = Task { try await hold.holding { try await Task.sleep(for: .seconds(30)) } }
        let removed = try await lock.forceUnlock(by: "admin")
        #expect(removed?.holder == "stuck")
        let next = try await lock.acquire(holder: "next", purpose: "deploy")
        let lost = await #expect(throws: DeployError.self) { try await work.value }
        #expect(lost?.kind == .lockLost)
        #expect(try await lock.current()?.holder == "next")
        await next.release()
    }
}
