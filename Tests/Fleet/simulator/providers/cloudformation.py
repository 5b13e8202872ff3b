"""CloudFormation where moto answers differently from AWS.

CreateChangeSet with nothing to change: moto 5.2 refuses it with ValidationError "No updates are
to be performed." when the request lists Parameters; CloudFormation instead creates the change
set in status FAILED, ExecutionStatus UNAVAILABLE, with the StatusReason below (what moto itself
says when no Parameters are given, and what `aws cloudformation deploy` looks for to print "No
changes to deploy"; for templates with transforms AWS words it "No updates are to be performed.",
so clients should accept both). The after hook turns moto's refusal into that change set.

A bucket's PublicAccessBlockConfiguration: moto 5.2 accepts it in a template but never applies it
(GetPublicAccessBlock then fails); after CreateStack and UpdateStack (moto runs them to completion
before answering) the configuration of each such bucket is applied as CloudFormation would.
Likewise AWS::AutoScaling::ScalingPolicy resources (moto accepts them, DescribePolicies stays
empty): they are put on their groups, named as CloudFormation names them. (`!GetAtt
DB.Endpoint.Address`, which moto's YAML reading split at every dot, is fixed where moto reads
YAML: moto_adapter.fix_short_get_att.) After ExecuteChangeSet the stack's outputs are computed
from the template the change set applied (moto kept the previous template's: none for a new stack),
and its exports are registered (moto does that only on CreateStack), so Fn::ImportValue and
ListExports see them. A DBInstance's DeletionProtection from the template is applied (moto
accepted it and left the instance unprotected). So are the properties moto accepts and drops
(moto_adapter.apply_stack_resource_settings): AWS::S3::BucketPolicy, a bucket's versioning,
ownership controls, lifecycle, logging and Bucket Keys, TargetGroupAttributes and
LoadBalancerAttributes. (Properties an update removes are left as they were.)

Parameter constraints (moto ignored them): CreateStack, UpdateStack and CreateChangeSet check
each parameter's value (given, else its Default; UsePreviousValue ones are not checked) against
AllowedValues, AllowedPattern (the whole value), MinLength/MaxLength and, for Type Number, being
a number within MinValue/MaxValue, as the CloudFormation user guide describes them; a value that
breaks one is refused with ValidationError "Parameter 'X' failed to satisfy constraint: <its
ConstraintDescription>" when the template gives one, else in CloudFormation's own words
("Parameter 'X' must match pattern ...", "must be one of AllowedValues", ...), and nothing is made.

ListStackResources, DescribeStackResources and DescribeStackResource are ours: moto listed the
types it does not model (bucket and scaling policies) and false-Condition resources as entries
with no logical id, type or physical id; each resource is listed with its physical id as
CloudFormation names it, its latest event's status and its drift status.

DeleteStack is ours (moto 5.2 deleted resources in passes until one raised, then failed the whole
request with that resource's error, e.g. DependencyViolation for the VPC; it ignored
DeletionPolicy Snapshot and RDS deletion protection), as the CloudFormation user guide describes
deletion: a stack whose exports another stack imports is not deleted (DELETE_FAILED, "Export ...
cannot be deleted as it is in use by ..."); resources go in reverse dependency order (Ref, GetAtt,
Sub and DependsOn), each with DELETE_IN_PROGRESS then DELETE_COMPLETE events; DeletionPolicy
Retain (and RetainResources, accepted only for a stack in DELETE_FAILED) leaves the resource
(DELETE_SKIPPED); Snapshot on a DBInstance takes a manual snapshot first; a protected DB instance
or a non-empty bucket fails with the service's own message and the stack ends DELETE_FAILED with
the resources still there, so a second DeleteStack after the fix carries on. A stack already
gone, or never there, is a success with nothing done. ListImports (moto lacks it) answers from
every stack's Fn::ImportValue.
"""
import datetime
import hashlib
import json
import uuid
from xml.sax.saxutils import escape
import re

from .. import moto_adapter, wire
from ..errors import AWSError

