"""What an SSM command invocation may be, and how a command's status follows from them.

AWS reports an invocation's `Status` only from `CommandInvocationStatus` (botocore's ssm model:
Pending | InProgress | Delayed | Success | Cancelled | TimedOut | Failed | Cancelling) and puts the
reason in `StatusDetails` ("Understanding command statuses", AWS Systems Manager User Guide): an
offline node is Failed / Undeliverable, a delivery timeout TimedOut / DeliveryTimedOut, an
execution timeout TimedOut / ExecutionTimedOut, invocations the service stopped sending after
MaxErrors Cancelled / Terminated. Only legal moves are allowed, so a race (a cancel arriving as
the agent picks the invocation up) can end one way only: `move` refuses the loser.

Pure logic, no locking: runcommand calls `move` under the simulator's one lock.
"""
import math
import re

PENDING, IN_PROGRESS, DELAYED, SUCCESS = "Pending", "InProgress", "Delayed", "Success"
CANCELLED, TIMED_OUT, FAILED, CANCELLING = "Cancelled", "TimedOut", "Failed", "Cancelling"
STATUSES = (PENDING, IN_PROGRESS, DELAYED, SUCCESS, CANCELLED, TIMED_OUT, FAILED, CANCELLING)
TERMINAL = frozenset({SUCCESS, CANCELLED, TIMED_OUT, FAILED})

# StatusDetails of an invocation, with the Status each goes with.
DETAILS = {
    "Pending": PENDING, "InProgress": IN_PROGRESS, "Delayed": DELAYED, "Success": SUCCESS,
    "Failed": FAILED, "Undeliverable": FAILED, "DeliveryTimedOut": TIMED_OUT, "ExecutionTimedOut": TIMED_OUT,
    "Cancelled": CANCELLED, "Terminated": CANCELLED, "Cancelling": CANCELLING,
}

# From each status, the StatusDetails it may move to: what never reached the agent can only be
# undeliverable, time out in delivery or be stopped; only what runs can succeed, fail or time out
# in execution; final states are final.
NOT_DELIVERED = {"InProgress", "Delayed", "Cancelled", "Terminated", "Undeliverable", "DeliveryTimedOut"}
RUNNING = {"Success", "Failed", "ExecutionTimedOut"}
LEGAL = {
    PENDING: NOT_DELIVERED,
    DELAYED: NOT_DELIVERED - {"Delayed"},
    IN_PROGRESS: RUNNING | {"Cancelling"},
    CANCELLING: RUNNING | {"Cancelled"},
}


class IllegalTransition(Exception):
    pass


def can_move(status, details):
    """Whether an invocation in `status` may take the StatusDetails `details`."""
    return details in LEGAL.get(status, ())


def move(invocation, details):
    """Moves `invocation` (anything with .status and .details) to the state `details` names;
    raises IllegalTransition, changing nothing, when the move is not allowed."""
    if details not in DETAILS:
        raise IllegalTransition(f"unknown StatusDetails {details!r}")
    if not can_move(invocation.status, details):
        raise IllegalTransition(f"{invocation.status}/{invocation.details} -> {details}")
    invocation.status, invocation.details = DETAILS[details], details


def counts_as_error(details):
    """MaxErrors counts failed and timed-out executions, not Undeliverable nor DeliveryTimedOut
    (SendCommand, MaxErrors, AWS Systems Manager API Reference)."""
    return details in ("Failed", "ExecutionTimedOut")


def command_status(details_list, max_errors, cancel_requested):
    """(Status, StatusDetails) of a command from its invocations' StatusDetails, after the
    User Guide's table: Failed when errors exceed MaxErrors, TimedOut when delivery or execution
    timeouts do, Incomplete (with Status Success: within MaxErrors) when some did not succeed,
    Undeliverable invocations ignored unless all are."""
    statuses = [DETAILS[item] for item in details_list]
    if not details_list:
        return SUCCESS, "Success"
    if any(status not in TERMINAL for status in statuses):
        if cancel_requested:
            return CANCELLING, "Cancelling"
        if any(status in (IN_PROGRESS, CANCELLING) for status in statuses):
            return IN_PROGRESS, "InProgress"
        return PENDING, "Pending"
    if cancel_requested:
        return CANCELLED, "Cancelled"
    if all(item == "Undeliverable" for item in details_list):
        return FAILED, "Failed"
    if details_list.count("ExecutionTimedOut") > max_errors:
        return TIMED_OUT, "ExecutionTimedOut"
    if sum(1 for item in details_list if counts_as_error(item)) > max_errors:
        return FAILED, "Failed"
    if details_list.count("DeliveryTimedOut") > max_errors:
        return TIMED_OUT, "DeliveryTimedOut"
    considered = [item for item in details_list if item != "Undeliverable"]
    if all(item == "Success" for item in considered):
        return SUCCESS, "Success"
    return SUCCESS, "Incomplete"


# --- MaxConcurrency and MaxErrors ----------------------------------------------------------------
# The patterns of botocore's ssm model (shapes MaxConcurrency and MaxErrors, 1 to 7 characters).
PATTERNS = {
    "maxConcurrency": r"^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$",
    "maxErrors": r"^([1-9][0-9]*|[0]|[1-9][0-9]%|[0-9]%|100%)$",
}


class InvalidLimit(Exception):
    """A value AWS's request validation rejects: a 400 ValidationException."""


def validate_limit(name, value):
    """Checks one of the two fields as AWS's validation does, with its message."""
    if value is None:
        return
    if not isinstance(value, str):
        raise InvalidLimit(f"1 validation error detected: Value '{value}' at '{name}' failed to satisfy constraint: "
                           "Member must be a string")
    problems = []
    if not 1 <= len(value) <= 7:
        problems.append(f"Value '{value}' at '{name}' failed to satisfy constraint: "
                        "Member must have length less than or equal to 7" if len(value) > 7 else
                        f"Value '{value}' at '{name}' failed to satisfy constraint: "
                        "Member must have length greater than or equal to 1")
    if not re.match(PATTERNS[name], value):
        problems.append(f"Value '{value}' at '{name}' failed to satisfy constraint: "
                        f"Member must satisfy regular expression pattern: {PATTERNS[name]}")
    if problems:
        raise InvalidLimit(f"{len(problems)} validation error{'s' if len(problems) > 1 else ''} detected: "
                           + "; ".join(problems))


def resolve_limit(value, targets, default):
    """A valid MaxConcurrency / MaxErrors as a count: a number, or a percentage of the targets
    rounded up (at least one for a non-zero percentage)."""
    if value in (None, ""):
        return default
    if value.endswith("%"):
        percent = int(value[:-1])
        return max(1, math.ceil(targets * percent / 100)) if percent else 0
    return int(value)
