"""Web serving and the load balancer.

Each running instance whose root holds `srv/app/current/public` is served by PHP's built-in
server on its own loopback port. Each ELBv2 load balancer is a local haproxy on its own loopback
port: its backends follow target registration (a deregistered target drains for the target
group's deregistration delay, taking no new requests) and haproxy's own health checks on the
target group's health check path, which is also what DescribeTargetHealth reports.
"""
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
import uuid
from xml.sax.saxutils import escape

ACCOUNT = "123456789012"
DOCROOT = os.path.join("srv", "app", "current", "public")

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
NAMESPACE = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Balancer:
    def __init__(self, arn, name, directory):
        self.arn = arn
        self.name = name
        self.port = free_port()
        self.config_path = os.path.join(directory, f"lb-{name}.cfg")
        self.socket_path = os.path.join(directory, f"lb-{name}.sock")
        self.state_path = os.path.join(directory, f"lb-{name}.state")
        self.process = None
        self.config = None
        self.draining = {}   # instance id -> (port, until)
        self.previous = set()


class Web:
    def __init__(self, state_dir, run_command):
        self.state_dir = state_dir
        self.run_command = run_command
        self.servers = {}    # instance id -> (port, process)
        self.balancers = {}  # arn -> Balancer
        self.lock = threading.RLock()
        self.php = shutil.which("php")
        self.haproxy = shutil.which("haproxy")
        self.stopping = False
        threading.Thread(target=self.loop, daemon=True).start()

    def stop(self):
        """Stops every web server and load balancer, and keeps them stopped."""
        with self.lock:
            self.stopping = True
            processes = [process for _, process in self.servers.values()]
            processes += [balancer.process for balancer in self.balancers.values() if balancer.process]
            for process in processes:
                if process.poll() is None:
                    process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=3)
                except subprocess.TimeoutExpired:
                    process.kill()

    def loop(self):
        while not self.stopping:
            try:
                self.reconcile()
            except Exception as error:  # keep serving; the next round retries
                print(f"fleet web: {type(error).__name__}: {error}", flush=True)
            time.sleep(0.3)

    # --- instances -----------------------------------------------------------------------------
    def reconcile(self):
        with self.lock:
            if self.stopping:
                return
            for region in list(self.run_command.regions):
                instances = {instance.id: instance for instance in self.run_command.sync_agents(region)}
                for instance_id, agent in list(self.run_command.agents.items()):
                    instance = instances.get(instance_id)
                    running = instance is not None and instance._state.name == "running"
                    docroot = os.path.join(agent.root, DOCROOT)
                    if running and os.path.isdir(docroot):
                        self.serve(instance_id, agent.root)
                    elif instance_id in self.servers and (not running):
                        self.stop_serving(instance_id)
                self.balance(region)

    def serve(self, instance_id, root):
        port, process = self.servers.get(instance_id, (None, None))
        if process is not None and process.poll() is None:
            return
        if self.php is None:
            return
        port = port or free_port()
        log = open(os.path.join(os.path.dirname(root), "web.log"), "ab")
        router = os.path.join(self.state_dir, "router.php")
        if not os.path.exists(router):
            with open(router, "w") as handle:
                handle.write(ROUTER)
        app = os.path.join(root, "srv", "app")
        # No realpath cache: it would keep serving the release `current` pointed to a minute ago.
        process = subprocess.Popen([self.php, "-d", "realpath_cache_size=0", "-S", f"127.0.0.1:{port}", "-t", app, router],
                                   cwd=app, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                                   env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": root, "FLEET_APP": app,
                                        "FLEET_INSTANCE_ID": instance_id, "PHP_CLI_SERVER_WORKERS": "2"})
        self.servers[instance_id] = (port, process)

    def stop_serving(self, instance_id):
        port, process = self.servers.pop(instance_id, (None, None))
        if process is not None and process.poll() is None:
            process.terminate()

    def web_port(self, instance_id):
        port, process = self.servers.get(instance_id, (None, None))
        return port if process is not None and process.poll() is None else None

    # --- load balancers ------------------------------------------------------------------------
    def elbv2(self, region):
        from moto.elbv2.models import elbv2_backends
        return elbv2_backends[ACCOUNT][region]

    def target_groups_of(self, backend, balancer):
        groups = []
        for listener in balancer.listeners.values():
            for action in listener.default_actions:
                arn = action.data.get("TargetGroupArn") if hasattr(action, "data") else None
                if arn and arn in backend.target_groups:
                    groups.append(backend.target_groups[arn])
        return groups

    def balance(self, region):
        if self.haproxy is None:
            return
        backend = self.elbv2(region)
        seen = set()
        for arn, model in list(backend.load_balancers.items()):
            seen.add(arn)
            balancer = self.balancers.get(arn) or Balancer(arn, model.name, self.state_dir)
            self.balancers[arn] = balancer
            groups = self.target_groups_of(backend, model)
            servers, check_path, delay = [], "/", 0
            registered = set()
            for group in groups:
                check_path = group.health_check_path or "/"
                delay = int(group.attributes.get("deregistration_delay.timeout_seconds", 300)) if hasattr(group, "attributes") else 300
                for target_id in group.targets:
                    registered.add(target_id)
            now = time.time()
            for target_id in balancer.previous - registered:
                port = self.web_port(target_id)
                if port and delay > 0:
                    balancer.draining[target_id] = (port, now + delay)
            for target_id in list(balancer.draining):
                if target_id in registered or balancer.draining[target_id][1] <= now:
                    del balancer.draining[target_id]
            balancer.previous = registered
            for target_id in sorted(registered):
                port = self.web_port(target_id)
                if port:
                    servers.append(f"    server {target_id} 127.0.0.1:{port} check")
            for target_id, (port, _) in sorted(balancer.draining.items()):
                servers.append(f"    server {target_id} 127.0.0.1:{port} check weight 0")
            config = "\n".join([
                "global", f"    stats socket {balancer.socket_path} mode 600 level admin", "    maxconn 4000",
                f"    server-state-file {balancer.state_path}",
                "defaults", "    mode http", "    load-server-state-from-file global", "    timeout connect 2s", "    timeout client 30s", "    timeout server 30s",
                "    option redispatch", "    retries 2",
                "frontend alb", f"    bind 127.0.0.1:{balancer.port}", "    default_backend targets",
                "backend targets", f"    option httpchk GET {check_path}", "    http-check expect status 200",
                "    default-server inter 300ms fall 2 rise 1", *servers, ""])
            if config != balancer.config or balancer.process is None or balancer.process.poll() is not None:
                self.reload(balancer, config)
        for arn in list(self.balancers):
            if arn not in seen:
                balancer = self.balancers.pop(arn)
                if balancer.process and balancer.process.poll() is None:
                    balancer.process.terminate()

    def reload(self, balancer, config):
        with open(balancer.config_path, "w") as handle:
            handle.write(config)
        command = [self.haproxy, "-db", "-f", balancer.config_path]
        old = balancer.process
        if old is not None and old.poll() is None:
            # A new haproxy takes every server for up until its checks say otherwise; hand over
            # what the running one knows, so a reload never sends requests to an unhealthy target.
            state = self.command(balancer, "show servers state targets")
            if state:
                with open(balancer.state_path, "w") as handle:
                    handle.write(state)
            command += ["-sf", str(old.pid)]  # the old process finishes its connections, then exits
        log = open(balancer.config_path + ".log", "ab")
        balancer.process = subprocess.Popen(command, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        balancer.config = config
        # Until the new process listens and the old one has let go, both take connections: wait, so
        # that what DescribeTargetHealth says (it waits on our lock) is what the balancer does.
        deadline = time.time() + 5
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", balancer.port), timeout=0.2):
                    pass
                if old is None or old.poll() is not None:
                    break
            except OSError:
                pass
            time.sleep(0.02)

    def command(self, balancer, text):
        """One command on haproxy's stats socket; its answer, or "" when haproxy is not there."""
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

    def stats(self, balancer):
        """haproxy's view of each server: name -> status ("UP", "DOWN", "no check", ...)."""
        lines = self.command(balancer, "show stat").splitlines()
        if not lines:
            return {}
        header = lines[0].lstrip("# ").split(",")
        result = {}
        for line in lines[1:]:
            row = dict(zip(header, line.split(",")))
            if row.get("pxname") == "targets" and row.get("svname") not in ("BACKEND", "FRONTEND"):
                result[row["svname"]] = row.get("status", "")
        return result

    # --- DescribeTargetHealth ------------------------------------------------------------------
    def describe_target_health(self, params, region):
        with self.lock:
            return self._describe_target_health(params, region)

    def _describe_target_health(self, params, region):
        arn = params.get("TargetGroupArn", "")
        backend = self.elbv2(region)
        group = backend.target_groups.get(arn)
        if group is None:
            raise WebError("TargetGroupNotFound", "One or more target groups not found")
        balancer = next((item for item in self.balancers.values()
                         if arn in {tg.arn for tg in self.target_groups_of(backend, backend.load_balancers[item.arn])}), None)
        stats = self.stats(balancer) if balancer else {}
        members = []
        for target_id, target in sorted(group.targets.items()):
            port = target.get("Port") or group.port
            status = stats.get(target_id, "")
            if balancer is None:
                state, reason = "unused", "Target.NotInUse"
            elif status.startswith("UP"):
                state, reason = "healthy", ""
            elif status.startswith("DOWN") or status == "NOLB":
                state, reason = "unhealthy", "Target.FailedHealthChecks"
            elif not status:
                state, reason = ("unhealthy", "Target.FailedHealthChecks") if self.web_port(target_id) is None \
                    else ("initial", "Elb.RegistrationInProgress")
            else:
                state, reason = "initial", "Elb.InitialHealthChecking"
            members.append((target_id, port, state, reason))
        if balancer:
            for target_id in balancer.draining:
                members.append((target_id, group.port, "draining", "Target.DeregistrationInProgress"))
        items = "".join(
            f"<member><Target><Id>{target_id}</Id><Port>{port}</Port></Target><HealthCheckPort>{port}</HealthCheckPort>"
            f"<TargetHealth><State>{state}</State>" + (f"<Reason>{reason}</Reason>" if reason else "") + "</TargetHealth></member>"
            for target_id, port, state, reason in members)
        return f"<TargetHealthDescriptions>{items}</TargetHealthDescriptions>"

    def describe(self):
        with self.lock:
            return {
                "instances": {instance_id: port for instance_id, (port, process) in self.servers.items()
                              if process.poll() is None},
                "loadBalancers": [{"name": balancer.name, "arn": balancer.arn, "url": f"http://127.0.0.1:{balancer.port}"}
                                  for balancer in self.balancers.values()],
            }


from .errors import AWSError as WebError  # noqa: E402  (the one error type)


class _Unused(Exception):
    def __init__(self, code, message, status=400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status
