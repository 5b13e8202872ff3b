"""AutoScaling instance refresh, which moto lacks: replaces a group's instances in batches that
keep MinHealthyPercentage of the desired capacity in service. New instances get agents and run
their launch template's user data (as a shell script in their root); an instance whose user data
fails is unhealthy, which fails the refresh and, with AutoRollback, puts the previous launch
template version back the same way."""
import base64
import sys
import traceback
import math
import threading
import time
import urllib.parse
import uuid
from xml.sax.saxutils import escape

ACCOUNT = "123456789012"
NAMESPACE = "http://autoscaling.amazonaws.com/doc/2011-01-01/"


class RefreshError(Exception):
    def __init__(self, code, message, status=400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


class Refresh:
    def __init__(self, group, preferences, desired):
        self.id = str(uuid.uuid4())
        self.group = group
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
    OPERATIONS = {"StartInstanceRefresh", "DescribeInstanceRefreshes", "CancelInstanceRefresh", "RollbackInstanceRefresh"}

    def __init__(self, run_command):
        self.run_command = run_command  # for agents and user data
        self.refreshes = {}             # group name -> [Refresh], newest first
        self.lock = threading.Lock()

    def backend(self, region):
        from moto.autoscaling.models import autoscaling_backends
        return autoscaling_backends[ACCOUNT][region]

    def handle(self, operation, body, region):
        params = {key: values[0] for key, values in urllib.parse.parse_qs(body.decode(), keep_blank_values=True).items()}
        name = params.get("AutoScalingGroupName", "")
        group = self.backend(region).autoscaling_groups.get(name)
        if group is None:
            raise RefreshError("ValidationError", f"AutoScalingGroup name not found - {name}")
        if operation == "StartInstanceRefresh":
            return self.start(group, params, region)
        if operation == "DescribeInstanceRefreshes":
            return self.describe(group, params)
        active = self.active(group.name)
        if active is None:
            raise RefreshError("ActiveInstanceRefreshNotFound", f"No in progress or pending Instance Refresh found for Auto Scaling group {name}")
        if operation == "CancelInstanceRefresh":
            active.cancel = True
        else:
            active.rollback = True
        return self.answer(operation, f"<InstanceRefreshId>{active.id}</InstanceRefreshId>")

    def active(self, name):
        with self.lock:
            for refresh in self.refreshes.get(name, []):
                if refresh.status in ("Pending", "InProgress", "Cancelling", "RollbackInProgress"):
                    return refresh
        return None

    def answer(self, operation, inner):
        return (f'<{operation}Response xmlns="{NAMESPACE}"><{operation}Result>{inner}</{operation}Result>'
                f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata></{operation}Response>")

    def start(self, group, params, region):
        if self.active(group.name):
            raise RefreshError("InstanceRefreshInProgress", f"An Instance Refresh is already in progress for {group.name}")
        preferences = {key.split(".", 1)[1]: value for key, value in params.items() if key.startswith("Preferences.")}
        desired = (params.get("DesiredConfiguration.LaunchTemplate.LaunchTemplateId"),
                   params.get("DesiredConfiguration.LaunchTemplate.Version"))
        refresh = Refresh(group, preferences, desired)
        with self.lock:
            self.refreshes.setdefault(group.name, []).insert(0, refresh)
        threading.Thread(target=self.run, args=(refresh, region), daemon=True).start()
        return self.answer("StartInstanceRefresh", f"<InstanceRefreshId>{refresh.id}</InstanceRefreshId>")

    def describe(self, group, params):
        wanted = {value for key, value in params.items() if key.startswith("InstanceRefreshIds.member.")}
        items = []
        for refresh in self.refreshes.get(group.name, []):
            if wanted and refresh.id not in wanted:
                continue
            end = f"<EndTime>{iso(refresh.ended)}</EndTime>" if refresh.ended else ""
            items.append(
                f"<member><InstanceRefreshId>{refresh.id}</InstanceRefreshId><AutoScalingGroupName>{group.name}</AutoScalingGroupName>"
                f"<Status>{refresh.status}</Status><StatusReason>{escape(refresh.reason)}</StatusReason>"
                f"<StartTime>{iso(refresh.started)}</StartTime>{end}<PercentageComplete>{refresh.percentage}</PercentageComplete>"
                f"<InstancesToUpdate>{refresh.to_update}</InstancesToUpdate>"
                f"<Preferences><MinHealthyPercentage>{refresh.min_healthy}</MinHealthyPercentage>"
                f"<SkipMatching>{str(refresh.skip_matching).lower()}</SkipMatching>"
                f"<AutoRollback>{str(refresh.auto_rollback).lower()}</AutoRollback></Preferences></member>")
        return self.answer("DescribeInstanceRefreshes", f"<InstanceRefreshes>{''.join(items)}</InstanceRefreshes>")

    # --- the refresh itself --------------------------------------------------------------------
    def run(self, refresh, region):
        group = refresh.group
        backend = self.backend(region)
        try:
            # What the instances run now: the version recorded when the simulator launched them,
            # else the group's current setting resolved to a number (pin versions for exact rollbacks).
            recorded = [getattr(state.instance, "fleet_template_version", None) for state in group.instance_states]
            recorded = [version for version in recorded if version]
            current = max(set(recorded), key=recorded.count) if recorded else self.resolved_version(group)
            refresh.previous = (group.ec2_launch_template.id if group.ec2_launch_template else None, current)
            template_id, version = refresh.desired
            if template_id and group.ec2_launch_template and template_id != group.ec2_launch_template.id:
                group.ec2_launch_template = backend.ec2_backend.get_launch_template(template_id)
            if version:
                group.launch_template_version = group.provided_launch_template_version = version
            target = self.resolved_version(group)
            old = [state for state in group.instance_states
                   if not (refresh.skip_matching and getattr(state.instance, "fleet_template_version", None) == target)]
            refresh.to_update = len(old)
            refresh.status = "InProgress"
            ok = self.replace(refresh, group, backend, region, old, target)
            if refresh.cancel:
                refresh.status, refresh.reason = "Cancelled", "Cancelled by request"
            elif ok:
                refresh.status, refresh.percentage = "Successful", 100
            else:
                if refresh.auto_rollback or refresh.rollback:
                    self.roll_back(refresh, group, backend, region)
                else:
                    refresh.status = "Failed"
        except Exception as error:  # keep the simulator up; report like AWS would
            traceback.print_exc(file=sys.stderr)
            refresh.status, refresh.reason = "Failed", f"{type(error).__name__}: {error}"
        refresh.ended = time.time()

    def resolved_version(self, group):
        template = group.ec2_launch_template
        if template is None:
            return None
        version = group.launch_template_version
        if version in ("$Latest", None):
            return str(template.latest_version_number)
        if version == "$Default":
            return str(template.default_version_number)
        return str(version)

    def replace(self, refresh, group, backend, region, old, version):
        capacity = max(1, group.desired_capacity or len(group.instance_states))
        batch_size = max(1, capacity - math.ceil(capacity * refresh.min_healthy / 100))
        done = 0
        while old:
            if refresh.cancel:
                return False
            if refresh.rollback:
                refresh.reason = "Rollback requested"
                return False
            batch, old = old[:batch_size], old[batch_size:]
            before = {state.instance.id for state in group.instance_states}
            group.replace_autoscaling_group_instances(len(batch), group.get_propagated_tags())
            new = [state for state in group.instance_states if state.instance.id not in before]
            healthy = True
            for state in new:
                state.instance.fleet_template_version = version
                state.lifecycle_state = "Pending"
            for state in new:
                status = self.run_command.boot(state.instance, region)
                state.lifecycle_state = "InService" if status == 0 else "Pending"
                state.health_status = "Healthy" if status == 0 else "Unhealthy"
                healthy = healthy and status == 0
            if refresh.warmup:
                time.sleep(min(refresh.warmup, 30))
            if not healthy:
                refresh.reason = "Instances failed to become healthy (their user data exited with an error)"
                backend.ec2_backend.terminate_instances([state.instance.id for state in new])
                group.instance_states = [state for state in group.instance_states if state not in new]
                backend.update_attached_target_groups(group.name)
                return False
            backend.ec2_backend.terminate_instances([state.instance.id for state in batch])
            group.instance_states = [state for state in group.instance_states if state not in batch]
            backend.update_attached_target_groups(group.name)
            done += len(batch)
            refresh.percentage = int(100 * done / max(1, refresh.to_update))
        return True

    def roll_back(self, refresh, group, backend, region):
        refresh.status = "RollbackInProgress"
        template_id, version = refresh.previous
        if template_id:
            group.ec2_launch_template = backend.ec2_backend.get_launch_template(template_id)
        group.launch_template_version = group.provided_launch_template_version = version
        target = self.resolved_version(group)
        stale = [state for state in group.instance_states
                 if getattr(state.instance, "fleet_template_version", None) not in (None, target)]
        refresh.rollback = False
        refresh.cancel = False
        ok = self.replace(refresh, group, backend, region, stale, target) if stale else True
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
    """moto 5.2 stores UserData of CreateLaunchTemplateVersion as a plain string and then asserts
    it is a Base64EncodedString when an Auto Scaling group launches from that version; accept both."""
    from moto.core.types import Base64EncodedString
    from moto.ec2.models.launch_templates import LaunchTemplateVersion

    def user_data(self):
        value = self.data.get("UserData")
        if isinstance(value, str):
            value = Base64EncodedString(value)
        return value

    LaunchTemplateVersion.user_data = property(user_data)
