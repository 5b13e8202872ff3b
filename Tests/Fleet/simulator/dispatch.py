"""The request pipeline: every AWS request the simulator receives goes through `Dispatcher`.

  1. read the whole body (so no lock is held while a client uploads), identify the call
     (calls.py: service, operation, protocol)
  2. refuse what AWS refuses before any service sees it: expired presigned URLs, clock skew
  3. injected faults that answer instead (throttling, 5xx, any AWS error), latency, drops
  4. the answer: a handler of ours from the registry, or moto with the registry's hooks before
     and after it; idempotency tokens honoured around both; all under state.LOCK
  5. faults that act after processing: drop-after (no response at all), drop mid-response
"""
import datetime
import io
import logging
import socket
import time

from . import auth, calls, faults, proxy, state, wire
from .errors import AWSError

log = logging.getLogger("fleet.dispatch")
SLOW_SECONDS = 2.0     # a lock wait or hold longer than this is logged: it stalls every client
READ_FULLY = ("application/x-www-form-urlencoded", "application/x-amz-json", "application/cbor")


class Dropped(ConnectionAbortedError):
    """Raised to make the HTTP server abandon the connection without answering."""


def read_body(environ):
    """The request body as bytes; environ's stream replaced by a copy for moto to read."""
    length = environ.get("CONTENT_LENGTH")
    stream = environ["wsgi.input"]
    if length:
        data = stream.read(int(length))
    elif environ.get("wsgi.input_terminated"):
        data = stream.read()
    else:
        data = b""
    environ["wsgi.input"] = io.BytesIO(data)
    return data


