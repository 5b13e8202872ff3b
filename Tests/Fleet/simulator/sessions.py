"""Session Manager's records: StartSession, DescribeSessions, TerminateSession (moto has none).

No shell is opened (the data channel is a WebSocket the session-manager-plugin speaks); what is
simulated is what the API tells: a session named as AWS names it, `<caller>-<17 hex digits>` (the
user name, or an assumed role's session name: which is why developer policies allow ending only
`session/${aws:username}-*`), its Target, its Owner (the caller's ARN) and its Status. A new
session is Connected; TerminateSession makes it Terminated with an EndDate, and a session whose
instance is terminated ends the same way. DescribeSessions State "Active" lists the sessions not
ended (Connected, Connecting, Disconnected, Terminating), "History" the ended ones (Terminated,
Failed), filtered by the SessionFilter keys of the API reference (InvokedAfter, InvokedBefore,
Target, Owner, Status, SessionId, AccessType), pages of 1 to 200 (MaxResults; 20 when not given).
"""
import datetime
import secrets
import time

from . import moto_adapter
from .errors import AWSError

ACTIVE = ("Connected", "Connecting", "Disconnected", "Terminating")
ENDED = ("Terminated", "Failed")
FILTER_KEYS = ("InvokedAfter", "InvokedBefore", "Target", "Owner", "Status", "SessionId", "AccessType")
DEFAULT_DOCUMENT = "SSM-SessionManagerRunShell"


class Session:
    def __init__(self, session_id, target, owner, document, reason):
        self.id = session_id
        self.target = target
        self.owner = owner
        self.document = document
        self.reason = reason
        self.status = "Connected"
        self.started = time.time()
        self.ended = None

    def describe(self):
        item = {"SessionId": self.id, "Target": self.target, "Status": self.status, "StartDate": self.started,
                "DocumentName": self.document, "Owner": self.owner, "AccessType": "Standard",
                "MaxSessionDuration": "", "Details": "", "OutputUrl": {"S3OutputUrl": "", "CloudWatchOutputUrl": ""}}
        if self.reason:
            item["Reason"] = self.reason
        if self.ended is not None:
            item["EndDate"] = self.ended
        return item


class Sessions:
    """Session Manager beside Run Command: a session needs the target's agent online."""

    OPERATIONS = ("StartSession", "DescribeSessions", "TerminateSession")

    def __init__(self, run_command):
        self.run_command = run_command
        self.lock = run_command.lock
        self.sessions = {}    # id -> Session, in the order they started

    def handle(self, operation, request, region, caller):
        self.run_command.sync_agents(region)
        return {"StartSession": self.start, "DescribeSessions": self.describe,
                "TerminateSession": self.terminate}[operation](request, region, caller)

    def start(self, request, region, caller):
        target = request.get("Target") or ""
        with self.lock:
            agent = self.run_command.agents.get(target)
            if agent is None or not self.run_command.is_online(agent):
                raise AWSError("TargetNotConnected", f"{target} is not connected.")
            session_id = f"{caller['session_prefix']}-{secrets.token_hex(9)[:17]}"
            session = Session(session_id, target, caller["arn"], request.get("DocumentName") or DEFAULT_DOCUMENT,
                              request.get("Reason"))
            self.sessions[session_id] = session
        return {"SessionId": session_id, "TokenValue": secrets.token_urlsafe(48),
                "StreamUrl": f"wss://ssmmessages.{region}.amazonaws.com/v1/data-channel/{session_id}?role=publish_subscribe"}

    def end_with_their_instances(self, region):
        """Sessions on an instance that is no longer running end with it (callers hold the lock)."""
        states = {moto_adapter.instance_id(item): moto_adapter.instance_state(item) for item in moto_adapter.instances(region)}
        for session in self.sessions.values():
            if session.status in ACTIVE and states.get(session.target, "terminated") in ("shutting-down", "terminated"):
                session.status, session.ended = "Terminated", time.time()

    def describe(self, request, region, caller):
        state = request.get("State")
        if state not in ("Active", "History"):
            raise AWSError("ValidationException", f"1 validation error detected: Value '{state}' at 'state' failed to "
                                                  "satisfy constraint: Member must satisfy enum value set: [Active, History]")
        checks = [self.filter(spec) for spec in request.get("Filters") or []]
        with self.lock:
            self.end_with_their_instances(region)
            wanted = ACTIVE if state == "Active" else ENDED
            items = [session.describe() for session in self.sessions.values()
                     if session.status in wanted and all(check(session) for check in checks)]
        size = request.get("MaxResults") or 20
        if not isinstance(size, int) or not 1 <= size <= 200:
            raise AWSError("ValidationException", f"1 validation error detected: Value '{size}' at 'maxResults' failed "
                                                  "to satisfy constraint: Member must have value less than or equal to 200")
        token = request.get("NextToken") or "0"
        if not token.isdigit() or int(token) > len(items):
            raise AWSError("InvalidNextToken", "The specified token isn't valid.")
        start = int(token)
        result = {"Sessions": items[start:start + size]}
        if start + size < len(items):
            result["NextToken"] = str(start + size)
        return result

    @staticmethod
    def filter(spec):
        key, value = spec.get("key"), spec.get("value") or ""
        if key not in FILTER_KEYS:
            raise AWSError("InvalidFilterKey", f"{key} is not a valid filter key.")
        if key in ("InvokedAfter", "InvokedBefore"):
            try:
                moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
            except ValueError:
                raise AWSError("InvalidFilterValue", f"{value} is not a valid date and time.") from None
            return (lambda s: s.started >= moment) if key == "InvokedAfter" else (lambda s: s.started <= moment)
        member = {"Target": "target", "Owner": "owner", "Status": "status", "SessionId": "id"}.get(key)
        if member is None:   # AccessType: every simulated session is Standard (no just-in-time access)
            return lambda s: value == "Standard"
        return lambda s: getattr(s, member) == value

    def terminate(self, request, region, caller):
        """Ends the session for good; TerminateSession has no error of its own for a session that
        is unknown or already ended (its only documented error is InternalServerError)."""
        session_id = request.get("SessionId") or ""
        with self.lock:
            session = self.sessions.get(session_id)
            if session is not None and session.status in ACTIVE:
                session.status, session.ended = "Terminated", time.time()
        return {"SessionId": session_id}
