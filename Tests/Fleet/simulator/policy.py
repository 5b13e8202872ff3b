"""Identity-based IAM policies evaluated as AWS evaluates them, for one action on one resource.

"Policy evaluation logic" (IAM User Guide), for a principal of this account with identity-based
policies only: an explicit Deny in any statement that applies wins; else an Allow that applies
allows; else the request is implicitly denied. A statement applies when its Action (or
NotAction) covers the action -- case-insensitively, with `*` and `?` -- its Resource (or
NotResource) covers the resource -- each of an ARN's six parts separately, case-sensitively --
and its whole Condition block holds (conditions.py).

Policy variables (`${aws:username}`, `${aws:PrincipalTag/team}`, `${ssm:resourceTag/Owner}`,
`${*}` `${?}` `${$}` for the literal characters, `${key, 'default'}`) are replaced in Resource
and in condition values, only in policies of Version 2012-10-17; a variable whose key the
request lacks (and has no default) makes that Resource or value match nothing.

`context` maps condition keys to values (case-insensitive keys); `resource` is an ARN, "*" for an
action that takes no resource, or UNKNOWN when the simulator could not tell (then Resource is not
checked for an Allow, and a Deny applies only through Resource "*").
"""
import re

from . import conditions

UNKNOWN = object()
VARIABLE = re.compile(r"\$\{([^}]*)\}")
ALLOW, EXPLICIT_DENY, IMPLICIT_DENY = "Allow", "ExplicitDeny", "ImplicitDeny"


class NoValue(Exception):
    """A policy variable with no value in this request."""


def substitute(text, context, version):
    """`text` with its policy variables resolved; raises NoValue for one the request lacks."""
    if version != "2012-10-17" or "${" not in text:
        return text

    def value(match):
        inside = match.group(1).strip()
        if inside in ("*", "?", "$"):
            return inside
        key, _, default = inside.partition(",")
        found = context.get(key.strip().lower())
        if isinstance(found, list):
            found = found[0] if len(found) == 1 else None
        if found is not None:
            return str(found)
        default = default.strip()
        if len(default) >= 2 and default[0] == default[-1] == "'":
            return default[1:-1]
        raise NoValue(key)

    return VARIABLE.sub(value, text)


def as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def action_matches(patterns, action):
    return any(conditions.glob(pattern, action, ignore_case=True) for pattern in patterns)


def resource_matches(patterns, resource, context, version):
    for pattern in patterns:
        try:
            pattern = substitute(pattern, context, version)
        except NoValue:
            continue
        if pattern == "*":
            return True
        if resource == "*":
            continue       # a specific ARN never names "all resources"
        if resource.startswith("arn:") and pattern.startswith("arn:"):
            if conditions.arn_like(pattern, resource):
                return True
        elif conditions.glob(pattern, resource):
            return True
    return False


def resolved_condition(condition, context, version):
    """The Condition block with its values' variables resolved; a value that cannot resolve is
    dropped (it matches nothing)."""
    resolved = {}
    for operator, keys in (condition or {}).items():
        resolved[operator] = {}
        for key, values in keys.items():
            kept = []
            for item in as_list(values):
                try:
                    kept.append(substitute(item, context, version) if isinstance(item, str) else item)
                except NoValue:
                    pass
            resolved[operator][key] = kept
    return resolved


def statement_applies(statement, action, resource, context, version):
    if "Action" in statement and not action_matches(as_list(statement["Action"]), action):
        return False
    if "NotAction" in statement and action_matches(as_list(statement["NotAction"]), action):
        return False
    if resource is UNKNOWN:
        patterns = as_list(statement.get("Resource", [])) if "Resource" in statement else []
        if statement.get("Effect") == "Deny" and "*" not in patterns:
            return False
    elif "Resource" in statement:
        if not resource_matches(as_list(statement["Resource"]), resource, context, version):
            return False
    elif "NotResource" in statement:
        if resource_matches(as_list(statement["NotResource"]), resource, context, version):
            return False
    return conditions.block_holds(resolved_condition(statement.get("Condition"), context, version), context)


def evaluate(documents, action, resource, context):
    """(decision, statement) for `action` on `resource`: ALLOW, EXPLICIT_DENY (with the denying
    statement) or IMPLICIT_DENY."""
    context = {key.lower(): value for key, value in context.items()}
    allowed = None
    for document in documents:
        version = document.get("Version", "2008-10-17")
        for statement in as_list(document.get("Statement")):
            if not statement_applies(statement, action, resource, context, version):
                continue
            if statement.get("Effect") == "Deny":
                return EXPLICIT_DENY, statement
            if statement.get("Effect") == "Allow" and allowed is None:
                allowed = statement
    return (ALLOW, allowed) if allowed is not None else (IMPLICIT_DENY, None)