class Dispatcher:
    def __init__(self, moto_app, registry, injector, tokens, control, clock, web=None):
        self.moto_app = moto_app
        self.web = web          # the load balancers, for requests through the simulator as a proxy
        self.registry = registry
        self.injector = injector
        self.tokens = tokens
        self.control = control
        self.clock = clock      # {"offset": seconds the cloud's clock runs ahead}

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_fleet/"):
            return self.control(environ, start_response, path[len("/_fleet/"):])
        body = read_body(environ)
        destination = proxy.target(environ)
        if destination is not None and self.web is not None:
            return proxy.forward(environ, start_response, self.web, destination, body)
        content_type = environ.get("CONTENT_TYPE", "")
        # Only form and JSON bodies are part of the signature check moto redoes (S3 payloads are
        # covered by x-amz-content-sha256); hand auth exactly what it hashed before.
        signed_body = body if content_type.startswith(READ_FULLY[:2]) else b""
        call = calls.identify(environ, signed_body if not content_type.startswith("application/cbor") else body)
        method = environ.get("REQUEST_METHOD", "POST")
        service = call.service or call.signing_name or "s3"
        self.control.counter.add(environ, service, call.operation or method)

        def refuse(error):
            return self.send(start_response, wire.error(error, service, call.protocol, method))

        if auth.prepare(environ, signed_body) == "expired":
            return refuse(AWSError("AccessDenied", "Request has expired", 403))
        skew = self.skewed(environ)
        if skew:
            return refuse(AWSError("RequestTimeTooSkewed", skew, 403))
        rules = self.injector.pick({call.signing_name, call.service}, call.operation)
        for rule in rules:
            if rule.kind == "latency":
                time.sleep(rule.seconds)
        for rule in rules:
            error = rule.error(service, call.protocol)
            if error is not None:
                return refuse(error)
        drop = next((rule for rule in rules if rule.kind == "drop"), None)
        drop_after = next((rule for rule in rules if rule.kind == "drop-after"), None)
        if drop is not None and drop.after_bytes <= 0:
            self.abandon(environ, "dropped before processing")
        response = self.answer(environ, call, method)
        corrupt = next((rule for rule in rules if rule.kind == "corrupt"), None)
        if corrupt is not None:
            response = faults.corrupted(response, corrupt.after_bytes)
        if drop_after is not None:
            self.abandon(environ, f"dropped after processing {service}.{call.operation} ({response.status})")
        if drop is not None:
            return self.send_partial(environ, start_response, response, drop.after_bytes)
        return self.send(start_response, response)

    # --- answering ---------------------------------------------------------------------------
    def answer(self, environ, call, method):
        handler = self.registry.handler(call.service, call.operation)
        access_key = environ.get("HTTP_AUTHORIZATION", "").partition("Credential=")[2].partition("/")[0]
        call.access_key = access_key
        asked = time.monotonic()
        with state.LOCK:
            held = time.monotonic()
            if held - asked > SLOW_SECONDS:
                log.warning("%s.%s waited %.1f s for the state lock", call.service, call.operation, held - asked)
            try:
                return self.answer_locked(environ, call, method, handler, access_key)
            finally:
                if time.monotonic() - held > SLOW_SECONDS:
                    log.warning("%s.%s held the state lock for %.1f s", call.service, call.operation, time.monotonic() - held)

    def answer_locked(self, environ, call, method, handler, access_key):
        """The answer, while holding state.LOCK."""
        try:
            if handler is not None or self.tokens.replay(call, access_key) is not None:
                # Ours, or a replay: check the signature and permission as moto does for its own.
                call.region = auth.authenticate(environ, call.body, call.operation)
            replay = self.tokens.replay(call, access_key)
            if replay is not None:
                return replay
            if handler is not None:
                response = handler(call)
            else:
                response = None
                for hook in self.registry.hooks_before(call.service, call.operation):
                    response = hook(call)
                    if response is not None:
                        break
                if response is None:
                    response = self.moto(environ)
                    for hook in self.registry.hooks_after(call.service, call.operation):
                        response = hook(call, response) or response
            self.tokens.record(call, access_key, response)
            return response
        except auth.AuthError as error:
            return wire.error(AWSError(error.code, error.message, error.status), call.service, call.protocol, method)
        except AWSError as error:
            return wire.error(error, call.service or call.signing_name, call.protocol, method)
        except Exception as error:  # a bug of ours: answer like AWS's InternalFailure, keep serving
            log.exception("%r failed", call)
            return wire.error(AWSError("InternalFailure", f"{type(error).__name__}: {error}", 500),
                              call.service or call.signing_name, call.protocol, method)

    def moto(self, environ):
        """moto's whole answer to the request (its body iterated while we hold the lock)."""
        captured = {}

        def start_response(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return lambda data: captured.setdefault("written", []).append(data)

        iterable = self.moto_app(environ, start_response)
        try:
            chunks = captured.get("written", []) + [bytes(chunk) for chunk in iterable]
        finally:
            if hasattr(iterable, "close"):
                iterable.close()
        return wire.Response(int(captured["status"].split()[0]), captured["headers"], chunks)

    # --- sending -----------------------------------------------------------------------------
    @staticmethod
    def send(start_response, response):
        start_response(response.status_line(), response.headers)
        return response.chunks

    @staticmethod
    def abandon(environ, why):
        sock = environ.get("werkzeug.socket")
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        raise Dropped(f"fleet: {why}")

    def send_partial(self, environ, start_response, response, after_bytes):
        """The real response's headers and its first `after_bytes` bytes, then the connection cut."""
        start_response(response.status_line(), response.headers)
        data = response.body

        def body():
            yield data[:after_bytes]
            self.abandon(environ, "dropped mid-response")

        return body()

    def skewed(self, environ):
        """Like AWS, refuse a signed request whose X-Amz-Date is more than 15 minutes from our
        clock (which `fleet clock --offset` can move to play a machine whose clock is wrong)."""
        stamp = environ.get("HTTP_X_AMZ_DATE")
        if not stamp or not self.clock["offset"]:
            return None
        try:
            sent = datetime.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()
        except ValueError:
            return None
        now = time.time() + self.clock["offset"]
        if abs(now - sent) <= 900:
            return None
        server = datetime.datetime.fromtimestamp(now, datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        return (f"The difference between the request time and the current time is too large. "
                f"Request time {stamp}, server time {server}.")
