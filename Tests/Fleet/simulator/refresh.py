"""AutoScaling instance refresh, which moto lacks: replaces a group's instances in batches that
keep MinHealthyPercentage of the desired capacity in service. New instances get agents and run
their launch template's user data (as a shell script in their root); an instance whose user data
fails is unhealthy, which fails the refresh and, with AutoRollback, puts the previous launch
template version back the same way.

Everything that reads or changes moto or the refresh records holds state.LOCK; booting an
instance (running its user data) and warm-up waits happen outside it."""
import base64
import logging
import math
import threading
import time
import uuid

from . import moto_adapter, state
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
            active.cancel = True
        else:
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
                f"<AutoRollback>{str(refresh.auto_rollback).lower()}</AutoRollback></Preferences></member>")
        return f"<InstanceRefreshes>{''.join(items)}</InstanceRefreshes>"

    # --- the refresh itself (its own thread) ----------------------------------------------------
    def run(self, refresh, region):
        try:
            with state.LOCK:
                group = moto_adapter.scaling_group(region, refresh.group_name)
                # What the instances run now: the version recorded when the simulator launched them,
                # else the group's current setting resolved to a number (pin versions for exact rollbacks).
                recorded = [self.versions.get(moto_adapter.instance_id(item)) for item, _, _ in group.members()]
                recorded = [version for version in recorded if version]
                current = max(set(recorded), key=recorded.count) if recorded else group.resolved_version()
                refresh.previous = (group.template_id(), current)
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
                    refresh.status, refresh.percentage = "Successful", 100
                elif not (refresh.auto_rollback or refresh.rollback):
                    refresh.status = "Failed"
            if not ok and not refresh.cancel and (refresh.auto_rollback or refresh.rollback):
                self.roll_back(refresh, group, region)
        except Exception as error:  # keep the simulator up; report like AWS would
            log.exception("instance refresh %s of %s failed", refresh.id, refresh.group_name)
            with state.LOCK:
                refresh.status, refresh.reason = "Failed", f"{type(error).__name__}: {error}"
        with state.LOCK:
            refresh.ended = time.time()

    def replace(self, refresh, group, region, old, version):
        with state.LOCK:
            batch_size = max(1, group.capacity() - math.ceil(group.capacity() * refresh.min_healthy / 100))
        done = 0
        while old:
            with state.LOCK:
                if refresh.cancel:
                    return False
                if refresh.rollback:
                    refresh.reason = "Rollback requested"
                    return False
                batch, old = old[:batch_size], old[batch_size:]
                new = group.launch(len(batch))
                for instance in new:
                    self.versions[moto_adapter.instance_id(instance)] = version
                    group.set_health(instance, "Pending", "Healthy")
            healthy = True
            for instance in new:
                status = self.run_command.boot(instance, region)      # outside the lock: it runs user data
                with state.LOCK:
                    group.set_health(instance, "InService" if status == 0 else "Pending",
                                     "Healthy" if status == 0 else "Unhealthy")
                healthy = healthy and status == 0
            if refresh.warmup:
                time.sleep(min(refresh.warmup, 30))
            with state.LOCK:
                if not healthy:
                    refresh.reason = "Instances failed to become healthy (their user data exited with an error)"
                    group.remove(new)
                    return False
                group.remove(batch)
                done += len(batch)
                refresh.percentage = int(100 * done / max(1, refresh.to_update))
        return True

    def roll_back(self, refresh, group, region):
        with state.LOCK:
            refresh.status = "RollbackInProgress"
            group.use_template(*refresh.previous)
            target = group.resolved_version()
            stale = [item for item, _, _ in group.members()
                     if self.versions.get(moto_adapter.instance_id(item)) not in (None, target)]
            refresh.rollback = False
            refresh.cancel = False
        ok = self.replace(refresh, group, region, stale, target) if stale else True
        with state.LOCK:
            refresh.status = "RollbackSuccessful" if ok else "RollbackFailed"


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
