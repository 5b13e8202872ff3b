"""Everything the simulator reads or changes inside moto, in one place.

moto's backends are its private implementation: their fields and helpers change between
releases (we pin 5.2.1). Only this module touches them, so a moto upgrade is checked here and
nowhere else. Callers hold `state.LOCK` (see state.py) around every call; what is returned are
plain values or opaque handles to pass back to this module.
"""
import json
import secrets

from moto.core import DEFAULT_ACCOUNT_ID

# The one account the simulated cloud has (moto's default, which its IAM users also belong to).
ACCOUNT_ID = DEFAULT_ACCOUNT_ID


# --- EC2 instances ----------------------------------------------------------------------------
def _ec2(region):
    from moto.ec2.models import ec2_backends
    return ec2_backends[ACCOUNT_ID][region]


def instances(region):
    """Every instance moto has in `region`, terminated ones included (opaque handles)."""
    return list(_ec2(region).all_instances())


def instance_id(instance):
    return instance.id


def instance_state(instance):
    """"pending", "running", "stopping", "stopped", "shutting-down" or "terminated"."""
    return instance._state.name


def instance_tags(instance):
    return {tag["key"]: tag["value"] for tag in instance.get_tags()}


def instance_user_data(instance):
    """The raw user data moto holds (base64 text or moto's Base64EncodedString), or None."""
    return getattr(instance, "user_data", None)


def instance_private_ip(instance):
    return getattr(instance, "private_ip", "") or ""


def instance_profile_credentials(region, instance):
    """What the instance metadata service gives an instance with an instance profile: temporary
    credentials of the profile's role (access key id, secret, session token, expiry as epoch
    seconds), or None for an instance without a profile or a profile without a role. Callers
    hold state.LOCK."""
    from moto.ec2.models import ec2_backends
    from moto.sts.models import sts_backends
    association = ec2_backends[ACCOUNT_ID][region].iam_instance_profile_associations.get(instance.id)
    profile = getattr(association, "iam_instance_profile", None)
    roles = list(getattr(profile, "roles", None) or [])
    if not roles:
        return None
    assumed = sts_backends[ACCOUNT_ID]["aws"].assume_role(
        region_name=region, role_session_name=instance.id, role_arn=roles[0].arn, policy=None, duration=3600,
        external_id=None)
    return (assumed.access_key_id, assumed.secret_access_key, assumed.session_token,
            assumed.expiration.timestamp())


def terminate_instances(region, ids):
    if ids:
        _ec2(region).terminate_instances(list(ids))


# --- SSM documents and S3 ---------------------------------------------------------------------
def ssm_document(region, name):
    """(content, "JSON" | "YAML") of the default version of the SSM document `name`; KeyError if none."""
    from moto.ssm.models import ssm_backends
    try:
        document = ssm_backends[ACCOUNT_ID][region]._get_documents(name).find(None, None)
    except Exception:
        raise KeyError(name) from None
    return document.content, document.document_format


def s3_put_object(bucket, key, data):
    from moto.s3.models import s3_backends
    s3_backends[ACCOUNT_ID]["aws"].put_object(bucket, key, data)


# --- Auto Scaling groups ----------------------------------------------------------------------
class ScalingGroup:
    """One moto Auto Scaling group, as instance refresh needs it."""

    def __init__(self, region, group):
        self.region = region
        self._group = group
        from moto.autoscaling.models import autoscaling_backends
        self._backend = autoscaling_backends[ACCOUNT_ID][region]

    @property
    def name(self):
        return self._group.name

    def members(self):
        """[(instance handle, lifecycle state, health status)] of the group's instances."""
        return [(state.instance, state.lifecycle_state, state.health_status) for state in self._group.instance_states]

    def capacity(self):
        return max(1, self._group.desired_capacity or len(self._group.instance_states))

    def template_id(self):
        template = self._group.ec2_launch_template
        return template.id if template is not None else None

    def resolved_version(self):
        """The launch template version the group launches now, as a number ("3"), or None."""
        template = self._group.ec2_launch_template
        if template is None:
            return None
        version = self._group.launch_template_version
        if version in ("$Latest", None):
            return str(template.latest_version_number)
        if version == "$Default":
            return str(template.default_version_number)
        return str(version)

    def use_template(self, template_id, version):
        if template_id and template_id != self.template_id():
            self._group.ec2_launch_template = self._backend.ec2_backend.get_launch_template(template_id)
        if version:
            self._group.launch_template_version = self._group.provided_launch_template_version = version

    def launch(self, count):
        """Launches `count` instances as the group would (its tags, its template); their handles."""
        before = {state.instance.id for state in self._group.instance_states}
        self._group.replace_autoscaling_group_instances(count, self._group.get_propagated_tags())
        self._backend.update_attached_target_groups(self._group.name)     # they register as they enter the group
        return [state.instance for state in self._group.instance_states if state.instance.id not in before]

    def grace_period(self):
        return float(self._group.health_check_grace_period or 0)

    def set_health(self, instance, lifecycle, health):
        for state in self._group.instance_states:
            if state.instance.id == instance.id:
                state.lifecycle_state, state.health_status = lifecycle, health

    def remove(self, handles):
        """Terminates these members and takes them out of the group and its target groups."""
        self.detach(handles)
        self.terminate(handles)

    def detach(self, handles):
        """Takes these members out of the group and deregisters them from its target groups
        (they drain there); they keep running until `terminate`."""
        ids = {instance.id for instance in handles}
        self._group.instance_states = [state for state in self._group.instance_states if state.instance.id not in ids]
        # moto's update_attached_target_groups only ever registers: deregister the leavers here.
        for arn in self._group.target_group_arns:
            group = self._backend.elbv2_backend.target_groups.get(arn)
            registered = [{"Id": instance_id} for instance_id in sorted(ids) if group is not None and instance_id in group.targets]
            if registered:
                group.deregister(registered)

    def terminate(self, handles):
        ids = [instance.id for instance in handles]
        if ids:
            self._backend.ec2_backend.terminate_instances(ids)

    def scale_in(self, desired):
        """Lowers the desired capacity and detaches the members the default termination policy
        picks (they drain in their target groups); returns them, still running, for `terminate`."""
        excess = len(self._group.active_instances()) - desired
        chosen = [member.instance for member in self._group.termination_order(excess)] if excess > 0 else []
        self._group.desired_capacity = desired
        self.detach(chosen)
        return chosen

    def health_check_type(self):
        return self._group.health_check_type or "EC2"

    def target_group_arns(self):
        return list(self._group.target_group_arns)

    def configured_version(self):
        """The version as the group names it: a number, "$Latest" or "$Default" (or None)."""
        return self._group.launch_template_version if self._group.ec2_launch_template is not None else None


def target_tracking_policies(region):
    """Every TargetTrackingScaling policy moto holds, as plain values: [{name, arn, group, metric,
    label, target, disable_scale_in}] (query-protocol strings turned into numbers and booleans)."""
    from moto.autoscaling.models import autoscaling_backends
    result = []
    for policy in autoscaling_backends[ACCOUNT_ID][region].policies.values():
        config = policy.target_tracking_configuration
        if policy.policy_type != "TargetTrackingScaling" or config is None:
            continue
        spec = getattr(config, "PredefinedMetricSpecification", None) or {}
        try:
            target = float(getattr(config, "TargetValue", 0) or 0)
        except (TypeError, ValueError):
            target = 0.0
        disable = getattr(config, "DisableScaleIn", False)
        result.append({"name": policy.name, "arn": policy.arn, "group": policy.auto_scaling_group_name,
                       "metric": spec.get("PredefinedMetricType", ""), "label": spec.get("ResourceLabel", ""),
                       "target": target, "disable_scale_in": disable in (True, "true", "True")})
    return result


def group_sizes(region, name):
    """(min, max, desired, [InService instance ids], [target group arns]) of a group, or None."""
    from moto.autoscaling.models import autoscaling_backends
    group = autoscaling_backends[ACCOUNT_ID][region].autoscaling_groups.get(name)
    if group is None:
        return None
    in_service = [state.instance.id for state in group.instance_states if state.lifecycle_state == "InService"]
    return group.min_size, group.max_size, group.desired_capacity, in_service, list(group.target_group_arns)


def set_desired_capacity(region, name, desired):
    """What SetDesiredCapacity does: moto launches or terminates members and updates the target groups."""
    from moto.autoscaling.models import autoscaling_backends
    autoscaling_backends[ACCOUNT_ID][region].set_desired_capacity(name, desired)


def scaling_group(region, name):
    from moto.autoscaling.models import autoscaling_backends
    group = autoscaling_backends[ACCOUNT_ID][region].autoscaling_groups.get(name)
    return ScalingGroup(region, group) if group is not None else None


def inherit_launch_template_version(region, template_id, template_name, number, source):
    """CreateLaunchTemplateVersion with SourceVersion: the new version inherits the source's
    launch parameters, those the request gave overwriting them (moto ignores SourceVersion and
    keeps only what the request gave). Returns False when the source version does not exist."""
    from moto.ec2.models import ec2_backends
    from moto.ec2.utils import convert_tag_spec
    backend = ec2_backends[ACCOUNT_ID][region]
    template = backend.get_launch_template(template_id) if template_id else backend.get_launch_template_by_name(template_name)
    try:
        origin = template.get_version(source)
    except Exception:
        return False
    version = template.get_version(number)
    merged = dict(origin.data)
    merged.update(version.data)
    version.data = merged
    version.instance_tags = convert_tag_spec(merged.get("TagSpecifications", [])).get("instance", {})
    return True


def launch_template_version_count(region, template_id, template_name):
    from moto.ec2.models import ec2_backends
    backend = ec2_backends[ACCOUNT_ID][region]
    template = backend.get_launch_template(template_id) if template_id else backend.get_launch_template_by_name(template_name)
    return len(template.versions)


def fix_launch_template_user_data():
    """moto 5.2 stores UserData of CreateLaunchTemplateVersion as a plain string and then asserts
    it is a Base64EncodedString when an Auto Scaling group launches from that version; accept both."""
    from moto.core.types import Base64EncodedString
    from moto.ec2.models.launch_templates import LaunchTemplateVersion

    def user_data(self):
        value = self.data.get("UserData")
        if isinstance(value, str):
            value = Base64EncodedString(value)
        return value

    LaunchTemplateVersion.user_data = property(user_data)


