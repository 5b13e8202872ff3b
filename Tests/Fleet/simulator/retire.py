"""Taking instances out of service as Auto Scaling does behind a load balancer: a member leaving
the group (an instance refresh's old instances, a scale-in's victims) is deregistered from its
target groups first, drains there for the deregistration delay (scaled), and only then is it
terminated, so requests under way finish (moto terminated at once, cutting them off).

The caller detaches the instances (moto_adapter.ScalingGroup.detach or scale_in) under
state.LOCK; `drain_then_terminate` runs without it and takes it for each read and the end."""
import time

from . import moto_adapter, state, timescale


def drain_then_terminate(web, group, handles):
    """Waits until the balancer drains `handles` (detached members of `group`), then terminates them."""
    if not handles:
        return
    with state.LOCK:
        arns = group.target_group_arns()
        delays = [(moto_adapter.target_group(group.region, arn) or {}).get("delay", 0) for arn in arns]
    delay = timescale.scaled(max(delays, default=0))
    ids = [moto_adapter.instance_id(instance) for instance in handles]

    def states():
        with state.LOCK:
            return [web.target_state(arn, target) for arn in arns for target in ids] if web is not None else []

    # The balancer first takes them out of rotation (draining), then lets them go after the delay.
    deadline = time.time() + delay + 10
    while time.time() < deadline and any(item not in ("draining", None) for item in states()):
        time.sleep(0.02)
    deadline = time.time() + delay + 10
    while time.time() < deadline and any(item is not None for item in states()):
        time.sleep(0.02)
    with state.LOCK:
        group.terminate(handles)
