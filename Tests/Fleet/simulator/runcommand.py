"""SSM Run Command that really runs, and the agents it runs on.

Every EC2 instance moto has in the `running` state gets an agent: a directory
`<state>/instances/<instance-id>/root` that is its filesystem, and a queue. SendCommand
(AWS-RunShellScript or our own Command documents) sends invocations MaxConcurrency at a time;
each agent takes them from its own queue, up to the SSM agent's five at once
(`CommandWorkersLimit`), so one busy instance never delays another. Commands run with bash
inside the instance (isolation.py: its root is `/`, its own hostname, nothing else writable).
Invocations move only along the state machine of invocations.py, under the simulator's one lock;
statuses, details, MaxErrors accounting and output truncation follow AWS's documents (see there
and pluginoutput.py).
"""
import collections
import datetime
import json
import logging
import os
import re
import signal
import subprocess
import threading
import time
import uuid

from . import instancefilters, invocations, isolation, moto_adapter, processes, state
from .errors import AWSError
from .pluginoutput import plugin_output

log = logging.getLogger("fleet.runcommand")
ACCOUNT = moto_adapter.ACCOUNT_ID
STDOUT_LIMIT = 24000       # GetCommandInvocation StandardOutputContent
STDERR_LIMIT = 8000        # GetCommandInvocation StandardErrorContent
WORKERS_PER_AGENT = 5      # the SSM agent's CommandWorkersLimit default
STOPPED_EXIT_CODE = 137    # the agent's CommandStoppedPreemptivelyExitCode on Linux (timeout, cancel)
NEVER_RAN = -1             # ResponseCode of an invocation that never ran
GONE_CHECK_SECONDS = 0.5   # how often a running command looks whether its machine is still there

SSMError = AWSError        # the name the server and older callers use


def now():
    return time.time()


def iso(timestamp):
    return datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def hostname_of(instance_id, private_ip):
    """The hostname an EC2 instance has by default: ip-10-0-1-23 from its private address."""
    return "ip-" + private_ip.replace(".", "-") if private_ip else instance_id


class Agent:
    """One instance's SSM agent: its root, how it misbehaves, and its own queue of invocations."""

    def __init__(self, instance_id, root):
        self.instance_id = instance_id
        self.root = root
        self.hostname = instance_id
        self.forced_offline = False
        self.delivery_delay = 0.0
        self.hang = False  # commands start but never finish (until cancelled or timed out)
        self.registered = now()
        self.running = False        # the instance is in moto's "running" state
        self.region = None
        self.booted = False         # its user data was started (once, at the first running sight)
        self.credentials = None     # its instance profile's role credentials, as IMDS would hand them out
        self.queue = collections.deque()
        self.workers = 0


class Invocation:
    def __init__(self, command, instance_id):
        self.command = command
        self.instance_id = instance_id
        self.status = invocations.PENDING
        self.details = "Pending"
        self.response_code = NEVER_RAN
        self.stdout = ""
        self.stderr = ""
        self.started = None
        self.finished = None
        self.process = None
        self.sent = False              # handed to the agent's queue (counts against MaxConcurrency)
        self.sent_at = None
        self.wake = threading.Event()  # set on cancel: ends a delivery wait early
        self.lost_until = None         # its machine went away while it ran: InProgress until then

    def move(self, details):
        """A legal state change (callers hold state.LOCK); a final one records the time."""
        invocations.move(self, details)
        if self.status in invocations.TERMINAL:
            self.finished = now()

    def summary(self, details):
        item = {"CommandId": self.command.id, "InstanceId": self.instance_id, "InstanceName": "",
                "Comment": self.command.comment, "DocumentName": self.command.document,
                "DocumentVersion": "$DEFAULT", "RequestedDateTime": self.command.requested,
                "Status": self.status, "StatusDetails": self.details, "StandardOutputUrl": "", "StandardErrorUrl": "",
                "CommandPlugins": [], "ServiceRole": "", "NotificationConfig": {}}
        if details:
            plugin = {"Name": self.command.plugin_name, "Status": self.plugin_status(), "StatusDetails": self.details,
                      "ResponseCode": self.response_code, "Output": plugin_output(self.stdout, self.stderr),
                      "OutputS3BucketName": self.command.s3_bucket or "",
                      "OutputS3KeyPrefix": self.command.s3_prefix or "", "StandardOutputUrl": "", "StandardErrorUrl": ""}
            if self.started:
                plugin["ResponseStartDateTime"] = self.started
            if self.finished and self.started:
                plugin["ResponseFinishDateTime"] = self.finished
            item["CommandPlugins"] = [plugin]
        return item

    def plugin_status(self):
        """CommandPluginStatus has no Delayed or Cancelling: a plugin is still InProgress."""
        return {invocations.DELAYED: invocations.PENDING, invocations.CANCELLING: invocations.IN_PROGRESS}.get(
            self.status, self.status)