# --- Elastic Load Balancing v2 ----------------------------------------------------------------
def _elbv2(region):
    from moto.elbv2.models import elbv2_backends
    return elbv2_backends[ACCOUNT_ID][region]


def _forwarded_groups(action):
    data = getattr(action, "data", {}) or {}
    if data.get("TargetGroupArn"):
        return [data["TargetGroupArn"]]
    return [item["TargetGroupArn"] for item in (data.get("ForwardConfig") or {}).get("TargetGroups", [])
            if item.get("TargetGroupArn")]


def load_balancers(region):
    """[{arn, name, dns, listeners: [{arn, port, protocol, target_groups: [arn]}]}]."""
    backend = _elbv2(region)
    result = []
    for arn, balancer in backend.load_balancers.items():
        listeners = []
        for listener in balancer.listeners.values():
            groups = [group for action in listener.default_actions for group in _forwarded_groups(action)
                      if group in backend.target_groups]
            listeners.append({"arn": listener.arn, "port": int(listener.port), "protocol": listener.protocol,
                              "target_groups": groups})
        result.append({"arn": arn, "name": balancer.name, "dns": getattr(balancer, "dns_name", ""),
                       "listeners": sorted(listeners, key=lambda item: item["port"])})
    return result


def target_group(region, arn):
    """A target group's settings and registered targets as plain values, or None."""
    group = _elbv2(region).target_groups.get(arn)
    if group is None:
        return None
    return {
        "arn": group.arn, "name": group.name, "port": group.port,
        "path": group.health_check_path or "/",
        "interval": float(group.health_check_interval_seconds or 30),
        "timeout": float(group.health_check_timeout_seconds or 5),
        "healthy": int(group.healthy_threshold_count or 5),
        "unhealthy": int(group.unhealthy_threshold_count or 2),
        "matcher": (getattr(group, "matcher", None) or {}).get("HttpCode", "200"),
        "enabled": bool(group.health_check_enabled),
        "delay": float(group.attributes.get("deregistration_delay.timeout_seconds", 300)),
        "targets": {target_id: int(target.get("Port") or group.port or 80) for target_id, target in group.targets.items()},
    }


# --- CloudFormation ---------------------------------------------------------------------------
def add_failed_change_set(region, stack_name, change_set_name, template, parameters, description, reason):
    """Records a change set in status FAILED (execution UNAVAILABLE) for an existing stack, as
    CloudFormation does when a change set has nothing to change; returns (change set id, stack id)."""
    from moto.cloudformation.models import ChangeSet, cloudformation_backends
    from moto.cloudformation.utils import generate_changeset_id
    backend = cloudformation_backends[ACCOUNT_ID][region]
    stack = next((stack for stack in backend.stacks.values()
                  if stack_name in (stack.name, stack.stack_id) and stack.status != "DELETE_COMPLETE"), None)
    if stack is None:
        return None
    change_set_id = generate_changeset_id(change_set_name, region, ACCOUNT_ID)
    change_set = ChangeSet(change_set_type="UPDATE", change_set_id=change_set_id, change_set_name=change_set_name,
                           stack=stack, template=template, parameters=parameters, description=description)
    change_set.status, change_set.execution_status, change_set.status_reason = "FAILED", "UNAVAILABLE", reason
    backend.change_sets[change_set_id] = change_set
    return change_set_id, stack.stack_id


# --- IAM: who is asking, and the policies that speak for them (authorization.py) -----------------
def _iam_tags(tags):
    """{key: value} of an IAM entity's tags: moto keeps {key: {"Key", "Value"}} from the API, but
    the [{"Key", "Value"}] list a CloudFormation template gives (AWS::IAM::Role Tags) as it came."""
    if isinstance(tags, list):
        return {tag["Key"]: tag["Value"] for tag in tags if isinstance(tag, dict) and "Key" in tag}
    return {key: value["Value"] if isinstance(value, dict) else value for key, value in (tags or {}).items()}


def identity(access_key):
    """The principal behind moto's access-key object (IAMRequest._access_key): its type ("User" or
    "AssumedRole"), name, ARN, unique id, the role ARN of an assumed role, and its tags."""
    from moto.iam.models import iam_backends
    backend = iam_backends[ACCOUNT_ID]["aws"]
    user_name = getattr(access_key, "_owner_user_name", None)
    if user_name is not None:
        user = backend.get_user(user_name)
        tags = _iam_tags(user.tags)
        return {"type": "User", "name": user_name, "arn": access_key.arn, "id": user.id,
                "principal_arn": access_key.arn, "tags": tags}
    role_name = access_key._owner_role_name
    role = backend.get_role(role_name)
    tags = _iam_tags(role.tags)
    return {"type": "AssumedRole", "name": role_name, "arn": access_key.arn,
            "id": f"{role.id}:{access_key._session_name}", "principal_arn": role.arn, "tags": tags}


def caller(access_key_id):
    """Who signs with `access_key_id`: {"arn", "session_prefix"} (the user name, or an assumed
    role's session name, which AWS starts a Session Manager session id with), or None for a key
    moto does not know."""
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends
    backend = iam_backends[ACCOUNT_ID]["aws"]
    for user in backend.users.values():
        if any(key.access_key_id == access_key_id for key in user.access_keys):
            return {"arn": user.arn, "session_prefix": user.name}
    assumed = sts_backends[ACCOUNT_ID]["aws"].get_assumed_role_from_access_key(access_key_id)
    if assumed is not None:
        return {"arn": assumed.arn, "session_prefix": assumed.session_name}
    return None


def set_access_key_created(user_name, access_key_id, created):
    """Dates an IAM access key's CreateDate back to `created` (epoch seconds): how a test gets a
    key that is months old, which only time makes on AWS. KeyError if the user has no such key."""
    import datetime
    from moto.iam.models import iam_backends
    user = iam_backends[ACCOUNT_ID]["aws"].users.get(user_name)
    if user is None:
        raise KeyError(f"no IAM user {user_name}")
    key = next((key for key in user.access_keys if key.access_key_id == access_key_id), None)
    if key is None:
        raise KeyError(f"{user_name} has no access key {access_key_id}")
    # moto keeps naive UTC datetimes (utcnow()).
    key.create_date = datetime.datetime.fromtimestamp(created, datetime.timezone.utc).replace(tzinfo=None)
    return {"userName": user_name, "accessKeyId": access_key_id, "created": created}


def identity_policies(access_key):
    """Every identity-based policy document (parsed JSON) of the principal: a user's inline and
    attached policies and those of its groups, or an assumed role's."""
    from moto.iam.models import Policy
    documents = []
    for policy in access_key.collect_policies():
        if isinstance(policy, Policy):
            text = next(version.document for version in policy.versions if version.is_default)
        elif isinstance(policy, str):
            text = policy
        else:
            text = policy["policy_document"]
        documents.append(json.loads(text) if isinstance(text, str) else text)
    return documents


def role_trust_policy(role_arn):
    """The trust (assume-role) policy of the role `role_arn`, parsed; None if there is no such role."""
    from moto.iam.models import iam_backends
    try:
        role = iam_backends[ACCOUNT_ID]["aws"].get_role_by_arn(role_arn)
    except Exception:
        return None
    document = role.assume_role_policy_document
    return json.loads(document) if isinstance(document, str) else document


def _stack_template(stack):
    """The parsed template a stack's resources were made from: after ExecuteChangeSet moto leaves
    `template_dict` as it was (empty for a stack created by a change set); its resource map has it."""
    return getattr(stack.resource_map, "_template", None) or stack.template_dict or {}


def refresh_stack_outputs(region, stack_name):
    """Recomputes a stack's outputs and exports from its template, as CloudFormation does after a
    change set runs: moto 5.2's ExecuteChangeSet keeps the outputs of the template the stack had
    before (none, for a stack a CREATE change set made) and never registers its exports."""
    from moto.cloudformation.models import cloudformation_backends
    backend = cloudformation_backends[ACCOUNT_ID][region]
    stack = next((stack for stack in backend.stacks.values()
                  if stack_name in (stack.name, stack.stack_id) and stack.status != "DELETE_COMPLETE"), None)
    if stack is None:
        return
    stack._parse_template()
    before = [export.name for export in stack.exports]
    stack.output_map = stack._create_output_map()
    # Its exports follow (moto registers exports only in CreateStack): other stacks' Fn::ImportValue
    # reads them from backend.exports, the very dict their own stacks were given.
    for name in before:
        backend.exports.pop(name, None)
    for export in stack.exports:
        backend.exports[export.name] = export


def stack_buckets_with_public_access_block(region, stack_name):
    """[(bucket name, PublicAccessBlockConfiguration)] of a stack's AWS::S3::Bucket resources whose
    template gives that configuration with literal values (moto accepts it but never applies it)."""
    from moto.cloudformation.models import cloudformation_backends
    backend = cloudformation_backends[ACCOUNT_ID][region]
    stack = next((stack for stack in backend.stacks.values()
                  if stack_name in (stack.name, stack.stack_id) and stack.status != "DELETE_COMPLETE"), None)
    if stack is None:
        return []
    found = []
    for logical, resource in (_stack_template(stack).get("Resources") or {}).items():
        config = (resource.get("Properties") or {}).get("PublicAccessBlockConfiguration")
        if resource.get("Type") != "AWS::S3::Bucket" or not isinstance(config, dict):
            continue
        if any(isinstance(value, dict) for value in config.values()):
            continue                      # an intrinsic function: not resolved here
        bucket = stack.resource_map[logical] if logical in stack.resource_map else None
        name = getattr(bucket, "name", None)
        if name:
            found.append((name, config))
    return found


def put_public_access_block(bucket, config):
    from moto.s3.models import s3_backends
    s3_backends[ACCOUNT_ID]["aws"].put_public_access_block(bucket, {key: str(value).lower() if isinstance(value, bool) else value
                                                                    for key, value in config.items()})


def _scaling_policy_name(stack, logical):
    import hashlib
    suffix = hashlib.sha256(f"{stack.stack_id}/{logical}".encode()).hexdigest()[:12].upper()
    return f"{stack.name}-{logical}-{suffix}"


