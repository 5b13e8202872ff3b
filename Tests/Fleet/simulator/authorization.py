"""Whether a signed request may do what it asks: the simulator's IAM evaluation for every request
when authentication is on (moto's own ignores Resource and Condition).

For each request: the principal and its identity-based policies (moto_adapter.identity and
identity_policies: a user's inline, attached and group policies, or an assumed role's); the action
`<service prefix>:<Operation>`; the resources it acts on (`resources`); the request context
(aws:username, aws:userid, aws:PrincipalArn, aws:PrincipalType, aws:PrincipalAccount,
aws:PrincipalTag/*, aws:SecureTransport, aws:SourceIp, aws:CurrentTime, aws:EpochTime,
aws:RequestedRegion, s3:prefix, s3:delimiter and s3:max-keys of a listing, and per resource aws:ResourceTag/*, ec2:ResourceTag/*, ssm:resourceTag/*,
ssm:SessionDocumentAccessCheck). Every resource must be allowed (policy.py); the first that is
not gives AccessDenied in the service's own code and words, as AWS phrases it: "User: <arn> is
not authorized to perform: <action> on resource: <arn> because no identity-based policy allows
the <action> action" (or "... with an explicit deny in an identity-based policy").

Resources, by operation (see `resources`): real ARNs for SendCommand (each instance, resolved
from InstanceIds and Targets, and the document), StartSession (the instance and the session
document), TerminateSession and ResumeSession (the session), SSM parameters and documents, EC2 Start/Stop/Reboot/TerminateInstances, IAM users,
roles, groups and policies, and S3 buckets and objects (moto names them). Run Command's reading
operations (ListCommands, ListCommandInvocations, GetCommandInvocation, CancelCommand,
DescribeInstanceInformation) and DescribeSessions take no resource on AWS either ("*": only a Resource "*" covers them).
Any other operation is checked on its Action and Condition with the resource unknown.

AssumeRole also needs the role's trust policy to name the caller (its ARN, or its account, which
then leaves the decision to the caller's own policies) with conditions that hold. A bucket
policy's statements for everyone (Principal "*") are evaluated when moto asks what the bucket's
policy says (`bucket_policy_decision`); its statements naming principals, and other resource-based
policies (KMS key policies), are not.
"""
import time

from . import moto_adapter, policy

ACCOUNT = moto_adapter.ACCOUNT_ID
# The IAM prefix of a signing name, where they differ.
PREFIXES = {"monitoring": "cloudwatch", "email": "ses"}
# S3's IAM actions are not its operation names ("Actions, resources, and condition keys for Amazon
# S3"): HEAD and listing need s3:ListBucket, HeadObject s3:GetObject, multipart parts s3:PutObject.
S3_ACTIONS = {
    "HeadBucket": "ListBucket", "ListObjectsV2": "ListBucket", "ListObjects": "ListBucket",
    "ListObjectVersions": "ListBucketVersions", "ListMultipartUploads": "ListBucketMultipartUploads",
    "ListParts": "ListMultipartUploadParts", "ListBuckets": "ListAllMyBuckets",
    "HeadObject": "GetObject", "CreateMultipartUpload": "PutObject", "UploadPart": "PutObject",
    "CompleteMultipartUpload": "PutObject", "CopyObject": "PutObject",
    "GetPublicAccessBlock": "GetBucketPublicAccessBlock", "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
    "DeletePublicAccessBlock": "PutBucketPublicAccessBlock",
}
NO_RESOURCE = {("ssm", name) for name in ("ListCommands", "ListCommandInvocations", "GetCommandInvocation",
                                           "CancelCommand", "DescribeInstanceInformation", "DescribeSessions")}
DEFAULT_SESSION_DOCUMENT = "SSM-SessionManagerRunShell"


class Denied(Exception):
    def __init__(self, code, message, status):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


# --- resources ---------------------------------------------------------------------------------
def instance_arn(region, instance_id):
    return f"arn:aws:ec2:{region}:{ACCOUNT}:instance/{instance_id}"


def document_arn(region, name):
    """AWS's own documents (AWS-RunShellScript) have no account in their ARN; ours do."""
    owner = "" if name.startswith(("AWS-", "AWSSupport-", "AWSEC2-", "AmazonCloudWatch-")) else ACCOUNT
    return f"arn:aws:ssm:{region}:{owner}:document/{name}"


def parameter_arn(region, name):
    return f"arn:aws:ssm:{region}:{ACCOUNT}:parameter/{name.lstrip('/')}"


def tag_context(tags, *prefixes):
    return {f"{prefix}:{'resourceTag' if prefix == 'ssm' else 'ResourceTag'}/{key}": value
            for key, value in tags.items() for prefix in prefixes}


def instances(region):
    """{instance id: tags} of every instance not terminated (callers hold state.LOCK)."""
    return {moto_adapter.instance_id(item): moto_adapter.instance_tags(item) for item in moto_adapter.instances(region)
            if moto_adapter.instance_state(item) != "terminated"}


