"""SSM Run Command operations, answered by the simulator itself (moto's SendCommand runs nothing
and it lacks ListCommandInvocations and DescribeInstanceInformation)."""
import json

from .. import wire


def register(registry, world):
    run_command = world.run_command
    for operation in sorted(run_command.OPERATIONS):
        def answer(call, operation=operation):
            request = json.loads(call.body or b"{}")
            return wire.json_result("ssm", run_command.handle(operation, request, call.region))
        registry.handle("ssm", operation, answer)
