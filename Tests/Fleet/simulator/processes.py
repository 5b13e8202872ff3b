"""Every process the simulator starts, so that `fleet down` can end them all.

Commands, user data, hung agents, PHP servers and haproxy are started through `spawn`, each in a
session (and so a process group) of its own, with FLEET_SIMULATOR=<this simulator's id> in their
environment. What they leave behind (a `setsid daemon &` in user data, as on a real instance)
inherits that variable, so `end_all` finds them by scanning /proc even after they left their
group, and also when the server itself was killed (then `fleet down` calls it). Where the
machine lets us (root, cgroup v1 "pids" hierarchy mounted) the server joins a cgroup of its own,
which every process it starts inherits: that catches even a daemon that cleared its environment.
(The server joins once; joining per spawn cost 4 ms each and slowed a 500-instance fan-out.)
"""
import os
import signal
import subprocess
import threading
import time
import uuid

MARKER = "FLEET_SIMULATOR"
CGROUP_ROOT = "/sys/fs/cgroup/pids"
_lock = threading.Lock()
_identity = {"id": None, "state": None, "cgroup": None}
_groups = set()   # every process group spawned, also known when the state directory is gone


def configure(state_dir):
    """Called once by the server: gives this simulator its id (written to <state>/simulator-id)."""
    identifier = uuid.uuid4().hex
    with open(os.path.join(state_dir, "simulator-id"), "w") as handle:
        handle.write(identifier)
    cgroup = os.path.join(CGROUP_ROOT, f"fleet-{identifier}")
    try:
        os.mkdir(cgroup)
        with open(os.path.join(cgroup, "cgroup.procs"), "w") as handle:
            handle.write(str(os.getpid()))
    except OSError:
        _remove_cgroup(cgroup)
        cgroup = None
    _identity.update(id=identifier, state=state_dir, cgroup=cgroup)
    _reset_inherited_signals()
    return identifier


def identity(state_dir):
    """The id of the simulator whose state is `state_dir`, or None."""
    try:
        with open(os.path.join(state_dir, "simulator-id")) as handle:
            return handle.read().strip() or None
    except OSError:
        return None


RESET_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT)


def _reset_inherited_signals():
    """Children start as on a fresh instance, with no signal blocked or ignored, whatever the
    process that started the simulator had set (a background job has SIGINT and SIGQUIT ignored,
    which exec keeps). Done once in the server, not in each child: a preexec function makes
    Python fork the whole server for every spawn instead of vfork-ing it, which cost a 500-instance
    fan-out about 8 CPU-seconds (measured: 13.4-15.6 against 6.0 without). Handlers the server
    installs (SIGTERM, SIGINT) are reset by exec itself; restore_signals puts SIGPIPE back."""
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    for number in RESET_SIGNALS:
        if signal.getsignal(number) == signal.SIG_IGN:
            signal.signal(number, signal.SIG_DFL)


def spawn(argv, what, env=None, **options):
    """subprocess.Popen in a new session, marked as this simulator's, recorded in <state>/processes."""
    environment = dict(os.environ if env is None else env)
    if _identity["id"]:
        environment[MARKER] = _identity["id"]
    options.setdefault("start_new_session", True)
    process = subprocess.Popen(argv, env=environment, restore_signals=True, **options)
    with _lock:
        _groups.add(process.pid)
        try:
            with open(os.path.join(_identity["state"], "processes"), "a") as handle:
                handle.write(f"{process.pid} {what}\n")
        except (OSError, TypeError):
            pass
    return process


def _marked(identifier):
    """Pids whose environment carries this simulator's marker, or which are in its cgroup."""
    needle = f"{MARKER}={identifier}".encode()
    found = set()
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as handle:
                if needle in handle.read().split(b"\0"):
                    found.add(int(name))
        except OSError:
            pass
    try:
        with open(os.path.join(CGROUP_ROOT, f"fleet-{identifier}", "cgroup.procs")) as handle:
            found |= {int(line) for line in handle if line.strip()}
    except OSError:
        pass
    found.discard(os.getpid())
    return found


def _recorded_groups(state_dir):
    try:
        with open(os.path.join(state_dir, "processes")) as handle:
            return {int(line.split()[0]) for line in handle if line.strip()}
    except OSError:
        return set()


def remaining(state_dir, identifier=None):
    """The simulator's processes still alive (for `fleet down` and the cleanup test)."""
    identifier = identifier or identity(state_dir)
    return _marked(identifier) if identifier else set()


def _group_of(pid):
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return int(handle.read().rsplit(")", 1)[1].split()[2])
    except (OSError, ValueError, IndexError):
        return None


def end_all(state_dir, identifier=None, grace=2.0):
    """Ends every process the simulator of `state_dir` started: SIGTERM to each recorded process
    group that still holds a process of ours and to each marked process, then SIGKILL to whatever
    is left after `grace` seconds. A recorded group with no marked member is left alone: its id
    may since have been reused by someone else's processes."""
    identifier = identifier or identity(state_dir)
    with _lock:
        recorded = _recorded_groups(state_dir) | _groups
    deadline = time.time() + grace
    for number in (signal.SIGTERM, signal.SIGKILL):
        marked = _marked(identifier) if identifier else set()
        groups = {_group_of(pid) for pid in marked} & recorded
        for group in groups:
            try:
                os.killpg(group, number)
            except OSError:
                pass
        for pid in marked:
            try:
                os.kill(pid, number)
            except OSError:
                pass
        while number == signal.SIGTERM and time.time() < deadline and _alive(marked):
            time.sleep(0.05)
    if identifier:
        _remove_cgroup(os.path.join(CGROUP_ROOT, f"fleet-{identifier}"))


def _remove_cgroup(path):
    """Removes the simulator's cgroup, the server first leaving it if it is in it."""
    try:
        with open(os.path.join(path, "cgroup.procs")) as handle:
            members = {int(line) for line in handle if line.strip()}
        if os.getpid() in members:
            with open(os.path.join(CGROUP_ROOT, "cgroup.procs"), "w") as handle:
                handle.write(str(os.getpid()))
        os.rmdir(path)
    except (OSError, ValueError):
        pass


def _alive(pids):
    """Whether any of `pids` still runs (zombies do not count: they have ended)."""
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                if handle.read().rsplit(")", 1)[1].split()[0] != "Z":
                    return True
        except OSError:
            pass
    return False