def instance_resources(region, ids):
    known = instances(region)
    return [(instance_arn(region, instance_id),
             tag_context(known.get(instance_id, {}), "aws", "ec2", "ssm")) for instance_id in ids]


def listed(params, name):
    """A list member from a JSON body (a list) or a query form (Name.1, Name.member.1)."""
    value = params.get(name)
    if isinstance(value, list):
        return value
    found = [item for key, item in sorted(params.items()) if key.startswith(f"{name}.")]
    return [item[0] if isinstance(item, list) else item for item in found] or ([value] if value else [])


def one(params, name):
    value = params.get(name)
    return value[0] if isinstance(value, list) and value else value


def send_command_instances(params, region):
    ids = list(params.get("InstanceIds") or [])
    known = None
    for target in params.get("Targets") or []:
        key, values = target.get("Key", ""), target.get("Values", [])
        if key == "InstanceIds":
            ids += values
        elif key.startswith("tag:"):
            if known is None:
                known = instances(region)
            ids += [instance_id for instance_id, tags in known.items() if tags.get(key[4:]) in values]
    return list(dict.fromkeys(ids))


def resources(prefix, operation, params, region, documents):
    """[(resource ARN or "*", context keys of that resource)], or None when not known."""
    if (prefix, operation) in NO_RESOURCE:
        return [("*", {})]
    if prefix == "ssm" and operation == "SendCommand":
        name = params.get("DocumentName") or "AWS-RunShellScript"
        return instance_resources(region, send_command_instances(params, region)) + [(document_arn(region, name), {})]
    if prefix == "ssm" and operation == "StartSession":
        found = instance_resources(region, [params.get("Target", "")])
        name = params.get("DocumentName")
        checks = any("ssm:sessiondocumentaccesscheck" in str(document).lower() for document in documents)
        if name or checks:
            found.append((document_arn(region, name or DEFAULT_SESSION_DOCUMENT),
                          {"ssm:SessionDocumentAccessCheck": "true"} if not name else {}))
        return found
    if prefix == "ssm" and operation in ("TerminateSession", "ResumeSession"):
        return [(f"arn:aws:ssm:{region}:{ACCOUNT}:session/{params.get('SessionId', '')}", {})]
    if prefix == "ssm" and operation in ("GetParameter", "PutParameter", "DeleteParameter", "GetParameterHistory",
                                         "LabelParameterVersion"):
        return [(parameter_arn(region, one(params, "Name") or ""), {})]
    if prefix == "ssm" and operation in ("GetParameters", "DeleteParameters"):
        return [(parameter_arn(region, name), {}) for name in listed(params, "Names")]
    if prefix == "ssm" and operation == "GetParametersByPath":
        return [(parameter_arn(region, one(params, "Path") or ""), {})]
    if prefix == "ssm" and operation in ("CreateDocument", "DeleteDocument", "DescribeDocument", "GetDocument",
                                         "UpdateDocument", "UpdateDocumentDefaultVersion"):
        return [(document_arn(region, one(params, "Name") or ""), {})]
    if prefix == "ec2" and operation in ("StartInstances", "StopInstances", "RebootInstances", "TerminateInstances"):
        return instance_resources(region, listed(params, "InstanceId"))
    if prefix == "iam":
        for member, kind in (("UserName", "user"), ("RoleName", "role"), ("GroupName", "group")):
            if one(params, member):
                return [(f"arn:aws:iam::{ACCOUNT}:{kind}/{one(params, member)}", {})]
        if one(params, "PolicyArn"):
            return [(one(params, "PolicyArn"), {})]
    return None


# --- the request context -----------------------------------------------------------------------
def principal_context(principal, region, source_ip):
    context = {
        "aws:userid": principal["id"], "aws:PrincipalArn": principal["principal_arn"],
        "aws:PrincipalType": principal["type"], "aws:PrincipalAccount": ACCOUNT,
        # Every AWS API endpoint is HTTPS; the simulator plays them on loopback HTTP.
        "aws:SecureTransport": "true", "aws:SourceIp": source_ip or "127.0.0.1",
        "aws:CurrentTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "aws:EpochTime": str(int(time.time())),
        "aws:RequestedRegion": region,
    }
    if principal["type"] == "User":
        context["aws:username"] = principal["name"]
    for key, value in principal.get("tags", {}).items():
        context[f"aws:PrincipalTag/{key}"] = value
    return context


def s3_list_context(prefix, action, params):
    """s3:prefix, s3:delimiter and s3:max-keys of a listing (s3:ListBucket), as the S3 User
    Guide's condition keys give them: present only when the request has them."""
    if prefix != "s3" or action != "s3:ListBucket":
        return {}
    keys = {"prefix": "s3:prefix", "delimiter": "s3:delimiter", "max-keys": "s3:max-keys"}
    return {key: str(params[name]) for name, key in keys.items() if params.get(name) not in (None, "")}


# --- bucket policies ----------------------------------------------------------------------------
def for_everyone(statement):
    principal = statement.get("Principal")
    return principal == "*" or (isinstance(principal, dict) and set(principal) == {"AWS"} and
                                policy.as_list(principal["AWS"]) == ["*"])


