"""What every fixture server shares (testserver.py, git_http.py, mariadb_server.py, AWSTests' imds.py):
start its servers, print one JSON line with its ports for PythonServer, then serve until its
standard input closes, which happens when the test process that started it ends."""
import json
import sys
import threading


def serve(info, *servers, forever=False):
    """Runs each server on a daemon thread, prints `info` (default: the first server's port) and
    returns once stdin is closed, or never when `forever`. Secrets a script reads from stdin's
    first line must be read before calling this."""
    for server in servers:
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
    if info is None:
        info = {"port": servers[0].server_address[1]}
    print(json.dumps(info), flush=True)
    try:
        if forever:
            threading.Event().wait()
        while sys.stdin.buffer.read(4096):
            pass
    except KeyboardInterrupt:
        pass
