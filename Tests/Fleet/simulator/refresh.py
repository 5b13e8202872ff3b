"""AutoScaling instance refresh, which moto lacks: replaces a group's instances in batches that
keep MinHealthyPercentage of the desired capacity in service. New instances get agents and run
their launch template's user data (as a shell script in their root); an instance whose user data
fails is unhealthy, which fails the refresh and, with AutoRollback, puts the previous launch
template version back the same way. As the API reference describes it:
- a group with HealthCheckType ELB counts a new instance as updated only once its target groups
  find it healthy (within its HealthCheckGracePeriod after booting, scaled) and InstanceWarmup
  (scaled) has passed; only then are old instances deregistered, drained for the target group's
  deregistration delay (scaled) and terminated;
- InstancesToUpdate counts down as instances are updated (a rollback leaves it where the refresh
  stopped), PercentageComplete counts up (and back down during a rollback);
- SkipMatching keeps instances already on the desired launch template version;
- AutoRollback needs a DesiredConfiguration and numbered versions on both sides ($Latest and
  $Default cannot be rolled back to): otherwise StartInstanceRefresh is a ValidationError;
- CancelInstanceRefresh answers with the refresh Cancelling until the current batch stops;
- a second StartInstanceRefresh while one is active is InstanceRefreshInProgress.

Everything that reads or changes moto or the refresh records holds state.LOCK; booting an
instance (running its user data) and warm-up waits happen outside it."""
import base64
import logging
import math
import threading
import time
import uuid

from . import moto_adapter, retire, state, timescale
from .errors import AWSError

log = logging.getLogger("fleet.refresh")
ACTIVE = ("Pending", "InProgress", "Cancelling", "RollbackInProgress")


class Refresh:
    def __init__(self, group_name, preferences, desired):
        self.id = str(uuid.uuid4())
        self.group_name = group_name
        self.status = "Pending"
        self.reason = ""
        self.started = time.time()
        self.ended = None
        self.percentage = 0
        self.to_update = 0
        self.min_healthy = int(preferences.get("MinHealthyPercentage", 90))
        self.warmup = float(preferences.get("InstanceWarmup", 0) or 0)
        self.skip_matching = preferences.get("SkipMatching", "false") == "true"
        self.auto_rollback = preferences.get("AutoRollback", "false") == "true"
        self.desired = desired          # (template id or None, version or None)
        self.previous = None            # (template id, version) before the refresh
        self.cancel = False
        self.rollback = False


