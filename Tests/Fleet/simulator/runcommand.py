"""SSM Run Command that really runs, and the agents it runs on.

Every EC2 instance moto has in the `running` state gets an agent: a directory
`<state>/instances/<instance-id>/root` that plays its filesystem. SendCommand (AWS-RunShellScript
or our own Command documents) runs each invocation with bash inside that root, honouring
MaxConcurrency, MaxErrors, the delivery timeout (TimeoutSeconds) and executionTimeout, and records
real stdout, stderr and exit codes with the statuses, details and output limits AWS uses.
"""
import datetime
import json
import math
import os
import re
import signal
import subprocess
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from . import moto_adapter, processes, state
from .errors import AWSError

ACCOUNT = moto_adapter.ACCOUNT_ID
STDOUT_LIMIT = 24000       # GetCommandInvocation StandardOutputContent
STDERR_LIMIT = 8000        # GetCommandInvocation StandardErrorContent
DETAILS_LIMIT = 2500       # ListCommandInvocations --details, per plugin Output
TRUNCATED = "\n----- Result truncated -----"
ERROR_SEPARATOR = "\n----------ERROR-------\n"
ERROR_STATUSES = {"Failed", "TimedOut", "Undeliverable"}
FINAL_STATUSES = {"Success", "Failed", "TimedOut", "Cancelled", "Undeliverable"}


def reset_signals():
    """Commands start as on a fresh instance: no signal blocked or ignored, whatever the process
    that started the simulator (a test runner, say) had set."""
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGPIPE):
        signal.signal(number, signal.SIG_DFL)


# The simulator's one error type (errors.py), written in SSM's JSON protocol by wire.py.
SSMError = AWSError


def now():
    return time.time()


def iso(timestamp):
    return datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Agent:
    def __init__(self, instance_id, root):
        self.instance_id = instance_id
        self.root = root
        self.forced_offline = False
        self.delivery_delay = 0.0
        self.hang = False  # commands start but never finish (until cancelled or timed out)
        self.registered = now()


class Invocation:
    def __init__(self, command, instance_id):
        self.command = command
        self.instance_id = instance_id
        self.status = "Pending"
        self.details = "Pending"
        self.response_code = -1
        self.stdout = ""
        self.stderr = ""
        self.started = None
        self.finished = None
        self.process = None

    def plugin_output(self):
        text = self.stdout + (ERROR_SEPARATOR + self.stderr if self.stderr else "")
        return text[:DETAILS_LIMIT] + TRUNCATED if len(text) > DETAILS_LIMIT else text

    def summary(self, details):
        item = {"CommandId": self.command.id, "InstanceId": self.instance_id, "InstanceName": "",
                "Comment": self.command.comment, "DocumentName": self.command.document,
                "DocumentVersion": "$DEFAULT", "RequestedDateTime": self.command.requested,
                "Status": self.status, "StatusDetails": self.details, "StandardOutputUrl": "", "StandardErrorUrl": "",
                "CommandPlugins": [], "ServiceRole": "", "NotificationConfig": {}}
        if details:
            item["CommandPlugins"] = [{
                "Name": "aws:runShellScript", "Status": self.status, "StatusDetails": self.details,
                "ResponseCode": self.response_code, "Output": self.plugin_output(),
                "ResponseStartDateTime": self.started or 0, "ResponseFinishDateTime": self.finished or 0,
                "OutputS3BucketName": self.command.s3_bucket or "", "OutputS3KeyPrefix": self.command.s3_prefix or "",
                "StandardOutputUrl": "", "StandardErrorUrl": ""}]
        return item


def parse_limit(value, total, default):
    """MaxConcurrency / MaxErrors: a count or a percentage of the targets."""
    if value in (None, ""):
        return default
    text = str(value)
    if text.endswith("%"):
        return max(1, math.ceil(total * float(text[:-1]) / 100)) if float(text[:-1]) > 0 else 0
    return int(text)