def apply_stack_scaling_policies(region, stack_name):
    """Puts the stack's AWS::AutoScaling::ScalingPolicy resources on their groups (moto 5.2
    accepts them in a template but DescribePolicies stays empty); returns the policy names. A
    policy's name is CloudFormation's kind of physical name: <stack>-<logical id>-<suffix>."""
    import hashlib
    from moto.autoscaling.models import autoscaling_backends
    from moto.cloudformation.models import cloudformation_backends
    from moto.cloudformation.parsing import clean_json
    backend = cloudformation_backends[ACCOUNT_ID][region]
    stack = next((stack for stack in backend.stacks.values()
                  if stack_name in (stack.name, stack.stack_id) and stack.status != "DELETE_COMPLETE"), None)
    if stack is None:
        return []
    scaling = autoscaling_backends[ACCOUNT_ID][region]
    names = []
    for logical, resource in (_stack_template(stack).get("Resources") or {}).items():
        if resource.get("Type") != "AWS::AutoScaling::ScalingPolicy":
            continue
        properties = clean_json(resource.get("Properties") or {}, stack.resource_map)
        name = _scaling_policy_name(stack, logical)
        scaling.put_scaling_policy(
            name=name, policy_type=properties.get("PolicyType", "SimpleScaling"),
            metric_aggregation_type=properties.get("MetricAggregationType"),
            adjustment_type=properties.get("AdjustmentType"), as_name=properties.get("AutoScalingGroupName"),
            min_adjustment_magnitude=properties.get("MinAdjustmentMagnitude"),
            scaling_adjustment=properties.get("ScalingAdjustment"), cooldown=properties.get("Cooldown"),
            target_tracking_config=properties.get("TargetTrackingConfiguration") or {},
            step_adjustments=properties.get("StepAdjustments"),
            estimated_instance_warmup=properties.get("EstimatedInstanceWarmup"),
            predictive_scaling_configuration=properties.get("PredictiveScalingConfiguration"))
        names.append(name)
    return names


def fix_short_get_att():
    """moto 5.2 splits YAML's `!GetAtt DB.Endpoint.Address` at every dot and then rejects the
    attribute "Endpoint"; CloudFormation splits at the first dot only ("!GetAtt
    logicalNameOfResource.attributeName"), as moto's long form `Fn::GetAtt: [DB, Endpoint.Address]`
    already works. A short-form function over a mapping (`!Base64` then `Fn::Join:` on the next
    lines) is read as that mapping; moto kept YAML's node objects, and Fn::Base64 failed on them.
    Replaces the YAML tag constructor moto registers before each parse."""
    import yaml
    from moto.cloudformation import models, responses, utils

    original = utils.yaml_tag_constructor

    def constructor(loader, tag, node):
        if tag == "!GetAtt" and isinstance(node, yaml.ScalarNode):
            return {"Fn::GetAtt": node.value.split(".", 1)}
        if isinstance(node, yaml.MappingNode):
            # `!Base64` over a block mapping (`Fn::Join: ...`): moto returns the raw YAML nodes.
            return {"Ref" if tag == "!Ref" else f"Fn::{tag[1:]}": loader.construct_mapping(node, deep=True)}
        return original(loader, tag, node)

    for module in (utils, models, responses):
        module.yaml_tag_constructor = constructor


def fast_resource_tags():
    """moto 5.2 answers an EC2 resource's own tags (`get_tags`, which DescribeInstances renders for
    every instance and our Run Command reads for tag targets) by scanning every tag of the
    account with regular expressions: O(all tags) per instance, 2.9 s for DescribeInstances over
    500 instances. Reads the resource's own entry instead; the same list, in the same order."""
    from moto.ec2.models.core import TaggedEC2Resource
    from moto.ec2.utils import EC2_PREFIX_TO_RESOURCE, get_prefix

    def get_tags(self):
        resource_id = getattr(self, "id", None)
        if not resource_id:
            return []
        tags = self.ec2_backend.tags.get(resource_id) or {}
        kind = EC2_PREFIX_TO_RESOURCE.get(get_prefix(resource_id), "")
        return [{"resource_id": resource_id, "key": key, "value": value, "resource_type": kind}
                for key, value in list(tags.items())]

    TaggedEC2Resource.get_tags = get_tags


def resolve_select_index():
    """CloudFormation's Fn::Select takes its index from a function too (`!Select [!Ref Index,
    ...]`, a Number parameter); moto 5.2 called int() on the unresolved `{"Ref": ...}` and failed
    the stack with a TypeError. Resolves the index first, as CloudFormation does. moto's
    clean_json recurses through its module global, so nested functions get the same treatment."""
    from moto.cloudformation import parsing

    original = parsing.clean_json

    def clean_json(resource_json, resources_map):
        select = resource_json.get("Fn::Select") if isinstance(resource_json, dict) else None
        if isinstance(select, list) and len(select) == 2 and isinstance(select[0], dict):
            resource_json = dict(resource_json, **{"Fn::Select": [original(select[0], resources_map), select[1]]})
        return original(resource_json, resources_map)

    parsing.clean_json = clean_json


def sub_get_att_at_the_first_dot():
    """Fn::Sub's `${Db.MasterUserSecret.SecretArn}` is `!GetAtt Db.MasterUserSecret.SecretArn`,
    split at the first dot as CloudFormation does ("${MyResource.MyAttribute}"); moto 5.2 split
    it at every dot and failed the stack on attribute "MasterUserSecret". Resolves such names
    first (one dot, `${Db.Arn}`, moto already reads right)."""
    import re

    from moto.cloudformation import parsing

    original = parsing.clean_json

    def clean_json(resource_json, resources_map):
        text = resource_json.get("Fn::Sub") if isinstance(resource_json, dict) and len(resource_json) == 1 else None
        if isinstance(text, str):
            for name in set(re.findall(r"\$\{([A-Za-z0-9]+\.[A-Za-z0-9]+\.[A-Za-z0-9.]+)\}", text)):
                value = original({"Fn::GetAtt": name.split(".", 1)}, resources_map)
                text = text.replace("${" + name + "}", str(value))
            resource_json = {"Fn::Sub": text}
        return original(resource_json, resources_map)

    parsing.clean_json = clean_json


def apply_instance_security_group_ids():
    """AWS::EC2::Instance in a VPC names its groups by id in SecurityGroupIds; moto 5.2 reads only
    SecurityGroups (and as ids), so the instance landed in the VPC's default group. Gives moto
    both lists, as CloudFormation applies both. An instance's LaunchTemplate (which moto ignored)
    is launched from, as RunInstances launches from one."""
    from moto.ec2.models.instances import Instance

    original = Instance.create_from_cloudformation_json.__func__

    def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        properties = cloudformation_json.get("Properties", {})
        if properties.get("SecurityGroupIds"):
            properties = dict(properties, SecurityGroups=list(properties.get("SecurityGroups", []))
                              + list(properties["SecurityGroupIds"]))
            cloudformation_json = dict(cloudformation_json, Properties=properties)
        template = properties.get("LaunchTemplate")
        if not template:
            return original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        # The instance's LaunchTemplate, which moto ignored: launched from it, as RunInstances with
        # a LaunchTemplate is (launch_from_templates_as_ec2_does takes its MetadataOptions, ...).
        spec = {key: str(template[key]) for key in ("LaunchTemplateId", "LaunchTemplateName", "Version") if template.get(key)}
        backend = _ec2(region_name)
        run = backend.run_instances

        def run_from_template(*args, **options):
            options.setdefault("launch_template", spec)
            return run(*args, **options)

        backend.run_instances = run_from_template
        try:
            return original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        finally:
            del backend.run_instances

    Instance.create_from_cloudformation_json = classmethod(create)


def share_exports_with_every_stack():
    """Fn::ImportValue reads the region's exports. moto 5.2 hands a stack the backend's exports
    dict only in CreateStack, and `cross_stack_resources or {}` swaps an empty one for a private
    copy; a stack made by a CREATE change set got `{}`, so it could import nothing ("No export
    named ... found"). Every stack's resource map now reads the backend's own dict."""
    from moto.cloudformation.models import Stack, cloudformation_backends

    original = Stack._create_resource_map

    def create_resource_map(self):
        self.cross_stack_resources = cloudformation_backends[self.account_id][self.region_name].exports
        return original(self)

    Stack._create_resource_map = create_resource_map


def delete_managed_policies_with_their_stack():
    """Deleting a stack deletes its AWS::IAM::ManagedPolicy resources, detaching them from the
    users, roles and groups they are attached to first, as CloudFormation does. moto 5.2 had no
    delete for them: the policy stayed attached, so the user (or role) it names could never be
    deleted either (DeleteConflict "must detach all policies first") and DeleteStack failed."""
    from moto.iam.models import ManagedPolicy, iam_backends

    def delete(self, account_id, region_name):
        backend = iam_backends[account_id][self.partition]
        for detach, entities in ((backend.detach_user_policy, backend.users),
                                 (backend.detach_role_policy, backend.roles),
                                 (backend.detach_group_policy, backend.groups)):
            for name, entity in list(entities.items()):
                if self.arn in (getattr(entity, "managed_policies", None) or {}):
                    detach(self.arn, getattr(entity, "name", name))
        backend.managed_policies.pop(self.arn, None)

    ManagedPolicy.delete = delete


def accept_ssm_parameter_tag_maps():
    """AWS::SSM::Parameter takes its Tags as a map ({Key: Value}), unlike every other resource;
    moto 5.2 passes that map on to PutParameter, which wants [{Key, Value}] and failed the stack
    creation. Converts the map as CloudFormation does. A parameter the template leaves unnamed
    gets a generated name, as CloudFormation gives it (moto failed on the missing Name)."""
    import uuid
    from moto.ssm.models import SimpleSystemManagerBackend

    original = SimpleSystemManagerBackend.put_parameter

    def put_parameter(self, *args, **kwargs):
        if "name" in kwargs and kwargs["name"] is None:
            kwargs["name"] = f"CFN-Parameter-{uuid.uuid4().hex[:12]}"
        tags = kwargs.get("tags")
        if isinstance(tags, dict):
            kwargs["tags"] = [{"Key": key, "Value": value} for key, value in tags.items()]
        return original(self, *args, **kwargs)

    SimpleSystemManagerBackend.put_parameter = put_parameter