class InstanceRefresher:
    OPERATIONS = ("StartInstanceRefresh", "DescribeInstanceRefreshes", "CancelInstanceRefresh", "RollbackInstanceRefresh")

    def __init__(self, run_command):
        self.run_command = run_command  # for agents and user data
        self.web = None                 # web.Web, set by the world: target health of new instances
        self.refreshes = {}             # group name -> [Refresh], newest first
        self.versions = {}              # instance id -> launch template version it was launched with

    def handle(self, operation, params, region):
        """Answers one of OPERATIONS (caller holds state.LOCK); returns the Result's inner XML."""
        if isinstance(params, bytes):  # until server.py dispatches through the registry
            import urllib.parse
            params = {key: values[0] for key, values in urllib.parse.parse_qs(params.decode()).items()}
            return self.answer(operation, self.handle(operation, params, region))
        name = params.get("AutoScalingGroupName", "")
        group = moto_adapter.scaling_group(region, name)
        if group is None:
            raise AWSError("ValidationError", f"AutoScalingGroup name not found - {name}")
        if operation == "StartInstanceRefresh":
            return self.start(group, params, region)
        if operation == "DescribeInstanceRefreshes":
            return self.describe(group, params)
        active = self.active(group.name)
        if active is None:
            raise AWSError("ActiveInstanceRefreshNotFound",
                           f"No in progress or pending Instance Refresh found for Auto Scaling group {name}")
        if operation == "CancelInstanceRefresh":
            if active.status in ("RollbackInProgress",):
                raise AWSError("ActiveInstanceRefreshNotFound",
                               f"No in progress or pending Instance Refresh found for Auto Scaling group {name}")
            active.cancel = True
            active.status = "Cancelling"
        else:
            if active.status in ("RollbackInProgress", "Cancelling"):
                raise AWSError("IrreversibleInstanceRefresh",
                               f"The Instance Refresh of {name} is {active.status} and cannot be rolled back")
            active.rollback = True
        return f"<InstanceRefreshId>{active.id}</InstanceRefreshId>"

    def answer(self, operation, inner):
        from .wire import query_result
        return query_result("autoscaling", operation, inner).body.decode()

    def active(self, name):
        return next((item for item in self.refreshes.get(name, []) if item.status in ACTIVE), None)

    def start(self, group, params, region):
        if self.active(group.name):
            raise AWSError("InstanceRefreshInProgress", f"An Instance Refresh is already in progress for {group.name}")
        preferences = {key.split(".", 1)[1]: value for key, value in params.items() if key.startswith("Preferences.")}
        desired = (params.get("DesiredConfiguration.LaunchTemplate.LaunchTemplateId"),
                   params.get("DesiredConfiguration.LaunchTemplate.Version"))
        if preferences.get("AutoRollback", "false") == "true":
            if desired == (None, None):
                raise AWSError("ValidationError", "AutoRollback is only supported with a DesiredConfiguration.")
            if not all(str(version).isdigit() for version in (desired[1] or group.configured_version(), group.configured_version())):
                raise AWSError("ValidationError", "AutoRollback is not supported when the Auto Scaling group or the desired "
                               "configuration uses the launch template's $Latest or $Default version; use a version number.")
        refresh = Refresh(group.name, preferences, desired)
        self.refreshes.setdefault(group.name, []).insert(0, refresh)
        threading.Thread(target=self.run, args=(refresh, region), daemon=True, name=f"refresh-{group.name}").start()
        return f"<InstanceRefreshId>{refresh.id}</InstanceRefreshId>"

    def describe(self, group, params):
        from xml.sax.saxutils import escape
        wanted = {value for key, value in params.items() if key.startswith("InstanceRefreshIds.member.")}
        items = []
        for refresh in self.refreshes.get(group.name, []):
            if wanted and refresh.id not in wanted:
                continue
            end = f"<EndTime>{iso(refresh.ended)}</EndTime>" if refresh.ended else ""
            reason = f"<StatusReason>{escape(refresh.reason)}</StatusReason>" if refresh.reason else ""
            items.append(
                f"<member><InstanceRefreshId>{refresh.id}</InstanceRefreshId><AutoScalingGroupName>{group.name}</AutoScalingGroupName>"
                f"<Status>{refresh.status}</Status>{reason}"
                f"<StartTime>{iso(refresh.started)}</StartTime>{end}<PercentageComplete>{refresh.percentage}</PercentageComplete>"
                f"<InstancesToUpdate>{refresh.to_update}</InstancesToUpdate>"
                f"<Preferences><MinHealthyPercentage>{refresh.min_healthy}</MinHealthyPercentage>"
                f"<SkipMatching>{str(refresh.skip_matching).lower()}</SkipMatching>"
                f"<AutoRollback>{str(refresh.auto_rollback).lower()}</AutoRollback></Preferences>{desired_xml(refresh)}</member>")
        return f"<InstanceRefreshes>{''.join(items)}</InstanceRefreshes>"

    # --- the refresh itself (its own thread) ----------------------------------------------------
    def run(self, refresh, region):
        try:
            with state.LOCK:
                group = moto_adapter.scaling_group(region, refresh.group_name)
                # A rollback (and a refresh that fails or is cancelled) leaves the group as it was
                # configured before the refresh: its template and version as it named them.
                refresh.previous = (group.template_id(), group.configured_version())
                group.use_template(*refresh.desired)
                target = group.resolved_version()
                old = [item for item, _, _ in group.members()
                       if not (refresh.skip_matching and self.versions.get(moto_adapter.instance_id(item)) == target)]
                refresh.to_update = len(old)
                refresh.status = "InProgress"
            ok = self.replace(refresh, group, region, old, target)
            with state.LOCK:
                if refresh.cancel:
                    refresh.status, refresh.reason = "Cancelled", "Cancelled by request"
                elif ok:
                    refresh.status, refresh.percentage, refresh.to_update = "Successful", 100, 0
                elif not (refresh.auto_rollback or refresh.rollback):
                    refresh.status = "Failed"
                    group.use_template(*refresh.previous)      # the group keeps its configuration
            if not ok and not refresh.cancel and (refresh.auto_rollback or refresh.rollback):
                self.roll_back(refresh, group, region)
            elif refresh.cancel:
                with state.LOCK:
                    group.use_template(*refresh.previous)
        except Exception as error:  # keep the simulator up; report like AWS would
            log.exception("instance refresh %s of %s failed", refresh.id, refresh.group_name)
            with state.LOCK:
                refresh.status, refresh.reason = "Failed", f"{type(error).__name__}: {error}"
        with state.LOCK:
            refresh.ended = time.time()

    def replace(self, refresh, group, region, old, version, rolling_back=False):
        with state.LOCK:
            batch_size = max(1, group.capacity() - math.ceil(group.capacity() * refresh.min_healthy / 100))
            total = max(1, len(old))
            start = refresh.percentage
        done = 0
        while old:
            with state.LOCK:
                if refresh.cancel:
                    return False
                if refresh.rollback and not rolling_back:
                    refresh.reason = "Rollback requested"
                    return False
                batch, old = old[:batch_size], old[batch_size:]
                new = group.launch(len(batch))
                for instance in new:
                    self.versions[moto_adapter.instance_id(instance)] = version
                    group.set_health(instance, "Pending", "Healthy")
            failure = None
            for instance in new:
                status = self.run_command.boot(instance, region)      # outside the lock: it runs user data
                if status != 0:
                    failure = failure or "Instances failed to become healthy (their user data exited with an error)"
            if failure is None:
                failure = self.wait_healthy(refresh, group, new, rolling_back)
            with state.LOCK:
                for instance in new:
                    group.set_health(instance, "Pending" if failure else "InService", "Unhealthy" if failure else "Healthy")
                if failure:
                    refresh.reason = failure
                    group.remove(new)
                    return False
            if refresh.warmup and not self.pause(refresh, timescale.scaled(refresh.warmup), rolling_back):
                with state.LOCK:
                    group.remove(new)
                return False
            with state.LOCK:
                group.detach(batch)                                   # deregistered: they drain
            retire.drain_then_terminate(self.web, group, batch)
            with state.LOCK:
                done += len(batch)
                if rolling_back:
                    refresh.percentage = max(0, int(start - start * done / total))
                else:
                    refresh.to_update = max(0, refresh.to_update - len(batch))
                    refresh.percentage = int(100 * done / max(1, total))
        return True

    def stopped(self, refresh, rolling_back):
        return refresh.cancel or (refresh.rollback and not rolling_back)

    def pause(self, refresh, seconds, rolling_back):
        """Sleeps `seconds` unless the refresh is cancelled or rolled back meanwhile (False then)."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            with state.LOCK:
                if self.stopped(refresh, rolling_back):
                    return False
            time.sleep(min(0.05, max(0, deadline - time.time())))
        return True

    def wait_healthy(self, refresh, group, new, rolling_back):
        """None once every new instance is healthy in each of the group's target groups (groups with
        HealthCheckType ELB), else why not: still unhealthy after the grace period, or stopped."""
        with state.LOCK:
            arns = group.target_group_arns() if group.health_check_type() == "ELB" else []
            if not arns or self.web is None:
                return None
            grace = timescale.scaled(group.grace_period())
            checks = max((moto_adapter.target_group(group.region, arn) or {}).get("interval", 30) *
                         (moto_adapter.target_group(group.region, arn) or {}).get("healthy", 5) for arn in arns)
        deadline = time.time() + grace + timescale.scaled(checks) + 1
        ids = [moto_adapter.instance_id(instance) for instance in new]
        while True:
            with state.LOCK:
                if self.stopped(refresh, rolling_back):
                    return "Stopped"
                states = [self.web.target_state(arn, target) for arn in arns for target in ids]
            if all(item == "healthy" for item in states):
                return None
            if time.time() > deadline:
                return ("Instances failed to become healthy: their target group health checks did not pass "
                        f"within the health check grace period ({', '.join(str(item) for item in states)})")
            time.sleep(0.05)

    def roll_back(self, refresh, group, region):
        with state.LOCK:
            refresh.status = "RollbackInProgress"
            group.use_template(*refresh.previous)
            target = group.resolved_version()
            stale = [item for item, _, _ in group.members()
                     if self.versions.get(moto_adapter.instance_id(item)) not in (None, target)]
            refresh.rollback = False
            refresh.cancel = False
        ok = self.replace(refresh, group, region, stale, target, rolling_back=True) if stale else True
        with state.LOCK:
            refresh.status = "RollbackSuccessful" if ok else "RollbackFailed"


def desired_xml(refresh):
    template, version = refresh.desired
    if not (template or version):
        return ""
    inner = (f"<LaunchTemplateId>{template}</LaunchTemplateId>" if template else "") + \
        (f"<Version>{version}</Version>" if version else "")
    return f"<DesiredConfiguration><LaunchTemplate>{inner}</LaunchTemplate></DesiredConfiguration>"


def iso(timestamp):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


def decode_user_data(raw):
    if not raw:
        return ""
    if isinstance(raw, list):
        raw = raw[0]
    if hasattr(raw, "as_bytes"):  # moto's Base64EncodedString
        raw = raw.as_bytes()
    if isinstance(raw, bytes):
        raw = raw.decode()
    try:
        return base64.b64decode(raw).decode("utf-8", "replace")
    except Exception:
        return raw


def install():
    moto_adapter.fix_launch_template_user_data()
