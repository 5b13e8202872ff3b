#!/usr/bin/env python3
"""Smart-HTTP git server for the tests: `git http-backend` behind HTTP basic auth, on loopback.

Pushes work too: http-backend serves git-receive-pack to an authenticated user (REMOTE_USER is
set below), and the repository's hooks run as on a real server.

usage: git_http.py PROJECT_ROOT USER   (the password is read from stdin's first line, never argv)
Prints {"port": N}; exits when stdin closes.
"""
import base64
import os
import subprocess
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from serving import serve

ROOT, USER = sys.argv[1], sys.argv[2]
PASSWORD = sys.stdin.readline().rstrip("\n")
EXPECTED = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_any(self):
        if self.headers.get("Authorization") != EXPECTED:
            # No body, and a fresh connection for the retry: libgit2 1.5 reuses the connection
            # without reading a 401's body, then chokes on it.
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="nuvola"')
            self.send_header("Content-Length", "0")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            return
        path, _, query = self.path.partition("?")
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            # libgit2 streams its upload-pack requests chunked.
            parts = []
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    break
                parts.append(self.rfile.read(size))
                self.rfile.readline()
            body = b"".join(parts)
        else:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
        environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GIT_PROJECT_ROOT": ROOT, "GIT_HTTP_EXPORT_ALL": "1",
                       "PATH_INFO": path, "QUERY_STRING": query, "REQUEST_METHOD": self.command,
                       "CONTENT_TYPE": self.headers.get("Content-Type", ""), "CONTENT_LENGTH": str(len(body)),
                       "REMOTE_USER": USER, "REMOTE_ADDR": "127.0.0.1", "GIT_CONFIG_NOSYSTEM": "1", "HOME": ROOT}
        if self.headers.get("Content-Encoding") == "gzip":
            environment["HTTP_CONTENT_ENCODING"] = "gzip"
        output = subprocess.run(["git", "http-backend"], input=body, env=environment, capture_output=True).stdout
        separator = b"\r\n\r\n" if b"\r\n\r\n" in output.split(b"\n\n", 1)[0] + b"\n\n" else b"\n\n"
        head, _, payload = output.partition(separator)
        status, headers = 200, []
        for line in head.decode().replace("\r\n", "\n").split("\n"):
            name, _, value = line.partition(": ")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name:
                headers.append((name, value))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = handle_any
    do_POST = handle_any


serve(None, ThreadingHTTPServer(("127.0.0.1", 0), Handler))
