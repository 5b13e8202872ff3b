#!/usr/bin/env python3
"""Local HTTP test server for the HTTP module's tests and Benchmarks/http-download.

Listens on loopback only and prints one JSON line with its ports, then serves until its
standard input closes (so it dies with the test process that started it).

Routes (all accept ?delay=SECONDS before answering):
  GET|HEAD /bytes/N        N bytes of a fixed pattern (see pattern_byte), Range supported;
                           ?drop=K&token=T closes the connection after K body bytes, once per token;
                           &changing=1 makes the ETag "v2" after that drop;
                           ?slow=B trickles B bytes per second; ?etag=V sets the ETag.
  GET|HEAD /file/NAME      a file from --files DIR, sent with sendfile, Range supported.
  GET /status/NNN          that status with a short text body.
  GET /redirect/N          302 to /redirect/N-1; /redirect/0 answers 200 "redirected".
  GET /headers             the request's headers as JSON.
  GET /_ping               "OK", as a container engine's API answers.
  PUT|POST|PATCH|DELETE /echo  the request body back, with X-Received-Method and -Length.
  PUT|POST /verify         reads the body, answers {"bytes": n, "matches": pattern?}.
  absolute-form requests   answered as a proxy would be: "proxied <url>" (nothing is forwarded).
"""
import argparse
import json
import os
import shutil
import socket
import socketserver
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from serving import serve

PERIOD = 1_000_003  # a prime, so offset mistakes never line up with the period


def make_block():
    return bytes(((i * 2654435761) >> 13) & 0xFF for i in range(PERIOD))


BLOCK = make_block()
BLOCK2 = BLOCK + BLOCK  # lets any window of up to PERIOD bytes be sliced without wrapping
DROPPED = set()
LOCK = threading.Lock()


def pattern_chunk(offset, length):
    start = offset % PERIOD
    return memoryview(BLOCK2)[start:start + length]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    files_dir = None

    def log_message(self, *args):
        pass

    def address_string(self):
        return "local"

    # --- helpers -----------------------------------------------------------
    def query(self):
        parsed = urllib.parse.urlsplit(self.path)
        return parsed.path, dict(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True))

    def text(self, status, body, extra=None):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def read_body(self, consume):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return
                remaining = size
                while remaining:
                    chunk = self.rfile.read(min(remaining, 256 << 10))
                    consume(chunk)
                    remaining -= len(chunk)
                self.rfile.readline()
        remaining = int(self.headers.get("Content-Length", "0"))
        while remaining:
            chunk = self.rfile.read(min(remaining, 256 << 10))
            if not chunk:
                raise ConnectionError("body ended early")
            consume(chunk)
            remaining -= len(chunk)

    def byte_range(self, total, etag):
        """(status, start, end) for the Range header, honouring If-Range."""
        header = self.headers.get("Range")
        if_range = self.headers.get("If-Range")
        if not header or (if_range is not None and if_range != etag):
            return 200, 0, total
        spec = header.split("=", 1)[1].split(",")[0].strip()
        first, _, last = spec.partition("-")
        start = int(first) if first else total - int(last)
        end = min(int(last) + 1, total) if first and last else total
        if start >= total:
            return 416, 0, 0
        return 206, start, end

    # --- routes ------------------------------------------------------------
    def do_GET(self):
        if self.path.startswith("http://") or self.path.startswith("https://"):
            return self.text(200, "proxied " + self.path)
        path, params = self.query()
        if "delay" in params:
            time.sleep(float(params["delay"]))
        if path.startswith("/bytes/"):
            return self.serve_pattern(int(path.split("/")[2]), params)
        if path.startswith("/file/"):
            return self.serve_file(os.path.basename(path[len("/file/"):]), params)
        if path.startswith("/status/"):
            code = int(path.split("/")[2])
            return self.text(code, f"status {code}: the test server says no\nsecond line")
        if path.startswith("/redirect/"):
            left = int(path.split("/")[2])
            if left == 0:
                return self.text(200, "redirected")
            return self.text(302, "moving", {"Location": f"/redirect/{left - 1}"})
        if path == "/_ping":
            return self.text(200, "OK")
        if path == "/headers":
            fields = [[name, value] for name, value in self.headers.items()]
            return self.text(200, json.dumps(fields), {"Content-Type": "application/json"})
        return self.text(404, "no such route")

    do_HEAD = do_GET

    def do_PUT(self):
        path, params = self.query()
        if "delay" in params:
            time.sleep(float(params["delay"]))
        if path == "/echo":
            parts = []
            self.read_body(parts.append)
            body = b"".join(parts)
            return self.text(200, body, {"X-Received-Method": self.command, "X-Received-Length": str(len(body))})
        if path == "/verify":
            state = {"bytes": 0, "matches": True}

            def consume(chunk):
                if state["matches"] and bytes(pattern_chunk(state["bytes"], len(chunk))) != chunk:
                    state["matches"] = False
                state["bytes"] += len(chunk)

            self.read_body(consume)
            return self.text(200, json.dumps(state), {"Content-Type": "application/json"})
        return self.text(404, "no such route")

    do_POST = do_PUT
    do_PATCH = do_PUT
    do_DELETE = do_PUT

    def serve_pattern(self, total, params):
        token = params.get("token")
        with LOCK:
            changed = "changing" in params and token in DROPPED
        etag = '"v2"' if changed else params.get("etag", '"v1"')
        status, start, end = self.byte_range(total, etag)
        if status == 416:
            return self.text(416, "range not satisfiable", {"Content-Range": f"bytes */{total}"})
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(end - start))
        self.send_header("ETag", etag)
        self.send_header("Accept-Ranges", "bytes")
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end - 1}/{total}")
        self.end_headers()
        if self.command == "HEAD":
            return
        drop_after = None
        if "drop" in params:
            with LOCK:
                if token not in DROPPED:
                    DROPPED.add(token)
                    drop_after = int(params["drop"])
        slow = int(params["slow"]) if "slow" in params else None
        sent = 0
        position = start
        while position < end:
            size = min(end - position, 256 << 10, slow or (1 << 30))
            if drop_after is not None and sent + size > drop_after:
                size = drop_after - sent
                if size:
                    self.wfile.write(pattern_chunk(position, size))
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return
            self.wfile.write(pattern_chunk(position, size))
            position += size
            sent += size
            if slow:
                time.sleep(1)

    def serve_file(self, name, params):
        full = os.path.join(self.files_dir or "/nonexistent", name)
        if not os.path.isfile(full):
            return self.text(404, "no such file")
        total = os.path.getsize(full)
        status, start, end = self.byte_range(total, '"v1"')
        if status == 416:
            return self.text(416, "range not satisfiable", {"Content-Range": f"bytes */{total}"})
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(end - start))
        self.send_header("ETag", '"v1"')
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end - 1}/{total}")
        self.end_headers()
        if self.command == "HEAD":
            return
        self.wfile.flush()
        with open(full, "rb") as handle:
            self.connection.sendfile(handle, offset=start, count=end - start)


class UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        pass  # dropped connections are part of the tests


class TLSServer(QuietServer):
    """Handshakes in each connection's own thread: wrapped as it is accepted (the default), one
    slow or abandoned handshake would hold the accept loop and every connection behind it."""

    def finish_request(self, request, client_address):
        request.settimeout(120)
        try:
            request.do_handshake()
        except (OSError, ValueError):
            return                  # a client that refused our certificate, or went away
        request.settimeout(None)
        super().finish_request(request, client_address)


def blackhole():
    """A port whose accept queue is full: connecting to it hangs, as to a host that drops SYNs."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        try:
            filler.connect(listener.getsockname())
        except BlockingIOError:
            pass
        fillers.append(filler)
    time.sleep(0.1)
    return listener, fillers


def self_signed(directory):
    key, cert = os.path.join(directory, "key.pem"), os.path.join(directory, "cert.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
         "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return key, cert


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", help="directory served under /file/")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--no-tls", action="store_true")
    parser.add_argument("--forever", action="store_true", help="ignore stdin; run until killed")
    args = parser.parse_args()
    Handler.files_dir = args.files

    servers = []
    plain = QuietServer(("127.0.0.1", args.port), Handler)
    servers.append(plain)
    info = {"port": plain.server_address[1]}

    workdir = tempfile.mkdtemp(prefix="testserver-")
    socket_path = os.path.join(workdir, "http.sock")
    unix = UnixServer(socket_path, Handler)
    servers.append(unix)
    info["unix"] = socket_path

    if not args.no_tls:
        key, cert = self_signed(workdir)
        secure = TLSServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        secure.socket = context.wrap_socket(secure.socket, server_side=True, do_handshake_on_connect=False)
        servers.append(secure)
        info["tlsPort"] = secure.server_address[1]
        info["caBundle"] = cert

    hole, fillers = blackhole()
    info["blackholePort"] = hole.getsockname()[1]

    serve(info, *servers, forever=args.forever)
    shutil.rmtree(workdir, ignore_errors=True)
    os._exit(0)


if __name__ == "__main__":
    main()