def manage_rds_master_passwords():
    """CloudFormation's DBInstance with ManageMasterUserPassword: RDS keeps the password in a
    Secrets Manager secret, and `!GetAtt Db.MasterUserSecret.SecretArn` names it. moto 5.2 does
    so for CreateDBInstance but its CloudFormation path drops the property and answers no such
    attribute (the stack's outputs then fail). Creates the secret as CreateDBInstance does."""
    from moto.rds.models import DBInstance, MasterUserSecret

    original_create = DBInstance.create_from_cloudformation_json.__func__
    original_attribute = DBInstance.get_cfn_attribute

    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        database = original_create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        properties = cloudformation_json.get("Properties") or {}
        if str(properties.get("ManageMasterUserPassword", "")).lower() == "true" and \
                getattr(database, "master_user_secret", None) is None:
            kms_key = (properties.get("MasterUserSecret") or {}).get("KmsKeyId")
            database.master_user_secret = MasterUserSecret(database, kms_key)
            database.manage_master_user_password = True
        return database

    def get_cfn_attribute(self, attribute_name):
        if attribute_name == "MasterUserSecret.SecretArn" and getattr(self, "master_user_secret", None) is not None:
            return self.master_user_secret.secret.arn
        if attribute_name == "DBInstanceArn":
            return self.db_instance_arn
        if attribute_name == "DbiResourceId":
            return self.dbi_resource_id
        return original_attribute(self, attribute_name)

    original_has = DBInstance.has_cfn_attr.__func__

    def has_cfn_attr(cls, attribute):
        # moto's template check asks this before anything is created.
        return attribute in ("MasterUserSecret.SecretArn", "DBInstanceArn", "DbiResourceId") or original_has(cls, attribute)

    DBInstance.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)
    DBInstance.get_cfn_attribute = get_cfn_attribute
    DBInstance.has_cfn_attr = classmethod(has_cfn_attr)

    # The secret RDS keeps holds the instance's own master user name and a generated password
    # ("Password management with Amazon RDS and AWS Secrets Manager": {"username", "password"});
    # moto wrote the same {"admin", "P@55w0rd!"} into every one.
    def _generate_secret_string(self):
        username = getattr(self.resource, "master_username", None) or "admin"
        return json.dumps({"username": username, "password": secrets.token_urlsafe(24)})

    MasterUserSecret._generate_secret_string = _generate_secret_string


def list_parameter_changes_in_change_sets():
    """A change set lists the resources a changed parameter reaches (a new instance type: Modify
    of the launch template), as CloudFormation does. moto 5.2 applies such changes when the change
    set runs (ResourceMap.update passes the parameters) but lists them only from the template's
    text, so a parameter-only change set showed no change at all."""
    from moto.cloudformation.models import Change, ChangeSet

    def diff(self):
        resource_map = self.stack.resource_map
        names = resource_map.build_resource_diff(self.template_dict, self.parameters)
        changes = []
        for action in ("Add", "Modify", "Remove"):
            for name in dict.fromkeys(names[action]):
                source = resource_map._resource_json_map if action == "Remove" else self.template_dict["Resources"]
                changes.append(Change(action=action, logical_resource_id=name, resource_type=source[name]["Type"]))
        return changes

    ChangeSet.diff = diff


def complete_elbv2_attributes():
    """moto 5.2's target groups answer no `!GetAtt` at all, and its load balancers not
    LoadBalancerFullName: the attributes a target-tracking policy's ResourceLabel is built from
    (`app/<name>/<id>/targetgroup/<name>/<id>`, CloudFormation's AWS::ElasticLoadBalancingV2
    return values). Adds them, each derived from the ARN as AWS derives it."""
    from moto.elbv2.models import FakeLoadBalancer, FakeTargetGroup

    def target_group_attribute(self, attribute):
        values = {"TargetGroupFullName": self.arn.split(":", 5)[-1], "TargetGroupName": self.name,
                  "TargetGroupArn": self.arn, "LoadBalancerArns": list(self.load_balancer_arns)}
        if attribute not in values:
            from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
            raise UnformattedGetAttTemplateException()
        return values[attribute]

    original = FakeLoadBalancer.get_cfn_attribute

    def load_balancer_attribute(self, attribute):
        if attribute == "LoadBalancerFullName":
            return self.arn.split(":loadbalancer/", 1)[-1]
        if attribute == "SecurityGroups":
            return list(self.security_groups)
        return original(self, attribute)

    FakeTargetGroup.get_cfn_attribute = target_group_attribute
    FakeLoadBalancer.get_cfn_attribute = load_balancer_attribute


def change_set_type(region, change_set, stack_name=""):
    """CREATE or UPDATE for a change set given by name (with its stack's name) or ARN, or None."""
    from moto.cloudformation.models import cloudformation_backends
    backend = cloudformation_backends[ACCOUNT_ID][region]
    for identifier, item in backend.change_sets.items():
        if change_set == identifier or (item.change_set_name == change_set and
                                        (not stack_name or stack_name in (item.stack.name, item.stack.stack_id))):
            return item.change_set_type
    return None


def change_set_stack(region, change_set, stack_name=""):
    """The stack id of a change set given by name (with its stack's name) or ARN, or None."""
    from moto.cloudformation.models import cloudformation_backends
    backend = cloudformation_backends[ACCOUNT_ID][region]
    for identifier, item in backend.change_sets.items():
        if change_set == identifier or (item.change_set_name == change_set and
                                        (not stack_name or stack_name in (item.stack.name, item.stack.stack_id))):
            return item.stack.stack_id
    return None


def remove_other_change_sets(region, change_set, stack_name=""):
    """After a change set is executed, the stack's other change sets are removed, as AWS removes
    them (they were computed against the stack as it was)."""
    from moto.cloudformation.models import cloudformation_backends
    backend = cloudformation_backends[ACCOUNT_ID][region]
    stack_id = change_set_stack(region, change_set, stack_name)
    executed = next((identifier for identifier, item in backend.change_sets.items()
                     if change_set == identifier or (item.change_set_name == change_set and item.stack.stack_id == stack_id)), None)
    for identifier in [identifier for identifier, item in backend.change_sets.items()
                       if item.stack.stack_id == stack_id and identifier != executed]:
        del backend.change_sets[identifier]


# --- CloudFormation stacks: exports, imports and deletion ---------------------------------------
def _cloudformation(region):
    from moto.cloudformation.models import cloudformation_backends
    return cloudformation_backends[ACCOUNT_ID][region]


def live_stack(region, stack_name):
    """An opaque handle on the stack by name or id that is not deleted, or None."""
    return next((stack for stack in _cloudformation(region).stacks.values()
                 if stack_name in (stack.name, stack.stack_id) and stack.status != "DELETE_COMPLETE"), None)


def stack_name_status(stack):
    return stack.name, stack.status


def set_stack_status(stack, status, reason=None):
    """Sets the stack's status and writes the stack's own event for it."""
    stack.status = status
    stack.status_reason = reason
    stack._add_stack_event(status, resource_status_reason=reason)


def add_resource_event(stack, logical_id, resource_type, physical_id, status, reason=None):
    from moto.cloudformation.models import Event
    stack.events.append(Event(stack_id=stack.stack_id, stack_name=stack.name, logical_resource_id=logical_id,
                              physical_resource_id=physical_id or "", resource_type=resource_type,
                              resource_status=status, resource_status_reason=reason, resource_properties=None))


def register_stack_exports(region, stack):
    """Makes the stack's exported outputs importable (moto registers them only on CreateStack, not
    when a change set creates or changes the stack); exports the stack no longer has are dropped."""
    backend = _cloudformation(region)
    for name in [name for name, export in backend.exports.items() if export.exporting_stack_id == stack.stack_id]:
        backend.exports.pop(name)
    for export in stack.exports:
        backend.exports[export.name] = export


def drop_stack_exports(region, stack):
    backend = _cloudformation(region)
    for name in [name for name, export in backend.exports.items() if export.exporting_stack_id == stack.stack_id]:
        backend.exports.pop(name)


def stack_export_names(stack):
    return [export.name for export in stack.exports]


def _imports_in(node, found):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Fn::ImportValue":
                found.append(value)
            else:
                _imports_in(value, found)
    elif isinstance(node, list):
        for value in node:
            _imports_in(value, found)


def stack_imports(region):
    """{export name: [names of the live stacks importing it]} over every stack of the region, each
    Fn::ImportValue's name evaluated against its stack's parameters and resources."""
    from moto.cloudformation.parsing import clean_json
    imports = {}
    for stack in _cloudformation(region).stacks.values():
        if stack.status in ("DELETE_COMPLETE", "REVIEW_IN_PROGRESS"):
            continue
        found = []
        _imports_in(_stack_template(stack).get("Resources") or {}, found)
        _imports_in(_stack_template(stack).get("Outputs") or {}, found)
        for expression in found:
            try:
                name = clean_json(expression, stack.resource_map)
            except Exception:  # an expression moto cannot evaluate names nothing we could match
                continue
            if isinstance(name, str) and stack.name not in imports.setdefault(name, []):
                imports[name].append(stack.name)
    return imports


# Types moto's CloudFormation has no model of (it keeps None for them): the simulator applies them
# after the stack operation (apply_stack_scaling_policies, apply_stack_resource_settings).
_UNMODELLED = ("AWS::S3::BucketPolicy", "AWS::AutoScaling::ScalingPolicy")


def stack_resources(stack):
    """[(logical id, type, template entry, physical id)] of the resources the stack still holds
    (those of the types moto does not model included; physical ids as listed_stack_resources)."""
    template = _stack_template(stack).get("Resources") or {}
    resource_map = stack.resource_map
    found = []
    for logical, entry in template.items():
        kind = entry.get("Type", "")
        parsed = resource_map._parsed_resources.get(logical)
        if isinstance(parsed, str):
            continue
        if parsed is None and not (kind in _UNMODELLED and logical in resource_map._resource_json_map and
                                   _condition_holds(stack, entry)):
            continue
        found.append((logical, kind, entry, _listed_physical_id(stack.region_name, stack, logical, kind, parsed)))
    return found


def delete_stack_resource(stack, logical_id):
    """Deletes one resource of the stack as moto would when deleting the stack, or as EC2 does for
    the network types moto's CloudFormation silently keeps; raises the service's error."""
    from moto.cloudformation.parsing import resource_class_from_type
    resource_map = stack.resource_map
    parsed = resource_map._parsed_resources.get(logical_id)
    entry = resource_map._resource_json_map[logical_id]
    kind = entry.get("Type", "")
    ours = _EC2_DELETERS.get(kind)
    if kind in _UNMODELLED:
        _delete_unmodelled(stack, logical_id, kind)
    elif ours is not None and hasattr(resource_class_from_type(kind).delete_from_cloudformation_json, "__isabstractmethod__"):
        ours(_ec2(stack.region_name), getattr(parsed, "physical_resource_id", None), stack_resource_properties(stack, logical_id))
    else:
        resource_map._delete_resource(parsed, entry)
    forget_stack_resource(stack, logical_id)


