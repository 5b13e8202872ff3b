"""The IAM evaluator's pure logic: decisions, Action/Resource matching, every condition operator,
set qualifiers, IfExists, Null and policy variables. No simulator needed."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from simulator import conditions, policy  # noqa: E402

INSTANCE = "arn:aws:ec2:eu-west-3:123456789012:instance/i-0abc"
DOCUMENT = "arn:aws:ssm:eu-west-3::document/AWS-RunShellScript"


def document(*statements, version="2012-10-17"):
    return {"Version": version, "Statement": list(statements)}


def allow(action="*", resource="*", condition=None, **extra):
    statement = {"Effect": "Allow", "Action": action, "Resource": resource, **extra}
    if condition:
        statement["Condition"] = condition
    return statement


def decide(documents, action="ssm:SendCommand", resource=INSTANCE, **context):
    return policy.evaluate(documents, action, resource, context)[0]


# --- decisions ------------------------------------------------------------------------------------
def test_explicit_deny_wins_then_allow_else_implicit_deny():
    allowing = document(allow())
    denying = document({"Effect": "Deny", "Action": "ssm:SendCommand", "Resource": "*"})
    assert decide([allowing]) == policy.ALLOW
    assert decide([allowing, denying]) == policy.EXPLICIT_DENY
    assert decide([denying, allowing]) == policy.EXPLICIT_DENY
    assert decide([]) == policy.IMPLICIT_DENY
    assert decide([document(allow(action="ec2:*"))]) == policy.IMPLICIT_DENY


def test_actions_are_case_insensitive_globs():
    assert decide([document(allow(action="SSM:send*"))]) == policy.ALLOW
    assert decide([document(allow(action="ssm:Send?ommand"))]) == policy.ALLOW
    assert decide([document(allow(action=["ec2:*", "ssm:List*"]))]) == policy.IMPLICIT_DENY


def test_not_action_and_not_resource():
    assert decide([document({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})]) == policy.ALLOW
    assert decide([document({"Effect": "Allow", "NotAction": "ssm:*", "Resource": "*"})]) == policy.IMPLICIT_DENY
    everything_but_documents = document({"Effect": "Allow", "Action": "ssm:*", "NotResource": "arn:aws:ssm:*:*:document/*"})
    assert decide([everything_but_documents]) == policy.ALLOW
    assert decide([everything_but_documents], resource=DOCUMENT) == policy.IMPLICIT_DENY


def test_resources_match_part_by_part():
    least = document(allow(action="ssm:SendCommand",
                           resource=["arn:aws:ec2:eu-west-3:123456789012:instance/*", "arn:aws:ssm:eu-west-3::document/AWS-RunShellScript"]))
    assert decide([least]) == policy.ALLOW
    assert decide([least], resource=DOCUMENT) == policy.ALLOW
    assert decide([least], resource="arn:aws:ssm:eu-west-3::document/AWS-RunPowerShellScript") == policy.IMPLICIT_DENY
    assert decide([least], resource="arn:aws:ec2:us-east-1:123456789012:instance/i-0abc") == policy.IMPLICIT_DENY
    assert decide([document(allow(resource="arn:aws:ssm:*:*:document/AWS-RunShellScript"))], resource=DOCUMENT) == policy.ALLOW
    assert decide([document(allow(resource="arn:aws:ec2:*:*:instance/i-0ab?"))]) == policy.ALLOW
    assert decide([document(allow(resource="arn:aws:EC2:*:*:instance/*"))]) == policy.IMPLICIT_DENY   # case-sensitive
    # a '*' in one part does not swallow the colons of the next
    assert conditions.arn_like("arn:aws:ec2:*:instance/*", INSTANCE) is False


def test_actions_without_resources_need_resource_star():
    assert decide([document(allow(resource="arn:aws:ssm:*:*:*"))], action="ssm:ListCommands", resource="*") == policy.IMPLICIT_DENY
    assert decide([document(allow(resource="*"))], action="ssm:ListCommands", resource="*") == policy.ALLOW


def test_unknown_resources_check_action_and_condition_only():
    scoped_allow = document(allow(action="ec2:DescribeVpcs", resource="arn:aws:ec2:*:*:vpc/vpc-1"))
    scoped_deny = document(allow(), {"Effect": "Deny", "Action": "ec2:DescribeVpcs", "Resource": "arn:aws:ec2:*:*:vpc/vpc-1"})
    wide_deny = document(allow(), {"Effect": "Deny", "Action": "ec2:DescribeVpcs", "Resource": "*"})
    assert decide([scoped_allow], action="ec2:DescribeVpcs", resource=policy.UNKNOWN) == policy.ALLOW
    assert decide([scoped_deny], action="ec2:DescribeVpcs", resource=policy.UNKNOWN) == policy.ALLOW
    assert decide([wide_deny], action="ec2:DescribeVpcs", resource=policy.UNKNOWN) == policy.EXPLICIT_DENY


# --- policy variables ---------------------------------------------------------------------------------
def test_variables_in_resources_and_conditions():
    own = document(allow(resource="arn:aws:s3:::home/${aws:username}/*"))
    assert decide([own], action="s3:GetObject", resource="arn:aws:s3:::home/ana/x", **{"aws:username": "ana"}) == policy.ALLOW
    assert decide([own], action="s3:GetObject", resource="arn:aws:s3:::home/bo/x", **{"aws:username": "ana"}) == policy.IMPLICIT_DENY
    # a missing key matches nothing, unless a default is given
    assert decide([own], action="s3:GetObject", resource="arn:aws:s3:::home//x") == policy.IMPLICIT_DENY
    fallback = document(allow(resource="arn:aws:s3:::home/${aws:username, 'shared'}/*"))
    assert decide([fallback], action="s3:GetObject", resource="arn:aws:s3:::home/shared/x") == policy.ALLOW
    tagged = document(allow(condition={"StringEquals": {"ssm:resourceTag/Owner": "${aws:username}"}}))
    assert decide([tagged], **{"aws:username": "ana", "ssm:resourceTag/Owner": "ana"}) == policy.ALLOW
    assert decide([tagged], **{"aws:username": "ana", "ssm:resourceTag/Owner": "bo"}) == policy.IMPLICIT_DENY
    assert decide([tagged], **{"aws:username": "ana"}) == policy.IMPLICIT_DENY


def test_variable_escapes_and_old_versions():
    assert policy.substitute("a${*}b${?}c${$}", {}, "2012-10-17") == "a*b?c$"
    assert policy.substitute("home/${aws:username}", {"aws:username": "ana"}, "2008-10-17") == "home/${aws:username}"
    literal = document(allow(resource="arn:aws:s3:::home/${aws:username}"), version="2008-10-17")
    assert decide([literal], action="s3:GetObject", resource="arn:aws:s3:::home/${aws:username}") == policy.ALLOW
    for key in ("aws:userid", "aws:PrincipalArn"):
        assert policy.substitute("${" + key + "}", {key.lower(): "X"}, "2012-10-17") == "X"


# --- condition operators ------------------------------------------------------------------------------
@pytest.mark.parametrize("operator,policy_value,request_value,expected", [
    ("StringEquals", "ana", "ana", True), ("StringEquals", "ana", "Ana", False),
    ("StringNotEquals", "ana", "bo", True), ("StringNotEquals", ["ana", "bo"], "bo", False),
    ("StringEqualsIgnoreCase", "ANA", "ana", True), ("StringNotEqualsIgnoreCase", "ANA", "ana", False),
    ("StringLike", "dev-*", "dev-ana", True), ("StringLike", "dev-?", "dev-an", False),
    ("StringNotLike", "prod*", "dev", True), ("StringNotLike", "prod*", "production", False),
    ("NumericEquals", "10", "10", True), ("NumericNotEquals", "10", "11", True),
    ("NumericLessThan", "10", "9", True), ("NumericLessThan", "10", "10", False),
    ("NumericLessThanEquals", "10", "10", True), ("NumericGreaterThan", "10", "11", True),
    ("NumericGreaterThanEquals", "10", "9", False), ("NumericLessThan", "10", "ten", False),
    ("DateLessThan", "2030-01-01T00:00:00Z", "2026-12-01T07:00:00Z", True),
    ("DateGreaterThan", "2030-01-01T00:00:00Z", "2026-12-01T07:00:00Z", False),
    ("DateEquals", "2026-12-01T00:00:00Z", "1795996800", False), ("DateNotEquals", "2026-12-01T00:00:00Z", "0", True),
    ("DateLessThanEquals", "1000", "1000", True), ("DateGreaterThanEquals", "1000", "999", False),
    ("Bool", "true", "true", True), ("Bool", "true", "false", False), ("Bool", "false", "FALSE", True),
    ("BinaryEquals", "QmluYXJ5", "QmluYXJ5", True),
    ("IpAddress", "127.0.0.0/8", "127.0.0.1", True), ("IpAddress", "10.0.0.0/8", "127.0.0.1", False),
    ("NotIpAddress", "10.0.0.0/8", "127.0.0.1", True),
    ("ArnEquals", "arn:aws:iam::123456789012:user/*", "arn:aws:iam::123456789012:user/ana", True),
    ("ArnLike", "arn:aws:iam::*:user/ana", "arn:aws:iam::123456789012:user/ana", True),
    ("ArnLike", "arn:aws:iam::*:user/ana", "arn:aws:iam::123456789012:role/ana", False),
    ("ArnNotEquals", "arn:aws:iam::*:user/ana", "arn:aws:iam::123456789012:user/bo", True),
    ("ArnNotLike", "arn:aws:iam::*:user/*", "arn:aws:iam::123456789012:user/bo", False),
])
def test_operator(operator, policy_value, request_value, expected):
    assert conditions.key_holds(operator, "k", policy_value, {"k": request_value}) is expected
    # ...IfExists: the same when the key is there, true when it is not
    assert conditions.key_holds(operator + "IfExists", "k", policy_value, {"k": request_value}) is expected
    assert conditions.key_holds(operator + "IfExists", "k", policy_value, {}) is True


@pytest.mark.parametrize("operator,expected", [("StringEquals", False), ("StringNotEquals", True), ("StringLike", False),
                                               ("StringNotLike", True), ("ArnLike", False), ("ArnNotLike", True),
                                               ("Bool", False), ("NumericLessThan", False), ("NotIpAddress", True)])
def test_absent_keys(operator, expected):
    assert conditions.key_holds(operator, "k", "x", {}) is expected


def test_null():
    assert conditions.key_holds("Null", "k", "true", {}) is True
    assert conditions.key_holds("Null", "k", "true", {"k": "v"}) is False
    assert conditions.key_holds("Null", "k", "false", {"k": "v"}) is True


def test_set_qualifiers():
    context = {"k": ["a", "b"]}
    assert conditions.key_holds("ForAnyValue:StringEquals", "k", ["b", "z"], context) is True
    assert conditions.key_holds("ForAnyValue:StringEquals", "k", ["z"], context) is False
    assert conditions.key_holds("ForAllValues:StringEquals", "k", ["a", "b", "c"], context) is True
    assert conditions.key_holds("ForAllValues:StringEquals", "k", ["a"], context) is False
    assert conditions.key_holds("ForAllValues:StringLike", "k", ["*"], {}) is True        # vacuously
    assert conditions.key_holds("ForAnyValue:StringLike", "k", ["*"], {}) is False
    assert conditions.key_holds("ForAnyValue:StringNotEquals", "k", ["a"], context) is True
    assert conditions.key_holds("ForAllValues:StringNotEquals", "k", ["a"], context) is False
    assert conditions.key_holds("ForAnyValue:StringEqualsIfExists", "k", ["z"], {}) is True


def test_blocks_and_keys_are_anded_and_keys_case_insensitive():
    block = {"StringEquals": {"aws:username": "ana", "ssm:resourceTag/Owner": "ana"}, "Bool": {"aws:SecureTransport": "true"}}
    context = {"aws:username": "ana", "ssm:resourcetag/owner": "ana", "aws:securetransport": "true"}
    assert decide([document(allow(condition=block))], **context) == policy.ALLOW
    context["aws:securetransport"] = "false"
    assert decide([document(allow(condition=block))], **context) == policy.IMPLICIT_DENY


def test_unknown_operator_is_an_error_not_an_allow():
    with pytest.raises(conditions.UnknownOperator):
        conditions.key_holds("StringSortOf", "k", "x", {"k": "x"})