class Command:
    def __init__(self, request, instance_ids, script, working_directory, execution_timeout, plugin_name):
        self.id = str(uuid.uuid4())
        self.document = request.get("DocumentName", "AWS-RunShellScript")
        self.parameters = request.get("Parameters", {})
        self.comment = request.get("Comment", "")
        self.targets = request.get("Targets", [])
        self.requested_instance_ids = request.get("InstanceIds", [])
        self.instance_ids = instance_ids
        self.delivery_timeout = int(request.get("TimeoutSeconds") or 3600)
        self.delivery_deadline = now() + self.delivery_timeout   # not started by then: never runs
        self.execution_timeout = execution_timeout
        self.script = script
        self.working_directory = working_directory
        self.plugin_name = plugin_name
        self.s3_bucket = request.get("OutputS3BucketName")
        self.s3_prefix = request.get("OutputS3KeyPrefix")
        total = len(instance_ids)
        self.max_concurrency_text = request.get("MaxConcurrency") or "50"
        self.max_errors_text = request.get("MaxErrors") or "0"
        self.max_concurrency = max(1, invocations.resolve_limit(request.get("MaxConcurrency"), total, 50))
        self.max_errors = invocations.resolve_limit(request.get("MaxErrors"), total, 0)
        self.requested = now()
        self.invocations = {instance: Invocation(self, instance) for instance in instance_ids}
        self.unsent = list(self.invocations.values())
        self.cancel_requested = False
        self.region = None
        self.booted = False         # its user data was started (once, at the first running sight)
        self.visible_after = self.requested + 0.4   # AWS's delay before invocations can be read

    def errors(self):
        return sum(1 for item in self.invocations.values() if invocations.counts_as_error(item.details))

    def status(self):
        return invocations.command_status([item.details for item in self.invocations.values()], self.max_errors,
                                          self.cancel_requested)

    def describe(self):
        status, details = self.status()
        values = list(self.invocations.values())
        return {
            "CommandId": self.id, "DocumentName": self.document, "DocumentVersion": "$DEFAULT",
            "Comment": self.comment, "ExpiresAfter": self.requested + self.delivery_timeout + self.execution_timeout,
            "Parameters": self.parameters, "InstanceIds": self.requested_instance_ids, "Targets": self.targets,
            "RequestedDateTime": self.requested, "Status": status, "StatusDetails": details,
            "OutputS3Region": "", "OutputS3BucketName": self.s3_bucket or "", "OutputS3KeyPrefix": self.s3_prefix or "",
            "MaxConcurrency": self.max_concurrency_text, "MaxErrors": self.max_errors_text,
            "TargetCount": len(values),
            "CompletedCount": sum(1 for item in values if item.status in invocations.TERMINAL),
            "ErrorCount": self.errors(),
            "DeliveryTimedOutCount": sum(1 for item in values if item.details == "DeliveryTimedOut"),
            "ServiceRole": "", "NotificationConfig": {}, "TimeoutSeconds": self.delivery_timeout,
        }