class Command:
    def __init__(self, request, instance_ids, script, working_directory, execution_timeout):
        self.id = str(uuid.uuid4())
        self.document = request.get("DocumentName", "AWS-RunShellScript")
        self.parameters = request.get("Parameters", {})
        self.comment = request.get("Comment", "")
        self.targets = request.get("Targets", [])
        self.requested_instance_ids = request.get("InstanceIds", [])
        self.instance_ids = instance_ids
        self.delivery_timeout = int(request.get("TimeoutSeconds") or 3600)
        self.execution_timeout = execution_timeout
        self.script = script
        self.working_directory = working_directory
        self.s3_bucket = request.get("OutputS3BucketName")
        self.s3_prefix = request.get("OutputS3KeyPrefix")
        total = len(instance_ids)
        self.max_concurrency_text = str(request.get("MaxConcurrency") or "50")
        self.max_errors_text = str(request.get("MaxErrors") or "0")
        self.max_concurrency = max(1, parse_limit(request.get("MaxConcurrency"), total, 50))
        self.max_errors = parse_limit(request.get("MaxErrors"), total, 0)
        self.requested = now()
        self.invocations = {instance: Invocation(self, instance) for instance in instance_ids}
        self.cancelled = False
        self.stopped_by_errors = False
        self.visible_after = self.requested + 0.4   # AWS's delay before invocations can be read

    def counts(self):
        values = list(self.invocations.values())
        return {
            "completed": sum(1 for item in values if item.status in FINAL_STATUSES),
            "errors": sum(1 for item in values if item.status in ERROR_STATUSES),
            "delivery_timed_out": sum(1 for item in values if item.details == "Delivery Timed Out"),
        }

    def status(self):
        values = list(self.invocations.values())
        if not values:
            return "Success", "Success"
        if any(item.status not in FINAL_STATUSES for item in values):
            if self.cancelled:
                return "Cancelling", "Cancelling"
            return ("InProgress", "InProgress") if any(item.status == "InProgress" for item in values) else ("Pending", "Pending")
        if self.cancelled:
            return "Cancelled", "Cancelled"
        if self.stopped_by_errors or any(item.status in ("Failed", "Undeliverable") for item in values):
            return "Failed", "Failed"
        if any(item.status == "TimedOut" for item in values):
            return "TimedOut", "Delivery Timed Out" if any(item.details == "Delivery Timed Out" for item in values) else "Failed"
        if any(item.status == "Cancelled" for item in values):
            return "Cancelled", "Cancelled"
        return "Success", "Success"

    def describe(self):
        status, details = self.status()
        counts = self.counts()
        return {
            "CommandId": self.id, "DocumentName": self.document, "DocumentVersion": "$DEFAULT",
            "Comment": self.comment, "ExpiresAfter": self.requested + self.delivery_timeout + 3600,
            "Parameters": self.parameters, "InstanceIds": self.requested_instance_ids, "Targets": self.targets,
            "RequestedDateTime": self.requested, "Status": status, "StatusDetails": details,
            "OutputS3Region": "", "OutputS3BucketName": self.s3_bucket or "", "OutputS3KeyPrefix": self.s3_prefix or "",
            "MaxConcurrency": self.max_concurrency_text, "MaxErrors": self.max_errors_text,
            "TargetCount": len(self.invocations), "CompletedCount": counts["completed"],
            "ErrorCount": counts["errors"], "DeliveryTimedOutCount": counts["delivery_timed_out"],
            "ServiceRole": "", "NotificationConfig": {}, "TimeoutSeconds": self.delivery_timeout,
        }


