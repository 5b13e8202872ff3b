import AdminKit
import AWS
import Foundation
import Glibc
import Host
import Testing
import TestSupport

/// Issue 15's elasticity, proven on the product: the shared template's prod group and its
/// target-tracking policy (ALBRequestCountPerTarget), a release installed by its user data, and
/// `adminctl status prod --json`, with the simulator's target tracking (Tests/Fleet/simulator/
/// scaling.py) at FLEET_TIME_SCALE 0.02 (a 60 s datapoint every 1.2 s, the 300 s cooldown 6 s).
@Suite struct ElasticityTests {
    typealias Cloud = InstanceRefreshDeployTests.Cloud

    struct Status: Decodable {
        struct Instance: Decodable {
            var id: String
            var lifecycle: String
            var target: String?
        }
        struct Activity: Decodable {
            var description: String
            var status: String
        }
        var minSize: Int
        var maxSize: Int
        var desiredCapacity: Int
        var instances: [Instance]
        var activities: [Activity]
        var release: String?
        var scaling: [String]
        var healthyTargets: Int
        var url: String?
    }

    func status(_ cloud: Cloud) async throws -> Status {
        let result = try await cloud.adminctl(["status", "prod", "--json"])
        return try JSONDecoder().decode(Status.self, from: Data(result.standardOutput))
    }

    @Test func aBurstThroughTheBalancerGrowsProdTowardsItsMaximumAndItShrinksBackAfter() async throws {
        let started = ContinuousClock.now
        // 20 requests per instance per (scaled) minute: a burst the simulator's PHP servers can
        // carry is many times that.
        let cloud = try await Cloud.up(settings: ["ADMINCTL_PROD_REQUESTS_PER_INSTANCE": "20"])
        defer { cloud.stop() }
        let (group, _) = try await InstanceRefreshDeployTests.standIns(cloud, size: 2, minSize: 2)
        var deploy = try await cloud.deploy()
        deploy.minHealthyPercentage = 50
        let r1 = try await cloud.release("r1")
        _ = try await deploy.run(release: r1.id)

        let before = try await status(cloud)
        #expect(before.minSize == 2 && before.maxSize == 6 && before.desiredCapacity == 2 && before.release == r1.id, "\(before)")
        #expect(before.healthyTargets == 2 && before.scaling.first?.hasPrefix("TargetTrackingScaling ") == true
                && before.scaling.first?.hasSuffix(" at 20") == true, "\(before.scaling)")

        // A light trickle the whole time (it sees the scale-in too), and the burst on top.
        let trickle = try await cloud.load(threads: 1, rate: 2)
        let burst = try await cloud.load(threads: 8, rate: 200)
        var peak = before
        var served: [String: String] = [:]          // instance -> its current release, once healthy
        // Deadlines for a loaded 2-core machine running the whole suite: growth takes ~10 s here alone.
        let growDeadline = ContinuousClock.now + .seconds(150)
        while ContinuousClock.now < growDeadline {
            let now = try await status(cloud)
            if now.healthyTargets > peak.healthyTargets { peak = now }
            #expect(now.desiredCapacity <= now.maxSize && now.desiredCapacity >= now.minSize)
            if now.healthyTargets >= 5 { break }
            try await Task.sleep(for: .milliseconds(500))
        }
        // The new instances installed the pointer's release before the balancer sent them anything.
        let current = try await cloud.currentReleases()
        for instance in peak.instances where instance.target == "healthy" { served[instance.id] = current[instance.id] }
        try await Task.sleep(for: .seconds(2))      // the burst reaches the new instances too
        let burstTraffic = try await burst.stop()
        print("elasticity burst: \(burstTraffic); peak \(peak.healthyTargets) healthy of desired \(peak.desiredCapacity)")
        #expect(peak.healthyTargets >= 4 && peak.desiredCapacity <= 6, "\(peak)")
        #expect(Set(served.values) == [r1.id] && served.count == peak.healthyTargets, "\(served)")
        #expect(burstTraffic.failed == 0 && burstTraffic.bodies.keys.sorted() == ["r1"], "\(burstTraffic)")

        // After the burst it shrinks back to its minimum, slower (15 datapoints below, then the cooldown).
        var after = peak
        let shrinkDeadline = ContinuousClock.now + .seconds(180)
        while ContinuousClock.now < shrinkDeadline {
            after = try await status(cloud)
            if after.desiredCapacity == 2 && after.instances.count == 2 { break }
            try await Task.sleep(for: .seconds(1))
        }
        let trickleTraffic = try await trickle.stop()
        print("elasticity trickle: \(trickleTraffic); back to \(after.instances.count) after "
            + "\(String(format: "%.1f", (ContinuousClock.now - started).seconds)) s in all")
        #expect(after.desiredCapacity == 2 && after.instances.count == 2 && after.healthyTargets == 2, "\(after)")
        #expect(trickleTraffic.failed == 0 && trickleTraffic.bodies.keys.sorted() == ["r1"], "\(trickleTraffic)")

        // What Auto Scaling recorded, newest first: out under the burst, then in, each naming the policy's metric.
        let activities = try await AutoScaling(cloud.fleet.client()).describeScalingActivities(group: group, maxRecords: 20)
        let launches = activities.filter { $0.description.hasPrefix("Launching ") }
        let terminations = activities.filter { $0.description.hasPrefix("Terminating ") }
        #expect(!launches.isEmpty && !terminations.isEmpty, "\(activities)")
        #expect(launches.allSatisfy { $0.cause.contains("ALBRequestCountPerTarget") && $0.cause.contains("above the target 20") })
        #expect(terminations.first?.description.hasSuffix("-> 2") == true, "\(terminations)")
        if let lastOut = launches.first?.started, let firstIn = terminations.last?.started { #expect(lastOut <= firstIn) }
        #expect(after.activities.first?.description == terminations.first?.description)
    }
}
