"""Injected faults look to botocore exactly like AWS's own failures."""
import time

import botocore.exceptions
import pytest


def test_throttling_is_retried_by_botocore_and_then_given_up(simulator):
    simulator.fleet("inject", "--kind", "throttle", "--service", "sts", "--operation", "GetCallerIdentity", "--count", "2")
    answer = simulator.client("sts").get_caller_identity()
    assert answer["ResponseMetadata"]["RetryAttempts"] == 2

    simulator.fleet("inject", "--kind", "throttle", "--service", "sts", "--operation", "GetCallerIdentity", "--count", "5")
    with pytest.raises(botocore.exceptions.ClientError) as failure:
        simulator.client("sts").get_caller_identity()
    assert failure.value.response["Error"]["Code"] == "Throttling"
    assert failure.value.response["ResponseMetadata"]["RetryAttempts"] == 2


@pytest.mark.parametrize("service,call,code", [
    ("ec2", lambda c: c.describe_instances(), "RequestLimitExceeded"),
    ("ssm", lambda c: c.describe_parameters(), "ThrottlingException"),
    ("s3", lambda c: c.list_buckets(), "SlowDown"),
])
def test_each_service_throttles_in_its_own_words(simulator, service, call, code):
    simulator.fleet("inject", "--kind", "throttle", "--service", service, "--count", "1")
    with pytest.raises(botocore.exceptions.ClientError) as failure:
        call(simulator.client(service, max_attempts=1))
    assert failure.value.response["Error"]["Code"] == code


def test_server_errors_and_dropped_connections(simulator):
    ssm = simulator.client("ssm")
    simulator.fleet("inject", "--kind", "error503", "--service", "ssm", "--operation", "PutParameter", "--count", "1")
    answer = ssm.put_parameter(Name="/faults/a", Value="v", Type="String")
    assert answer["ResponseMetadata"]["RetryAttempts"] == 1

    simulator.fleet("inject", "--kind", "drop", "--service", "ssm", "--operation", "GetParameter", "--count", "1")
    answer = ssm.get_parameter(Name="/faults/a")
    assert answer["Parameter"]["Value"] == "v"
    assert answer["ResponseMetadata"]["RetryAttempts"] == 1

    s3 = simulator.client("s3")
    s3.create_bucket(Bucket="drops", CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    s3.put_object(Bucket="drops", Key="big", Body=b"x" * 100_000)
    simulator.fleet("inject", "--kind", "drop", "--service", "s3", "--operation", "GetObject", "--count", "1",
                    "--after-bytes", "5000")
    body = s3.get_object(Bucket="drops", Key="big")["Body"]
    with pytest.raises((botocore.exceptions.IncompleteReadError, botocore.exceptions.ResponseStreamingError)):
        body.read()


def test_latency_and_any_aws_error(simulator):
    simulator.fleet("inject", "--kind", "latency", "--service", "sts", "--seconds", "0.6", "--count", "1")
    started = time.time()
    simulator.client("sts").get_caller_identity()
    assert time.time() - started >= 0.6

    simulator.fleet("inject", "--kind", "aws-error", "--service", "sts", "--code", "ExpiredToken", "--status", "403",
                    "--message", "The security token included in the request is expired", "--count", "1")
    with pytest.raises(botocore.exceptions.ClientError) as failure:
        simulator.client("sts", max_attempts=1).get_caller_identity()
    assert failure.value.response["Error"]["Code"] == "ExpiredToken"
    assert failure.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_clock_skew_is_refused_like_aws(simulator):
    simulator.fleet("clock", "--offset", "1800")
    try:
        with pytest.raises(botocore.exceptions.ClientError) as failure:
            simulator.client("sts", max_attempts=1).get_caller_identity()
        assert failure.value.response["Error"]["Code"] == "RequestTimeTooSkewed"
    finally:
        simulator.fleet("clock", "--offset", "0")
    assert simulator.client("sts").get_caller_identity()["Account"] == "123456789012"


def test_a_rule_can_let_the_first_matches_through(simulator):
    ssm = simulator.client("ssm", max_attempts=1)
    ssm.put_parameter(Name="/faults/skip", Value="v", Type="String")
    simulator.fleet("inject", "--kind", "error500", "--service", "ssm", "--operation", "GetParameter", "--count", "1",
                    "--skip", "2")
    assert ssm.get_parameter(Name="/faults/skip")["Parameter"]["Value"] == "v"
    assert ssm.get_parameter(Name="/faults/skip")["Parameter"]["Value"] == "v"
    with pytest.raises(botocore.exceptions.ClientError) as failure:
        ssm.get_parameter(Name="/faults/skip")
    assert failure.value.response["Error"]["Code"] == "InternalServerError"
    assert ssm.get_parameter(Name="/faults/skip")["Parameter"]["Value"] == "v"
