"""The simulator's HTTP server: moto's application behind our middleware.

The middleware answers the control API under /_fleet/ and applies fault injection before
handing requests to moto. Later layers (SSM Run Command, instance refresh, load balancer)
plug in here too.
"""
import argparse
import datetime
import io
import json
import os
import signal
import socket
import sys
import threading
import time

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import WSGIRequestHandler, make_server

from . import auth, faults, refresh, runcommand, web
from .errors import AWSError


class FleetMiddleware:
    def __init__(self, app, injector, state_dir):
        self.app = app
        self.injector = injector
        self.state_dir = state_dir
        self.started = time.time()
        self.run_command = runcommand.RunCommand(state_dir)
        self.refresher = refresh.InstanceRefresher(self.run_command)
        self.web = web.Web(state_dir, self.run_command)

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_fleet/"):
            return self.control(environ, start_response, path[len("/_fleet/"):])
        body = b""
        content_type = environ.get("CONTENT_TYPE", "")
        if content_type.startswith("application/x-www-form-urlencoded") or content_type.startswith("application/x-amz-json"):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(body)
        if auth.prepare(environ, body) == "expired":
            return self.respond(start_response, 403, "application/xml",
                                "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>", "fleet-expired")
        service, operation = faults.identify(environ, body)
        skew = self.skewed(environ)
        if skew:
            return self.respond(start_response, *faults.error_response(service, 403, "RequestTimeTooSkewed", skew))
        drop = None
        for rule in self.injector.pick(service, operation):
            if rule.kind == "latency":
                time.sleep(rule.seconds)
            elif rule.kind == "throttle":
                return self.respond(start_response, *faults.throttling_response(service))
            elif rule.kind in ("error500", "error503"):
                return self.respond(start_response, *faults.server_error_response(service, int(rule.kind[-3:])))
            elif rule.kind == "aws-error":
                return self.respond(start_response, *faults.error_response(service, rule.status, rule.code, rule.message))
            elif rule.kind == "drop":
                drop = rule
        if drop is not None:
            return self.dropping(environ, start_response, drop.after_bytes)
        if service == "ssm" and operation in runcommand.RunCommand.OPERATIONS:
            return self.ssm(environ, start_response, operation, body)
        if service == "elasticloadbalancing" and operation == "DescribeTargetHealth":
            try:
                region = auth.authenticate(environ, body, operation)
                data = self.web.describe_target_health(body, region).encode()
                start_response("200 OK", [("Content-Type", "text/xml"), ("Content-Length", str(len(data)))])
                return [data]
            except (web.WebError, auth.AuthError) as error:
                return self.respond(start_response, *faults.error_response("elasticloadbalancing", error.status,
                                                                            error.code, error.message))
        if service == "autoscaling" and operation in refresh.InstanceRefresher.OPERATIONS:
            return self.autoscaling(environ, start_response, operation, body)
        return self.app(environ, start_response)

    def autoscaling(self, environ, start_response, operation, body):
        """Instance refresh, answered by the simulator itself (moto has none)."""
        try:
            region = auth.authenticate(environ, body, operation)
            data = self.refresher.handle(operation, body, region).encode()
            start_response("200 OK", [("Content-Type", "text/xml"), ("Content-Length", str(len(data)))])
            return [data]
        except AWSError as error:
            return self.respond(start_response, *faults.error_response("autoscaling", error.status, error.code, error.message))
        except auth.AuthError as error:
            return self.respond(start_response, *faults.error_response("autoscaling", error.status, error.code, error.message))

    def ssm(self, environ, start_response, operation, body):
        """Run Command operations, answered by the simulator itself (moto does not run anything)."""
        try:
            region = auth.authenticate(environ, body, operation)
            result = self.run_command.handle(operation, json.loads(body or b"{}"), region)
            data = json.dumps(result).encode()
            request_id = "fleet-ssm-" + str(time.time_ns())
            start_response("200 OK", [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(data))),
                                      ("x-amzn-RequestId", request_id)])
            return [data]
        except runcommand.SSMError as error:
            return self.respond(start_response, *faults.error_response("ssm", error.status, error.code, error.message))
        except auth.AuthError as error:
            return self.respond(start_response, *faults.error_response("ssm", error.status, error.code, error.message))

    def status(self):
        """Every instance (id, tags, state, agent, root, web port) and load balancer (local URL)."""
        serving = self.web.describe()
        instances = []
        for region in sorted(self.run_command.regions):
            for instance in self.run_command.sync_agents(region):
                agent = self.run_command.agents.get(instance.id)
                instances.append({
                    "id": instance.id, "region": region, "state": instance._state.name,
                    "tags": {tag["key"]: tag["value"] for tag in instance.get_tags()},
                    "agent": "Online" if agent and self.run_command.is_online(agent) else "ConnectionLost",
                    "root": agent.root if agent else None, "webPort": serving["instances"].get(instance.id)})
        return {"instances": instances, "loadBalancers": serving["loadBalancers"]}

    def skewed(self, environ):
        """Like AWS, refuse a signed request whose X-Amz-Date is more than 15 minutes from our
        clock (which `fleet clock --offset` can move to play a machine whose clock is wrong)."""
        stamp = environ.get("HTTP_X_AMZ_DATE")
        if not stamp or not CLOCK["offset"]:
            return None
        try:
            sent = datetime.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()
        except ValueError:
            return None
        now = time.time() + CLOCK["offset"]
        if abs(now - sent) <= 900:
            return None
        server = datetime.datetime.fromtimestamp(now, datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        return (f"The difference between the request time and the current time is too large. "
                f"Request time {stamp}, server time {server}.")

    def respond(self, start_response, status, content_type, body, request_id):
        data = body.encode()
        start_response(f"{status} Fault", [("Content-Type", content_type), ("Content-Length", str(len(data))),
                                           ("x-amzn-RequestId", request_id), ("x-amz-request-id", request_id)])
        return [data]

    def dropping(self, environ, start_response, after_bytes):
        """Runs the real request, then cuts the connection after `after_bytes` of its body."""
        sock = environ.get("werkzeug.socket")
        if after_bytes <= 0:
            if sock is not None:
                sock.shutdown(socket.SHUT_RDWR)
            raise ConnectionAbortedError("fleet: dropped before the response")
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        chunks = b"".join(self.app(environ, capture))
        start_response(captured["status"], captured["headers"])

        def body():
            yield chunks[:after_bytes]
            if sock is not None:
                sock.shutdown(socket.SHUT_RDWR)
            raise ConnectionAbortedError("fleet: dropped mid-response")

        return body()

    def control(self, environ, start_response, route):
        method = environ["REQUEST_METHOD"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        payload = json.loads(environ["wsgi.input"].read(length) or b"{}") if length else {}
        if route == "health":
            result = {"status": "ok", "uptime": time.time() - self.started, "pid": os.getpid()}
        elif route == "faults" and method == "POST":
            result = self.injector.add(payload).describe()
        elif route == "faults" and method == "DELETE":
            self.injector.clear()
            result = {"cleared": True}
        elif route == "faults":
            result = self.injector.describe()
        elif route == "status":
            result = self.status()
        elif route == "agents" and method == "POST":
            try:
                result = self.run_command.set_agent(payload["instance"], payload.get("online"), payload.get("delay"),
                                                    payload.get("hang"))
            except runcommand.SSMError as error:
                result = {"error": error.message}
        elif route == "agents":
            result = self.run_command.describe_agents()
        elif route == "clock" and method == "POST":
            CLOCK["offset"] = float(payload.get("offset", 0))
            result = {"offset": CLOCK["offset"]}
        else:
            data = json.dumps({"error": f"no route {method} /_fleet/{route}"}).encode()
            start_response("404 Not Found", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
            return [data]
        data = json.dumps(result).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]


# Seconds the simulated cloud's clock is ahead of the machine's (`fleet clock --offset`).
CLOCK = {"offset": 0.0}


class QuietHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as AWS endpoints do

    def date_time_string(self, timestamp=None):
        return super().date_time_string((timestamp or time.time()) + CLOCK["offset"])

    def log_request(self, *args, **kwargs):
        pass

    def log_error(self, *args, **kwargs):
        pass


def main():
    parser = argparse.ArgumentParser(description="the simulated cloud's server (started by `fleet up`)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--state", required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--exit-with", type=int, help="stop when this process (e.g. a test runner) is gone")
    args = parser.parse_args()
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("fleet: the simulator listens on loopback only")

    # Whoever started us (a test runner) may have blocked signals; `fleet down` needs SIGTERM.
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    auth.install()
    refresh.install()
    injector = faults.FaultInjector(seed=args.seed)
    app = FleetMiddleware(DomainDispatcherApplication(create_backend_app), injector, args.state)
    server = make_server(args.host, args.port, app, threaded=True, request_handler=QuietHandler)
    server.daemon_threads = True
    port = server.server_port
    os.environ.setdefault("MOTO_PORT", str(port))
    with open(os.path.join(args.state, "port"), "w") as handle:
        handle.write(str(port))
    def stop(*_):
        app.web.stop()
        threading.Thread(target=server.shutdown).start()

    signal.signal(signal.SIGTERM, stop)
    if args.exit_with:
        def started(pid):
            """The process's start time: a pid can be reused, this pair cannot."""
            try:
                with open(f"/proc/{pid}/stat") as handle:
                    return handle.read().rsplit(")", 1)[1].split()[19]
            except OSError:
                return None

        birth = started(args.exit_with)

        def watch():
            while True:
                time.sleep(1)
                if birth is None or started(args.exit_with) != birth:
                    # Take the web servers and load balancers along.
                    app.web.stop()
                    os._exit(0)
        threading.Thread(target=watch, daemon=True).start()
    print(json.dumps({"port": port, "pid": os.getpid()}), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
