"""Target tracking scaling, which moto stores (PutScalingPolicy, DescribePolicies) but never acts
on, and the activities Auto Scaling records (moto's DescribeScalingActivities is always empty).

Every metric period (AWS's 60 s, scaled by FLEET_TIME_SCALE) the loop takes one datapoint of each
TargetTrackingScaling policy's metric:
- ALBRequestCountPerTarget: the requests the group's target group received in the period (haproxy's
  own statistics), divided by the group's InService instances, as CloudWatch's per-target Sum;
- ASGAverageCPUUtilization: the CPU time the group's web servers used in the period, as a
  percentage of it, averaged over the instances.
It then acts as the two alarms target tracking creates: when the last 3 datapoints are all above
the target it scales out at once to ceil(capacity x metric / target), at least one more; when the
last 15 are all below 90% of the target, and no activity of the group happened within the scale-in
cooldown (300 s), it scales in to that figure, at least one fewer, one step per cooldown (scale in
is slow on purpose), never when the policy has DisableScaleIn. Never outside min and max. moto's
SetDesiredCapacity launches the members of a scale-out; the launched ones boot (their user data
installs the current release) and join the target groups like any. A scale-in's members leave the
group at once and drain in their target groups before they are terminated (retire.py).

Everything that reads or changes moto or the activities holds state.LOCK; haproxy's statistics
and /proc are read outside it.
"""
import logging
import math
import threading
import time
import uuid
from datetime import datetime, timezone
from xml.sax.saxutils import escape

from . import moto_adapter, retire, state, timescale

log = logging.getLogger("fleet.scaling")

PERIOD = 60.0             # seconds of one datapoint, as CloudWatch's metric period
SCALE_OUT_POINTS = 3      # datapoints above the target before scaling out
SCALE_IN_POINTS = 15      # datapoints below SCALE_IN_RATIO x target before scaling in
SCALE_IN_RATIO = 0.9
SCALE_IN_COOLDOWN = 300.0


def decide(points, target, capacity, low, high, disable_scale_in, since_activity):
    """The new desired capacity from the datapoints (oldest first), or None to leave it.
    `since_activity`: seconds since the group's last activity (scaled), None when never."""
    if target <= 0 or capacity <= 0:
        return None
    if len(points) >= SCALE_OUT_POINTS and all(point > target for point in points[-SCALE_OUT_POINTS:]):
        wanted = max(capacity + 1, math.ceil(capacity * points[-1] / target))
        wanted = min(high, wanted)
        return wanted if wanted != capacity else None
    if disable_scale_in or len(points) < SCALE_IN_POINTS:
        return None
    if not all(point < SCALE_IN_RATIO * target for point in points[-SCALE_IN_POINTS:]):
        return None
    if since_activity is not None and since_activity < timescale.scaled(SCALE_IN_COOLDOWN):
        return None
    wanted = max(low, min(capacity - 1, math.ceil(capacity * points[-1] / target)))
    return wanted if wanted != capacity else None


class Activity:
    def __init__(self, group, before, after, cause):
        self.id = str(uuid.uuid4())
        self.group = group
        self.before, self.after = before, after
        verb = "Launching" if after > before else "Terminating"
        count = abs(after - before)
        self.description = f"{verb} {count} EC2 instance{'s' if count != 1 else ''}: desired capacity {before} -> {after}"
        self.cause = cause
        self.started = self.ended = time.time()

    def xml(self):
        def iso(timestamp):
            return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return (f"<member><ActivityId>{self.id}</ActivityId><AutoScalingGroupName>{escape(self.group)}</AutoScalingGroupName>"
                f"<Description>{escape(self.description)}</Description><Cause>{escape(self.cause)}</Cause>"
                f"<StartTime>{iso(self.started)}</StartTime><EndTime>{iso(self.ended)}</EndTime>"
                f"<StatusCode>Successful</StatusCode><Progress>100</Progress><Details>{{}}</Details></member>")


