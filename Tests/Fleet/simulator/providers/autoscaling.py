"""Auto Scaling instance refresh, which moto lacks (see refresh.py), and the activities of target
tracking (scaling.py), which moto never records."""
from .. import wire


def register(registry, world):
    refresher = world.refresher
    for operation in refresher.OPERATIONS:
        def answer(call, operation=operation):
            return wire.query_result("autoscaling", operation, refresher.handle(operation, call.params, call.region))
        registry.handle("autoscaling", operation, answer)

    tracking = world.scaling
    for operation in tracking.OPERATIONS:
        def activities(call, operation=operation):
            return wire.query_result("autoscaling", operation, tracking.handle(operation, call.params, call.region))
        registry.handle("autoscaling", operation, activities)