class RunCommand:
    """The SSM Run Command side of the simulator. `handle` answers the operations moto lacks."""

    OPERATIONS = ("SendCommand", "ListCommandInvocations", "GetCommandInvocation", "ListCommands", "CancelCommand",
                  "DescribeInstanceInformation")

    def __init__(self, state_dir):
        self.state_dir = state_dir
        self.agents = {}
        self.commands = {}
        self.order = []
        self.lock = state.LOCK
        self.regions = {"eu-west-3"}
        self.boots = {}  # instance id -> (threading.Event, [exit status])
        self.databases = None  # databases.Databases, set by the server
        if not isolation.available():
            log.warning("bubblewrap (bwrap) is missing: instance commands run unisolated; run scripts/bootstrap")

    # --- instances and agents ------------------------------------------------------------------
    def sync_agents(self, region):
        """Every running instance has an agent and a root directory; others are offline."""
        booting = []
        with self.lock:
            self.regions.add(region)
            instances = moto_adapter.instances(region)
            for instance in instances:
                instance_id = moto_adapter.instance_id(instance)
                running = moto_adapter.instance_state(instance) == "running"
                agent = self.agents.get(instance_id)
                if agent is None:
                    root = os.path.join(self.state_dir, "instances", instance_id, "root")
                    os.makedirs(root, exist_ok=True)
                    isolation.prepare_root(root)
                    agent = self.agents[instance_id] = Agent(instance_id, root)
                    agent.hostname = hostname_of(instance_id, moto_adapter.instance_private_ip(instance))
                if running and not agent.booted and moto_adapter.instance_user_data(instance):
                    agent.booted = True
                    booting.append(instance)  # cloud-init runs the user data at first boot, group or not
                agent.instance = instance
                agent.running = running
                agent.region = region
        for instance in booting:
            threading.Thread(target=self.boot, args=(instance, region), daemon=True, name="boot").start()
        return instances

    def boot(self, instance, region):
        """Runs the instance's user data once, as cloud-init would, in the instance; returns the
        exit status (0 also when there is none). Output goes to /var/log/cloud-init-output.log.
        Callers racing for the same instance wait for the one run."""
        with self.lock:
            key = moto_adapter.instance_id(instance)
            entry = self.boots.get(key)
            first = entry is None
            if first:
                entry = self.boots[key] = (threading.Event(), [0])
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
        with self.lock:
            agent = self.agents[moto_adapter.instance_id(instance)]
            script = decode_user_data(moto_adapter.instance_user_data(instance))
        if not script:
            return 0
        log_dir = os.path.join(agent.root, "var", "log")
        os.makedirs(log_dir, exist_ok=True)
        with open(os.path.join(log_dir, "cloud-init-output.log"), "ab") as output:
            process = self.start(agent, script, "/", {}, output, subprocess.STDOUT, "user-data")
            try:
                return process.wait(timeout=600)
            except subprocess.TimeoutExpired:
                self.kill(process)
                process.wait()
                return -1

    def environment(self, agent, extra):
        path = os.environ.get("PATH", "/usr/bin:/bin")
        entries = path.split(":")
        # A root shell's PATH starts with the instance's own /usr/local, as the agent's does.
        path = ":".join([entry for entry in ("/usr/local/sbin", "/usr/local/bin") if entry not in entries] + entries)
        # Then the machine image's own tools (dnf, systemctl, nginx: image/bin), before the host's.
        entries = [entry for entry in path.split(":") if entry != isolation.IMAGE_BIN]
        local = [index for index, entry in enumerate(entries) if entry in ("/usr/local/sbin", "/usr/local/bin")]
        at = max(local) + 1 if local else 0
        path = ":".join(entries[:at] + [isolation.IMAGE_BIN] + entries[at:])
        if isolation.TOOLS_BIN not in path.split(":"):
            path += ":" + isolation.TOOLS_BIN          # the AWS CLI, as AWS's images have it
        environment = {"HOME": "/root", "PATH": path, "LANG": "C.UTF-8",
                       "FLEET_INSTANCE_ID": agent.instance_id, "FLEET_INSTANCE_ROOT": "/"}
        if os.environ.get("MOTO_PORT"):
            # What DNS gives a real instance: AWS's endpoints (here, the simulator's). Credentials
            # are not given: an instance has those only through its instance profile.
            environment["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{os.environ['MOTO_PORT']}"
        environment.update(self.profile_credentials(agent))
        environment.update(extra)
        return environment

    def profile_credentials(self, agent):
        """The role credentials of the instance's profile as environment variables (what the AWS
        CLI and SDKs find first; on AWS they come from the metadata service), renewed when less
        than half their hour is left; none for an instance without a profile."""
        with self.lock:
            if agent.credentials is None or agent.credentials[3] - time.time() < 1800:
                instance = getattr(agent, "instance", None)
                agent.credentials = moto_adapter.instance_profile_credentials(agent.region, instance) \
                    if instance is not None and agent.region else None
            if agent.credentials is None:
                return {}
            key, secret, token, _ = agent.credentials
            return {"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret, "AWS_SESSION_TOKEN": token}

    def start(self, agent, script, workdir, extra_environment, stdout, stderr, what):
        """Starts bash with `script` inside the instance, in its own session (its process group
        is what a cancel or timeout kills), recorded by processes.py for `fleet down`."""
        environment = self.environment(agent, extra_environment)
        if self.databases is not None:
            self.databases.publish_hosts(agent.root)   # RDS endpoints resolve as the VPC's DNS would
        argv = ["bash", "-c", script]
        if isolation.available():
            argv = isolation.command(agent.root, agent.hostname, argv, workdir, environment["PATH"])
            cwd = agent.root
        else:
            cwd = os.path.join(agent.root, workdir.lstrip("/"))
            environment["FLEET_INSTANCE_ROOT"] = agent.root
        return processes.spawn(argv, f"{what} {agent.instance_id}", env=environment, cwd=cwd, stdout=stdout,
                               stderr=stderr, stdin=subprocess.DEVNULL)

    def kill(self, process):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def is_online(self, agent):
        return agent.running and not agent.forced_offline

    def set_agent(self, instance_id, online=None, delay=None, hang=None):
        if instance_id not in self.agents:
            for region in list(self.regions):
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

    def describe_commands(self, command_id=None):
        """The simulator's own record of each command: when every invocation was sent to its
        agent, started and finished (epoch seconds), for tests that check MaxConcurrency."""
        with self.lock:
            names = [command_id] if command_id else list(self.order)
            result = []
            for name in names:
                command = self.command(name)
                result.append({"CommandId": command.id, "Requested": command.requested,
                               "MaxConcurrency": command.max_concurrency, "MaxErrors": command.max_errors,
                               "Invocations": [{"InstanceId": item.instance_id, "Status": item.status,
                                                "StatusDetails": item.details, "Sent": item.sent_at,
                                                "Started": item.started, "Finished": item.finished}
                                               for item in command.invocations.values()]})
            return result

    def describe_agents(self):
        with self.lock:
            return [{"InstanceId": agent.instance_id, "Root": agent.root, "Online": self.is_online(agent),
                     "DeliveryDelay": agent.delivery_delay, "Queued": len(agent.queue), "Running": agent.workers}
                    for agent in self.agents.values()]

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
        with self.lock:
            instances = {moto_adapter.instance_id(item): item for item in moto_adapter.instances(region)}
            chosen = list(request.get("InstanceIds") or [])
            tags = []   # (name, values): an instance must match every one ("Run commands at scale")
            for target in request.get("Targets") or []:
                key, values = target.get("Key", ""), target.get("Values", [])
                if key == "InstanceIds":
                    chosen += values
                elif key.startswith("tag:"):
                    tags.append((key[4:], values))
                elif key.startswith("resource-groups"):
                    raise SSMError("InvalidTarget", "resource-groups targets are not simulated")
                else:
                    raise SSMError("InvalidTarget", f"unsupported target key {key}")
            if tags:
                for instance_id, instance in instances.items():
                    carried = moto_adapter.instance_tags(instance)
                    if all(carried.get(name) in values for name, values in tags) and \
                            moto_adapter.instance_state(instance) != "terminated":
                        chosen.append(instance_id)
            for instance_id in request.get("InstanceIds") or []:
                # Valid states are running, pending, stopped and stopping (InvalidInstanceId, API reference).
                if instance_id not in instances or \
                        moto_adapter.instance_state(instances[instance_id]) in ("shutting-down", "terminated"):
                    raise SSMError("InvalidInstanceId",
                                   f"Instances [[{instance_id}]] not in a valid state for account {ACCOUNT}")
        return list(dict.fromkeys(chosen))

    def document_script(self, request, region):
        name = request.get("DocumentName", "AWS-RunShellScript")
        parameters = request.get("Parameters") or {}
        if name == "AWS-RunShellScript":
            commands = parameters.get("commands")
            if not commands:
                raise SSMError("InvalidParameters", "Parameter commands is required")
            steps, plugin = [commands], "aws:runShellScript"
        else:
            steps, plugin = self.custom_document_steps(name, parameters, region)
        lines = [line for step in steps for line in step]
        working_directory = (parameters.get("workingDirectory") or [""])[0]
        try:
            execution_timeout = int((parameters.get("executionTimeout") or ["3600"])[0])
        except ValueError:
            raise SSMError("InvalidParameters", "executionTimeout must be a number of seconds") from None
        return "\n".join(lines), working_directory, execution_timeout, plugin

    def custom_document_steps(self, name, parameters, region):
        try:
            with self.lock:
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

        steps, plugin = [], "aws:runShellScript"
        for step in content.get("mainSteps", content.get("runtimeConfig", {}).values()):
            if step.get("action") not in (None, "aws:runShellScript"):
                raise SSMError("InvalidDocument", f"action {step.get('action')} is not simulated")
            commands = step.get("inputs", {}).get("runCommand", [])
            if isinstance(commands, str):
                commands = [commands]
            steps.append([substitute(line) for line in commands])
            plugin = step.get("name") or plugin
        return steps, plugin

    def send_command(self, request, region):
        for member, name in (("MaxConcurrency", "maxConcurrency"), ("MaxErrors", "maxErrors")):
            try:
                invocations.validate_limit(name, request.get(member))
            except invocations.InvalidLimit as error:
                raise SSMError("ValidationException", str(error)) from None
        script, working_directory, execution_timeout, plugin = self.document_script(request, region)
        instance_ids = self.resolve_targets(request, region)
        if not instance_ids and not request.get("Targets"):
            raise SSMError("InvalidParameters", "InstanceIds or Targets required")
        command = Command(request, instance_ids, script, working_directory, execution_timeout, plugin)
        command.region = region
        with self.lock:
            self.commands[command.id] = command
            self.order.insert(0, command.id)
            described = command.describe()
        self.dispatch(command)
        return {"Command": described}

    def expire(self, command):
        """TimeoutSeconds passed: what has not been sent yet times out in delivery ("If this time
        is reached and the command hasn't already started running, it won't run"). Checked
        whenever the command is sent on or read, so no timer thread waits per command."""
        if command.unsent and now() >= command.delivery_deadline:
            for item in command.unsent:
                if invocations.can_move(item.status, "DeliveryTimedOut"):
                    item.move("DeliveryTimedOut")
            command.unsent = []
        for item in command.invocations.values():
            if item.lost_until is not None and now() >= item.lost_until and \
                    invocations.can_move(item.status, "ExecutionTimedOut"):
                item.move("ExecutionTimedOut")   # its machine went away; ResponseCode stays -1

    def dispatch(self, command):
        """Sends what MaxConcurrency allows to the agents' queues; after MaxErrors + 1 errors
        (failed or execution timed out) the rest is never sent: Cancelled / Terminated."""
        with self.lock:
            self.expire(command)
            if command.cancel_requested or command.errors() > command.max_errors:
                reason = "Cancelled" if command.cancel_requested else "Terminated"
                for item in command.unsent:
                    if invocations.can_move(item.status, reason):
                        item.move(reason)
                command.unsent = []
                return
            in_flight = sum(1 for item in command.invocations.values()
                            if item.sent and item.status not in invocations.TERMINAL)
            while command.unsent and in_flight < command.max_concurrency:
                item = command.unsent.pop(0)
                if item.status in invocations.TERMINAL:   # cancelled before it was sent
                    continue
                item.sent = True
                item.sent_at = now()
                in_flight += 1
                self.enqueue(item)

    def enqueue(self, invocation):
        """Puts an invocation on its agent's queue; the agent works it off with at most
        WORKERS_PER_AGENT threads of its own, started on demand. Called with the lock held."""
        agent = self.agents.get(invocation.instance_id)
        if agent is None:
            threading.Timer(0.05, self.undeliverable, args=(invocation,)).start()
            return
        agent.queue.append(invocation)
        if agent.workers < WORKERS_PER_AGENT:
            agent.workers += 1
            threading.Thread(target=self.work, args=(agent,), daemon=True, name=f"agent-{agent.instance_id}").start()

    def undeliverable(self, invocation):
        with self.lock:
            if invocations.can_move(invocation.status, "Undeliverable"):
                invocation.move("Undeliverable")
        self.dispatch(invocation.command)

    def work(self, agent):
        while True:
            with self.lock:
                if not agent.queue:
                    agent.workers -= 1
                    return
                invocation = agent.queue.popleft()
            try:
                self.deliver(agent, invocation)
            except Exception:  # keep the agent alive; the invocation fails as on a broken agent
                log.exception("invocation %s on %s", invocation.command.id, agent.instance_id)
                with self.lock:
                    for details in ("Failed", "Undeliverable"):   # broke while running, or before
                        if invocations.can_move(invocation.status, details):
                            invocation.move(details)
                            break
            self.dispatch(invocation.command)

    def deliver(self, agent, invocation):
        command = invocation.command
        if not self.is_online(agent):
            time.sleep(0.05)
            with self.lock:
                if invocations.can_move(invocation.status, "Undeliverable"):
                    invocation.move("Undeliverable")
            return
        if agent.delivery_delay:
            remaining = command.delivery_deadline - now()
            invocation.wake.wait(max(0.0, min(agent.delivery_delay, remaining)))
        if now() >= command.delivery_deadline:
            with self.lock:
                if invocations.can_move(invocation.status, "DeliveryTimedOut"):
                    invocation.move("DeliveryTimedOut")
            return
        workdir = command.working_directory or "/"
        with self.lock:
            if not invocations.can_move(invocation.status, "InProgress"):
                return                      # cancelled while it waited: it never runs
            invocation.move("InProgress")
            invocation.started = now()
            hang = agent.hang
        if not workdir.startswith("/"):
            workdir = "/" + workdir
        os.makedirs(os.path.join(agent.root, workdir.lstrip("/")), exist_ok=True)
        script = "exec sleep 2147483647" if hang else command.script
        process = self.start(agent, script, workdir, {"AWS_SSM_INSTANCE_ID": agent.instance_id,
                                                      "AWS_SSM_REGION_NAME": command.region or ""},
                             subprocess.PIPE, subprocess.PIPE, f"command {command.id}")
        with self.lock:
            invocation.process = process
            cancelled = invocation.status == invocations.CANCELLING
        if cancelled:
            self.kill(process)
        timed_out = False
        deadline = now() + command.execution_timeout
        while True:
            try:
                stdout, stderr = process.communicate(timeout=max(0.0, min(GONE_CHECK_SECONDS, deadline - now())))
                break
            except subprocess.TimeoutExpired:
                if self.machine_gone(agent):
                    self.lose(invocation, process)
                    return
                if now() >= deadline:
                    self.kill(process)
                    stdout, stderr = process.communicate()
                    timed_out = True
                    break
        with self.lock:
            invocation.stdout = stdout.decode("utf-8", "replace")
            invocation.stderr = stderr.decode("utf-8", "replace")
            if invocation.status == invocations.CANCELLING:
                invocation.response_code = STOPPED_EXIT_CODE
                invocation.move("Cancelled")
            elif timed_out:
                invocation.response_code = STOPPED_EXIT_CODE
                invocation.move("ExecutionTimedOut")
            else:
                invocation.response_code = process.returncode if process.returncode >= 0 else 128 - process.returncode
                invocation.move("Success" if process.returncode == 0 else "Failed")
        if command.s3_bucket:
            self.write_output(invocation)

    def machine_gone(self, agent):
        """Whether the instance stopped or was terminated under a running command (its agent
        went with it): moto changes the state of the instance the agent holds in place."""
        with self.lock:
            instance = getattr(agent, "instance", None)
            return instance is not None and moto_adapter.instance_state(instance) != "running"

    def lose(self, invocation, process):
        """The machine went away while the command ran: its processes end with it, nothing is
        reported (the agent that would report is gone), and the invocation stays InProgress until
        its execution timeout has passed, when it is TimedOut / ExecutionTimedOut with no exit code
        and no output. AWS documents no status of its own for this: "If the SSM agent is not
        available on the instance, the command status will show In Progress until the SSM agent is
        available again" (EC2 User Guide, "Monitoring Commands"), and commands on terminated
        instances end by timing out (mup-aws-beanstalk#87: "results in a timeout")."""
        self.kill(process)
        try:
            process.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        with self.lock:
            invocation.process = None
            invocation.lost_until = invocation.started + invocation.command.execution_timeout

    def write_output(self, invocation):
        command = invocation.command
        prefix = (command.s3_prefix.rstrip("/") + "/") if command.s3_prefix else ""
        base = f"{prefix}{command.id}/{invocation.instance_id}/awsrunShellScript/0.awsrunShellScript/"
        try:
            with self.lock:
                moto_adapter.s3_put_object(command.s3_bucket, base + "stdout", invocation.stdout.encode())
                if invocation.stderr:
                    moto_adapter.s3_put_object(command.s3_bucket, base + "stderr", invocation.stderr.encode())
        except Exception as error:  # a missing bucket loses the copy, as on AWS
            log.warning("could not write output to s3://%s: %s", command.s3_bucket, error)

    # --- CancelCommand -------------------------------------------------------------------------
    def cancel_command(self, request, region):
        to_kill = []
        with self.lock:
            command = self.command(request.get("CommandId"))
            targets = request.get("InstanceIds") or list(command.invocations)
            unknown = [instance_id for instance_id in targets if instance_id not in command.invocations]
            if unknown:
                raise SSMError("InvalidInstanceId", f"Instances {unknown} are not targets of command {command.id}")
            if set(targets) == set(command.invocations):
                command.cancel_requested = True
            for instance_id in targets:
                item = command.invocations[instance_id]
                if invocations.can_move(item.status, "Cancelled"):       # Pending or Delayed: never runs
                    item.move("Cancelled")
                    item.wake.set()
                elif invocations.can_move(item.status, "Cancelling"):    # running: stop it
                    item.move("Cancelling")
                    if item.process is not None:
                        to_kill.append(item.process)
        for process in to_kill:
            self.kill(process)
        self.dispatch(command)
        return {}

    # --- reading results -----------------------------------------------------------------------
    def command(self, command_id):
        command = self.commands.get(command_id)
        if command is None:
            raise SSMError("InvalidCommandId", f"Command {command_id} not found")
        return command

    COMMAND_FILTER_KEYS = ("InvokedAfter", "InvokedBefore", "Status", "ExecutionStage", "DocumentName")

    def command_filters(self, request):
        """ListCommands / ListCommandInvocations filters (CommandFilterKey) as predicates."""
        predicates = []
        for spec in request.get("Filters") or []:
            key, value = spec.get("key"), spec.get("value", "")
            if key not in self.COMMAND_FILTER_KEYS:
                raise SSMError("InvalidFilterKey", f"{key} is not a valid filter key")
            if key in ("InvokedAfter", "InvokedBefore"):
                try:
                    moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
                except ValueError:
                    raise SSMError("InvalidFilterValue", f"{value} is not a valid date and time") from None
                predicates.append((lambda m: lambda requested, status, document, done: requested >= m)(moment)
                                  if key == "InvokedAfter" else
                                  (lambda m: lambda requested, status, document, done: requested <= m)(moment))
            elif key == "Status":
                if value not in invocations.STATUSES:
                    raise SSMError("InvalidFilterValue", f"{value} is not a valid Status")
                predicates.append(lambda requested, status, document, done, v=value: status == v)
            elif key == "ExecutionStage":
                if value not in ("Executing", "Complete"):
                    raise SSMError("InvalidFilterValue", f"{value} is not a valid ExecutionStage")
                predicates.append(lambda requested, status, document, done, v=value: done == (v == "Complete"))
            else:
                predicates.append(lambda requested, status, document, done, v=value: document == v)
        return predicates

    def list_command_invocations(self, request, region):
        predicates = self.command_filters(request)
        with self.lock:
            commands = [self.command(request["CommandId"])] if request.get("CommandId") else \
                [self.commands[name] for name in self.order]
            items = []
            for command in commands:
                self.expire(command)
                if now() < command.visible_after:
                    continue
                for item in command.invocations.values():
                    if request.get("InstanceId") and item.instance_id != request["InstanceId"]:
                        continue
                    done = item.status in invocations.TERMINAL
                    if all(check(command.requested, item.status, command.document, done) for check in predicates):
                        items.append(item.summary(bool(request.get("Details"))))
        return self.page(request, items, "CommandInvocations", default=50, largest=50)

    def page(self, request, items, name, default, largest):
        size = request.get("MaxResults") or default
        if not isinstance(size, int) or not 1 <= size <= largest:
            raise SSMError("ValidationException", f"1 validation error detected: Value '{size}' at 'maxResults' "
                                                  f"failed to satisfy constraint: Member must have value less than or "
                                                  f"equal to {largest}")
        token = request.get("NextToken") or "0"
        if not token.isdigit() or int(token) > len(items):
            raise SSMError("InvalidNextToken", "The specified token isn't valid.")
        start = int(token)
        result = {name: items[start:start + size]}
        if start + size < len(items):
            result["NextToken"] = str(start + size)
        return result

    def get_command_invocation(self, request, region):
        with self.lock:
            command = self.commands.get(request.get("CommandId"))
            invocation = command.invocations.get(request.get("InstanceId")) if command else None
            if command is not None:
                self.expire(command)
            if invocation is None or now() < command.visible_after:
                raise SSMError("InvocationDoesNotExist",
                               "An error occurred (InvocationDoesNotExist) when calling the GetCommandInvocation operation")
            return {
                "CommandId": command.id, "InstanceId": invocation.instance_id, "Comment": command.comment,
                "DocumentName": command.document, "DocumentVersion": "$DEFAULT", "PluginName": command.plugin_name,
                "ResponseCode": invocation.response_code,
                "ExecutionStartDateTime": iso(invocation.started) if invocation.started else "",
                "ExecutionElapsedTime": f"PT{(invocation.finished or now()) - (invocation.started or now()):.3f}S",
                "ExecutionEndDateTime": iso(invocation.finished) if invocation.finished and invocation.started else "",
                "Status": invocation.status, "StatusDetails": invocation.details,
                "StandardOutputContent": invocation.stdout[:STDOUT_LIMIT], "StandardOutputUrl": "",
                "StandardErrorContent": invocation.stderr[:STDERR_LIMIT], "StandardErrorUrl": "",
                "CloudWatchOutputConfig": {"CloudWatchLogGroupName": "", "CloudWatchOutputEnabled": False},
            }

    def list_commands(self, request, region):
        predicates = self.command_filters(request)
        with self.lock:
            commands = [self.command(request["CommandId"])] if request.get("CommandId") else \
                [self.commands[name] for name in self.order]
            if request.get("InstanceId"):
                commands = [command for command in commands if request["InstanceId"] in command.invocations]
            items = []
            for command in commands:
                self.expire(command)
                status, _ = command.status()
                done = status in invocations.TERMINAL
                if all(check(command.requested, status, command.document, done) for check in predicates):
                    items.append(command.describe())
        return self.page(request, items, "Commands", default=50, largest=50)

    # --- DescribeInstanceInformation -----------------------------------------------------------
    def describe_instance_information(self, request, region):
        try:
            filters = instancefilters.parse(request)
        except instancefilters.FilterError as error:
            raise SSMError(error.code, error.message) from None
        items = []
        with self.lock:
            instances = {moto_adapter.instance_id(item): item for item in moto_adapter.instances(region)}
            for agent in self.agents.values():
                instance = instances.get(agent.instance_id)
                if instance is None or moto_adapter.instance_state(instance) == "terminated":
                    continue
                online = self.is_online(agent)
                item = {"InstanceId": agent.instance_id, "PingStatus": "Online" if online else "ConnectionLost",
                        "LastPingDateTime": now() if online else agent.registered, "AgentVersion": "3.3.987.0",
                        "IsLatestVersion": True, "PlatformType": "Linux", "PlatformName": "Debian GNU/Linux",
                        "PlatformVersion": "12", "ResourceType": "EC2Instance",
                        "IPAddress": moto_adapter.instance_private_ip(instance),
                        "ComputerName": f"{agent.hostname}.{region}.compute.internal",
                        "AssociationStatus": "Success", "RegistrationDate": agent.registered,
                        "SourceId": agent.instance_id, "SourceType": "AWS::EC2::Instance"}
                if instancefilters.matches(item, moto_adapter.instance_tags(instance), filters):
                    items.append(item)
        return self.page(request, items, "InstanceInformationList", default=10, largest=50)
