"""The one factor by which the simulator may compress AWS's time: FLEET_TIME_SCALE.

Load balancer health checks (interval, healthy/unhealthy thresholds counted in checks) and the
deregistration delay are AWS's durations multiplied by this factor, so their ratios stay AWS's
(the check's timeout is not taken below 1 s: it bounds the app's real latency, see web.py): with the default 1 a target needs 5 x 30 s to turn healthy, as on AWS; the pytest suite
runs with 0.02 (0.6 s checks, 3 s to healthy), and a deploy that waits too little for health
fails here as it would there. Nothing else is scaled.
"""
import os


def factor():
    try:
        value = float(os.environ.get("FLEET_TIME_SCALE", "1"))
    except ValueError:
        return 1.0
    return value if value > 0 else 1.0


def scaled(seconds):
    """AWS's `seconds` in the simulator's time."""
    return float(seconds) * factor()
