"""Runs a process inside one instance: its root directory is `/`, it has its own hostname, and
nothing of the host is writable.

Measured on this machine (root inside a sandbox, Debian 12): `unshare --mount --uts` and
Debian's `bubblewrap` 0.8 both work without user namespaces; bwrap is used because it builds the
whole mount tree in one exec (about 5 ms a start). Each process gets new mount, UTS and IPC
namespaces; the network namespace stays the host's so commands reach the simulator on loopback
(`aws s3 cp`, the devbox binary).

Inside: the instance root `<state>/instances/<id>/root` bound read-write at `/` (so files a
command writes are the very files the host, the web servers, S3 output copies and the Swift tests
read there); the host's `/usr` read-only, with `/bin`, `/sbin`, `/lib*` as the usual symlinks into
it (Debian's merged /usr), except `/usr/local`, which is the instance's own and writable (where
an admin's tools, or a test's stand-ins for apt-get and dnf, go: empty on a fresh instance); a fresh `/proc` and minimal `/dev`; in `/etc` (the instance's own,
writable by it) copies of the few files tools read (passwd, group, hosts, resolv.conf, ...) and
read-only binds of the host's certificate and alternatives directories; and, read-only at their
own paths, the simulator's own venv (its `aws` CLI plays the one AWS's images ship; `TOOLS_BIN`
is on every instance's PATH) and the directories of PATH that live outside /usr (the Swift build
with `devbox`), so what a test puts on PATH is there.
"""
import os
import shutil
import sys

BWRAP = shutil.which("bwrap") or "/usr/bin/bwrap"
MERGED = {"bin": "usr/bin", "sbin": "usr/sbin", "lib": "usr/lib", "lib64": "usr/lib64", "lib32": "usr/lib32"}
ETC_COPIES = ("passwd", "group", "hosts", "resolv.conf", "nsswitch.conf", "host.conf", "services", "protocols",
              "ld.so.conf", "bash.bashrc", "profile", "mime.types", "os-release", "debian_version")
ETC_BINDS = ("ssl", "alternatives", "ld.so.cache", "php", "localtime")   # each bind costs ~0.3 ms a start
# /root is the instance's own home: a host tool directory there (~/.cargo/bin) stays the host's.
SYSTEM_PREFIXES = ("/usr/", "/bin", "/sbin", "/lib", "/root/")
TOOLS = sys.prefix
TOOLS_BIN = os.path.join(sys.prefix, "bin")
# The simulated machine image's stand-ins for what Amazon Linux provides and the simulator plays
# (dnf, systemctl, nginx; README "The machine image"): read-only, on PATH after /usr/local.
IMAGE_BIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "image", "bin")


def available():
    """Whether bubblewrap is installed (scripts/bootstrap installs it)."""
    return os.path.exists(BWRAP)


def prepare_root(root):
    """Gives a new instance root the layout of a Debian instance: the merged-/usr symlinks, /etc
    with what tools read, /tmp, /root. Idempotent; never overwrites what the instance changed."""
    for name, target in MERGED.items():
        path = os.path.join(root, name)
        if not os.path.lexists(path) and os.path.isdir(os.path.join("/", target)):
            os.symlink(target, path)
    for name in ("etc", "tmp", "root", "usr/local/bin", "usr/local/sbin", "var/log", "run", "proc", "dev"):
        os.makedirs(os.path.join(root, name), exist_ok=True)
    os.chmod(os.path.join(root, "tmp"), 0o1777)
    for name in ETC_COPIES:
        source, copy = os.path.join("/etc", name), os.path.join(root, "etc", name)
        if os.path.isfile(source) and not os.path.lexists(copy):
            shutil.copyfile(source, copy)
    hostname = os.path.join(root, "etc", "hostname")
    if not os.path.exists(hostname):
        with open(hostname, "w") as handle:
            handle.write(os.path.basename(os.path.dirname(root)) + "\n")


def path_binds(path, root):
    """The directories of a PATH outside the system's, each with what its tools need beside it: a
    `bin` directory's parent (a venv's lib/ and pyvenv.cfg), else the directory itself. Never a
    directory that holds instance roots: other instances stay out of sight."""
    binds = []
    real_root = os.path.realpath(root)
    for entry in (path or "").split(":"):
        if not entry.startswith("/") or entry.startswith(SYSTEM_PREFIXES) or not os.path.isdir(entry):
            continue
        for directory in ([os.path.dirname(entry)] if os.path.basename(entry) == "bin" else []) + [entry]:
            real = os.path.realpath(directory)
            if directory != "/" and not (real_root + os.sep).startswith(real + os.sep) \
                    and not real.startswith(real_root + os.sep):
                if directory not in binds:
                    binds.append(directory)
                break
    return binds


def command(root, hostname, argv, workdir="/", path=None):
    """The argv that runs `argv` inside the instance whose root is `root`, in `workdir` (a path
    inside the instance)."""
    wrapped = [BWRAP, "--bind", root, "/", "--ro-bind", "/usr", "/usr",
               "--bind", os.path.join(root, "usr", "local"), "/usr/local", "--proc", "/proc", "--dev", "/dev",
               "--unshare-uts", "--unshare-ipc", "--hostname", hostname]
    for name in ETC_BINDS:
        source = os.path.join("/etc", name)
        if os.path.exists(source):
            wrapped += ["--ro-bind", os.path.realpath(source), source]
    binds = path_binds(path, root)
    for directory in (TOOLS, os.path.realpath(TOOLS), os.path.dirname(IMAGE_BIN)):
        if directory not in binds and directory != sys.base_prefix and not directory.startswith(SYSTEM_PREFIXES):
            binds.append(directory)
    for directory in binds:
        wrapped += ["--ro-bind", os.path.realpath(directory), directory]
    return wrapped + ["--chdir", workdir or "/", "--"] + list(argv)