def _delete_unmodelled(stack, logical_id, kind):
    """DeleteBucketPolicy for an AWS::S3::BucketPolicy (its bucket may be kept), DeletePolicy for
    an AWS::AutoScaling::ScalingPolicy."""
    if kind == "AWS::S3::BucketPolicy":
        from moto.s3.models import s3_backends
        s3 = s3_backends[ACCOUNT_ID]["aws"]
        bucket = _bucket_of_policy(stack, logical_id)
        if bucket in s3.buckets:
            s3.delete_bucket_policy(bucket)
    else:
        from moto.autoscaling.models import autoscaling_backends
        scaling = autoscaling_backends[ACCOUNT_ID][stack.region_name]
        name = _scaling_policy_name(stack, logical_id)
        if name in scaling.policies:
            scaling.delete_policy(name)


def _bucket_of_policy(stack, logical_id):
    """The bucket an AWS::S3::BucketPolicy names, read without evaluating the template (reading the
    resource map for a resource it no longer has would create that resource again)."""
    entry = (_stack_template(stack).get("Resources") or {}).get(logical_id) or {}
    bucket = (entry.get("Properties") or {}).get("Bucket")
    if isinstance(bucket, dict) and "Ref" in bucket:
        target = stack.resource_map._parsed_resources.get(bucket["Ref"])
        return getattr(target, "physical_resource_id", None) or ""
    return bucket if isinstance(bucket, str) else ""


def _detach_gateway(ec2, _physical, properties):
    if properties.get("InternetGatewayId"):
        ec2.detach_internet_gateway(properties["InternetGatewayId"], properties.get("VpcId"))


def _disassociate_route_table(ec2, _physical, properties):
    """moto names the association by its route table; EC2 removes the subnet's association."""
    table = ec2.route_tables.get(properties.get("RouteTableId"))
    if table is None:
        return
    for association_id, subnet_id in list(table._associations.items()):
        if subnet_id == properties.get("SubnetId"):
            table._associations.pop(association_id, None)


def _release_address(ec2, physical, _properties):
    if physical and ec2.address_by_ip([physical], fail_if_not_found=False):
        ec2.release_address(address=physical)


# What EC2 does on deletion, for the types whose CloudFormation deletion moto 5.2 lacks (it left
# them in place, so the VPC could never be deleted after).
_EC2_DELETERS = {
    "AWS::EC2::RouteTable": lambda ec2, physical, _: ec2.delete_route_table(physical),
    "AWS::EC2::SubnetRouteTableAssociation": _disassociate_route_table,
    "AWS::EC2::InternetGateway": lambda ec2, physical, _: ec2.delete_internet_gateway(physical),
    "AWS::EC2::VPCGatewayAttachment": _detach_gateway,
    "AWS::EC2::EIP": _release_address,
}


def forget_stack_resource(stack, logical_id):
    """The stack lets go of a resource (deleted, or kept by DeletionPolicy Retain). It leaves the
    resource map too: moto creates a resource again whenever the map is read for one it lacks."""
    stack.resource_map._parsed_resources.pop(logical_id, None)
    stack.resource_map._resource_json_map.pop(logical_id, None)


class _FrozenOutput:
    def __init__(self, output):
        self.key, self.value, self.description = output.key, output.value, output.description


class _FrozenOutputs(dict):
    """A stack's outputs and exports evaluated once: moto's OutputMap evaluates them on every
    read, which recreates resources a deletion has removed."""
    def __init__(self, output_map):
        super().__init__({key: _FrozenOutput(output) for key, output in output_map.items() if output})
        self.exports = list(output_map.exports)
        self.export_names = _export_names_by_output(output_map)


def freeze_stack_outputs(stack):
    if not isinstance(stack.output_map, _FrozenOutputs):
        stack.output_map = _FrozenOutputs(stack.output_map)


def finish_stack_deletion(region, stack):
    """DELETE_COMPLETE: the stack's exports go, and the stack is listed among deleted ones."""
    backend = _cloudformation(region)
    for name in stack_export_names(stack):
        backend.exports.pop(name, None)
    backend.stacks.pop(stack.stack_id, None)
    backend.deleted_stacks[stack.stack_id] = stack


def stack_resource_properties(stack, logical_id):
    """The resource's Properties with intrinsic functions resolved against the stack."""
    from moto.cloudformation.parsing import clean_json
    entry = (_stack_template(stack).get("Resources") or {}).get(logical_id) or {}
    return clean_json(entry.get("Properties") or {}, stack.resource_map)


# --- RDS --------------------------------------------------------------------------------------
def _rds(region):
    from moto.rds.models import rds_backends
    return rds_backends[ACCOUNT_ID][region]


def db_instances(region):
    """Every DB instance of the region as the databases module needs it: identifier, engine,
    endpoint (address, port), database name, master user, status and the master password its
    RDS-managed secret holds now (None without one)."""
    from moto.secretsmanager.models import secretsmanager_backends
    found = []
    for identifier, database in _rds(region).databases.items():
        password = None
        secret = getattr(database, "master_user_secret", None)
        if secret is not None:
            try:
                value = secretsmanager_backends[ACCOUNT_ID][region].get_secret_value(secret.secret.arn, None, None)
                password = json.loads(value.get("SecretString") or "{}").get("password")
            except Exception:   # a deleted secret: connections are then refused
                password = None
        found.append({"id": identifier, "engine": database.engine, "address": database.address,
                      "port": int(database.port or 3306), "database": database.db_name,
                      "username": database.master_username, "status": database.status, "password": password})
    return found


def db_deletion_protection(region, identifier):
    database = _rds(region).databases.get(identifier)
    return bool(database and database.deletion_protection)


def set_db_deletion_protection(region, identifier, protected):
    database = _rds(region).databases.get(identifier)
    if database is not None:
        database.deletion_protection = bool(protected)


def snapshot_db(region, identifier, snapshot_identifier, tags):
    """A manual snapshot of the instance (what DeletionPolicy Snapshot leaves behind)."""
    _rds(region).create_db_snapshot(identifier, snapshot_identifier, snapshot_type="manual",
                                    tags=[{"Key": key, "Value": value} for key, value in tags.items()])


# --- S3 ---------------------------------------------------------------------------------------
def bucket_is_empty(name):
    from moto.s3.models import s3_backends
    bucket = s3_backends[ACCOUNT_ID]["aws"].buckets.get(name)
    return bucket is None or not bucket.keys


def delete_nat_gateway(region, nat_gateway_id):
    """DeleteNatGateway as EC2 does it: the gateway is deleted and its network interface with it
    (moto's CloudFormation deletion left the gateway available; its own call kept the interface)."""
    backend = _ec2(region)
    gateway = backend.nat_gateways.get(nat_gateway_id)
    if gateway is None:
        return
    gateway.state = "deleted"
    eni = getattr(gateway, "_eni", None)
    if eni is not None:
        backend.enis.pop(eni.id, None)


def release_terminated_instance_interfaces(region):
    """EC2 deletes an instance's primary network interface when the instance terminates; moto
    keeps it attached, in use, so the subnet and VPC could never be deleted after."""
    backend = _ec2(region)
    for eni_id, eni in list(backend.enis.items()):
        if eni.instance is not None and instance_state(eni.instance) == "terminated":
            backend.enis.pop(eni_id, None)


def subnet_interfaces(region, subnet_id):
    """The network interfaces still in the subnet (those of terminated instances released first,
    as EC2 would have): while any remains EC2 refuses to delete the subnet (moto did not check)."""
    release_terminated_instance_interfaces(region)
    return sorted(eni_id for eni_id, eni in _ec2(region).enis.items()
                  if getattr(eni.subnet, "id", eni.subnet) == subnet_id)


# --- Drift detection: what a resource's properties are now ----------------------------------------
def _ingress_rule(protocol, from_port, to_port, cidr=None, source=None):
    rule = {"IpProtocol": str(protocol).lower()}
    if rule["IpProtocol"] != "-1":
        rule["FromPort"], rule["ToPort"] = int(from_port), int(to_port)
    if cidr:
        rule["CidrIp"] = cidr
    if source:
        rule["SourceSecurityGroupId"] = source
    return rule


def security_group_ingress(region, group_id):
    """The group's ingress rules, one per range or source group, sorted; None when it is gone."""
    group = _ec2(region).get_security_group_from_id(group_id)
    if group is None:
        return None
    rules = []
    for rule in group.ingress_rules:
        cidrs = [rule.ip_range.get("CidrIp")] if rule.ip_range.get("CidrIp") else []
        sources = [rule.source_group.get("GroupId")] if rule.source_group.get("GroupId") else []
        for cidr in cidrs:
            rules.append(_ingress_rule(rule.ip_protocol, rule.from_port, rule.to_port, cidr=cidr))
        for source in sources:
            rules.append(_ingress_rule(rule.ip_protocol, rule.from_port, rule.to_port, source=source))
    return sorted(rules, key=lambda r: json.dumps(r, sort_keys=True))


def template_ingress_rule(properties):
    """A template's ingress rule (inline or a SecurityGroupIngress resource's Properties) in the
    form security_group_ingress gives."""
    return _ingress_rule(properties.get("IpProtocol", "-1"), properties.get("FromPort"), properties.get("ToPort"),
                         cidr=properties.get("CidrIp"), source=properties.get("SourceSecurityGroupId"))


def actual_properties(region, kind, physical):
    """The properties drift detection compares for `kind`, as the resource has them now; None
    when the resource is gone; {} for types it does not check."""
    if kind == "AWS::AutoScaling::AutoScalingGroup":
        from moto.autoscaling.models import autoscaling_backends
        group = autoscaling_backends[ACCOUNT_ID][region].autoscaling_groups.get(physical)
        return None if group is None else {"MinSize": str(group.min_size), "MaxSize": str(group.max_size)}
    if kind == "AWS::RDS::DBInstance":
        database = _rds(region).databases.get(physical)
        if database is None:
            return None
        return {"DBInstanceClass": database.db_instance_class, "MultiAZ": bool(database.multi_az),
                "DeletionProtection": bool(database.deletion_protection),
                "BackupRetentionPeriod": str(database.backup_retention_period),
                "PubliclyAccessible": bool(database.publicly_accessible)}
    if kind == "AWS::EC2::SecurityGroup":
        rules = security_group_ingress(region, physical)
        return None if rules is None else {"SecurityGroupIngress": rules}
    return {}


