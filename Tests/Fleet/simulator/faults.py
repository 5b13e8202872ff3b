"""Fault injection: rules that make matching requests fail the way AWS fails.

A rule matches a service (from the SigV4 credential scope) and optionally an operation, and
applies to its next `count` matches (or to a `rate` fraction of them). Kinds:
  throttle   HTTP 400 with the service's throttling code (Throttling, ThrottlingException,
             RequestLimitExceeded for EC2, SlowDown 503 for S3)
  error500 / error503   an InternalError / ServiceUnavailable answer
  aws-error  any AWS error: `code`, `status` (default 400) and `message`, in the service's format
             (ExpiredToken, RequestTimeTooSkewed, AccessDenied, ...)
  latency    sleeps `seconds` before handing the request on
  drop       closes the connection after part of the real response body (or before any byte)
"""
import json
import random
import re
import threading
import time
import urllib.parse

CREDENTIAL = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")
JSON_SERVICES = {"ssm"}
EC2_SERVICES = {"ec2"}


def identify(environ, body):
    """(service, operation) of a request, as well as we can tell."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    match = CREDENTIAL.search(auth)
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    service = match.group(2) if match else (query.get("X-Amz-Credential", [""])[0].split("/")[3:4] or [""])[0]
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        return service, target.split(".")[-1]
    if "Action" in query:
        return service, query["Action"][0]
    content_type = environ.get("CONTENT_TYPE", "")
    if body and content_type.startswith("application/x-www-form-urlencoded"):
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        if "Action" in form:
            return service, form["Action"][0]
    if service == "s3":
        return service, s3_operation(environ, query)
    return service, ""


def s3_operation(environ, query):
    method = environ["REQUEST_METHOD"]
    path = environ.get("PATH_INFO", "/").strip("/")
    has_key = "/" in path
    if "uploads" in query:
        return "CreateMultipartUpload"
    if "uploadId" in query:
        return {"PUT": "UploadPart", "POST": "CompleteMultipartUpload", "DELETE": "AbortMultipartUpload",
                "GET": "ListParts"}.get(method, "")
    if not has_key:
        return {"GET": "ListObjectsV2", "PUT": "CreateBucket", "DELETE": "DeleteBucket", "HEAD": "HeadBucket"}.get(method, "")
    if method == "PUT" and environ.get("HTTP_X_AMZ_COPY_SOURCE"):
        return "CopyObject"
    return {"GET": "GetObject", "PUT": "PutObject", "DELETE": "DeleteObject", "HEAD": "HeadObject"}.get(method, "")


class Rule:
    def __init__(self, spec):
        self.service = spec.get("service", "*")
        self.operation = spec.get("operation", "*")
        self.kind = spec["kind"]
        self.count = spec.get("count")          # apply to the next N matches
        self.rate = spec.get("rate")            # or to this fraction of matches
        self.seconds = float(spec.get("seconds", 0))
        self.after_bytes = int(spec.get("after_bytes", 0))
        self.status = int(spec.get("status") or 400)
        self.code = spec.get("code", "InternalError")
        self.message = spec.get("message", "")
        self.hits = 0

    def matches(self, service, operation):
        return (self.service in ("*", service)) and (self.operation in ("*", operation))

    def take(self, rng):
        """Whether this match is affected; consumes one of `count`."""
        if self.count is not None:
            if self.hits >= self.count:
                return False
            self.hits += 1
            return True
        if self.rate is not None:
            hit = rng.random() < float(self.rate)
            self.hits += int(hit)
            return hit
        self.hits += 1
        return True

    def describe(self):
        return {"service": self.service, "operation": self.operation, "kind": self.kind, "count": self.count,
                "rate": self.rate, "hits": self.hits}


class FaultInjector:
    def __init__(self, seed=0):
        self.rules = []
        self.lock = threading.Lock()
        self.random = random.Random(seed)

    def add(self, spec):
        rule = Rule(spec)
        with self.lock:
            self.rules.append(rule)
        return rule

    def clear(self):
        with self.lock:
            self.rules = []

    def describe(self):
        with self.lock:
            return [rule.describe() for rule in self.rules]

    def pick(self, service, operation):
        with self.lock:
            chosen = []
            for rule in self.rules:
                if rule.matches(service, operation) and rule.take(self.random):
                    chosen.append(rule)
            return chosen


def throttling_response(service):
    """The status, headers and body AWS answers a throttled call of `service` with."""
    request_id = "fleet-" + "%08x" % random.getrandbits(32)
    if service == "s3":
        body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code>"
                "<Message>Please reduce your request rate.</Message>"
                f"<RequestId>{request_id}</RequestId></Error>")
        return 503, "application/xml", body, request_id
    if service in JSON_SERVICES:
        body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"})
        return 400, "application/x-amz-json-1.1", body, request_id
    if service in EC2_SERVICES:
        body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error><Code>RequestLimitExceeded</Code>"
                f"<Message>Request limit exceeded.</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>")
        return 503, "text/xml", body, request_id
    body = ("<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message>"
            f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>")
    return 400, "text/xml", body, request_id


def server_error_response(service, status):
    code = "InternalError" if status == 500 else "ServiceUnavailable"
    message = "We encountered an internal error. Please try again." if status == 500 else "Service is unavailable."
    if service in JSON_SERVICES:
        code = "InternalServerError" if status == 500 else "ServiceUnavailableException"
    return error_response(service, status, code, message)


def error_response(service, status, code, message):
    """An AWS error as `service` formats it: JSON for SSM, <Error> for S3, EC2's <Response>, else query."""
    request_id = "fleet-" + "%08x" % random.getrandbits(32)
    message = message.replace("&", "&amp;").replace("<", "&lt;")
    if service in JSON_SERVICES:
        return status, "application/x-amz-json-1.1", json.dumps({"__type": code, "message": message}), request_id
    if service == "s3":
        body = f"<Error><Code>{code}</Code><Message>{message}</Message><RequestId>{request_id}</RequestId></Error>"
        return status, "application/xml", body, request_id
    if service in EC2_SERVICES:
        body = (f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors>"
                f"<RequestID>{request_id}</RequestID></Response>")
        return status, "text/xml", body, request_id
    kind = "Receiver" if status >= 500 else "Sender"
    body = (f"<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>")
    return status, "text/xml", body, request_id
