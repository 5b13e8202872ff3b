import AdminKit
import Foundation
import Testing

/// The lease rules alone: which generation comes next, when a lease may be taken over, and what
/// a holder concludes when it looks again.
@Suite struct DeployLockRulesTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func lease(_ holder: String, acquired: TimeInterval = -10, lease: TimeInterval = 60, token: String = UUID().uuidString) -> DeployLease {
        DeployLease(holder: holder, token: token, purpose: "deploy", now: now.addingTimeInterval(acquired), lease: lease)
    }

    @Test func noLockMeansGenerationOne() {
        #expect(DeployLockRules.decide([], now: now) == .take(1))
    }

    @Test func aLiveLeaseRefusesWithItsHolder() {
        let held = lease("alice@admin (pid 1)")
        #expect(DeployLockRules.decide([(3, held)], now: now) == .refused(held, generation: 3))
        // Renewed just before its end, it is still live.
        let renewed = lease("alice@admin (pid 1)", acquired: -100).renewed(at: now.addingTimeInterval(-59), lease: 60)
        #expect(DeployLockRules.decide([(3, renewed)], now: now) == .refused(renewed, generation: 3))
    }

    @Test func aReleasedLockIsTakenAtTheNextGeneration() {
        let released = lease("alice@admin (pid 1)").released(at: now.addingTimeInterval(-1))
        #expect(released.isFree(at: now))
        #expect(DeployLockRules.decide([(3, released)], now: now) == .take(4))
    }

    @Test func anExpiredLeaseIsTakenOverExactlyAtItsEnd() {
        let killed = lease("bob@admin (pid 2)", acquired: -60, lease: 60)
        #expect(killed.expiresAt == now)
        #expect(DeployLockRules.decide([(7, killed)], now: now) == .takeOver(8, expired: killed))
        #expect(DeployLockRules.decide([(7, killed)], now: now.addingTimeInterval(-0.001)) == .refused(killed, generation: 7))
    }

    @Test func theHighestGenerationIsInForceWhateverTheOrder() {
        let old = lease("old", acquired: -1000, lease: 10).released(at: now.addingTimeInterval(-990))
        let live = lease("live")
        #expect(DeployLockRules.decide([(9, live), (8, old)], now: now) == .refused(live, generation: 9))
        #expect(DeployLockRules.current([(2, old), (10, live), (9, old)])?.number == 10)
    }

    @Test func aHolderLearnsItWasOvertakenOrRemoved() {
        let mine = lease("me", token: "T1")
        let taker = lease("taker", acquired: 0)
        #expect(DeployLockRules.standing(of: 4, token: "T1", in: [(4, mine)]) == .held)
        #expect(DeployLockRules.standing(of: 4, token: "T1", in: [(4, mine), (5, taker)]) == .overtaken(by: taker))
        #expect(DeployLockRules.standing(of: 4, token: "T1", in: [(5, taker)]) == .overtaken(by: taker))
        #expect(DeployLockRules.standing(of: 4, token: "T1", in: []) == .missing)
        // Same generation, another token: someone rewrote it by hand.
        #expect(DeployLockRules.standing(of: 4, token: "T1", in: [(4, lease("me", token: "T2"))]) == .missing)
    }

    @Test func renewalsComeThreeTimesALeaseAndAHolderStopsBeforeItsLeaseEnds() {
        #expect(DeployLockRules.renewalInterval(lease: 120) == 40)
        let last = lease("me", acquired: -30, lease: 60)  // expires in 30 s
        #expect(!DeployLockRules.mustStop(lastRenewal: last, now: now, margin: 20))
        #expect(!DeployLockRules.mustStop(lastRenewal: last, now: now.addingTimeInterval(9), margin: 20))
        #expect(DeployLockRules.mustStop(lastRenewal: last, now: now.addingTimeInterval(10), margin: 20))
    }

    @Test func generationNamesSortAndParse() {
        #expect(DeployLockRules.name(of: 42) == "0000000042")
        #expect(DeployLockRules.generation(ofName: "/nuvola/prod/deploy-lock/0000000042") == 42)
        #expect(DeployLockRules.generation(ofName: "/nuvola/prod/deploy-lock/notes") == nil)
        #expect(DeployLockRules.name(of: 9) < DeployLockRules.name(of: 10))
    }

    @Test func aLeaseRoundTripsThroughJSON() throws {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let original = DeployLease(holder: "me", token: "T", purpose: "deploy", release: "20261201T093512Z-1a2b3c4", now: now, lease: 90)
        let back = try decoder.decode(DeployLease.self, from: encoder.encode(original))
        #expect(back == original && back.expiresAt.timeIntervalSince(back.acquiredAt) == 90 && !back.isReleased)
    }
}
