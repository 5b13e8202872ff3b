"""Target health as an Application Load Balancer judges it, pure logic (no I/O, no clock).

Each (target group, target) has a `Health`: after registration it is `initial` until
HealthyThresholdCount consecutive checks pass (then `healthy`) or UnhealthyThresholdCount fail
(`unhealthy`); a healthy target turns unhealthy after UnhealthyThresholdCount failures in a row,
an unhealthy one healthy after HealthyThresholdCount successes. Reasons are those of the ELBv2
API reference (TargetHealth.Reason).
"""
INITIAL, HEALTHY, UNHEALTHY = "initial", "healthy", "unhealthy"


def matches(matcher, status):
    """Whether HTTP `status` satisfies a Matcher HttpCode ("200", "200,302", "200-299")."""
    for part in str(matcher or "200").split(","):
        low, _, high = part.strip().partition("-")
        if low and int(low) <= status <= int(high or low):
            return True
    return False


class Health:
    def __init__(self):
        self.state = INITIAL
        self.reason = "Elb.RegistrationInProgress"
        self.description = "Target registration is in progress"
        self.successes = 0
        self.failures = 0
        self.next_check = 0.0

    def record(self, ok, healthy_threshold, unhealthy_threshold, failure=None):
        """One check's outcome; `failure` is (reason, description) when it failed."""
        if ok:
            self.successes, self.failures = self.successes + 1, 0
            if self.state != HEALTHY and self.successes >= healthy_threshold:
                self.state, self.reason, self.description = HEALTHY, None, None
            elif self.state == INITIAL:
                self.reason, self.description = "Elb.InitialHealthChecking", "Initial health checks in progress"
            return
        self.failures, self.successes = self.failures + 1, 0
        if self.failures >= unhealthy_threshold:
            self.state = UNHEALTHY
            self.reason, self.description = failure or ("Target.FailedHealthChecks", "Health checks failed")
        elif self.state == INITIAL:
            self.reason, self.description = "Elb.InitialHealthChecking", "Initial health checks in progress"
