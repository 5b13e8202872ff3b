"""Fault injection: rules that make matching requests fail the way AWS fails.

A rule matches a service (its SigV4 signing name, "ssm", "monitoring", ..., or its botocore
name, "cloudwatch") and optionally an operation, and applies to its next `count` matches (or to
a `rate` fraction of them), after letting the first `skip` matches through (a fault in the third
SendCommand of a deploy, not the first). Kinds, all applied around whichever handler answers (ours or moto's):
  throttle     the service's own throttling error in its own protocol (Throttling for query
               services, ThrottlingException for JSON and CBOR ones, RequestLimitExceeded 503 for
               EC2, SlowDown 503 for S3); `code` overrides it
  error500 / error503   an internal error / service unavailable, in the service's words
  aws-error    any AWS error: `code`, `status` (default 400) and `message`
  latency      sleeps `seconds` before handing the request on
  drop         closes the connection before the request is processed (no `after_bytes`), or
               after `after_bytes` bytes of the real response
  drop-after   processes the request fully (a SendCommand really runs) and then closes the
               connection without a response, so a client that retries sends it twice
  corrupt      answers with one byte of the response body changed (at `after_bytes`, default its
               middle), as a flaky link or disk can: only an end-to-end checksum notices
  resource-failure   not a request fault: CloudFormation fails to create the resource whose
               logical id or type is `operation` (service "cloudformation") with `message` as its
               reason, and rolls the new stack back (providers/cloudformation.py)
"""
import random
import threading

from .errors import AWSError

KINDS = ("throttle", "error500", "error503", "aws-error", "latency", "drop", "drop-after", "corrupt",
         "resource-failure")


class Rule:
    def __init__(self, spec):
        self.service = spec.get("service") or "*"
        self.operation = spec.get("operation") or "*"
        self.kind = spec["kind"]
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind}; one of {', '.join(KINDS)}")
        self.count = spec.get("count")          # apply to the next N matches
        self.rate = spec.get("rate")            # or to this fraction of matches
        self.seconds = float(spec.get("seconds") or 0)
        self.after_bytes = int(spec.get("after_bytes") or 0)
        self.status = int(spec.get("status") or 400)
        self.code = spec.get("code")
        self.message = spec.get("message") or ""
        self.skip = int(spec.get("skip") or 0)   # matches let through untouched first
        self.hits = 0

    def matches(self, services, operation):
        return (self.service == "*" or self.service in services) and self.operation in ("*", operation)

    def take(self, rng):
        """Whether this match is affected; consumes one of `skip`, else one of `count`."""
        if self.skip > 0:
            self.skip -= 1
            return False
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

    def error(self, service, protocol):
        """The AWSError this rule answers with, or None for kinds that are not an answer."""
        if self.kind == "throttle":
            error = throttling(service, protocol)
            if self.code:
                error.code = error.query_code = self.code
            return error
        if self.kind in ("error500", "error503"):
            return server_error(protocol, int(self.kind[-3:]))
        if self.kind == "aws-error":
            return AWSError(self.code or "InternalError", self.message, self.status)
        return None

    def describe(self):
        return {"service": self.service, "operation": self.operation, "kind": self.kind, "count": self.count,
                "rate": self.rate, "skip": self.skip, "hits": self.hits}


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

    def pick(self, services, operation):
        """The rules that apply to this request; `services` are the names it may go by."""
        with self.lock:
            return [rule for rule in self.rules if rule.kind != "resource-failure"
                    and rule.matches(services, operation) and rule.take(self.random)]

    def resource_failure(self, logical_id, resource_type):
        """The reason a resource-failure rule gives the creation of this resource, or None."""
        with self.lock:
            for rule in self.rules:
                if rule.kind == "resource-failure" and rule.matches({"cloudformation"}, logical_id) and rule.take(self.random):
                    return rule.message or "Resource creation failed (injected)"
                if rule.kind == "resource-failure" and rule.matches({"cloudformation"}, resource_type) and rule.take(self.random):
                    return rule.message or "Resource creation failed (injected)"
        return None


def corrupted(response, at):
    """The response with the byte at `at` (the body's middle when `at` is 0) inverted."""
    from .wire import Response
    body = bytearray(response.body)
    if not body:
        return response
    position = at if 0 < at < len(body) else len(body) // 2
    body[position] ^= 0xFF
    return Response(response.status, response.headers, [bytes(body)])


def throttling(service, protocol):
    """The error a throttled call of `service` gets, in the words of its protocol family."""
    if protocol == "ec2":
        return AWSError("RequestLimitExceeded", "Request limit exceeded.", 503)
    if service == "s3":
        return AWSError("SlowDown", "Please reduce your request rate.", 503)
    if protocol == "query":
        return AWSError("Throttling", "Rate exceeded", 400)
    # JSON, REST-JSON and CBOR services; query-compatible ones (CloudWatch) also say Throttling.
    return AWSError("ThrottlingException", "Rate exceeded", 400, query_code="Throttling")


def server_error(protocol, status):
    if protocol in ("json", "rest-json", "smithy-rpc-v2-cbor"):
        code = "InternalServerError" if status == 500 else "ServiceUnavailableException"
    else:
        code = "InternalError" if status == 500 else "ServiceUnavailable"
    message = "We encountered an internal error. Please try again." if status == 500 else "Service is unavailable."
    return AWSError(code, message, status)
