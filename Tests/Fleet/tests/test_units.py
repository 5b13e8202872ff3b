"""The simulator's pure logic, without a server: the registry, error wire forms (read back by
botocore's own parsers, protocol by protocol), CBOR, request identification, target health."""
import io

import botocore.session
import pytest
from botocore.parsers import create_parser

from simulator import calls, cbor, health, registry, wire
from simulator.errors import AWSError
from simulator.faults import throttling

SESSION = botocore.session.get_session()


# --- registry -----------------------------------------------------------------------------------
def test_registry_routes_by_service_and_operation_and_keeps_hooks_apart():
    table = registry.Registry()
    table.handle("ssm", "SendCommand", "send")
    table.before("cloudformation", "CreateStack", "first")
    table.before("cloudformation", "CreateStack", "second")
    table.after("cloudformation", "CreateChangeSet", "fix")
    assert table.handler("ssm", "SendCommand") == "send"
    assert table.handler("ssm", "GetParameter") is None               # moto answers
    assert table.handler("ec2", "SendCommand") is None                 # another service's operation
    assert table.hooks_before("cloudformation", "CreateStack") == ["first", "second"]
    assert table.hooks_after("cloudformation", "CreateChangeSet") == ["fix"]
    assert table.operations() == [("ssm", "SendCommand")]
    with pytest.raises(ValueError):
        table.handle("ssm", "SendCommand", "again")                     # one handler per operation
    with pytest.raises(ValueError):
        table.before("ssm", "SendCommand", "never runs")                # a handler's operation never reaches moto
    with pytest.raises(ValueError):
        table.handle("cloudformation", "CreateStack", "would hide the hooks")


# --- error wire forms, read back by botocore ----------------------------------------------------
def parsed_error(service, operation, response):
    model = SESSION.get_service_model(service)
    protocol = model.resolved_protocol
    headers = {key.lower(): value for key, value in response.headers}
    from botocore.awsrequest import HeadersDict
    parser = create_parser(protocol)
    return parser.parse({"status_code": response.status, "headers": HeadersDict(headers), "body": response.body},
                        model.operation_model(operation).output_shape)


@pytest.mark.parametrize("service,operation,protocol,code", [
    ("sts", "GetCallerIdentity", "query", "Throttling"),
    ("ec2", "DescribeInstances", "ec2", "RequestLimitExceeded"),
    ("s3", "ListBuckets", "rest-xml", "SlowDown"),
    ("ssm", "SendCommand", "json", "ThrottlingException"),
    ("kms", "ListKeys", "json", "ThrottlingException"),
    ("secretsmanager", "ListSecrets", "json", "ThrottlingException"),
    ("application-autoscaling", "DescribeScalableTargets", "json", "ThrottlingException"),
    ("cloudwatch", "ListMetrics", "json", "Throttling"),                 # awsQueryCompatible: the query code
    ("route53", "ListHostedZones", "rest-xml", "ThrottlingException"),
    ("lambda", "ListFunctions", "rest-json", "ThrottlingException"),
])
def test_throttling_in_each_protocol_reads_back_with_its_code(service, operation, protocol, code):
    model = SESSION.get_service_model(service)
    assert model.resolved_protocol == protocol
    response = wire.error(throttling(service, protocol), service, protocol)
    error = parsed_error(service, operation, response)["Error"]
    assert error["Code"] == code
    assert error["Message"]


def test_cbor_errors_read_back_with_botocore_cbor_parser():
    from botocore.awsrequest import HeadersDict
    response = wire.error(AWSError("ThrottlingException", "Rate exceeded", query_code="Throttling"),
                          "cloudwatch", "smithy-rpc-v2-cbor")
    assert response.header("smithy-protocol") == "rpc-v2-cbor"
    headers = HeadersDict({key.lower(): value for key, value in response.headers})
    parsed = create_parser("smithy-rpc-v2-cbor").parse(
        {"status_code": 400, "headers": headers, "body": response.body},
        SESSION.get_service_model("cloudwatch").operation_model("ListMetrics").output_shape)
    assert parsed["Error"]["Code"] == "Throttling" and parsed["Error"]["Message"] == "Rate exceeded"


def test_cbor_encodes_as_rfc_8949_says():
    assert cbor.encode(0) == b"\x00" and cbor.encode(23) == b"\x17" and cbor.encode(24) == b"\x18\x18"
    assert cbor.encode(-1) == b"\x20" and cbor.encode(1000) == b"\x19\x03\xe8"
    assert cbor.encode("a") == b"\x61a" and cbor.encode({"a": True}) == b"\xa1\x61a\xf5"
    assert cbor.encode([1, None]) == b"\x82\x01\xf6"


def test_head_requests_get_no_body():
    response = wire.error(AWSError("NoSuchKey", "gone", 404), "s3", "rest-xml", method="HEAD")
    assert response.body == b"" and response.status == 404