class RunCommand:
    """The SSM Run Command side of the simulator. `handle` answers the operations moto lacks."""

    OPERATIONS = {"SendCommand", "ListCommandInvocations", "GetCommandInvocation", "ListCommands", "CancelCommand",
                  "DescribeInstanceInformation"}

    def __init__(self, state_dir):
        self.state_dir = state_dir
        self.agents = {}
        self.commands = {}
        self.order = []
        self.lock = state.LOCK  # the simulator's one lock (state.py)
        self.pool = ThreadPoolExecutor(max_workers=64, thread_name_prefix="agent")
        self.regions = {"eu-west-3"}
        self.boots = {}  # instance id -> (threading.Event, [exit status])

    # --- instances and agents ------------------------------------------------------------------
    def ec2_instances(self, region):
        with self.lock:
            return moto_adapter.instances(region)

    def sync_agents(self, region):
        """Every running instance has an agent and a root directory; others are offline."""
        self.regions.add(region)
        instances = self.ec2_instances(region)
        with self.lock:
            for instance in instances:
                agent = self.agents.get(instance.id)
                if agent is None:
                    root = os.path.join(self.state_dir, "instances", instance.id, "root")
                    os.makedirs(root, exist_ok=True)
                    agent = self.agents[instance.id] = Agent(instance.id, root)
                    if moto_adapter.launched_by_group(instance) and moto_adapter.instance_state(instance) == "running":
                        # An instance an Auto Scaling group launched boots like any: its user data runs.
                        self.pool.submit(self.boot, instance, region)
                agent.instance = instance
        return instances

    def boot(self, instance, region):
        """Runs the instance's user data once, as cloud-init would, in its root; returns the exit
        status (0 also when there is none). Output goes to <root>/var/log/cloud-init-output.log.
        Callers racing for the same instance wait for the one run."""
        with self.lock:
            entry = self.boots.get(instance.id)
            first = entry is None
            if first:
                entry = self.boots[instance.id] = (threading.Event(), [0])
        if not first:
            entry[0].wait(timeout=650)
            return entry[1][0]
        try:
            entry[1][0] = self.run_user_data(instance, region)
        finally:
            entry[0].set()
        return entry[1][0]

    def run_user_data(self, instance, region):
        from .refresh import decode_user_data
        self.sync_agents(region)
        agent = self.agents[instance.id]
        script = decode_user_data(moto_adapter.instance_user_data(instance))
        if not script:
            return 0
        log_dir = os.path.join(agent.root, "var", "log")
        os.makedirs(log_dir, exist_ok=True)
        environment = {"HOME": agent.root, "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
                       "FLEET_INSTANCE_ID": agent.instance_id, "FLEET_INSTANCE_ROOT": agent.root}
        with open(os.path.join(log_dir, "cloud-init-output.log"), "ab") as log:
            process = processes.spawn(["bash", "-c", script], f"user-data {agent.instance_id}", cwd=agent.root,
                                      env=environment, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            try:
                return process.wait(timeout=600)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                return -1

    def is_online(self, agent):
        instance = getattr(agent, "instance", None)
        with self.lock:
            running = instance is not None and moto_adapter.instance_state(instance) == "running"
        return running and not agent.forced_offline

    def set_agent(self, instance_id, online=None, delay=None, hang=None):
        if instance_id not in self.agents:
            for region in self.regions:
                self.sync_agents(region)
        with self.lock:
            agent = self.agents.get(instance_id)
            if agent is None:
                raise SSMError("InvalidInstanceId", f"Instance {instance_id} has no agent")
            if online is not None:
                agent.forced_offline = not online
            if delay is not None:
                agent.delivery_delay = float(delay)
            if hang is not None:
                agent.hang = bool(hang)
            return {"instance": instance_id, "online": not agent.forced_offline, "delay": agent.delivery_delay,
                    "hang": agent.hang}

    def describe_agents(self):
        with self.lock:
            return [{"InstanceId": agent.instance_id, "Root": agent.root, "Online": self.is_online(agent),
                     "DeliveryDelay": agent.delivery_delay} for agent in self.agents.values()]

    # --- dispatch ------------------------------------------------------------------------------
    def handle(self, operation, request, region):
        self.sync_agents(region)
        handler = {
            "SendCommand": self.send_command, "ListCommandInvocations": self.list_command_invocations,
            "GetCommandInvocation": self.get_command_invocation, "ListCommands": self.list_commands,
            "CancelCommand": self.cancel_command, "DescribeInstanceInformation": self.describe_instance_information,
        }[operation]
        return handler(request, region)

    # --- SendCommand ---------------------------------------------------------------------------
    def resolve_targets(self, request, region):
        instances = {instance.id: instance for instance in self.ec2_instances(region)}
        chosen = list(request.get("InstanceIds") or [])
        for target in request.get("Targets") or []:
            key, values = target.get("Key", ""), target.get("Values", [])
            if key == "InstanceIds":
                chosen += values
            elif key.startswith("tag:"):
                name = key[4:]
                for instance in instances.values():
                    tags = moto_adapter.instance_tags(instance)
                    if tags.get(name) in values and moto_adapter.instance_state(instance) != "terminated":
                        chosen.append(instance.id)
            elif key.startswith("resource-groups"):
                raise SSMError("InvalidTarget", "resource-groups targets are not simulated")
            else:
                raise SSMError("InvalidTarget", f"unsupported target key {key}")
        unique = list(dict.fromkeys(chosen))
        for instance_id in request.get("InstanceIds") or []:
            if instance_id not in instances:
                raise SSMError("InvalidInstanceId", f"Instances [[{instance_id}]] not in a valid state for account {ACCOUNT}")
        return unique

    def document_script(self, request, region):
        name = request.get("DocumentName", "AWS-RunShellScript")
        parameters = request.get("Parameters") or {}
        if name == "AWS-RunShellScript":
            commands = parameters.get("commands")
            if not commands:
                raise SSMError("InvalidParameters", "Parameter commands is required")
            steps = [commands]
        else:
            steps = self.custom_document_steps(name, parameters, region)
        lines = [line for step in steps for line in step]
        working_directory = (parameters.get("workingDirectory") or [""])[0]
        execution_timeout = int((parameters.get("executionTimeout") or ["3600"])[0])
        return "\n".join(lines), working_directory, execution_timeout

    def custom_document_steps(self, name, parameters, region):
        try:
            text, document_format = moto_adapter.ssm_document(region, name)
        except KeyError:
            raise SSMError("InvalidDocument", f"Document {name} does not exist") from None
        content = json.loads(text) if document_format == "JSON" else __import__("yaml").safe_load(text)
        declared = content.get("parameters", {})
        values = {key: spec.get("default") for key, spec in declared.items()}
        for key, value in parameters.items():
            values[key] = value if len(value) != 1 else value[0]
        missing = [key for key, value in values.items() if value is None]
        if missing:
            raise SSMError("InvalidParameters", f"document {name} requires parameters {', '.join(missing)}")

        def substitute(text):
            def replace(match):
                value = values.get(match.group(1).strip(), "")
                return "\n".join(value) if isinstance(value, list) else str(value)
            return re.sub(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}", replace, text)

        steps = []
        for step in content.get("mainSteps", content.get("runtimeConfig", {}).values()):
            if step.get("action") not in (None, "aws:runShellScript"):
                raise SSMError("InvalidDocument", f"action {step.get('action')} is not simulated")
            commands = step.get("inputs", {}).get("runCommand", [])
            if isinstance(commands, str):
                commands = [commands]
            steps.append([substitute(line) for line in commands])
        return steps

    def send_command(self, request, region):
        script, working_directory, execution_timeout = self.document_script(request, region)
        instance_ids = self.resolve_targets(request, region)
        if not instance_ids and not request.get("Targets"):
            raise SSMError("InvalidParameters", "InstanceIds or Targets required")
        command = Command(request, instance_ids, script, working_directory, execution_timeout)
        command.region = region
        with self.lock:
            self.commands[command.id] = command
            self.order.insert(0, command.id)
        threading.Thread(target=self.schedule, args=(command,), daemon=True).start()
        return {"Command": command.describe()}

    def schedule(self, command):
        """Sends invocations MaxConcurrency at a time; stops sending after MaxErrors + 1 errors."""
        pending = list(command.invocations.values())
        running = []
        while pending or running:
            running = [item for item in running if item.status not in FINAL_STATUSES]
            if command.cancelled or command.counts()["errors"] > command.max_errors:
                command.stopped_by_errors = not command.cancelled
                for item in pending:
                    item.status, item.details = "Cancelled", "Cancelled" if command.cancelled else "Terminated"
                    item.finished = now()
                pending = []
                continue
            while pending and len(running) < command.max_concurrency:
                item = pending.pop(0)
                running.append(item)
                item.status, item.details = "InProgress", "InProgress"
                self.pool.submit(self.deliver, item)
            time.sleep(0.005)

    def deliver(self, invocation):
        command = invocation.command
        agent = self.agents.get(invocation.instance_id)
        if agent is None or not self.is_online(agent):
            time.sleep(0.05)
            invocation.status, invocation.details = "Undeliverable", "Undeliverable"
            invocation.finished = now()
            return
        if agent.delivery_delay:
            if agent.delivery_delay >= command.delivery_timeout:
                time.sleep(command.delivery_timeout)
                invocation.status, invocation.details = "TimedOut", "Delivery Timed Out"
                invocation.finished = now()
                return
            time.sleep(agent.delivery_delay)
        if command.cancelled:
            invocation.status, invocation.details, invocation.finished = "Cancelled", "Cancelled", now()
            return
        workdir = agent.root
        if command.working_directory:
            workdir = os.path.join(agent.root, command.working_directory.lstrip("/"))
            os.makedirs(workdir, exist_ok=True)
        environment = {"HOME": agent.root, "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
                       "FLEET_INSTANCE_ID": agent.instance_id, "FLEET_INSTANCE_ROOT": agent.root,
                       "AWS_SSM_INSTANCE_ID": agent.instance_id, "AWS_SSM_REGION_NAME": command.region}
        invocation.started = now()
        script = "exec sleep 2147483647" if agent.hang else command.script
        process = processes.spawn(["bash", "-c", script], f"command {command.id} {agent.instance_id}", cwd=workdir,
                                  env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  stdin=subprocess.DEVNULL)
        invocation.process = process
        try:
            stdout, stderr = process.communicate(timeout=command.execution_timeout)
            invocation.response_code = process.returncode
            if command.cancelled and process.returncode < 0:
                invocation.status, invocation.details = "Cancelled", "Cancelled"
            elif process.returncode == 0:
                invocation.status, invocation.details = "Success", "Success"
            else:
                invocation.status, invocation.details = "Failed", "Failed"
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            stdout, stderr = process.communicate()
            invocation.response_code = -1
            invocation.status, invocation.details = "TimedOut", "Execution Timed Out"
        invocation.stdout = stdout.decode("utf-8", "replace")
        invocation.stderr = stderr.decode("utf-8", "replace")
        invocation.finished = now()
        if command.s3_bucket:
            self.write_output(invocation)

    def write_output(self, invocation):
        command = invocation.command
        prefix = (command.s3_prefix.rstrip("/") + "/") if command.s3_prefix else ""
        base = f"{prefix}{command.id}/{invocation.instance_id}/awsrunShellScript/0.awsrunShellScript/"
        try:
            with state.LOCK:
                moto_adapter.s3_put_object(command.s3_bucket, base + "stdout", invocation.stdout.encode())
                if invocation.stderr:
                    moto_adapter.s3_put_object(command.s3_bucket, base + "stderr", invocation.stderr.encode())
        except Exception as error:  # a missing bucket loses the copy, as on AWS
            invocation.stderr += f"\n(fleet: could not write output to s3://{command.s3_bucket}: {error})"

    # --- reading results -----------------------------------------------------------------------
    def command(self, command_id):
        command = self.commands.get(command_id)
        if command is None:
            raise SSMError("InvalidCommandId", f"Command {command_id} not found")
        return command

    def list_command_invocations(self, request, region):
        with self.lock:
            commands = [self.command(request["CommandId"])] if request.get("CommandId") else \
                [self.commands[name] for name in self.order]
        invocations = []
        for command in commands:
            if now() < command.visible_after:
                continue
            for item in command.invocations.values():
                if request.get("InstanceId") and item.instance_id != request["InstanceId"]:
                    continue
                if not self.matches_filters(item, request.get("Filters") or []):
                    continue
                invocations.append(item)
        return self.page(request, [item.summary(bool(request.get("Details"))) for item in invocations],
                         "CommandInvocations")

    def matches_filters(self, item, filters):
        for spec in filters:
            key, value = spec.get("key") or spec.get("Key"), spec.get("value") or spec.get("Value")
            if key == "Status" and item.status != value:
                return False
            if key == "DocumentName" and item.command.document != value:
                return False
        return True

    def page(self, request, items, name):
        size = int(request.get("MaxResults") or 50)
        start = int(request.get("NextToken") or 0)
        result = {name: items[start:start + size]}
        if start + size < len(items):
            result["NextToken"] = str(start + size)
        return result

    def get_command_invocation(self, request, region):
        command = self.commands.get(request.get("CommandId"))
        invocation = command.invocations.get(request.get("InstanceId")) if command else None
        if invocation is None or now() < command.visible_after:
            raise SSMError("InvocationDoesNotExist", "An error occurred (InvocationDoesNotExist) when calling the GetCommandInvocation operation")
        return {
            "CommandId": command.id, "InstanceId": invocation.instance_id, "Comment": command.comment,
            "DocumentName": command.document, "DocumentVersion": "$DEFAULT", "PluginName": "aws:runShellScript",
            "ResponseCode": invocation.response_code,
            "ExecutionStartDateTime": iso(invocation.started) if invocation.started else "",
            "ExecutionElapsedTime": f"PT{(invocation.finished or now()) - (invocation.started or now()):.3f}S",
            "ExecutionEndDateTime": iso(invocation.finished) if invocation.finished else "",
            "Status": invocation.status, "StatusDetails": invocation.details,
            "StandardOutputContent": invocation.stdout[:STDOUT_LIMIT], "StandardOutputUrl": "",
            "StandardErrorContent": invocation.stderr[:STDERR_LIMIT], "StandardErrorUrl": "",
            "CloudWatchOutputConfig": {"CloudWatchLogGroupName": "", "CloudWatchOutputEnabled": False},
        }

    def list_commands(self, request, region):
        with self.lock:
            commands = [self.command(request["CommandId"])] if request.get("CommandId") else \
                [self.commands[name] for name in self.order]
        if request.get("InstanceId"):
            commands = [command for command in commands if request["InstanceId"] in command.invocations]
        return self.page(request, [command.describe() for command in commands], "Commands")

    def cancel_command(self, request, region):
        command = self.command(request.get("CommandId"))
        targets = request.get("InstanceIds") or list(command.invocations)
        if set(targets) == set(command.invocations):
            command.cancelled = True
        for instance_id in targets:
            item = command.invocations.get(instance_id)
            if item is None:
                continue
            if item.status == "Pending":
                item.status, item.details, item.finished = "Cancelled", "Cancelled", now()
            elif item.status == "InProgress" and item.process is not None and item.process.poll() is None:
                command.cancelled = command.cancelled or len(targets) == len(command.invocations)
                try:
                    os.killpg(item.process.pid, 15)
                except ProcessLookupError:
                    pass
        return {}

    def describe_instance_information(self, request, region):
        instances = {instance.id: instance for instance in self.ec2_instances(region)}
        items = []
        with self.lock:
            agents = list(self.agents.values())
        for agent in agents:
            instance = instances.get(agent.instance_id)
            if instance is None or moto_adapter.instance_state(instance) == "terminated":
                continue
            online = self.is_online(agent)
            item = {"InstanceId": agent.instance_id, "PingStatus": "Online" if online else "ConnectionLost",
                    "LastPingDateTime": now() if online else agent.registered, "AgentVersion": "3.3.987.0",
                    "IsLatestVersion": True, "PlatformType": "Linux", "PlatformName": "Debian GNU/Linux",
                    "PlatformVersion": "12", "ResourceType": "EC2Instance",
                    "IPAddress": moto_adapter.instance_private_ip(instance), "ComputerName": f"{agent.instance_id}.fleet",
                    "AssociationStatus": "Success", "RegistrationDate": agent.registered}
            if self.matches_instance_filters(item, instance, request):
                items.append(item)
        return self.page(request, items, "InstanceInformationList")

    def matches_instance_filters(self, item, instance, request):
        for spec in (request.get("Filters") or []) + (request.get("InstanceInformationFilterList") or []):
            key = spec.get("Key") or spec.get("key")
            values = spec.get("Values") or spec.get("valueSet") or []
            if key == "InstanceIds" and item["InstanceId"] not in values:
                return False
            if key == "PingStatus" and item["PingStatus"] not in values:
                return False
            if key.startswith("tag:"):
                tags = moto_adapter.instance_tags(instance)
                if tags.get(key[4:]) not in values:
                    return False
        return True
