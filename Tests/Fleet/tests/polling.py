"""Waiting for the simulator to reach a state: the one polling loop the tests share."""
import time


def eventually(predicate, timeout=15, interval=0.2, message=None):
    """The first truthy value of `predicate()` within `timeout` seconds, polled every
    `interval`; else an AssertionError saying `message()` (or that the condition was not reached)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(message() if message else "condition not reached")
