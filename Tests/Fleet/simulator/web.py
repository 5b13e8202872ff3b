"""Web serving and the load balancer.

Each instance registered in a target group that a load balancer's listener forwards to (or
draining from one), whose root holds `srv/app/current/public`, is served by PHP's built-in
server, one process with one worker, on its own loopback port. Each ELBv2 load balancer is one
local haproxy with one frontend per listener (each on its own loopback port) and one backend per
target group. Health is judged here as an ALB does (health.py): each target group's own path,
matcher, interval, timeout and healthy/unhealthy threshold counts, in AWS's time scaled by
FLEET_TIME_SCALE (timescale.py); haproxy is told each target's state over its admin socket, so
DescribeTargetHealth and the traffic agree. A deregistered target drains for the group's
deregistration delay (taking no new requests), then stops being served.

The loop logs to <state>/web.log and keeps going past a bad instance or balancer. It reads moto
and its own tables under state.LOCK and starts processes, probes targets and waits for haproxy
outside it.
"""
import http.client
import logging
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from xml.sax.saxutils import escape

from . import health, isolation, moto_adapter, processes, state, timescale
from .errors import AWSError

log = logging.getLogger("fleet.web")
DOCROOT = os.path.join("srv", "app", "current", "public")
LOOP_SECONDS = 0.2

# PHP's built-in server resolves its docroot once, at start; a router looks through the
# `current` symlink on every request, as nginx or Apache on a real instance do, so switching
# `current` switches the release being served.
ROUTER = r"""<?php
$public = getenv('FLEET_APP') . '/current/public';
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH) ?: '/';
$file = realpath($public . $path);
$base = realpath($public);
if ($file !== false && $base !== false && strncmp($file, $base, strlen($base)) === 0 && is_file($file)) {
    if (substr($file, -4) === '.php') {
        chdir(dirname($file));
        $_SERVER['SCRIPT_FILENAME'] = $file;
        require $file;
        return true;
    }
    $types = ['css' => 'text/css', 'js' => 'application/javascript', 'html' => 'text/html', 'txt' => 'text/plain',
              'json' => 'application/json', 'svg' => 'image/svg+xml', 'png' => 'image/png'];
    header('Content-Type: ' . ($types[pathinfo($file, PATHINFO_EXTENSION)] ?? 'application/octet-stream'));
    readfile($file);
    return true;
}
if ($base !== false && is_file($base . '/index.php')) {
    chdir($base);
    $_SERVER['SCRIPT_FILENAME'] = $base . '/index.php';
    require $base . '/index.php';
    return true;
}
http_response_code(404);
echo "no release is current\n";
"""