NO_CHANGES = "The submitted information didn't contain changes. Submit different information to create a change set."


def parameters(params):
    """{key: value} of a query request's Parameters.member.N (UsePreviousValue ones keep theirs)."""
    values, index = {}, 1
    while f"Parameters.member.{index}.ParameterKey" in params:
        prefix = f"Parameters.member.{index}."
        if params.get(prefix + "UsePreviousValue", "").lower() != "true":
            values[params[prefix + "ParameterKey"]] = params.get(prefix + "ParameterValue", "")
        index += 1
    return values


def template_parameters(body):
    """The Parameters section of a JSON or YAML template body (short-form tags read as nothing)."""
    try:
        template = json.loads(body)
    except ValueError:
        import yaml

        class Loader(yaml.SafeLoader):
            pass
        Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
        try:
            template = yaml.load(body, Loader=Loader)
        except yaml.YAMLError:
            return {}
    section = template.get("Parameters") if isinstance(template, dict) else None
    return section if isinstance(section, dict) else {}


def constraint_problem(name, spec, value):
    """Why `value` breaks parameter `name`'s constraints, in CloudFormation's words, or None."""
    def refused(own):
        described = spec.get("ConstraintDescription")
        return f"Parameter '{name}' failed to satisfy constraint: {described}" if described else f"Parameter '{name}' {own}"
    allowed = spec.get("AllowedValues")
    if isinstance(allowed, list) and value not in [str(item) for item in allowed]:
        return refused("must be one of AllowedValues")
    if str(spec.get("Type", "String")) == "Number":
        try:
            number = float(value)
        except ValueError:
            return refused("must be a number")
        if "MinValue" in spec and number < float(spec["MinValue"]):
            return refused(f"must be a number not less than {spec['MinValue']}")
        if "MaxValue" in spec and number > float(spec["MaxValue"]):
            return refused(f"must be a number not greater than {spec['MaxValue']}")
        return None
    pattern = spec.get("AllowedPattern")
    if isinstance(pattern, str):
        try:
            matches = re.fullmatch(pattern, value) is not None
        except re.error:
            matches = True              # a Java-only construct: leave it to the rest
        if not matches:
            return refused(f"must match pattern {pattern}")
    if "MinLength" in spec and len(value) < int(spec["MinLength"]):
        return refused(f"must contain at least {spec['MinLength']} characters")
    if "MaxLength" in spec and len(value) > int(spec["MaxLength"]):
        return refused(f"must contain at most {spec['MaxLength']} characters")
    return None


def check_parameter_constraints(call):
    params = call.params
    body = params.get("TemplateBody")
    if not body:
        return None                     # TemplateURL or UsePreviousTemplate: not checked here
    given, previous, index = parameters(params), set(), 1
    while f"Parameters.member.{index}.ParameterKey" in params:
        if params.get(f"Parameters.member.{index}.UsePreviousValue", "").lower() == "true":
            previous.add(params[f"Parameters.member.{index}.ParameterKey"])
        index += 1
    for name, spec in template_parameters(body).items():
        if not isinstance(spec, dict) or name in previous:
            continue
        value = given.get(name, spec.get("Default"))
        if value is None:
            continue
        problem = constraint_problem(name, spec, str(value))
        if problem:
            raise AWSError("ValidationError", problem)
    return None


def unchanged_change_set(call, response):
    if response.status != 400 or b"No updates are to be performed" not in response.body:
        return None
    params = call.params
    if params.get("ChangeSetType", "UPDATE") != "UPDATE":
        return None
    created = moto_adapter.add_failed_change_set(
        call.region, params.get("StackName", ""), params.get("ChangeSetName", ""), params.get("TemplateBody", ""),
        parameters(params), params.get("Description", ""), NO_CHANGES)
    if created is None:
        raise AWSError("ValidationError", f"Stack [{params.get('StackName', '')}] does not exist")
    change_set_id, stack_id = created
    return wire.query_result("cloudformation", "CreateChangeSet", f"<Id>{change_set_id}</Id><StackId>{stack_id}</StackId>")


