"""IAM policy `Condition` blocks, evaluated as the IAM User Guide describes them.

"IAM JSON policy elements: Condition operators": String*, Numeric*, Date*, Bool, BinaryEquals,
IpAddress / NotIpAddress, Arn*, Null; every operator but Null also as `...IfExists` (true when
the key is absent); `ForAnyValue:` / `ForAllValues:` for multivalued keys. Within one block all
operators must hold, within an operator all keys, and a key holds when the request's value
matches any of the policy's values -- for the negated operators (StringNotEquals, ArnNotLike,
...) when it matches none of them. A key the request does not have makes a positive operator
false and a negated one true ("Condition keys that are not present"), `ForAllValues` true and
`ForAnyValue` false.

Condition keys are case-insensitive, their values case-sensitive (except the IgnoreCase
operators); `context` maps lower-cased key names to a string or a list of strings. Policy
variables in the policy's values are resolved by the caller (policy.py) before they get here.
"""
import base64
import datetime
import ipaddress
import re


class UnknownOperator(Exception):
    pass


def glob(pattern, value, ignore_case=False):
    """`*` and `?` as IAM means them (no character classes, unlike fnmatch)."""
    expression = "".join(".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern)
    return re.fullmatch(expression, value, re.DOTALL | (re.IGNORECASE if ignore_case else 0)) is not None


def arn_like(pattern, value):
    """ArnLike / ArnEquals: the six colon-separated parts compared one by one, wildcards inside a part."""
    if pattern == "*":
        return True
    wanted, given = pattern.split(":", 5), value.split(":", 5)
    return len(wanted) == len(given) == 6 and all(glob(a, b) for a, b in zip(wanted, given))


def _number(text):
    return float(text)


def _date(text):
    text = str(text)
    if re.fullmatch(r"-?\d+(\.\d+)?", text):
        return float(text)
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _bool(text):
    return str(text).lower()


def _ip(pattern, value):
    return ipaddress.ip_address(value) in ipaddress.ip_network(pattern, strict=False)


# operator -> (compare(policy_value, request_value), negated)
OPERATORS = {
    "StringEquals": (lambda p, v: p == v, False),
    "StringNotEquals": (lambda p, v: p == v, True),
    "StringEqualsIgnoreCase": (lambda p, v: p.lower() == v.lower(), False),
    "StringNotEqualsIgnoreCase": (lambda p, v: p.lower() == v.lower(), True),
    "StringLike": (lambda p, v: glob(p, v), False),
    "StringNotLike": (lambda p, v: glob(p, v), True),
    "NumericEquals": (lambda p, v: _number(v) == _number(p), False),
    "NumericNotEquals": (lambda p, v: _number(v) == _number(p), True),
    "NumericLessThan": (lambda p, v: _number(v) < _number(p), False),
    "NumericLessThanEquals": (lambda p, v: _number(v) <= _number(p), False),
    "NumericGreaterThan": (lambda p, v: _number(v) > _number(p), False),
    "NumericGreaterThanEquals": (lambda p, v: _number(v) >= _number(p), False),
    "DateEquals": (lambda p, v: _date(v) == _date(p), False),
    "DateNotEquals": (lambda p, v: _date(v) == _date(p), True),
    "DateLessThan": (lambda p, v: _date(v) < _date(p), False),
    "DateLessThanEquals": (lambda p, v: _date(v) <= _date(p), False),
    "DateGreaterThan": (lambda p, v: _date(v) > _date(p), False),
    "DateGreaterThanEquals": (lambda p, v: _date(v) >= _date(p), False),
    "Bool": (lambda p, v: _bool(p) == _bool(v), False),
    "BinaryEquals": (lambda p, v: base64.b64decode(p) == (v if isinstance(v, bytes) else base64.b64decode(v)), False),
    "IpAddress": (_ip, False),
    "NotIpAddress": (_ip, True),
    "ArnEquals": (arn_like, False),
    "ArnLike": (arn_like, False),
    "ArnNotEquals": (arn_like, True),
    "ArnNotLike": (arn_like, True),
}


def _values(value):
    if value is None:
        return None
    return [str(item) if not isinstance(item, bool) else str(item).lower() for item in
            (value if isinstance(value, list) else [value])]


def _one(compare, negated, policy_values, request_value):
    """One request value against the policy's values: any matches (or, negated, none does)."""
    try:
        hit = any(compare(p, request_value) for p in policy_values)
    except (ValueError, TypeError):
        hit = False  # a value of the wrong type never matches
    return not hit if negated else hit


def key_holds(operator, key, policy_values, context):
    """One operator on one key."""
    qualifier, _, name = operator.rpartition(":")
    if_exists = name.endswith("IfExists") and name != "IfExists"
    base = name[:-len("IfExists")] if if_exists else name
    present = key.lower() in context
    request = _values(context.get(key.lower()))
    policy_values = _values(policy_values) or []
    if base == "Null":
        wanted_absent = any(_bool(value) == "true" for value in policy_values)
        return (not present) == wanted_absent
    if base not in OPERATORS:
        raise UnknownOperator(operator)
    compare, negated = OPERATORS[base]
    if qualifier not in ("", "ForAnyValue", "ForAllValues"):
        raise UnknownOperator(operator)
    if not present or request is None:
        if if_exists:
            return True
        if qualifier == "ForAllValues":
            return True
        if qualifier == "ForAnyValue":
            return False
        return negated
    if qualifier == "ForAllValues":
        return all(_one(compare, negated, policy_values, value) for value in request)
    if qualifier == "ForAnyValue":
        return any(_one(compare, negated, policy_values, value) for value in request)
    if len(request) == 1:
        return _one(compare, negated, policy_values, request[0])
    # A single-valued operator on a multivalued key: as for ForAnyValue (negated: none may match).
    results = [_one(compare, negated, policy_values, value) for value in request]
    return all(results) if negated else any(results)


def block_holds(condition, context):
    """A statement's whole Condition block."""
    for operator, keys in (condition or {}).items():
        for key, policy_values in keys.items():
            if not key_holds(operator, key, policy_values, context):
                return False
    return True


__all__ = ["glob", "arn_like", "key_holds", "block_holds", "UnknownOperator", "OPERATORS"]
