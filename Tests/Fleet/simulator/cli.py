"""`fleet`: start, stop and steer the local simulated cloud.

  fleet up [--port P] [--state DIR] [--auth]   start in the background; print `export ...` lines
  fleet down [--state DIR]                     stop everything `up` started
  fleet env [--state DIR]                      print the `export ...` lines again
  fleet inject --kind K [--service S] [--operation O] [--count N | --rate R] [--skip N] [--seconds S] [--after-bytes B]
  fleet clear                                   remove every injected fault
  fleet faults                                  list injected faults (JSON)
  fleet clock --offset S                        the cloud's clock runs S seconds ahead (clock-skew tests)
  fleet status [--json]                         instances (tags, state, agent, root, web port), load balancers' URLs
  fleet agents                                  every instance's agent: root directory, online or not
  fleet agent --instance ID [--offline|--online] [--delay S] [--hang|--no-hang]
                                                take an agent offline, make it slow, or make its commands hang

With --auth, moto checks every request's SigV4 signature (INITIAL_NO_AUTH_ACTION_COUNT=0) and
the printed credentials are those of an IAM user `fleet-admin` allowed everything.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

from . import processes
from .faults import KINDS

REGION = "eu-west-3"
DEFAULT_STATE = ".fleet"


def state_dir(args):
    return os.path.abspath(args.state)


def endpoint(directory):
    with open(os.path.join(directory, "port")) as handle:
        return f"http://127.0.0.1:{handle.read().strip()}"


def call(url, method="GET", data=None):
    body = None if data is None else (data if isinstance(data, bytes) else json.dumps(data).encode())
    # Flask hides a form-typed body from moto, so say what it is.
    content_type = "text/plain" if isinstance(data, bytes) else "application/json"
    request = urllib.request.Request(url, data=body, method=method, headers={"Content-Type": content_type})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


def running_pid(directory):
    try:
        with open(os.path.join(directory, "pid")) as handle:
            pid = int(handle.read())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return None


def write_env(directory, values):
    path = os.path.join(directory, "env")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        for key, value in values.items():
            handle.write(f"export {key}={value}\n")
    return path


def bootstrap_auth(url):
    """Creates an all-powerful IAM user while moto still lets requests in, then turns auth on."""
    import boto3
    iam = boto3.client("iam", endpoint_url=url, region_name=REGION, aws_access_key_id="bootstrap",
                       aws_secret_access_key="bootstrap")
    iam.create_user(UserName="fleet-admin")
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    iam.put_user_policy(UserName="fleet-admin", PolicyName="everything", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName="fleet-admin")["AccessKey"]
    call(url + "/moto-api/reset-auth", "POST", b"0")
    return key["AccessKeyId"], key["SecretAccessKey"]


def up(args):
    directory = state_dir(args)
    os.makedirs(directory, exist_ok=True)
    if running_pid(directory):
        sys.exit(f"fleet: already running (state {directory}); `fleet down --state {args.state}` first")
    log = open(os.path.join(directory, "server.log"), "ab")
    environment = dict(os.environ)
    environment.pop("INITIAL_NO_AUTH_ACTION_COUNT", None) if args.auth else None
    process = subprocess.Popen(
        [sys.executable, "-m", "simulator.server", "--port", str(args.port), "--state", directory,
         "--seed", str(args.seed)] + (["--exit-with", str(args.exit_with)] if args.exit_with else []),
        stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL, env=environment,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))), start_new_session=True)
    first = process.stdout.readline()
    if not first:
        sys.exit(f"fleet: the server did not start; see {directory}/server.log")
    info = json.loads(first)
    with open(os.path.join(directory, "pid"), "w") as handle:
        handle.write(str(process.pid))
    url = f"http://127.0.0.1:{info['port']}"
    deadline = time.time() + 30
    while True:
        try:
            call(url + "/_fleet/health")
            break
        except (urllib.error.URLError, ConnectionError):
            if time.time() > deadline:
                sys.exit(f"fleet: no answer from {url}; see {directory}/server.log")
            time.sleep(0.05)
    if args.auth:
        key_id, secret = bootstrap_auth(url)
    else:
        key_id, secret = "AKIAFLEETSIMULATOR01", "fleet-simulator-secret"
    values = {"AWS_ENDPOINT_URL": url, "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION, "AWS_ACCESS_KEY_ID": key_id,
              "AWS_SECRET_ACCESS_KEY": secret, "AWS_EC2_METADATA_DISABLED": "true", "FLEET_STATE": directory,
              # The load balancers' DNS names answer through the simulator as an HTTP proxy (proxy.py):
              # `http_proxy=$FLEET_HTTP_PROXY no_proxy=127.0.0.1 curl http://<DNSName>/`.
              "FLEET_HTTP_PROXY": url}
    write_env(directory, values)
    for key, value in values.items():
        print(f"export {key}={value}")


def down(args):
    directory = state_dir(args)
    pid = running_pid(directory)
    if pid is None:
        # The server may be gone (killed) while what it started still runs: end that too.
        processes.end_all(directory)
        print(f"fleet: nothing running (state {directory})", file=sys.stderr)
        return
    os.killpg(pid, signal.SIGTERM)   # the server ends everything it started, then itself
    for _ in range(200):
        if running_pid(directory) is None:
            break
        time.sleep(0.05)
    else:
        os.killpg(pid, signal.SIGKILL)
    processes.end_all(directory)     # whatever it could not (it was killed, or hung)
    left = processes.remaining(directory)
    os.remove(os.path.join(directory, "pid"))
    print(f"fleet: stopped (pid {pid})" + (f"; still running: {sorted(left)}" if left else ""), file=sys.stderr)


def env(args):
    with open(os.path.join(state_dir(args), "env")) as handle:
        sys.stdout.write(handle.read())


def inject(args):
    rule = {"kind": args.kind, "service": args.service, "operation": args.operation}
    if args.count is not None:
        rule["count"] = args.count
    if args.rate is not None:
        rule["rate"] = args.rate
    if args.seconds is not None:
        rule["seconds"] = args.seconds
    if args.after_bytes is not None:
        rule["after_bytes"] = args.after_bytes
    if args.skip is not None:
        rule["skip"] = args.skip
    for name in ("code", "status", "message"):
        if getattr(args, name) is not None:
            rule[name] = getattr(args, name)
    print(json.dumps(call(endpoint(state_dir(args)) + "/_fleet/faults", "POST", rule)))


def status(args):
    result = call(endpoint(state_dir(args)) + "/_fleet/status")
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{'INSTANCE':<21} {'STATE':<11} {'AGENT':<15} {'WEB':<6} TAGS")
    for item in result["instances"]:
        tags = ",".join(f"{key}={value}" for key, value in sorted(item["tags"].items()))
        print(f"{item['id']:<21} {item['state']:<11} {item['agent']:<15} {str(item['webPort'] or '-'):<6} {tags}")
    for balancer in result["loadBalancers"]:
        print(f"load balancer {balancer['name']}: {balancer['url']}")


def agent(args):
    payload = {"instance": args.instance}
    if args.offline:
        payload["online"] = False
    if args.online:
        payload["online"] = True
    if args.delay is not None:
        payload["delay"] = args.delay
    if args.hang or args.no_hang:
        payload["hang"] = bool(args.hang)
    print(json.dumps(call(endpoint(state_dir(args)) + "/_fleet/agents", "POST", payload)))


def agents(args):
    print(json.dumps(call(endpoint(state_dir(args)) + "/_fleet/agents"), indent=2))


def clock(args):
    print(json.dumps(call(endpoint(state_dir(args)) + "/_fleet/clock", "POST", {"offset": args.offset})))


def clear(args):
    call(endpoint(state_dir(args)) + "/_fleet/faults", "DELETE")


def list_faults(args):
    print(json.dumps(call(endpoint(state_dir(args)) + "/_fleet/faults"), indent=2))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="fleet", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, handler in [("up", up), ("down", down), ("env", env), ("inject", inject), ("clear", clear),
                          ("faults", list_faults), ("clock", clock), ("agent", agent), ("agents", agents), ("status", status)]:
        command = commands.add_parser(name)
        command.add_argument("--state", default=os.environ.get("FLEET_STATE", DEFAULT_STATE))
        command.set_defaults(handler=handler)
        if name == "up":
            command.add_argument("--port", type=int, default=0)
            command.add_argument("--auth", action="store_true", help="check SigV4 signatures of every request")
            command.add_argument("--seed", type=int, default=0, help="seed for rate-based faults")
            command.add_argument("--exit-with", type=int, help="stop the simulator when this pid exits (tests)")
        if name == "status":
            command.add_argument("--json", action="store_true")
        if name == "agent":
            command.add_argument("--instance", required=True)
            command.add_argument("--offline", action="store_true", help="the agent stops answering")
            command.add_argument("--online", action="store_true")
            command.add_argument("--delay", type=float, help="seconds before each command reaches the agent")
            command.add_argument("--hang", action="store_true", help="commands start but never finish")
            command.add_argument("--no-hang", action="store_true")
        if name == "clock":
            command.add_argument("--offset", type=float, required=True,
                                 help="seconds the cloud's clock runs ahead of this machine's (negative: behind)")
        if name == "inject":
            command.add_argument("--kind", required=True,
                                 choices=list(KINDS))
            command.add_argument("--code", help="aws-error: the AWS error code")
            command.add_argument("--status", type=int, help="aws-error: the HTTP status (400)")
            command.add_argument("--message", help="aws-error: the message")
            command.add_argument("--service", default="*")
            command.add_argument("--operation", default="*")
            command.add_argument("--count", type=int)
            command.add_argument("--rate", type=float)
            command.add_argument("--seconds", type=float)
            command.add_argument("--after-bytes", type=int)
            command.add_argument("--skip", type=int, help="let this many matching requests through first")
    args = parser.parse_args(argv)
    args.handler(args)


if __name__ == "__main__":
    main()