def missing_change_set(call):
    """DescribeChangeSet and ExecuteChangeSet of a change set that does not exist
    (never made, or deleted) answer ChangeSetNotFound (404) as AWS documents; moto said ValidationError
    "Stack with id <change set> does not exist"."""
    name = call.params.get("ChangeSetName", "")
    if name and moto_adapter.change_set_type(call.region, name, call.params.get("StackName", "")) is None:
        raise AWSError("ChangeSetNotFound", f"ChangeSet [{name}] does not exist", 404)
    return None


def remove_other_change_sets(call, response):
    """AWS: "After you execute a change set, CloudFormation removes all change sets that are
    associated with the stack because they aren't applicable to the updated stack." moto kept them."""
    if response.status == 200:
        moto_adapter.remove_other_change_sets(call.region, call.params.get("ChangeSetName", ""), call.params.get("StackName", ""))
    return None


def fail_injected_resource(world, call, response):
    """A stack just created by CreateStack or a CREATE change set whose resource an injected
    resource-failure names: that resource CREATE_FAILED with the rule's reason, then the rollback."""
    if response.status != 200:
        return None
    stack_name = call.params.get("StackName", "")
    if call.operation == "ExecuteChangeSet":
        if moto_adapter.change_set_type(call.region, call.params.get("ChangeSetName", ""), stack_name) != "CREATE":
            return None
        stack_name = moto_adapter.change_set_stack(call.region, call.params.get("ChangeSetName", ""), stack_name) or stack_name
    stack = moto_adapter.live_stack(call.region, stack_name)
    if stack is None or moto_adapter.stack_name_status(stack)[1] != "CREATE_COMPLETE":
        return None
    for logical, kind, _entry, physical in moto_adapter.stack_resources(stack):
        reason = world.injector.resource_failure(logical, kind)
        if reason is not None:
            moto_adapter.add_resource_event(stack, logical, kind, physical, "CREATE_FAILED", reason)
            delete(call.region, stack, set(), rollback=f"The following resource(s) failed to create: [{logical}]. "
                                                         "Rollback requested by user.")
            break
    return None


def apply_what_moto_skips(call, response):
    if response.status == 200:
        stack = call.params.get("StackName", "")
        if call.operation == "ExecuteChangeSet":
            stack = moto_adapter.change_set_stack(call.region, call.params.get("ChangeSetName", ""), stack) or stack
            moto_adapter.refresh_stack_outputs(call.region, stack)
        handle = moto_adapter.live_stack(call.region, stack)
        if handle is not None and call.operation != "UpdateStack":
            moto_adapter.add_resource_events_of_change(
                call.region, handle, call.params.get("ChangeSetName") if call.operation == "ExecuteChangeSet" else None)
        for bucket, config in moto_adapter.stack_buckets_with_public_access_block(call.region, stack):
            moto_adapter.put_public_access_block(bucket, config)
        moto_adapter.apply_stack_scaling_policies(call.region, stack)
        handle = moto_adapter.live_stack(call.region, stack)
        if handle is not None:
            moto_adapter.apply_stack_resource_settings(call.region, handle)
            moto_adapter.register_stack_exports(call.region, handle)
            for logical, kind, _entry, physical in moto_adapter.stack_resources(handle):
                if kind == "AWS::RDS::DBInstance":
                    protected = moto_adapter.stack_resource_properties(handle, logical).get("DeletionProtection")
                    moto_adapter.set_db_deletion_protection(call.region, physical, str(protected).lower() == "true")
    return None


