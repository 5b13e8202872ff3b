"""Elastic Load Balancing v2: target health as the simulated load balancer sees it (web.py)."""
from .. import wire


def register(registry, world):
    def describe_target_health(call):
        return wire.query_result("elbv2", "DescribeTargetHealth", world.web.describe_target_health(call.params, call.region))
    registry.handle("elbv2", "DescribeTargetHealth", describe_target_health)
