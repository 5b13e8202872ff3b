#!/usr/bin/env python3
"""A local stand-in for the EC2 instance metadata service, IMDSv2 only, for credential tests.

PUT /latest/api/token needs X-aws-ec2-metadata-token-ttl-seconds and answers a token; every GET
needs that token in X-aws-ec2-metadata-token (401 otherwise). Role credentials expire
--lifetime seconds after they are handed out, and each hand-out has a new key id, so tests can
see refreshes. GET /_log lists the requests seen. Exits when stdin closes.
"""
import argparse
import datetime
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "TestSupport", "Fixtures"))
from serving import serve  # noqa: E402  (the shared fixture main lives with TestSupport)

TOKEN = "imds-token-0123456789"
STATE = {"issued": 0, "log": []}
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    lifetime = 3600

    def log_message(self, *args):
        pass

    def answer(self, status, body, content_type="text/plain"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def record(self):
        with LOCK:
            STATE["log"].append({"method": self.command, "path": self.path,
                                 "ttl": self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"),
                                 "token": self.headers.get("X-aws-ec2-metadata-token")})

    def do_PUT(self):
        self.record()
        if self.path != "/latest/api/token":
            return self.answer(404, "not found")
        if not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
            return self.answer(400, "missing TTL")
        return self.answer(200, TOKEN)

    def do_GET(self):
        if self.path == "/_log":
            with LOCK:
                return self.answer(200, json.dumps(STATE["log"]), "application/json")
        self.record()
        if self.headers.get("X-aws-ec2-metadata-token") != TOKEN:
            return self.answer(401, "unauthorized")
        if self.path == "/latest/meta-data/placement/region":
            return self.answer(200, "eu-west-3")
        if self.path == "/latest/meta-data/iam/security-credentials/":
            return self.answer(200, "devbox-ada")
        if self.path == "/latest/meta-data/iam/security-credentials/devbox-ada":
            with LOCK:
                STATE["issued"] += 1
                serial = STATE["issued"]
            expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=self.lifetime)
            body = {"Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": f"ASIAIMDS{serial:012d}",
                    "SecretAccessKey": f"imds-secret-{serial}", "Token": f"imds-session-{serial}",
                    "Expiration": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "LastUpdated": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
            return self.answer(200, json.dumps(body), "application/json")
        return self.answer(404, "not found")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lifetime", type=int, default=3600)
    args = parser.parse_args()
    Handler.lifetime = args.lifetime
    serve(None, ThreadingHTTPServer(("127.0.0.1", 0), Handler))


if __name__ == "__main__":
    main()
