#!/usr/bin/env python3
"""`git daemon` over loopback for the tests, no authentication: what a developer machine in the
simulated cloud (whose filesystem holds no host path) clones from, as git://127.0.0.1:PORT/<name>.

usage: git_daemon.py BASE_PATH   Prints {"port": N}; stops the daemon when stdin closes.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import time

BASE = sys.argv[1]
with socket.socket() as probe:
    probe.bind(("127.0.0.1", 0))
    PORT = probe.getsockname()[1]
# Its own process group (`git daemon` runs git-daemon as a child, which outlives a plain terminate),
# and no inherited stdout/stderr: a daemon left holding the test runner's output would keep
# `swift test` waiting for its end forever.
daemon = subprocess.Popen(["git", "daemon", "--reuseaddr", "--export-all", "--listen=127.0.0.1", f"--port={PORT}",
                           f"--base-path={BASE}", BASE], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, start_new_session=True)
for _ in range(100):
    try:
        socket.create_connection(("127.0.0.1", PORT), timeout=0.2).close()
        break
    except OSError:
        time.sleep(0.05)
# Ended by a signal (the test runner's group at its end) as by stdin closing: the daemon goes too.
for number in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
    signal.signal(number, lambda *_: sys.exit(0))
print(json.dumps({"port": PORT}), flush=True)
try:
    while sys.stdin.buffer.read(4096):
        pass
finally:
    try:
        os.killpg(daemon.pid, signal.SIGKILL)   # git-daemon outlived SIGTERM here
    except OSError:
        pass
