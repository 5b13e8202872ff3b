"""Auto Scaling instance refresh, which moto lacks (see refresh.py)."""
from .. import wire


def register(registry, world):
    refresher = world.refresher
    for operation in refresher.OPERATIONS:
        def answer(call, operation=operation):
            return wire.query_result("autoscaling", operation, refresher.handle(operation, call.params, call.region))
        registry.handle("autoscaling", operation, answer)
