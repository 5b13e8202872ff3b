"""SSM Run Command and Session Manager operations, answered by the simulator itself (moto's
SendCommand runs nothing, and it lacks ListCommandInvocations, DescribeInstanceInformation and
every Session Manager call)."""
import json

from .. import moto_adapter, wire


def register(registry, world):
    run_command = world.run_command
    for operation in sorted(run_command.OPERATIONS):
        def answer(call, operation=operation):
            request = json.loads(call.body or b"{}")
            return wire.json_result("ssm", run_command.handle(operation, request, call.region))
        registry.handle("ssm", operation, answer)

    sessions = world.sessions
    for operation in sessions.OPERATIONS:
        def session(call, operation=operation):
            request = json.loads(call.body or b"{}")
            caller = moto_adapter.caller(call.access_key) or {
                "arn": f"arn:aws:iam::{moto_adapter.ACCOUNT_ID}:root", "session_prefix": "root"}
            return wire.json_result("ssm", sessions.handle(operation, request, call.region, caller))
        registry.handle("ssm", operation, session)
