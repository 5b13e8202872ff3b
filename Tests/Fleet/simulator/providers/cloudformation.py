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
from the template the change set applied (moto kept the previous template's: none for a new stack).
"""
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


def apply_what_moto_skips(call, response):
    if response.status == 200:
        stack = call.params.get("StackName", "")
        if call.operation == "ExecuteChangeSet":
            stack = moto_adapter.change_set_stack(call.region, call.params.get("ChangeSetName", ""), stack) or stack
            moto_adapter.refresh_stack_outputs(call.region, stack)
        for bucket, config in moto_adapter.stack_buckets_with_public_access_block(call.region, stack):
            moto_adapter.put_public_access_block(bucket, config)
        moto_adapter.apply_stack_scaling_policies(call.region, stack)
    return None


def register(registry, world):
    registry.after("cloudformation", "CreateChangeSet", unchanged_change_set)
    for operation in ("CreateStack", "UpdateStack", "ExecuteChangeSet"):
        registry.after("cloudformation", operation, apply_what_moto_skips)