def add_resource_events_of_change(region, stack, change_set=None):
    """The per-resource events CloudFormation writes while it applies a change (moto writes only
    the stack's own): for each resource a change set added, modified or removed (or, without a
    change set, every resource created), *_IN_PROGRESS then *_COMPLETE, between the stack's
    IN_PROGRESS event and its final one, which is written again after them."""
    from moto.cloudformation.models import Event
    backend = _cloudformation(region)
    changes = None
    if change_set is not None:
        item = backend.change_sets.get(change_set) or next(
            (c for c in backend.change_sets.values() if c.change_set_name == change_set and c.stack_id == stack.stack_id), None)
        changes = [(c.action, c.logical_resource_id, c.resource_type) for c in (item.changes if item else [])]
    if changes is None:
        changes = [("Add", logical, kind) for logical, kind, _entry, _physical in stack_resources(stack)]
    if not stack.events or stack.events[-1].logical_resource_id != stack.name:
        return
    final = stack.events.pop()
    verbs = {"Add": "CREATE", "Modify": "UPDATE", "Remove": "DELETE"}
    physical = {logical: phys for logical, _kind, _entry, phys in stack_resources(stack)}
    for action, logical, kind in changes:
        verb = verbs.get(action, "UPDATE")
        add_resource_event(stack, logical, kind, physical.get(logical, ""), f"{verb}_IN_PROGRESS")
        add_resource_event(stack, logical, kind, physical.get(logical, ""), f"{verb}_COMPLETE")
    stack.events.append(Event(stack_id=stack.stack_id, stack_name=stack.name, logical_resource_id=stack.name,
                              physical_resource_id=stack.stack_id, resource_type="AWS::CloudFormation::Stack",
                              resource_status=final.resource_status, resource_status_reason=final.resource_status_reason,
                              resource_properties=None))


def drop_no_value_from_lists():
    """`!If [Cond, item, !Ref AWS::NoValue]` in a list removes the item when the condition is
    false (CloudFormation's AWS::NoValue); moto 5.2 left a None in the list, and the resource
    failed on it (a security group's SecurityGroupIngress). Installed at server start."""
    from moto.cloudformation import parsing
    original = parsing.clean_json

    def clean_json(resource_json, resources_map):
        cleaned = original(resource_json, resources_map)
        if isinstance(resource_json, list) and isinstance(cleaned, list):
            return [value for value in cleaned if value is not None]
        return cleaned

    parsing.clean_json = clean_json


# --- Instances launched from launch templates, and where groups put them --------------------------
def launch_from_templates_as_ec2_does():
    """RunInstances with a launch template (and every launch of an Auto Scaling group) takes from
    the template what the request does not give (EC2 user guide, "Launch an instance from a launch
    template"): moto 5.2 took the image, type, user data, key and security groups but not
    IamInstanceProfile, MetadataOptions (so HttpTokens stayed `optional`), EbsOptimized nor
    Monitoring. A block device mapping for the image's root device name replaces the image's root
    volume, as on EC2; moto always added an 8 GiB root at /dev/sda1 (whatever the image's root
    device) beside the template's, so an encrypted /dev/xvda came with an unencrypted /dev/sda1."""
    from moto.ec2.models.instances import Instance, InstanceBackend

    original_run = InstanceBackend.run_instances

    def run_instances(self, image_id, count, user_data, security_group_names, **kwargs):
        data = {}
        if kwargs.get("launch_template"):
            data = self._get_template_from_args(kwargs["launch_template"]).data or {}
        if data.get("MetadataOptions") and not kwargs.get("metadata_options"):
            kwargs["metadata_options"] = {key: str(value).lower() if isinstance(value, bool) else value
                                          for key, value in data["MetadataOptions"].items()}
        if str(data.get("EbsOptimized", "")).lower() == "true" and not kwargs.get("ebs_optimized"):
            kwargs["ebs_optimized"] = True
        if str((data.get("Monitoring") or {}).get("Enabled", "")).lower() == "true":
            kwargs["monitoring_state"] = "enabled"
        reservation = original_run(self, image_id, count, user_data, security_group_names, **kwargs)
        profile = data.get("IamInstanceProfile") or {}
        if (profile.get("Arn") or profile.get("Name")) and not (
                kwargs.get("iam_instance_profile_arn") or kwargs.get("iam_instance_profile_name")):
            for instance in reservation.instances:
                self.associate_iam_instance_profile(instance_id=instance.id,
                                                    iam_instance_profile_arn=profile.get("Arn"),
                                                    iam_instance_profile_name=None if profile.get("Arn") else profile.get("Name"))
        return reservation

    def setup_defaults(self):
        volume = self.ec2_backend.create_volume(size=8, zone_name=self._placement.zone)
        self.ec2_backend.attach_volume(volume.id, self.id, self.root_device_name or "/dev/sda1", True)

    original_add = Instance.add_block_device

    def add_block_device(self, size, device_path, *args, **kwargs):
        replaced = self.block_device_mapping.get(device_path)
        if replaced is not None:      # the mapping replaces the image's volume at that device
            self.ec2_backend.detach_volume(replaced.volume_id, self.id, device_path)
            self.ec2_backend.delete_volume(replaced.volume_id)
        return original_add(self, size, device_path, *args, **kwargs)

    InstanceBackend.run_instances = run_instances
    Instance.setup_defaults = setup_defaults
    Instance.add_block_device = add_block_device


def balance_group_launches():
    """An Auto Scaling group launches into the Availability Zones of its VPCZoneIdentifier
    evenly: each new instance goes to the zone with the fewest of the group's instances (the
    first listed on a tie), in the subnet of that zone with the fewest (Auto Scaling user guide,
    "Instance distribution": it "attempts to distribute instances evenly between the Availability
    Zones that are enabled"). moto 5.2 put every instance in the first subnet. Each launch uses the
    group's launch template version ($Latest, $Default or a number): moto launched the template's
    default version while taking the image and user data from the group's. A scale-in terminates
    as the default termination policy does, keeping the zones balanced (moto took the first
    members, wherever they were)."""
    from moto.autoscaling.models import ASG_NAME_TAG, FakeAutoScalingGroup, InstanceState

    def replace_autoscaling_group_instances(self, count_needed, propagated_tags):
        propagated_tags[ASG_NAME_TAG] = self.name
        propagated_tags.update(self.instance_tags)
        ec2 = self.autoscaling_backend.ec2_backend
        subnets = [subnet.strip() for subnet in (self.vpc_zone_identifier or "").split(",") if subnet.strip()]
        # Where an instance can go: (subnet, zone) for a VPC group, (None, zone) for EC2-Classic zones.
        places = [(subnet, ec2.get_subnet(subnet).availability_zone) for subnet in subnets] or \
            [(None, zone) for zone in (self.availability_zones or [None])]
        zones = list(dict.fromkeys(zone for _, zone in places))
        in_zone = {zone: 0 for zone in zones}
        in_place = {place: 0 for place in places}
        for member in self.instance_states:
            if member.instance.state in ("terminated", "shutting-down"):
                continue
            subnet, zone = member.instance.subnet_id, member.instance._placement.zone
            if zone in in_zone:
                in_zone[zone] += 1
            if (subnet, zone) in in_place:
                in_place[(subnet, zone)] += 1
        plan = {}
        for _ in range(count_needed):
            zone = min(zones, key=lambda z: (in_zone[z], zones.index(z)))
            place = min((p for p in places if p[1] == zone), key=lambda p: (in_place[p], places.index(p)))
            in_zone[zone] += 1
            in_place[place] += 1
            plan[place] = plan.get(place, 0) + 1
        launch_template = None
        if self.ec2_launch_template:
            key, value = ("LaunchTemplateId", self.ec2_launch_template.id) if self.ec2_launch_template.id else \
                ("LaunchTemplateName", self.ec2_launch_template.name)
            version = self.ec2_launch_template.get_version(self.launch_template_version or "$Default")
            launch_template = {key: value, "Version": str(version.number)}
        associate_public_ip = self.launch_config.associate_public_ip_address if self.launch_config else None
        for (subnet_id, zone), count in plan.items():
            reservation = ec2.run_instances(
                self.image_id, count, self.user_data, self.security_groups, instance_type=self.instance_type,
                tags={"instance": dict(propagated_tags)}, placement=None if subnet_id else zone,
                launch_config=self.launch_config, launch_template=launch_template, is_instance_type_default=False,
                associate_public_ip=associate_public_ip, subnet_id=subnet_id)
            for instance in reservation.instances:
                instance.autoscaling_group = self
                self.instance_states.append(
                    InstanceState(instance, protected_from_scale_in=self.new_instances_protected_from_scale_in))

    def termination_order(self, count):
        """The `count` members a scale-in terminates, by the default termination policy: each from
        the zone with the most of the group's instances (the last listed on a tie), within it one
        launched from another template version than the group's first, then the oldest."""
        current = None
        if self.ec2_launch_template:
            current = str(self.ec2_launch_template.get_version(self.launch_template_version or "$Default").number)
        candidates = [member for member in self.instance_states if not member.protected_from_scale_in]
        zone_of = {id(member): member.instance._placement.zone for member in self.instance_states}
        per_zone = {}
        for member in self.instance_states:
            per_zone[zone_of[id(member)]] = per_zone.get(zone_of[id(member)], 0) + 1
        zones = list(dict.fromkeys(zone_of[id(m)] for m in self.instance_states))
        chosen = []
        for _ in range(min(count, len(candidates))):
            eligible = {zone_of[id(m)] for m in candidates}
            zone = max((z for z in zones if z in eligible), key=lambda z: (per_zone[z], zones.index(z)))
            in_zone = [m for m in candidates if zone_of[id(m)] == zone]
            member = min(in_zone, key=lambda m: (instance_tags(m.instance).get("aws:ec2launchtemplate:version") == current,
                                                 m.instance.launch_time))
            chosen.append(member)
            candidates.remove(member)
            per_zone[zone] -= 1
        return chosen

    original_set_desired_capacity = FakeAutoScalingGroup.set_desired_capacity

    def set_desired_capacity(self, new_capacity):
        # moto terminates the first unprotected members: put the ones AWS would pick first.
        target = self.min_size if new_capacity is None else new_capacity
        excess = len(self.active_instances()) - (target or 0)
        if excess > 0 and not self.mixed_instances_policy:
            chosen = termination_order(self, excess)
            picked = {id(member) for member in chosen}
            self.instance_states = chosen + [member for member in self.instance_states if id(member) not in picked]
        return original_set_desired_capacity(self, new_capacity)

    FakeAutoScalingGroup.replace_autoscaling_group_instances = replace_autoscaling_group_instances
    FakeAutoScalingGroup.set_desired_capacity = set_desired_capacity
    FakeAutoScalingGroup.termination_order = termination_order