def stop_group(process, signum=signal.SIGTERM):
    """Signals a server's whole process group (processes.spawn gives each its own session): an
    isolated server is bubblewrap's child, which a signal to bubblewrap alone would leave running."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signum)
    except (ProcessLookupError, PermissionError):
        process.send_signal(signum)


def children(pid):
    """The processes below `pid` (its children's children too), from /proc's children lists."""
    found, pending = [], [pid]
    while pending:
        parent = pending.pop()
        try:
            with open(f"/proc/{parent}/task/{parent}/children") as handle:
                below = [int(child) for child in handle.read().split()]
        except (OSError, ValueError):
            below = []
        found += below
        pending += below
    return found


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Balancer:
    """One haproxy: its listeners' local ports, its configuration and its process."""

    def __init__(self, arn, name, directory):
        self.arn = arn
        self.name = name
        self.ports = {}          # listener arn -> local port
        self.config_path = os.path.join(directory, f"lb-{name}.cfg")
        self.socket_path = os.path.join(directory, f"lb-{name}.sock")
        self.process = None
        self.structure = None    # listeners and backends: a change means a reload
        self.servers = {}        # (backend, server) -> port haproxy has, added and removed at run time
        self.applied = {}        # (backend, server) -> state haproxy was last told
        self.backends = {}       # backend name -> target group arn


def backend_name(group):
    return f"tg-{group['name']}"


class Web:
    def __init__(self, state_dir, run_command):
        self.state_dir = state_dir
        self.run_command = run_command
        self.servers = {}        # instance id -> (port, process)
        self.balancers = {}      # balancer arn -> Balancer
        self.health = {}         # (target group arn, target id) -> health.Health
        self.draining = {}       # (target group arn, target id) -> (port, until)
        self.registered = {}     # target group arn -> {target id: port} seen last round
        self.reported = {}       # (target group arn, target id) -> (state, reason, description) haproxy acts on
        self.php = shutil.which("php")
        self.haproxy = shutil.which("haproxy")
        self.stopping = False
        self.probes = ThreadPoolExecutor(max_workers=16, thread_name_prefix="health")
        threading.Thread(target=self.loop, daemon=True, name="web").start()

    def stop(self):
        """Stops every web server and load balancer, and keeps them stopped."""
        with state.LOCK:
            self.stopping = True
            processes_ = [process for _, process in self.servers.values()]
            processes_ += [balancer.process for balancer in self.balancers.values() if balancer.process]
        for process in processes_:
            stop_group(process)
        for process in processes_:
            try:
                process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                stop_group(process, signal.SIGKILL)

    def local_port(self, host, port):
        """The loopback port of the haproxy frontend serving listener `port` of the balancer whose
        DNS name is `host`, or None (proxy.py)."""
        with state.LOCK:
            for region in sorted(self.run_command.regions):
                for balancer in moto_adapter.load_balancers(region):
                    if balancer["dns"].lower() != host or balancer["arn"] not in self.balancers:
                        continue
                    for listener in balancer["listeners"]:
                        if listener["port"] == port:
                            return self.balancers[balancer["arn"]].ports.get(listener["arn"])
        return None

    def loop(self):
        while not self.stopping:
            try:
                self.reconcile()
            except Exception:  # keep serving; the next round retries
                log.exception("web round failed")
            time.sleep(LOOP_SECONDS)

    # --- one round ------------------------------------------------------------------------------
    def snapshot(self):
        """What moto says now (under the lock): running instances' roots, balancers, groups."""
        with state.LOCK:
            running, balancers, groups = {}, [], {}
            for region in sorted(self.run_command.regions):
                for instance in self.run_command.sync_agents(region):
                    if moto_adapter.instance_state(instance) == "running":
                        agent = self.run_command.agents.get(moto_adapter.instance_id(instance))
                        if agent is not None:
                            running[agent.instance_id] = agent.root
                for balancer in moto_adapter.load_balancers(region):
                    balancers.append(balancer)
                    for listener in balancer["listeners"]:
                        for arn in listener["target_groups"]:
                            groups[arn] = groups.get(arn) or moto_adapter.target_group(region, arn)
            return running, balancers, {arn: group for arn, group in groups.items() if group}

    def reconcile(self):
        if self.stopping:
            return
        running, balancers, groups = self.snapshot()
        now = time.time()
        with state.LOCK:
            for arn, group in groups.items():
                before = self.registered.get(arn, {})
                for target_id, port in before.items():
                    if target_id not in group["targets"] and group["delay"] > 0:
                        self.draining[(arn, target_id)] = (port, now + timescale.scaled(group["delay"]))
                for target_id in group["targets"]:
                    self.draining.pop((arn, target_id), None)
                    self.health.setdefault((arn, target_id), health.Health())
                for key in [key for key in self.health if key[0] == arn and key[1] not in group["targets"]]:
                    del self.health[key]
                self.registered[arn] = dict(group["targets"])
            for key in [key for key, (_, until) in self.draining.items() if until <= now or key[0] not in groups]:
                del self.draining[key]
            for key in [key for key in self.reported if key not in self.health and key not in self.draining]:
                del self.reported[key]
            wanted = {target for group in groups.values() for target in group["targets"]}
            wanted |= {target for _, target in self.draining}
        self.serve_wanted({target: running[target] for target in wanted if target in running})
        self.check(groups, running)
        for balancer in balancers:
            try:
                self.balance(balancer, groups)
            except Exception:
                log.exception("load balancer %s", balancer["name"])
        with state.LOCK:
            gone = [arn for arn in self.balancers if arn not in {item["arn"] for item in balancers}]
            stale = [self.balancers.pop(arn) for arn in gone]
        for balancer in stale:
            if balancer.process and balancer.process.poll() is None:
                balancer.process.terminate()

    # --- web servers ----------------------------------------------------------------------------
    def serve_wanted(self, wanted):
        """PHP servers for exactly the instances that are targets (registered or draining)."""
        for instance_id, root in wanted.items():
            try:
                if os.path.isdir(os.path.join(root, DOCROOT)):
                    self.serve(instance_id, root)
            except Exception:
                log.exception("serving %s", instance_id)
        with state.LOCK:
            unwanted = [instance_id for instance_id in self.servers if instance_id not in wanted]
            stopped = [self.servers.pop(instance_id) for instance_id in unwanted]
        for _, process in stopped:
            stop_group(process)

    def serve(self, instance_id, root):
        with state.LOCK:
            port, process = self.servers.get(instance_id, (None, None))
        if (process is not None and process.poll() is None) or self.php is None or self.stopping:
            return
        port = port or free_port()
        with state.LOCK:
            agent = self.run_command.agents.get(instance_id)
            hostname = agent.hostname if agent is not None else instance_id
        # The server is a process of the instance, as nginx and PHP-FPM are on a real one: in its
        # namespaces (its /etc/hosts names the database endpoints, its /etc its own), its files at
        # their own paths. The router is put in the instance's /run.
        isolated = isolation.available()
        router = os.path.join(root, "run", "fleet-web-router.php") if isolated else os.path.join(self.state_dir, "router.php")
        os.makedirs(os.path.dirname(router), exist_ok=True)
        if not os.path.exists(router):
            with open(router, "w") as handle:
                handle.write(ROUTER)
        app = "/srv/app" if isolated else os.path.join(root, "srv", "app")
        argv = [self.php, "-d", "realpath_cache_size=0", "-S", f"127.0.0.1:{port}", "-t", app,
                "/run/fleet-web-router.php" if isolated else router]
        if isolated:
            argv = isolation.command(root, hostname, argv, workdir=app)
        with open(os.path.join(os.path.dirname(root), "web.log"), "ab") as output:
            # No realpath cache: it would keep serving the release `current` pointed to a minute ago.
            # One worker (PHP_CLI_SERVER_WORKERS unset): one process per served instance.
            process = processes.spawn(
                argv, f"php {instance_id}", cwd=os.path.join(root, "srv", "app"), stdout=output, stderr=output,
                stdin=subprocess.DEVNULL,
                env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/root" if isolated else root, "FLEET_APP": app,
                     "FLEET_INSTANCE_ID": instance_id})
        with state.LOCK:
            self.servers[instance_id] = (port, process)
        log.info("serving %s on 127.0.0.1:%s", instance_id, port)

    def web_port(self, instance_id):
        with state.LOCK:
            port, process = self.servers.get(instance_id, (None, None))
        return port if process is not None and process.poll() is None else None

    # --- health checks --------------------------------------------------------------------------
    def check(self, groups, running):
        """Probes every registered target whose next check is due, as its group says."""
        now = time.time()
        due = []
        with state.LOCK:
            for arn, group in groups.items():
                if not group["enabled"]:
                    continue
                for target_id in group["targets"]:
                    record = self.health.get((arn, target_id))
                    if record is not None and target_id in running and record.next_check <= now:
                        record.next_check = now + timescale.scaled(group["interval"])
                        due.append((arn, group, target_id))
        results = list(self.probes.map(lambda item: self.probe(item[1], item[2]), due))
        with state.LOCK:
            for (arn, group, target_id), (ok, failure) in zip(due, results):
                record = self.health.get((arn, target_id))
                if record is not None:
                    record.record(ok, group["healthy"], group["unhealthy"], failure)

    def probe(self, group, target_id):
        """One health check: (passed, (reason, description) if not)."""
        port = self.web_port(target_id)
        if port is None:
            return False, ("Target.FailedHealthChecks", "Health checks failed")
        # The timeout bounds the app's own latency, which the time scale does not compress: scaled
        # to 0.1 s, a PHP server on a loaded test machine failed checks a real instance passes. So
        # at least 1 s (never more than AWS's own timeout).
        timeout = min(float(group["timeout"]), max(1.0, timescale.scaled(group["timeout"])))
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
            connection.request("GET", group["path"], headers={"User-Agent": "ELB-HealthChecker/2.0"})
            status = connection.getresponse().status
            connection.close()
        except socket.timeout:
            return False, ("Target.Timeout", "Request timed out")
        except OSError:
            return False, ("Target.FailedHealthChecks", "Health checks failed")
        if health.matches(group["matcher"], status):
            return True, None
        return False, ("Target.ResponseCodeMismatch", f"Health checks failed with these codes: [{status}]")

    def desired_states(self, arn, group):
        """haproxy server name -> "ready" | "maint" | "drain" for one target group's backend. As an
        ALB does, a group whose registered targets are all unhealthy fails open (all take traffic)."""
        records = {target: self.health.get((arn, target)) for target in group["targets"]}
        fail_open = bool(records) and all(record and record.state == health.UNHEALTHY for record in records.values())
        states = {}
        for target, record in records.items():
            ok = fail_open or not group["enabled"] or (record is not None and record.state == health.HEALTHY)
            states[target] = "ready" if ok else "maint"
        for (group_arn, target) in self.draining:
            if group_arn == arn:
                states[target] = "drain"
        return states

    # --- load balancers -------------------------------------------------------------------------
    def balance(self, model, groups):
        if self.haproxy is None:
            return
        with state.LOCK:
            balancer = self.balancers.get(model["arn"]) or Balancer(model["arn"], model["name"], self.state_dir)
            self.balancers[model["arn"]] = balancer
            for listener in model["listeners"]:
                balancer.ports.setdefault(listener["arn"], free_port())
            backends, arns = {}, {}
            for listener in model["listeners"]:
                for arn in listener["target_groups"][:1]:
                    group = groups[arn]
                    arns[backend_name(group)] = arn
                    states = self.desired_states(arn, group)
                    servers = {}
                    for target, wanted in sorted(states.items()):
                        port = self.servers.get(target, (None, None))[0]
                        if port:
                            servers[target] = (port, wanted)
                    backends[backend_name(group)] = servers
        lines = ["global", f"    stats socket {balancer.socket_path} mode 600 level admin", "    maxconn 4000",
                 "defaults", "    mode http", "    timeout connect 2s", "    timeout client 30s", "    timeout server 30s",
                 "    option redispatch", "    retries 2"]
        for index, listener in enumerate(model["listeners"]):
            lines += [f"frontend listener-{listener['port']}", f"    bind 127.0.0.1:{balancer.ports[listener['arn']]}"]
            if listener["target_groups"]:
                lines.append(f"    default_backend {backend_name(groups[listener['target_groups'][0]])}")
            else:
                lines.append("    http-request return status 503")
        structure = list(lines)
        for name, servers in sorted(backends.items()):
            lines += [f"backend {name}", "    balance roundrobin"]
            structure += [f"backend {name}"]
            for target, (port, wanted) in servers.items():
                # Draining starts disabled and is set to drain over the socket below (a "weight 0" here
                # would outlive the drain: `state ready` does not restore a weight).
                lines.append(f"    server {target} 127.0.0.1:{port}" + ("" if wanted == "ready" else " disabled"))
        with state.LOCK:
            balancer.backends = dict(arns)
        desired = {(name, target): wanted for name, servers in backends.items() for target, (_, wanted) in servers.items()}
        ports = {(name, target): port for name, servers in backends.items() for target, (port, _) in servers.items()}
        # Listeners and backends are the configuration; servers come and go over the admin socket,
        # as targets do on an ALB: a reload would close the old process's idle keep-alive client
        # connections (clients saw "Connection reset by peer" while prod scaled out).
        if (structure != balancer.structure or balancer.process is None or balancer.process.poll() is not None
                or not self.update_servers(balancer, ports)):
            self.reload(balancer, "\n".join(lines) + "\n")
            balancer.structure = structure
            balancer.servers = dict(ports)
            balancer.applied = {}
            for key, wanted in desired.items():   # the config's flags; "drain" is set over the socket
                balancer.applied[key] = "ready" if wanted == "ready" else "maint"
        for (name, target), wanted in desired.items():
            if balancer.applied.get((name, target)) != wanted:
                self.command(balancer, f"set server {name}/{target} state {wanted}")
                balancer.applied[(name, target)] = wanted
        # Only now that haproxy acts on these states does DescribeTargetHealth report them.
        with state.LOCK:
            for (name, target), wanted in desired.items():
                key = (arns[name], target)
                record = self.health.get(key)
                if key in self.draining:
                    self.reported[key] = ("draining", "Target.DeregistrationInProgress", "Target deregistration is in progress")
                elif record is not None:
                    self.reported[key] = (record.state, record.reason, record.description)

    def update_servers(self, balancer, ports):
        """Adds, moves and removes `balancer`'s servers at run time to match `ports` ((backend,
        target) -> port). A server leaves once in maintenance and without connections (a draining
        target's last requests finish first; its removal is tried again next round). False when
        haproxy did not take a change (not answering): the caller reloads instead."""
        for key, port in ports.items():
            name, target = key
            known = balancer.servers.get(key)
            if known == port:
                continue
            if known is None:
                # A server added at run time starts in maintenance; its state is set after.
                if "New server registered" not in self.command(balancer, f"add server {name}/{target} 127.0.0.1:{port}"):
                    return False
                balancer.applied[key] = "maint"
            else:
                self.command(balancer, f"set server {name}/{target} state maint")
                balancer.applied[key] = "maint"
                answer = self.command(balancer, f"set server {name}/{target} addr 127.0.0.1 port {port}")
                if not answer.strip() or "No such" in answer:
                    return False
            balancer.servers[key] = port
        for key in [key for key in balancer.servers if key not in ports]:
            name, target = key
            # Every attempt: a lost answer must not leave it taking traffic while its removal waits.
            self.command(balancer, f"set server {name}/{target} state maint")
            balancer.applied[key] = "maint"
            if "Server deleted" in self.command(balancer, f"del server {name}/{target}"):
                del balancer.servers[key]
                balancer.applied.pop(key, None)
        return True

    def reload(self, balancer, config):
        with open(balancer.config_path, "w") as handle:
            handle.write(config)
        command = [self.haproxy, "-db", "-f", balancer.config_path]
        old = balancer.process
        if old is not None and old.poll() is None:
            command += ["-sf", str(old.pid)]  # the old process finishes its connections, then exits
        with open(balancer.config_path + ".log", "ab") as output:
            balancer.process = processes.spawn(command, f"haproxy {balancer.name}", stdout=output, stderr=output,
                                               stdin=subprocess.DEVNULL)
        log.info("load balancer %s (re)started: listeners on %s", balancer.name, sorted(balancer.ports.values()))
        # Until the new process listens and the old one has let go, both take connections: wait.
        deadline = time.time() + 5
        first = next(iter(balancer.ports.values()), None)
        while time.time() < deadline and first is not None:
            try:
                with socket.create_connection(("127.0.0.1", first), timeout=0.2):
                    pass
                if (old is None or old.poll() is not None) and os.path.exists(balancer.socket_path):
                    break
            except OSError:
                pass
            time.sleep(0.02)

    @staticmethod
    def command(balancer, text):
        """One command on haproxy's admin socket; its answer, or "" when haproxy is not there."""
        try:
            with socket.socket(socket.AF_UNIX) as connection:
                connection.settimeout(2)
                connection.connect(balancer.socket_path)
                connection.sendall(text.encode() + b"\n")
                data = b""
                while chunk := connection.recv(65536):
                    data += chunk
        except OSError:
            return ""
        return data.decode()

    # --- metrics (for target tracking, scaling.py) -----------------------------------------------
    def request_totals(self):
        """{target group arn: requests its balancer has sent it}, from haproxy's own statistics (the
        backend's cumulative request count; a reload starts it from 0 again). Call without the lock."""
        with state.LOCK:
            balancers = [(balancer, dict(balancer.backends)) for balancer in self.balancers.values()]
        totals = {}
        for balancer, backends in balancers:
            lines = self.command(balancer, "show stat").splitlines()
            if not lines or not lines[0].startswith("# "):
                continue
            header = lines[0][2:].split(",")
            column = {name: index for index, name in enumerate(header)}
            for line in lines[1:]:
                fields = line.split(",")
                if len(fields) < len(header) or fields[column["svname"]] != "BACKEND" or fields[0] not in backends:
                    continue
                value = fields[column["req_tot"]] if "req_tot" in column and fields[column["req_tot"]] else fields[column["stot"]]
                totals[backends[fields[0]]] = totals.get(backends[fields[0]], 0) + int(value or 0)
        return totals

    def cpu_seconds(self):
        """{instance id: CPU seconds its web server has used} (user + system, from /proc)."""
        with state.LOCK:
            servers = {instance_id: process.pid for instance_id, (_, process) in self.servers.items() if process.poll() is None}
        ticks = os.sysconf("SC_CLK_TCK")
        result = {}
        for instance_id, pid in servers.items():
            try:
                # An isolated server is bubblewrap's child: its CPU is the PHP process's, below it.
                total = 0
                for process in [pid] + children(pid):
                    with open(f"/proc/{process}/stat") as handle:
                        fields = handle.read().rsplit(")", 1)[1].split()
                    total += int(fields[11]) + int(fields[12])
                result[instance_id] = total / ticks
            except (OSError, IndexError, ValueError):
                continue
        return result

    def target_state(self, arn, target_id):
        """The state the balancer acts on for one target of one group: "healthy", "unhealthy",
        "initial", or None while the web loop has not seen it registered (caller holds state.LOCK)."""
        if (arn, target_id) in self.reported:
            return self.reported[(arn, target_id)][0]
        record = self.health.get((arn, target_id))
        return record.state if record is not None else None

    # --- DescribeTargetHealth -------------------------------------------------------------------
    def describe_target_health(self, params, region):
        """The inner XML of DescribeTargetHealthResult (caller holds state.LOCK)."""
        arn = params.get("TargetGroupArn", "")
        group = moto_adapter.target_group(region, arn)
        if group is None:
            raise AWSError("TargetGroupNotFound", "One or more target groups not found")
        used = any(arn in listener["target_groups"] for balancer in moto_adapter.load_balancers(region)
                   for listener in balancer["listeners"])
        running = {moto_adapter.instance_id(item): moto_adapter.instance_state(item)
                   for item in moto_adapter.instances(region)}
        wanted, index = set(), 1
        while f"Targets.member.{index}.Id" in params:
            wanted.add(params[f"Targets.member.{index}.Id"])
            index += 1
        members = []
        for target_id, port in group["targets"].items():
            record = self.health.get((arn, target_id))
            if not used:
                members.append((target_id, port, "unused", "Target.NotInUse",
                                "Target group is not configured to receive traffic from the load balancer"))
            elif running.get(target_id) != "running":
                members.append((target_id, port, "unused", "Target.InvalidState", "Target is in the stopped state"))
            elif not group["enabled"]:
                members.append((target_id, port, "unavailable", "Target.HealthCheckDisabled", "Health checks are disabled"))
            elif (arn, target_id) in self.reported:      # what haproxy acts on
                members.append((target_id, port, *self.reported[(arn, target_id)]))
            elif record is None:
                members.append((target_id, port, "initial", "Elb.RegistrationInProgress", "Target registration is in progress"))
            else:                                        # not served: haproxy sends it nothing either way
                members.append((target_id, port, record.state, record.reason, record.description))
        for (group_arn, target_id), (port, _) in self.draining.items():
            if group_arn == arn and (arn, target_id) in self.reported:
                members.append((target_id, group["port"], *self.reported[(arn, target_id)]))
        items = []
        for target_id, port, state_name, reason, description in members:
            if wanted and target_id not in wanted:
                continue
            extra = (f"<Reason>{reason}</Reason>" if reason else "") + \
                (f"<Description>{escape(description)}</Description>" if description else "")
            items.append(f"<member><Target><Id>{target_id}</Id><Port>{port}</Port></Target>"
                         f"<HealthCheckPort>{port}</HealthCheckPort>"
                         f"<TargetHealth><State>{state_name}</State>{extra}</TargetHealth></member>")
        return f"<TargetHealthDescriptions>{''.join(items)}</TargetHealthDescriptions>"

    def describe(self):
        with state.LOCK:
            return {
                "instances": {instance_id: port for instance_id, (port, process) in self.servers.items()
                              if process.poll() is None},
                "loadBalancers": [{
                    "name": balancer.name, "arn": balancer.arn,
                    "url": f"http://127.0.0.1:{next(iter(balancer.ports.values()))}" if balancer.ports else None,
                    "listeners": [{"arn": arn, "url": f"http://127.0.0.1:{port}"} for arn, port in balancer.ports.items()],
                } for balancer in self.balancers.values()],
            }