class TargetTracking:
    OPERATIONS = ("DescribeScalingActivities",)

    def __init__(self, web):
        self.web = web
        self.points = {}        # policy arn -> [datapoints], oldest first
        self.requests = {}      # target group arn -> cumulative count at the last datapoint
        self.cpu = {}           # instance id -> CPU seconds at the last datapoint
        self.activities = {}    # group name -> [Activity], newest first
        self.stopping = False
        threading.Thread(target=self.loop, daemon=True, name="scaling").start()

    def stop(self):
        self.stopping = True

    def loop(self):
        while not self.stopping:
            time.sleep(timescale.scaled(PERIOD))
            try:
                self.tick(timescale.scaled(PERIOD))
            except Exception:  # keep tracking; the next period retries
                log.exception("target tracking round failed")

    def tick(self, period):
        requests = self.web.request_totals()
        cpu = self.web.cpu_seconds()
        with state.LOCK:
            delta_requests = {arn: total - self.requests.get(arn, 0) if total >= self.requests.get(arn, 0) else total
                              for arn, total in requests.items()}
            delta_cpu = {instance: seconds - self.cpu.get(instance, seconds) for instance, seconds in cpu.items()}
            self.requests, self.cpu = requests, cpu
            for region in sorted(self.web.run_command.regions):
                for policy in moto_adapter.target_tracking_policies(region):
                    self.track(region, policy, delta_requests, delta_cpu, period)

    def track(self, region, policy, delta_requests, delta_cpu, period):
        sizes = moto_adapter.group_sizes(region, policy["group"])
        if sizes is None:
            return
        low, high, desired, in_service, target_groups = sizes
        if policy["metric"] == "ALBRequestCountPerTarget":
            label = policy["label"].split("/targetgroup/", 1)[-1]
            groups = [arn for arn in target_groups if arn.endswith(":targetgroup/" + label)] or target_groups
            point = sum(delta_requests.get(arn, 0) for arn in groups) / max(1, len(in_service))
        elif policy["metric"] == "ASGAverageCPUUtilization":
            used = [delta_cpu[instance] for instance in in_service if instance in delta_cpu]
            point = 100.0 * sum(used) / len(used) / period if used else 0.0
        else:
            return
        points = self.points.setdefault(policy["arn"], [])
        points.append(point)
        del points[:-max(SCALE_OUT_POINTS, SCALE_IN_POINTS)]
        last = self.activities.get(policy["group"], [])
        since = time.time() - last[0].ended if last else None
        capacity = desired or len(in_service)
        wanted = decide(points, policy["target"], capacity, low, high, policy["disable_scale_in"], since)
        if wanted is None:
            return
        comparison = "above" if wanted > capacity else "below"
        cause = (f"At {datetime.now(timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')} a monitor alarm of policy {policy['name']} "
                 f"({policy['metric']} {point:.1f} {comparison} the target {policy['target']:g}) changed the desired capacity "
                 f"from {capacity} to {wanted}.")
        if wanted < capacity:
            # As Auto Scaling does behind a load balancer: the victims drain before they are terminated.
            group = moto_adapter.scaling_group(region, policy["group"])
            victims = group.scale_in(wanted)
            threading.Thread(target=retire.drain_then_terminate, args=(self.web, group, victims), daemon=True,
                             name=f"scale-in-{policy['group']}").start()
        else:
            moto_adapter.set_desired_capacity(region, policy["group"], wanted)
        self.activities.setdefault(policy["group"], []).insert(0, Activity(policy["group"], capacity, wanted, cause))
        # The datapoints that led here are spent: the next decision waits for new ones.
        points.clear()
        log.info("%s: %s", policy["group"], cause)

    def handle(self, operation, params, region):
        """DescribeScalingActivities (caller holds state.LOCK): the inner XML of its Result."""
        name = params.get("AutoScalingGroupName")
        activities = [activity for group, items in self.activities.items() if name in (None, group) for activity in items]
        activities.sort(key=lambda activity: activity.started, reverse=True)
        limit = int(params.get("MaxRecords", 100) or 100)
        start = int(params.get("NextToken", 0) or 0)
        page = activities[start:start + limit]
        token = f"<NextToken>{start + limit}</NextToken>" if start + limit < len(activities) else ""
        return f"<Activities>{''.join(activity.xml() for activity in page)}</Activities>{token}"