# --- CloudFormation resource types moto reads differently from the resource reference ------------
def read_rds_vpc_security_groups():
    """AWS::RDS::DBInstance names its security groups `VPCSecurityGroups` (the resource
    reference); moto 5.2 read only `VpcSecurityGroupIds`, which no template has, so every database
    fell into the default security group."""
    from moto.rds.models import DBInstance

    original = DBInstance.create_from_cloudformation_json.__func__

    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        properties = cloudformation_json.get("Properties") or {}
        if properties.get("VPCSecurityGroups") and not properties.get("VpcSecurityGroupIds"):
            cloudformation_json = dict(cloudformation_json, Properties=dict(
                properties, VpcSecurityGroupIds=list(properties["VPCSecurityGroups"])))
        return original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)

    DBInstance.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)


def get_azs_of_the_stack_region():
    """`Fn::GetAZs ""` (or `!GetAZs !Ref AWS::Region`) is the stack's region's Availability Zones
    as EC2 lists them; moto 5.2 answered us-east-1a..d for an empty region whatever the stack's
    region, and four made-up zones for any region."""
    from moto.cloudformation import parsing

    original = parsing.clean_json

    def clean_json(resource_json, resources_map):
        if isinstance(resource_json, dict) and set(resource_json) == {"Fn::GetAZs"}:
            region = original(resource_json["Fn::GetAZs"], resources_map) or getattr(resources_map, "_region_name", None)
            if region:
                return sorted(zone.name for zone in _ec2(region).describe_availability_zones()
                              if getattr(zone, "zone_type", "availability-zone") == "availability-zone")
        return original(resource_json, resources_map)

    parsing.clean_json = clean_json


def associate_subnet_route_tables():
    """AWS::EC2::SubnetRouteTableAssociation associates the subnet with the route table, as
    AssociateRouteTable does (its Ref is the association id); moto 5.2 only recorded the pair, so
    every subnet kept the VPC's main route table."""
    from moto.ec2.models.subnets import SubnetRouteTableAssociation

    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        properties = cloudformation_json["Properties"]
        ec2 = _ec2(region_name)
        association = ec2.create_subnet_association(route_table_id=properties["RouteTableId"],
                                                    subnet_id=properties["SubnetId"])
        association.association_id = ec2.associate_route_table(properties["RouteTableId"], subnet_id=properties["SubnetId"])
        return association

    def physical_resource_id(self):
        return getattr(self, "association_id", None) or self.route_table_id

    SubnetRouteTableAssociation.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)
    SubnetRouteTableAssociation.physical_resource_id = property(physical_resource_id)


def _attachable_policy(backend, arn, region):
    """The managed policy `arn`; an AWS managed one (arn:aws:iam::aws:policy/...) is loaded from
    moto's copy of AWS's policies when moto did not load them all (AWS has every one)."""
    if any(policy.arn == arn for policy in backend.managed_policies.values()):
        return
    if ":iam::aws:policy/" not in arn:
        return
    from moto.iam.aws_managed_policies import aws_managed_policies_data
    from moto.iam.models import AWSManagedPolicy
    name = arn.rsplit("/", 1)[-1]
    data = json.loads(aws_managed_policies_data).get(name)
    if data is None:
        return
    policy = AWSManagedPolicy.from_data(name, ACCOUNT_ID, region, data)
    backend.managed_policies[policy.arn] = policy


def create_iam_roles_as_cloudformation_does():
    """AWS::IAM::Role: inline `Policies` are stored as the JSON documents they are (moto 5.2 kept
    Python's repr of the parsed template, so GetRolePolicy answered `{'Version': ...}`, which is not
    JSON), and `ManagedPolicyArns` are attached (moto ignored them) and detached again when the
    role is deleted (IAM refuses to delete a role with attached policies)."""
    from moto.iam.models import Role, iam_backends
    from moto.utilities.utils import get_partition

    original = Role.create_from_cloudformation_json.__func__

    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        properties = cloudformation_json.get("Properties") or {}
        policies = [dict(policy, PolicyDocument=policy["PolicyDocument"] if isinstance(policy.get("PolicyDocument"), str)
                         else json.dumps(policy.get("PolicyDocument")))
                    for policy in properties.get("Policies") or []]
        cloudformation_json = dict(cloudformation_json, Properties=dict(properties, Policies=policies))
        role = original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        backend = iam_backends[account_id][get_partition(region_name)]
        for arn in properties.get("ManagedPolicyArns") or []:
            _attachable_policy(backend, arn, region_name)
            backend.attach_role_policy(arn, role.name)
        return role

    original_delete = Role.delete_from_cloudformation_json.__func__

    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        backend = iam_backends[account_id][get_partition(region_name)]
        for role in list(backend.roles.values()):
            if role.name == resource_name:
                for arn in list(role.managed_policies):
                    backend.detach_role_policy(arn, role.name)
        return original_delete(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)

    Role.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)
    Role.delete_from_cloudformation_json = classmethod(delete_from_cloudformation_json)


# --- Resource properties moto's CloudFormation accepts but does not apply -------------------------
def _condition_holds(stack, entry):
    condition = entry.get("Condition")
    return not condition or bool(stack.resource_map.lazy_condition_map[condition])


def _lifecycle_rule(rule):
    """An AWS::S3::Bucket LifecycleConfiguration rule in PutBucketLifecycleConfiguration's form."""
    api = {"ID": rule.get("Id"), "Status": rule.get("Status", "Enabled")}
    tags = [{"Key": tag["Key"], "Value": tag.get("Value", "")} for tag in rule.get("TagFilters") or []]
    prefix = rule.get("Prefix")
    if tags and (prefix or len(tags) > 1):
        api["Filter"] = {"And": {"Prefix": prefix or "", "Tag": tags}}
    elif tags:
        api["Filter"] = {"Tag": tags[0]}
    else:
        api["Filter"] = {"Prefix": prefix or ""}
    expiration = {}
    if rule.get("ExpirationInDays") is not None:
        expiration["Days"] = int(rule["ExpirationInDays"])
    if rule.get("ExpirationDate"):
        expiration["Date"] = rule["ExpirationDate"]
    if str(rule.get("ExpiredObjectDeleteMarker", "")).lower() == "true":
        expiration["ExpiredObjectDeleteMarker"] = "true"
    if expiration:
        api["Expiration"] = expiration
    noncurrent = dict(rule.get("NoncurrentVersionExpiration") or {})
    if rule.get("NoncurrentVersionExpirationInDays") is not None:
        noncurrent.setdefault("NoncurrentDays", rule["NoncurrentVersionExpirationInDays"])
    if noncurrent:
        api["NoncurrentVersionExpiration"] = {key: int(value) for key, value in noncurrent.items()}
    if rule.get("AbortIncompleteMultipartUpload"):
        api["AbortIncompleteMultipartUpload"] = {
            "DaysAfterInitiation": int(rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])}
    transitions = list(rule.get("Transitions") or []) + ([rule["Transition"]] if rule.get("Transition") else [])
    if transitions:
        api["Transition"] = [{key: value for key, value in (("Days", t.get("TransitionInDays")), ("Date", t.get("TransitionDate")),
                                                            ("StorageClass", t.get("StorageClass"))) if value is not None}
                             for t in transitions]
    noncurrent_transitions = list(rule.get("NoncurrentVersionTransitions") or []) + \
        ([rule["NoncurrentVersionTransition"]] if rule.get("NoncurrentVersionTransition") else [])
    if noncurrent_transitions:
        api["NoncurrentVersionTransition"] = [
            {key: value for key, value in (("NoncurrentDays", t.get("TransitionInDays")), ("StorageClass", t.get("StorageClass")),
                                           ("NewerNoncurrentVersions", t.get("NewerNoncurrentVersions"))) if value is not None}
            for t in noncurrent_transitions]
    return api


def _logging_allowed(s3, target, prefix):
    """Whether the target bucket's policy lets S3's log delivery (logging.s3.amazonaws.com) put
    objects under `prefix`, a Resource wildcard matching as IAM matches it (moto compared the
    Resource with three literal strings and refused `arn:aws:s3:::logs/s3/*` for prefix s3/dumps/)."""
    import fnmatch
    bucket = s3.buckets.get(target)
    if bucket is None or not bucket.policy:
        return False
    text = bucket.policy.decode() if isinstance(bucket.policy, bytes) else bucket.policy
    for statement in json.loads(text).get("Statement", []):
        principal = statement.get("Principal") or {}
        services = principal.get("Service") if isinstance(principal, dict) else None
        services = [services] if isinstance(services, str) else (services or [])
        actions = statement.get("Action") or []
        actions = [actions] if isinstance(actions, str) else actions
        resources = statement.get("Resource") or []
        resources = [resources] if isinstance(resources, str) else resources
        if statement.get("Effect") == "Allow" and "logging.s3.amazonaws.com" in services and \
                any(fnmatch.fnmatchcase("s3:PutObject", action) for action in actions) and \
                any(fnmatch.fnmatchcase(f"arn:aws:s3:::{target}/{prefix}log-object", resource) for resource in resources):
            return True
    return False