# --- DeleteStack ------------------------------------------------------------------------------
def references(node, found):
    """Adds to `found` the logical ids a template fragment refers to (Ref, GetAtt, Sub)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                target = value[0] if isinstance(value, list) and value else str(value).split(".", 1)[0]
                found.add(target)
            elif key == "Fn::Sub":
                text = value[0] if isinstance(value, list) and value else value
                if isinstance(text, str):
                    found.update(name.split(".", 1)[0] for name in re.findall(r"\$\{([^!}][^}]*)\}", text))
                if isinstance(value, list) and len(value) > 1:
                    references(value[1], found)
            else:
                references(value, found)
    elif isinstance(node, list):
        for value in node:
            references(value, found)


def dependencies(resources):
    """{logical id: the logical ids among `resources` it depends on}."""
    names = {logical for logical, *_ in resources}
    result = {}
    for logical, _kind, entry, _physical in resources:
        found = set()
        references(entry.get("Properties") or {}, found)
        depends = entry.get("DependsOn") or []
        found.update([depends] if isinstance(depends, str) else depends)
        result[logical] = (found & names) - {logical}
    return result


def delete_stack(call):
    params = call.params
    name = params.get("StackName", "")
    retain, index = set(), 1
    while f"RetainResources.member.{index}" in params:
        retain.add(params[f"RetainResources.member.{index}"])
        index += 1
    stack = moto_adapter.live_stack(call.region, name)
    if stack is not None:
        stack_name, status = moto_adapter.stack_name_status(stack)
        if status.endswith("_IN_PROGRESS") and status != "REVIEW_IN_PROGRESS":
            raise AWSError("ValidationError", f"Stack [{stack_name}] cannot be deleted while in status {status}", 400)
        if retain and status != "DELETE_FAILED":
            raise AWSError("ValidationError", f"Invalid operation on stack [{stack_name}]: RetainResources can only be "
                           "specified when the stack is in the DELETE_FAILED state", 400)
        delete(call.region, stack, retain)
    return wire.query_result("cloudformation", "DeleteStack", "")


def delete(region, stack, retain, rollback=None):
    """Deletes the stack's resources; with `rollback` (the reason) undoes a failed creation
    instead: ROLLBACK_* statuses, RetainExceptOnCreate resources deleted, the stack kept."""
    stack_name, _ = moto_adapter.stack_name_status(stack)
    moto_adapter.freeze_stack_outputs(stack)
    verb = "ROLLBACK" if rollback else "DELETE"
    moto_adapter.set_stack_status(stack, f"{verb}_IN_PROGRESS", rollback or "User Initiated")
    imports = {} if rollback else moto_adapter.stack_imports(region)
    for export in moto_adapter.stack_export_names(stack):
        users = [user for user in imports.get(export, []) if user != stack_name]
        if users:
            moto_adapter.set_stack_status(stack, "DELETE_FAILED",
                                          f"Export {export} cannot be deleted as it is in use by {', '.join(users)}")
            return
    resources = moto_adapter.stack_resources(stack)
    needs = dependencies(resources)
    by_id = {logical: (kind, entry, physical) for logical, kind, entry, physical in resources}
    remaining, failed = set(by_id), []
    while remaining and not failed:
        # A resource goes once nothing still standing depends on it.
        ready = sorted(logical for logical in remaining if not any(logical in needs[other] for other in remaining))
        if not ready:
            ready = sorted(remaining)          # a cycle (not valid in a template): go anyway
        for logical in ready:
            kind, entry, physical = by_id[logical]
            remaining.discard(logical)
            reason = delete_resource(region, stack, logical, kind, entry, physical, logical in retain, bool(rollback))
            if reason is not None:
                failed.append(logical)
    if failed:
        moto_adapter.set_stack_status(stack, f"{verb}_FAILED",
                                      f"The following resource(s) failed to delete: [{', '.join(failed)}]. ")
        return
    moto_adapter.set_stack_status(stack, f"{verb}_COMPLETE")
    if rollback:
        moto_adapter.drop_stack_exports(region, stack)     # a rolled-back stack exports nothing
    else:
        moto_adapter.finish_stack_deletion(region, stack)


def delete_resource(region, stack, logical, kind, entry, physical, retain, rollback=False):
    """Deletes (or keeps) one resource with its events; returns the failure's reason, or None.
    A rollback of a creation deletes what it created whatever its protection, except Retain."""
    policy = entry.get("DeletionPolicy", "Delete")
    if retain or policy == "Retain" or (policy == "RetainExceptOnCreate" and not rollback):
        moto_adapter.forget_stack_resource(stack, logical)
        moto_adapter.add_resource_event(stack, logical, kind, physical, "DELETE_SKIPPED")
        return None
    moto_adapter.add_resource_event(stack, logical, kind, physical, "DELETE_IN_PROGRESS")
    reason = None
    if rollback and kind == "AWS::RDS::DBInstance":
        moto_adapter.set_db_deletion_protection(region, physical, False)
    if kind == "AWS::RDS::DBInstance" and moto_adapter.db_deletion_protection(region, physical):
        reason = "Cannot delete protected DB Instance, please disable deletion protection and try again. (Service: Rds, Status Code: 400)"
    elif kind == "AWS::EC2::Subnet" and moto_adapter.subnet_interfaces(region, physical):
        reason = f"The subnet '{physical}' has dependencies and cannot be deleted. (Service: Ec2, Status Code: 400)"
    elif kind == "AWS::S3::Bucket" and not moto_adapter.bucket_is_empty(physical):
        reason = "The bucket you tried to delete is not empty (Service: S3, Status Code: 409)"
    else:
        try:
            if kind == "AWS::RDS::DBInstance" and policy == "Snapshot" and not rollback:
                stack_name, _ = moto_adapter.stack_name_status(stack)
                suffix = hashlib.sha256(f"{physical}/{logical}".encode()).hexdigest()[:12]
                moto_adapter.snapshot_db(region, physical, f"{stack_name}-{logical.lower()}-{suffix}"[:255],
                                         {"aws:cloudformation:stack-name": stack_name,
                                          "aws:cloudformation:logical-id": logical})
            if kind == "AWS::EC2::NatGateway":
                moto_adapter.delete_nat_gateway(region, physical)
            if kind in ("AWS::EC2::Subnet", "AWS::EC2::SecurityGroup", "AWS::EC2::VPC"):
                moto_adapter.release_terminated_instance_interfaces(region)
            moto_adapter.delete_stack_resource(stack, logical)
        except Exception as error:  # the service's refusal is the resource's reason, as on AWS
            reason = getattr(error, "message", None) or str(error) or type(error).__name__
    if reason is not None:
        moto_adapter.add_resource_event(stack, logical, kind, physical, "DELETE_FAILED", reason)
        return reason
    moto_adapter.add_resource_event(stack, logical, kind, physical, "DELETE_COMPLETE")
    return None


# --- Drift detection ------------------------------------------------------------------------
# The types checked, and which of their properties (what `adminctl infra status --drift` needs to
# catch hand edits that matter: group sizes, database settings, who may connect); every other
# resource is NOT_CHECKED, as AWS reports the types its drift detection does not support.
DRIFT_CHECKED = {
    "AWS::AutoScaling::AutoScalingGroup": ("MinSize", "MaxSize"),
    "AWS::RDS::DBInstance": ("DBInstanceClass", "MultiAZ", "DeletionProtection", "BackupRetentionPeriod", "PubliclyAccessible"),
    "AWS::EC2::SecurityGroup": ("SecurityGroupIngress",),
}
DETECTIONS = {}        # detection id -> the result of DetectStackDrift
LAST_DRIFTS = {}       # stack id -> [resource drift] of its latest detection


def normalised(kind, name, value):
    if kind == "AWS::RDS::DBInstance" and name in ("MultiAZ", "DeletionProtection", "PubliclyAccessible"):
        return str(value).lower() == "true"
    if name in ("MinSize", "MaxSize", "BackupRetentionPeriod"):
        return str(value)
    return value


def expected_properties(stack, logical, kind, resources):
    properties = moto_adapter.stack_resource_properties(stack, logical)
    expected = {}
    for name in DRIFT_CHECKED[kind]:
        if name == "SecurityGroupIngress":
            rules = [moto_adapter.template_ingress_rule(rule) for rule in properties.get("SecurityGroupIngress") or []]
            for other, other_kind, _entry, _physical in resources:
                if other_kind == "AWS::EC2::SecurityGroupIngress":
                    standalone = moto_adapter.stack_resource_properties(stack, other)
                    if standalone.get("GroupId") == dict((r[0], r[3]) for r in resources).get(logical):
                        rules.append(moto_adapter.template_ingress_rule(standalone))
            expected[name] = sorted(rules, key=lambda r: json.dumps(r, sort_keys=True))
        elif name in properties:
            expected[name] = normalised(kind, name, properties[name])
    return expected


def differences(expected, actual):
    found = []
    for name, value in expected.items():
        if name not in actual:
            continue
        if isinstance(value, list):
            wanted = [json.dumps(rule, sort_keys=True) for rule in value]
            have = [json.dumps(rule, sort_keys=True) for rule in actual[name]]
            found += [{"PropertyPath": f"/{name}", "ExpectedValue": "null", "ActualValue": rule, "DifferenceType": "ADD"}
                      for rule in have if rule not in wanted]
            found += [{"PropertyPath": f"/{name}", "ExpectedValue": rule, "ActualValue": "null", "DifferenceType": "REMOVE"}
                      for rule in wanted if rule not in have]
        elif actual[name] != value:
            found.append({"PropertyPath": f"/{name}", "ExpectedValue": json.dumps(value) if not isinstance(value, str) else value,
                          "ActualValue": json.dumps(actual[name]) if not isinstance(actual[name], str) else actual[name],
                          "DifferenceType": "NOT_EQUAL"})
    return found


def detect_stack_drift(call):
    name = call.params.get("StackName", "")
    stack = moto_adapter.live_stack(call.region, name)
    if stack is None:
        raise AWSError("ValidationError", f"Stack with id {name} does not exist", 400)
    stack_name, status = moto_adapter.stack_name_status(stack)
    if status.endswith("_IN_PROGRESS"):
        raise AWSError("ValidationError", f"Drift detection is not supported for stack [{stack_name}] in status {status}", 400)
    resources = moto_adapter.stack_resources(stack)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    drifts = []
    for logical, kind, _entry, physical in resources:
        drift = {"LogicalResourceId": logical, "PhysicalResourceId": physical, "ResourceType": kind, "Timestamp": now,
                 "PropertyDifferences": [], "ExpectedProperties": None, "ActualProperties": None}
        if kind not in DRIFT_CHECKED:
            drift["StackResourceDriftStatus"] = "NOT_CHECKED"
        else:
            expected = expected_properties(stack, logical, kind, resources)
            actual = moto_adapter.actual_properties(call.region, kind, physical)
            drift["ExpectedProperties"] = json.dumps(expected, sort_keys=True)
            if actual is None:
                drift["StackResourceDriftStatus"] = "DELETED"
            else:
                drift["ActualProperties"] = json.dumps({k: v for k, v in actual.items() if k in expected}, sort_keys=True)
                drift["PropertyDifferences"] = differences(expected, actual)
                drift["StackResourceDriftStatus"] = "MODIFIED" if drift["PropertyDifferences"] else "IN_SYNC"
        drifts.append(drift)
    detection = uuid.uuid4().hex
    drifted = sum(d["StackResourceDriftStatus"] in ("MODIFIED", "DELETED") for d in drifts)
    DETECTIONS[detection] = {"StackId": stack.stack_id, "StackDriftDetectionId": detection, "Timestamp": now,
                             "StackDriftStatus": "DRIFTED" if drifted else "IN_SYNC", "DetectionStatus": "DETECTION_COMPLETE",
                             "DriftedStackResourceCount": drifted}
    LAST_DRIFTS[stack.stack_id] = drifts
    return wire.query_result("cloudformation", "DetectStackDrift", f"<StackDriftDetectionId>{detection}</StackDriftDetectionId>")


def describe_stack_drift_detection_status(call):
    detection = DETECTIONS.get(call.params.get("StackDriftDetectionId", ""))
    if detection is None:
        raise AWSError("ValidationError", "The stack drift detection id is not valid", 400)
    inner = "".join(f"<{key}>{escape(str(value))}</{key}>" for key, value in detection.items())
    return wire.query_result("cloudformation", "DescribeStackDriftDetectionStatus", inner)


def describe_stack_resource_drifts(call):
    name = call.params.get("StackName", "")
    stack = moto_adapter.live_stack(call.region, name)
    if stack is None:
        raise AWSError("ValidationError", f"Stack with id {name} does not exist", 400)
    wanted, index = set(), 1
    while f"StackResourceDriftStatusFilters.member.{index}" in call.params:
        wanted.add(call.params[f"StackResourceDriftStatusFilters.member.{index}"])
        index += 1
    members = []
    for drift in LAST_DRIFTS.get(stack.stack_id, []):
        if wanted and drift["StackResourceDriftStatus"] not in wanted:
            continue
        parts = [f"<StackId>{escape(stack.stack_id)}</StackId>"]
        for key in ("LogicalResourceId", "PhysicalResourceId", "ResourceType", "ExpectedProperties", "ActualProperties",
                    "StackResourceDriftStatus", "Timestamp"):
            if drift.get(key) is not None:
                parts.append(f"<{key}>{escape(str(drift[key]))}</{key}>")
        differences_xml = "".join("<member>" + "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in difference.items()) + "</member>"
                                  for difference in drift["PropertyDifferences"])
        parts.append(f"<PropertyDifferences>{differences_xml}</PropertyDifferences>")
        members.append("<member>" + "".join(parts) + "</member>")
    return wire.query_result("cloudformation", "DescribeStackResourceDrifts",
                             f"<StackResourceDrifts>{''.join(members)}</StackResourceDrifts>")


# --- ListStackResources, DescribeStackResources, DescribeStackResource ------------------------------
def iso_time(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def drift_information(stack_id, logical):
    drift = next((d for d in LAST_DRIFTS.get(stack_id, []) if d["LogicalResourceId"] == logical), None)
    if drift is None:
        return "<DriftInformation><StackResourceDriftStatus>NOT_CHECKED</StackResourceDriftStatus></DriftInformation>"
    return (f"<DriftInformation><StackResourceDriftStatus>{drift['StackResourceDriftStatus']}</StackResourceDriftStatus>"
            f"<LastCheckTimestamp>{drift['Timestamp']}</LastCheckTimestamp></DriftInformation>")


def resource_xml(resource, stack=None, time_name="LastUpdatedTimestamp", metadata=None):
    parts = []
    if stack is not None:
        stack_id, stack_name = moto_adapter.stack_id_and_name(stack)
        parts.append(f"<StackName>{escape(stack_name)}</StackName><StackId>{escape(stack_id)}</StackId>")
    parts.append(f"<LogicalResourceId>{escape(resource['logical'])}</LogicalResourceId>"
                 f"<PhysicalResourceId>{escape(resource['physical'])}</PhysicalResourceId>"
                 f"<ResourceType>{escape(resource['type'])}</ResourceType>"
                 f"<{time_name}>{iso_time(resource['timestamp'])}</{time_name}>"
                 f"<ResourceStatus>{escape(resource['status'])}</ResourceStatus>")
    if resource["reason"]:
        parts.append(f"<ResourceStatusReason>{escape(resource['reason'])}</ResourceStatusReason>")
    if metadata is not None:
        parts.append(f"<Metadata>{escape(json.dumps(metadata))}</Metadata>")
    return "".join(parts)


def stack_named(call, name):
    stack = moto_adapter.live_stack(call.region, name)
    if stack is None:
        raise AWSError("ValidationError", f"Stack with id {name} does not exist", 400)
    return stack


def list_stack_resources(call):
    """Every resource with its logical id, type and physical id (moto_adapter.listed_stack_resources)."""
    stack = stack_named(call, call.params.get("StackName", ""))
    stack_id, _ = moto_adapter.stack_id_and_name(stack)
    members = "".join(f"<member>{resource_xml(r)}{drift_information(stack_id, r['logical'])}</member>"
                      for r in moto_adapter.listed_stack_resources(call.region, stack))
    return wire.query_result("cloudformation", "ListStackResources",
                             f"<StackResourceSummaries>{members}</StackResourceSummaries>")


def describe_stack_resources(call):
    params = call.params
    name, logical, physical = params.get("StackName"), params.get("LogicalResourceId"), params.get("PhysicalResourceId")
    if name:
        stack = stack_named(call, name)
        candidates = [(stack, moto_adapter.listed_stack_resources(call.region, stack))]
    elif physical:
        candidates = [(stack, moto_adapter.listed_stack_resources(call.region, stack))
                      for stack in moto_adapter.live_stacks(call.region)]
        candidates = [(stack, listed) for stack, listed in candidates if any(r["physical"] == physical for r in listed)]
        if not candidates:
            raise AWSError("ValidationError", f"Stack for {physical} does not exist", 400)
    else:
        raise AWSError("ValidationError", "Either StackName or PhysicalResourceId must be specified", 400)
    members = []
    for stack, listed in candidates[:1]:
        stack_id, _ = moto_adapter.stack_id_and_name(stack)
        for resource in listed:
            if (logical and resource["logical"] != logical) or (physical and not name and resource["physical"] != physical):
                continue
            members.append(f"<member>{resource_xml(resource, stack, 'Timestamp')}"
                           f"{drift_information(stack_id, resource['logical'])}</member>")
    return wire.query_result("cloudformation", "DescribeStackResources", f"<StackResources>{''.join(members)}</StackResources>")


def describe_stack_resource(call):
    name, logical = call.params.get("StackName", ""), call.params.get("LogicalResourceId", "")
    stack = stack_named(call, name)
    resource = next((r for r in moto_adapter.listed_stack_resources(call.region, stack) if r["logical"] == logical), None)
    if resource is None:
        raise AWSError("ValidationError", f"Resource {logical} does not exist for stack {name}", 400)
    stack_id, _ = moto_adapter.stack_id_and_name(stack)
    detail = resource_xml(resource, stack, metadata=moto_adapter.stack_resource_metadata(stack, logical))
    return wire.query_result("cloudformation", "DescribeStackResource",
                             f"<StackResourceDetail>{detail}{drift_information(stack_id, logical)}</StackResourceDetail>")


def list_imports(call):
    name = call.params.get("ExportName", "")
    users = sorted(moto_adapter.stack_imports(call.region).get(name, []))
    if not users:
        raise AWSError("ValidationError", f"Export '{name}' is not imported by any stack.", 400)
    members = "".join(f"<member>{escape(user)}</member>" for user in users)
    return wire.query_result("cloudformation", "ListImports", f"<Imports>{members}</Imports>")


def register(registry, world):
    for operation in ("CreateStack", "UpdateStack", "CreateChangeSet"):
        registry.before("cloudformation", operation, check_parameter_constraints)
    registry.after("cloudformation", "CreateChangeSet", unchanged_change_set)
    for operation in ("DescribeChangeSet", "ExecuteChangeSet"):
        registry.before("cloudformation", operation, missing_change_set)
    registry.after("cloudformation", "ExecuteChangeSet", remove_other_change_sets)
    for operation in ("CreateStack", "UpdateStack", "ExecuteChangeSet"):
        registry.after("cloudformation", operation, apply_what_moto_skips)
    for operation in ("CreateStack", "ExecuteChangeSet"):
        registry.after("cloudformation", operation, lambda call, response: fail_injected_resource(world, call, response))
    registry.handle("cloudformation", "DeleteStack", delete_stack)
    registry.handle("cloudformation", "ListImports", list_imports)
    registry.handle("cloudformation", "ListStackResources", list_stack_resources)
    registry.handle("cloudformation", "DescribeStackResources", describe_stack_resources)
    registry.handle("cloudformation", "DescribeStackResource", describe_stack_resource)
    registry.handle("cloudformation", "DetectStackDrift", detect_stack_drift)
    registry.handle("cloudformation", "DescribeStackDriftDetectionStatus", describe_stack_drift_detection_status)
    registry.handle("cloudformation", "DescribeStackResourceDrifts", describe_stack_resource_drifts)
