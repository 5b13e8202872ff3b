"""The simulator's own control API under /_fleet/ (what `fleet inject`, `fleet status`, `fleet
agent`, `fleet clock` call, and what tests set up through it: an access key's creation date):
JSON in, JSON out, on loopback, unauthenticated."""
import collections
import json
import os
import re
import threading
import time

from . import moto_adapter, state
from .errors import AWSError


class CallCounter:
    """How many AWS requests the simulator answered, by the access key that signed them, service
    and operation (what benchmarks and tests read to count a command's API calls; unsigned ones
    under "-"); `GET /_fleet/calls`, reset by DELETE."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counts = collections.Counter()   # (access key id, service, operation) -> requests

    def add(self, environ, service, operation):
        signed = environ.get("HTTP_AUTHORIZATION", "") + " " + environ.get("QUERY_STRING", "")
        match = re.search(r"Credential=([A-Z0-9]+)(?:/|%2F)", signed)
        with self.lock:
            self.counts[(match.group(1) if match else "-", service or "?", operation or "?")] += 1

    def clear(self):
        with self.lock:
            self.counts.clear()

    def describe(self):
        """{"calls": {"service.Operation": n}, "total": n, "byKey": [{accessKeyId, service, operation, count}]}."""
        with self.lock:
            totals = collections.Counter()
            for (_, service, operation), count in self.counts.items():
                totals[f"{service}.{operation}"] += count
            return {"calls": dict(totals), "total": sum(totals.values()),
                    "byKey": [{"accessKeyId": key, "service": service, "operation": operation, "count": count}
                              for (key, service, operation), count in sorted(self.counts.items())]}


class Control:
    def __init__(self, world, injector, clock, counter=None):
        self.world = world
        self.counter = counter or CallCounter()
        self.injector = injector
        self.clock = clock
        self.started = time.time()

    def __call__(self, environ, start_response, route):
        method = environ["REQUEST_METHOD"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        payload = json.loads(environ["wsgi.input"].read(length) or b"{}") if length else {}
        try:
            result = self.route(method, route, payload)
        except (AWSError, ValueError, KeyError) as error:
            return self.reply(start_response, "400 Bad Request", {"error": str(getattr(error, "message", error))})
        if result is None:
            return self.reply(start_response, "404 Not Found", {"error": f"no route {method} /_fleet/{route}"})
        return self.reply(start_response, "200 OK", result)

    def route(self, method, route, payload):
        run_command = self.world.run_command
        if route == "health":
            return {"status": "ok", "uptime": time.time() - self.started, "pid": os.getpid()}
        if route == "faults":
            if method == "POST":
                return self.injector.add(payload).describe()
            if method == "DELETE":
                self.injector.clear()
                return {"cleared": True}
            return self.injector.describe()
        if route == "status":
            return self.status()
        if route == "agents" and method == "POST":
            return run_command.set_agent(payload["instance"], payload.get("online"), payload.get("delay"),
                                         payload.get("hang"))
        if route == "agents":
            return run_command.describe_agents()
        if route == "commands" or route.startswith("commands/"):
            return run_command.describe_commands(route.partition("/")[2] or None)
        if route == "databases":
            return self.world.databases.describe()
        if route == "calls" and method == "DELETE":
            self.counter.clear()
            return {"cleared": True}
        if route == "calls":
            return self.counter.describe()
        if route == "iam/access-keys" and method == "POST":
            # A key made months ago (what only time gives on AWS): {userName, accessKeyId, created}.
            with state.LOCK:
                return moto_adapter.set_access_key_created(payload["userName"], payload["accessKeyId"],
                                                           float(payload["created"]))
        if route == "clock" and method == "POST":
            self.clock["offset"] = float(payload.get("offset", 0))
            return {"offset": self.clock["offset"]}
        return None

    def status(self):
        """Every instance (id, tags, state, agent, root, web port) and load balancer (local URLs)."""
        run_command = self.world.run_command
        serving = self.world.web.describe()
        instances = []
        with state.LOCK:
            for region in sorted(run_command.regions):
                for instance in run_command.sync_agents(region):
                    identifier = moto_adapter.instance_id(instance)
                    agent = run_command.agents.get(identifier)
                    instances.append({
                        "id": identifier, "region": region, "state": moto_adapter.instance_state(instance),
                        "tags": moto_adapter.instance_tags(instance),
                        "agent": "Online" if agent and run_command.is_online(agent) else "ConnectionLost",
                        "root": agent.root if agent else None, "webPort": serving["instances"].get(identifier)})
        return {"instances": instances, "loadBalancers": serving["loadBalancers"]}

    @staticmethod
    def reply(start_response, status, result):
        data = json.dumps(result).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]