def apply_stack_resource_settings(region, stack):
    """Applies what moto 5.2's CloudFormation accepts in a template but never sets, each as the
    service's own call would (what CloudFormation does after creating or updating the resource):
    AWS::S3::BucketPolicy (a type moto lacks: GetBucketPolicy answered NoSuchBucketPolicy); an
    AWS::S3::Bucket's BucketKeyEnabled (moto kept only the algorithm), VersioningConfiguration, OwnershipControls, LifecycleConfiguration (in
    PutBucketLifecycleConfiguration's form) and LoggingConfiguration (after the policies, which
    let log delivery write); TargetGroupAttributes and LoadBalancerAttributes; an
    AWS::EC2::SecurityGroup's SecurityGroupEgress, which replaces the allow-all rule a new group
    has (moto kept that rule and ignored the property); an AWS::IAM::User's Tags (moto dropped
    them). Returns the logical ids it applied something to."""
    from moto.iam.models import iam_backends
    from moto.s3.models import s3_backends
    s3 = s3_backends[ACCOUNT_ID]["aws"]
    iam = iam_backends[ACCOUNT_ID]["aws"]
    ec2 = _ec2(region)
    elbv2 = _elbv2(region)
    template = _stack_template(stack).get("Resources") or {}
    applied = []
    for logical, entry in template.items():
        if entry.get("Type") != "AWS::S3::BucketPolicy" or not _condition_holds(stack, entry):
            continue
        properties = stack_resource_properties(stack, logical)
        bucket, document = properties.get("Bucket"), properties.get("PolicyDocument")
        if bucket in s3.buckets and document:
            text = document if isinstance(document, str) else json.dumps(document)
            s3.put_bucket_policy(bucket, text.encode())
            applied.append(logical)
    for logical, kind, _entry, name in stack_resources(stack):
        if kind == "AWS::S3::Bucket" and name in s3.buckets:
            properties = stack_resource_properties(stack, logical)
            encryption = ((properties.get("BucketEncryption") or {}).get("ServerSideEncryptionConfiguration") or [{}])[0]
            bucket = s3.buckets[name]
            if "BucketKeyEnabled" in encryption and bucket.encryption and "Rule" in bucket.encryption:
                bucket.encryption["Rule"]["BucketKeyEnabled"] = str(encryption["BucketKeyEnabled"]).lower()
            versioning = (properties.get("VersioningConfiguration") or {}).get("Status")
            if versioning:
                s3.put_bucket_versioning(name, versioning)
            rules = (properties.get("OwnershipControls") or {}).get("Rules") or []
            if rules and rules[0].get("ObjectOwnership"):
                s3.put_bucket_ownership_controls(name, ownership=rules[0]["ObjectOwnership"])
            lifecycle = (properties.get("LifecycleConfiguration") or {}).get("Rules") or []
            if lifecycle:
                s3.put_bucket_lifecycle_configuration(name, [_lifecycle_rule(rule) for rule in lifecycle])
            logging = properties.get("LoggingConfiguration")
            if logging is not None:
                target = logging.get("DestinationBucketName") or name
                prefix = logging.get("LogFilePrefix") or ""
                if target in s3.buckets and (target == name or _logging_allowed(s3, target, prefix)):
                    s3.buckets[name].logging = {"TargetBucket": target, "TargetPrefix": prefix}
            applied.append(logical)
        elif kind == "AWS::ElasticLoadBalancingV2::TargetGroup" and name in elbv2.target_groups:
            attributes = stack_resource_properties(stack, logical).get("TargetGroupAttributes") or []
            if attributes:
                elbv2.modify_target_group_attributes(name, {a["Key"]: str(a["Value"]) for a in attributes})
                applied.append(logical)
        elif kind == "AWS::ElasticLoadBalancingV2::LoadBalancer" and name in elbv2.load_balancers:
            attributes = stack_resource_properties(stack, logical).get("LoadBalancerAttributes") or []
            if attributes:
                elbv2.modify_load_balancer_attributes(name, {a["Key"]: str(a["Value"]) for a in attributes})
                applied.append(logical)
        elif kind == "AWS::EC2::SecurityGroup":
            properties = stack_resource_properties(stack, logical)
            group = ec2.get_security_group_from_id(name) if name else None
            if group is not None and "SecurityGroupEgress" in properties:
                _set_egress(ec2, group, properties.get("SecurityGroupEgress") or [])
                applied.append(logical)
        elif kind == "AWS::IAM::User" and name in iam.users:
            tags = stack_resource_properties(stack, logical).get("Tags") or []
            if tags:
                iam.tag_user(name, [{"Key": tag["Key"], "Value": str(tag.get("Value", ""))} for tag in tags])
                applied.append(logical)
    return applied


def _set_egress(ec2, group, rules):
    """The group's egress rules become exactly `rules` (CloudFormation's SecurityGroupEgress
    entries): "When you specify an egress rule, the default rule that allows all outbound
    traffic is removed" (AWS::EC2::SecurityGroup, SecurityGroupEgress)."""
    group.egress_rules = []
    for rule in rules:
        described = {"Description": rule["Description"]} if rule.get("Description") else {}
        ranges = [dict({"CidrIp": rule["CidrIp"]}, **described)] if rule.get("CidrIp") else []
        ranges += [dict({"CidrIpv6": rule["CidrIpv6"]}, **described)] if rule.get("CidrIpv6") else []
        protocol = str(rule.get("IpProtocol", "-1"))
        ec2.authorize_security_group_egress(
            group_name_or_id=group.id, ip_protocol=protocol,
            from_port=None if protocol == "-1" else rule.get("FromPort"), to_port=None if protocol == "-1" else rule.get("ToPort"),
            ip_ranges=ranges,
            source_groups=[{"GroupId": rule["DestinationSecurityGroupId"]}] if rule.get("DestinationSecurityGroupId") else [],
            prefix_list_ids=[{"PrefixListId": rule["DestinationPrefixListId"]}] if rule.get("DestinationPrefixListId") else [],
            vpc_id=group.vpc_id)


def _export_names_by_output(output_map):
    """{output key: its Export Name, evaluated}: moto named each output's export by the first
    export with the same value (DevDatabasePort showed `<stack>-ProdDatabasePort`)."""
    if hasattr(output_map, "export_names"):
        return output_map.export_names
    from moto.cloudformation.parsing import clean_json
    names = {}
    for key, value in (getattr(output_map, "_output_json_map", None) or {}).items():
        if isinstance(value, dict) and value.get("Export"):
            names[key] = clean_json(value["Export"].get("Name"), output_map._resource_map)
    return names


def name_each_output_export():
    """DescribeStacks gives each output the ExportName its own Export names (see
    _export_names_by_output)."""
    from moto.cloudformation.models import Stack

    def outputs(self):
        names = _export_names_by_output(self.output_map)
        found = [{"OutputKey": o.key, "OutputValue": o.value, "Description": o.description, "ExportName": names.get(o.key)}
                 for o in self.output_map.values() if o]
        return found or None

    Stack.outputs = property(outputs)


def evaluate_bucket_policies(decide):
    """moto 5.2 enforces a bucket policy's statements for everyone (Principal "*") but ignores
    their conditions, and a statement whose condition does not hold counted as a denial: the
    usual `Deny s3:* when aws:SecureTransport is false` refused every request. `decide(document,
    action, resource)` ("Allow", "Deny" or None, authorization.bucket_policy_decision) answers
    for moto instead."""
    from moto.iam.access_control import PermissionResult
    from moto.s3.models import FakeBucket

    def get_permission(self, action, resource):
        if self.policy is None:
            return PermissionResult.NEUTRAL
        text = self.policy.decode() if isinstance(self.policy, bytes) else self.policy
        decision = decide(json.loads(text), action, resource)
        return {"Allow": PermissionResult.PERMITTED, "Deny": PermissionResult.DENIED}.get(decision, PermissionResult.NEUTRAL)

    FakeBucket.get_permission = get_permission


# --- A stack's resources as ListStackResources and DescribeStackResources list them ---------------
def record_security_group_rule_ids():
    """AWS::EC2::SecurityGroupIngress is identified by the rule it adds (sgr-...); moto's resource
    kept no id. Records the new rule's id on the resource."""
    from moto.ec2.models.security_groups import SecurityGroupIngress

    original = SecurityGroupIngress.create_from_cloudformation_json.__func__

    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        groups = [group for vpc in _ec2(region_name).groups.values() for group in vpc.values()]
        before = {rule.id for group in groups for rule in group.ingress_rules}
        resource = original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        resource.rule_ids = [rule.id for group in groups for rule in group.ingress_rules if rule.id not in before]
        return resource

    SecurityGroupIngress.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)


def _listed_physical_id(region, stack, logical, kind, parsed):
    physical = getattr(parsed, "physical_resource_id", None) if parsed is not None and not isinstance(parsed, str) else None
    if physical:
        return physical
    if kind == "AWS::RDS::DBSubnetGroup" and getattr(parsed, "name", None):
        return parsed.name
    if kind in ("AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress") and getattr(parsed, "rule_ids", None):
        return parsed.rule_ids[0]
    if kind == "AWS::S3::BucketPolicy":
        return _bucket_of_policy(stack, logical)
    if kind == "AWS::AutoScaling::ScalingPolicy":
        from moto.autoscaling.models import autoscaling_backends
        policy = autoscaling_backends[ACCOUNT_ID][region].policies.get(_scaling_policy_name(stack, logical))
        if policy is not None:
            return policy.arn
    return _scaling_policy_name(stack, logical)    # CloudFormation's kind of generated name


def listed_stack_resources(region, stack):
    """[{logical, type, physical, status, reason, timestamp}] of every resource the stack holds, as
    CloudFormation lists them: each with its logical id, type and physical id (moto 5.2 listed
    AWS::S3::BucketPolicy, AWS::AutoScaling::ScalingPolicy and resources whose Condition is
    false as entries with none of the three, and SecurityGroupIngress and DBSubnetGroup without a
    physical id); a resource whose Condition is false is not there. Status and time are the
    resource's latest event (CREATE_COMPLETE at the stack's creation without one)."""
    template = _stack_template(stack).get("Resources") or {}
    kept = stack.resource_map._resource_json_map
    parsed_map = stack.resource_map._parsed_resources
    latest = {}
    for event in stack.events:
        if event.logical_resource_id != stack.name:
            latest[event.logical_resource_id] = event
    found = []
    for logical, entry in template.items():
        if logical not in kept or not _condition_holds(stack, entry):
            continue
        kind = entry.get("Type", "")
        event = latest.get(logical)
        found.append({"logical": logical, "type": kind,
                      "physical": _listed_physical_id(region, stack, logical, kind, parsed_map.get(logical)),
                      "status": event.resource_status if event else "CREATE_COMPLETE",
                      "reason": event.resource_status_reason if event else None,
                      "timestamp": event.timestamp if event else stack.creation_time})
    return found


def stack_id_and_name(stack):
    return stack.stack_id, stack.name


def live_stacks(region):
    return [stack for stack in _cloudformation(region).stacks.values() if stack.status != "DELETE_COMPLETE"]


def stack_resource_metadata(stack, logical_id):
    entry = (_stack_template(stack).get("Resources") or {}).get(logical_id) or {}
    return entry.get("Metadata")
