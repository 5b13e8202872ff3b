"""The simulator's HTTP server: moto's application behind our dispatcher (dispatch.py).

Builds the world (Run Command, instance refresh, web serving), registers what we answer or
correct per service (providers/), serves on loopback, and ends everything it started when told
to stop (SIGTERM, SIGINT), when its state directory disappears, or when the process it was
started for (--exit-with, a test runner) is gone.
"""
import argparse
import json
import logging
import os
import signal
import sys
import threading
import time

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import WSGIRequestHandler, make_server

from . import auth, authorization, control, databases, dispatch, faults, idempotency, moto_adapter, processes, refresh, registry, runcommand, scaling, sessions, web
from .providers import autoscaling, cloudformation, ec2, elbv2, ssm

PROVIDERS = (ssm, autoscaling, elbv2, cloudformation, ec2)
log = logging.getLogger("fleet.server")


class World:
    """The simulator's own state beside moto's: agents and commands, Session Manager sessions,
    refreshes, web serving, target tracking, databases behind RDS endpoints."""

    def __init__(self, state_dir):
        self.state_dir = state_dir
        self.run_command = runcommand.RunCommand(state_dir)
        self.sessions = sessions.Sessions(self.run_command)
        self.refresher = refresh.InstanceRefresher(self.run_command)
        self.web = web.Web(state_dir, self.run_command)
        self.refresher.web = self.web       # new instances count once their target groups find them healthy
        self.scaling = scaling.TargetTracking(self.web)
        self.databases = self.run_command.databases = databases.Databases(state_dir, self.run_command)


def build_registry(world):
    table = registry.Registry()
    for provider in PROVIDERS:
        provider.register(table, world)
    return table


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


def configure_logging(state_dir):
    """Everything the simulator has to say goes to <state>/server.log; the web and load-balancer
    loop also to <state>/web.log."""
    formatter = logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s")
    main = logging.FileHandler(os.path.join(state_dir, "server.log"))
    main.setFormatter(formatter)
    root = logging.getLogger()
    root.addHandler(main)
    root.setLevel(logging.INFO)
    web_log = logging.FileHandler(os.path.join(state_dir, "web.log"))
    web_log.setFormatter(formatter)
    logging.getLogger("fleet.web").addHandler(web_log)
    for noisy in ("werkzeug", "botocore", "boto3", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def started(pid):
    """The process's start time: a pid can be reused, this pair cannot."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[19]
    except OSError:
        return None


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
    state_dir = os.path.abspath(args.state)

    # Whoever started us (a test runner) may have blocked signals; `fleet down` needs SIGTERM.
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    configure_logging(state_dir)
    identifier = processes.configure(state_dir)
    auth.install()
    moto_adapter.fix_launch_template_user_data()
    moto_adapter.launch_from_templates_as_ec2_does()
    moto_adapter.balance_group_launches()
    moto_adapter.fix_short_get_att()
    moto_adapter.resolve_select_index()
    moto_adapter.sub_get_att_at_the_first_dot()
    moto_adapter.apply_instance_security_group_ids()
    moto_adapter.share_exports_with_every_stack()
    moto_adapter.delete_managed_policies_with_their_stack()
    moto_adapter.complete_elbv2_attributes()
    moto_adapter.accept_ssm_parameter_tag_maps()
    moto_adapter.fast_resource_tags()
    moto_adapter.manage_rds_master_passwords()
    moto_adapter.read_rds_vpc_security_groups()
    moto_adapter.get_azs_of_the_stack_region()
    moto_adapter.associate_subnet_route_tables()
    moto_adapter.create_iam_roles_as_cloudformation_does()
    moto_adapter.name_each_output_export()
    moto_adapter.record_security_group_rule_ids()
    moto_adapter.evaluate_bucket_policies(authorization.bucket_policy_decision)
    moto_adapter.list_parameter_changes_in_change_sets()
    moto_adapter.drop_no_value_from_lists()
    world = World(state_dir)
    injector = world.injector = faults.FaultInjector(seed=args.seed)
    app = dispatch.Dispatcher(DomainDispatcherApplication(create_backend_app), build_registry(world), injector,
                              idempotency.Tokens(), control.Control(world, injector, CLOCK), CLOCK, web=world.web)
    server = make_server(args.host, args.port, app, threaded=True, request_handler=QuietHandler)
    server.daemon_threads = True
    port = server.server_port
    os.environ.setdefault("MOTO_PORT", str(port))
    with open(os.path.join(state_dir, "port"), "w") as handle:
        handle.write(str(port))

    stopping = threading.Event()

    def stop(reason):
        """Ends everything we started, then the process, promptly: threads still waiting on a
        hung command or a sleeping agent are not waited for."""
        if stopping.is_set():
            return
        stopping.set()
        log.info("stopping: %s", reason)
        try:
            world.scaling.stop()
            world.web.stop()
            world.databases.stop()
            processes.end_all(state_dir, identifier)
        finally:
            logging.shutdown()
            os._exit(0)

    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda signum, frame: threading.Thread(target=stop, args=(signal.Signals(signum).name,)).start())
    birth = started(args.exit_with) if args.exit_with else None
    # The directory itself, not its name, and our id in it: a thread still making an instance's
    # root (os.makedirs) may recreate the path, or leave it unremovable, while it is being deleted.
    home = os.stat(state_dir)

    def state_gone():
        try:
            now = os.stat(state_dir)
        except OSError:
            return True
        moved = (now.st_dev, now.st_ino) != (home.st_dev, home.st_ino)
        return moved or processes.identity(state_dir) != identifier

    def watch():
        while not stopping.is_set():
            time.sleep(0.5)
            if state_gone():
                stop(f"state directory {state_dir} is gone")
            if args.exit_with and (birth is None or started(args.exit_with) != birth):
                stop(f"process {args.exit_with} is gone")

    threading.Thread(target=watch, daemon=True, name="watch").start()
    print(json.dumps({"port": port, "pid": os.getpid(), "id": identifier}), flush=True)
    # Nobody reads our standard output after that line: send anything printed later to the log.
    try:
        descriptor = os.open(os.path.join(state_dir, "server.log"), os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        os.dup2(descriptor, 1)
        os.close(descriptor)
    except OSError:
        pass
    log.info("listening on %s:%s", args.host, port)
    server.serve_forever()


if __name__ == "__main__":
    main()
