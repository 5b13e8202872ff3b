"""Starts a simulator per test module with `fleet up --auth`, and gives tests boto3 clients."""
import os
import subprocess
import sys
import tempfile

import boto3
import pytest
from botocore.config import Config

TIME_SCALE = "0.02"
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLEET = os.path.join(HERE, "fleet")
sys.path.insert(0, HERE)   # the unit tests import the simulator's modules


class Simulator:
    def __init__(self, state):
        self.state = state
        # AWS's load-balancer time compressed 50 times (timescale.py): 0.6 s health checks.
        environment = dict(os.environ, FLEET_TIME_SCALE=os.environ.get("FLEET_TIME_SCALE", TIME_SCALE))
        output = subprocess.run([FLEET, "up", "--auth", "--state", state, "--exit-with", str(os.getpid())],
                                check=True, capture_output=True, text=True, env=environment).stdout
        self.env = {}
        for line in output.splitlines():
            key, _, value = line.removeprefix("export ").partition("=")
            self.env[key] = value
        self.endpoint = self.env["AWS_ENDPOINT_URL"]

    def client(self, service, secret=None, max_attempts=3, **extra):
        return boto3.client(
            service, endpoint_url=self.endpoint, region_name=self.env["AWS_REGION"],
            aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=secret or self.env["AWS_SECRET_ACCESS_KEY"],
            config=Config(retries={"mode": "standard", "total_max_attempts": max_attempts}, **extra))

    def fleet(self, *arguments):
        return subprocess.run([FLEET, *arguments, "--state", self.state], check=True, capture_output=True, text=True).stdout

    def stop(self):
        subprocess.run([FLEET, "down", "--state", self.state], capture_output=True)


@pytest.fixture(scope="module")
def simulator():
    with tempfile.TemporaryDirectory(prefix="fleet-pytest-") as state:
        sim = Simulator(state)
        yield sim
        sim.stop()


@pytest.fixture(autouse=True)
def no_leftover_faults(request):
    yield
    if "simulator" in request.fixturenames:
        request.getfixturevalue("simulator").fleet("clear")