# --- identifying requests ------------------------------------------------------------------------
def environ(path="/", method="POST", headers=None, query="", body=b"", content_type="application/x-www-form-urlencoded"):
    values = {"PATH_INFO": path, "REQUEST_METHOD": method, "QUERY_STRING": query, "CONTENT_TYPE": content_type,
              "wsgi.input": io.BytesIO(body)}
    for key, value in (headers or {}).items():
        values["HTTP_" + key.upper().replace("-", "_")] = value
    return values


def signed(service):
    return {"Authorization": f"AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-west-3/{service}/aws4_request, "
                             "SignedHeaders=host, Signature=0"}


@pytest.mark.parametrize("headers,path,body,content_type,expected", [
    ({**signed("ssm"), "X-Amz-Target": "AmazonSSM.SendCommand"}, "/", b"{}", "application/x-amz-json-1.1",
     ("ssm", "SendCommand", "json")),
    ({**signed("monitoring"), "Smithy-Protocol": "rpc-v2-cbor"}, "/service/GraniteServiceVersion20100801/operation/ListMetrics",
     b"", "application/cbor", ("cloudwatch", "ListMetrics", "smithy-rpc-v2-cbor")),
    (signed("elasticloadbalancing"), "/", b"Action=DescribeTargetHealth&Version=2015-12-01", "application/x-www-form-urlencoded",
     ("elbv2", "DescribeTargetHealth", "query")),
    (signed("elasticloadbalancing"), "/", b"Action=DescribeLoadBalancers&Version=2012-06-01", "application/x-www-form-urlencoded",
     ("elb", "DescribeLoadBalancers", "query")),
    (signed("ec2"), "/", b"Action=RunInstances&Version=2016-11-15", "application/x-www-form-urlencoded",
     ("ec2", "RunInstances", "ec2")),
    (signed("s3"), "/bucket/key", b"", "", ("s3", "GetObject", "rest-xml")),
])
def test_requests_are_identified_as_aws_front_ends_read_them(headers, path, body, content_type, expected):
    method = "GET" if expected[0] == "s3" else "POST"
    call = calls.identify(environ(path, method, headers, body=body, content_type=content_type), body)
    assert (call.service, call.operation, call.protocol) == expected
    assert call.region == "eu-west-3"


# --- target health --------------------------------------------------------------------------------
def test_health_needs_the_threshold_counts_in_a_row():
    record = health.Health()
    assert (record.state, record.reason) == ("initial", "Elb.RegistrationInProgress")
    for _ in range(4):
        record.record(True, 5, 2)
    assert (record.state, record.reason) == ("initial", "Elb.InitialHealthChecking")
    record.record(True, 5, 2)
    assert (record.state, record.reason) == ("healthy", None)
    record.record(False, 5, 2, ("Target.ResponseCodeMismatch", "Health checks failed with these codes: [503]"))
    assert record.state == "healthy"                                   # one failure is not enough
    record.record(True, 5, 2)
    record.record(False, 5, 2, ("Target.Timeout", "Request timed out"))
    record.record(False, 5, 2, ("Target.Timeout", "Request timed out"))
    assert (record.state, record.reason) == ("unhealthy", "Target.Timeout")
    for _ in range(4):
        record.record(True, 5, 2)
    assert record.state == "unhealthy"
    record.record(True, 5, 2)
    assert record.state == "healthy"


@pytest.mark.parametrize("matcher,status,ok", [("200", 200, True), ("200", 302, False), ("200,302", 302, True),
                                               ("200-299", 204, True), ("200-299", 301, False)])
def test_matcher_http_codes(matcher, status, ok):
    assert health.matches(matcher, status) is ok


@pytest.mark.parametrize("service,method,path,query,operation", [
    ("lambda", "GET", "/2015-03-31/functions/", {}, "ListFunctions"),
    ("lambda", "POST", "/2015-03-31/functions/deploy/invocations", {}, "Invoke"),
    ("route53", "GET", "/2013-04-01/hostedzone", {}, "ListHostedZones"),
    ("s3", "GET", "/bucket/key", {"tagging": [""]}, "GetObjectTagging"),
])
def test_rest_operations_are_found_from_the_model_request_uris(service, method, path, query, operation):
    assert calls.rest_operation(service, method, path, query) == operation


def test_web_cpu_counts_the_processes_below_an_isolated_server():
    """ASGAverageCPUUtilization reads the web servers' CPU: an isolated server is bubblewrap's
    child, so the time spent below the process the simulator started counts (web.children)."""
    import subprocess, time
    from simulator import web
    parent = subprocess.Popen(["sh", "-c", "timeout 3 sh -c 'while :; do :; done' & wait"])
    try:
        time.sleep(1.5)
        server = web.Web.__new__(web.Web)
        server.servers = {"i-0123456789abcdef0": (0, parent)}
        assert web.children(parent.pid), "the busy child is listed below its parent"
        used = web.Web.cpu_seconds(server)["i-0123456789abcdef0"]
        assert used >= 0.5, f"{used} CPU seconds: the child's time is not counted"
    finally:
        parent.kill()
        parent.wait()