def bucket_policy_decision(document, action, resource):
    """"Allow", "Deny" or None: what a bucket policy's statements for everyone say about `action`
    on `resource`, evaluated as IAM does (conditions included) in this request's context: over
    HTTPS, as every AWS endpoint is (moto ignored conditions and denied whenever one failed, so a
    `Deny ... aws:SecureTransport false` statement refused every request)."""
    statements = [statement for statement in policy.as_list(document.get("Statement")) if for_everyone(statement)]
    context = {"aws:SecureTransport": "true", "aws:PrincipalAccount": ACCOUNT,
               "aws:CurrentTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "aws:EpochTime": str(int(time.time()))}
    decision, _ = policy.evaluate([dict(document, Statement=statements)], action, resource, context)
    return {policy.ALLOW: "Allow", policy.EXPLICIT_DENY: "Deny"}.get(decision)


# --- trust policies (AssumeRole) ---------------------------------------------------------------
def principal_named(element, principal):
    """Whether a trust policy's Principal names the caller: "*", the caller's ARN (an assumed
    role's session or role ARN), or its account ("123456789012" or arn:aws:iam::123456789012:root),
    which names every principal of the account whose own policies allow the call."""
    if element == "*":
        return True
    names = policy.as_list((element or {}).get("AWS")) if isinstance(element, dict) else []
    ours = {"*", ACCOUNT, f"arn:aws:iam::{ACCOUNT}:root", principal["arn"], principal["principal_arn"]}
    return any(name in ours for name in names)


def trusted(access_key, role_arn, region, source_ip=None):
    """Whether the role's trust policy lets the caller assume it (moto's check wants the exact
    ARN and ignores account principals and conditions)."""
    document = moto_adapter.role_trust_policy(role_arn)
    if document is None:
        return False
    principal = moto_adapter.identity(access_key)
    context = {key.lower(): value for key, value in principal_context(principal, region, source_ip).items()}
    version = document.get("Version", "2008-10-17")
    allowed = False
    for statement in policy.as_list(document.get("Statement")):
        if not principal_named(statement.get("Principal"), principal):
            continue
        if not policy.action_matches(policy.as_list(statement.get("Action", [])), "sts:AssumeRole"):
            continue
        if not policy.conditions.block_holds(policy.resolved_condition(statement.get("Condition"), context, version), context):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


def untrusted(access_key, role_arn):
    principal = moto_adapter.identity(access_key)
    return Denied("AccessDenied", f"User: {principal['arn']} is not authorized to perform: sts:AssumeRole on resource: "
                                  f"{role_arn} because no resource-based policy allows the sts:AssumeRole action", 403)


# --- the decision ------------------------------------------------------------------------------
def denial(error_style, principal_arn, action, resource, explicit):
    why = ("with an explicit deny in an identity-based policy" if explicit else
           f"because no identity-based policy allows the {action} action")
    message = f"User: {principal_arn} is not authorized to perform: {action} on resource: {resource} {why}"
    if error_style == "ec2":
        return Denied("UnauthorizedOperation", "You are not authorized to perform this operation. " + message, 403)
    if error_style in ("query", "rest-xml"):
        return Denied("AccessDenied", message, 403)
    return Denied("AccessDeniedException", message, 400)


def error_style(signing_name, operation):
    """The protocol of the service's model decides its denial's code and status."""
    try:
        from . import protocols
        return protocols.resolve(protocols.model_name(signing_name, operation))
    except Exception:
        return {"ec2": "ec2", "s3": "rest-xml", "ssm": "json"}.get(signing_name, "query")


def authorize(access_key, signing_name, operation, params, region, moto_resource="*", source_ip=None):
    """Raises Denied unless the principal of `access_key` (moto's access-key object) may perform
    `operation` with these request parameters; callers hold state.LOCK."""
    prefix = PREFIXES.get(signing_name, signing_name)
    action = f"{prefix}:{S3_ACTIONS.get(operation, operation) if prefix == 's3' else operation}"
    if action == "sts:GetCallerIdentity":
        return  # AWS answers it whatever the policies say
    principal = moto_adapter.identity(access_key)
    documents = moto_adapter.identity_policies(access_key)
    if moto_resource not in (None, "*"):
        targets = [(moto_resource, {})]
    else:
        targets = resources(prefix, operation, params or {}, region, documents)
    base = {**principal_context(principal, region, source_ip), **s3_list_context(prefix, action, params or {})}
    for resource, extra in (targets if targets is not None else [(policy.UNKNOWN, {})]):
        decision, _ = policy.evaluate(documents, action, resource, {**base, **extra})
        if decision != policy.ALLOW:
            named = resource if isinstance(resource, str) and resource != "*" else f"arn:aws:{prefix}:{region}:{ACCOUNT}:*"
            raise denial(error_style(signing_name, operation), principal["arn"], action, named,
                         decision == policy.EXPLICIT_DENY)
