"""Everything the simulator reads or changes inside moto, in one place.

moto's backends are its private implementation: their fields and helpers change between
releases (we pin 5.2.1). Only this module touches them, so a moto upgrade is checked here and
nowhere else. Callers hold `state.LOCK` (see state.py) around every call; what is returned are
plain values or opaque handles to pass back to this module.
"""
import json

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


def launched_by_group(instance):
    """Whether an Auto Scaling group launched the instance (it then boots with its user data)."""
    return getattr(instance, "autoscaling_group", None) is not None


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
        return [state.instance for state in self._group.instance_states if state.instance.id not in before]

    def set_health(self, instance, lifecycle, health):
        for state in self._group.instance_states:
            if state.instance.id == instance.id:
                state.lifecycle_state, state.health_status = lifecycle, health

    def remove(self, handles):
        """Terminates these members and takes them out of the group and its target groups."""
        ids = {instance.id for instance in handles}
        self._backend.ec2_backend.terminate_instances(list(ids))
        self._group.instance_states = [state for state in self._group.instance_states if state.instance.id not in ids]
        self._backend.update_attached_target_groups(self._group.name)


def scaling_group(region, name):
    from moto.autoscaling.models import autoscaling_backends
    group = autoscaling_backends[ACCOUNT_ID][region].autoscaling_groups.get(name)
    return ScalingGroup(region, group) if group is not None else None


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
        suffix = hashlib.sha256(f"{stack.stack_id}/{logical}".encode()).hexdigest()[:12].upper()
        name = f"{stack.name}-{logical}-{suffix}"
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


def apply_instance_security_group_ids():
    """AWS::EC2::Instance in a VPC names its groups by id in SecurityGroupIds; moto 5.2 reads only
    SecurityGroups (and as ids), so the instance landed in the VPC's default group. Gives moto
    both lists, as CloudFormation applies both."""
    from moto.ec2.models.instances import Instance

    original = Instance.create_from_cloudformation_json.__func__

    def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        properties = cloudformation_json.get("Properties", {})
        if properties.get("SecurityGroupIds"):
            properties = dict(properties, SecurityGroups=list(properties.get("SecurityGroups", []))
                              + list(properties["SecurityGroupIds"]))
            cloudformation_json = dict(cloudformation_json, Properties=properties)
        return original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)

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
    creation. Converts the map as CloudFormation does."""
    from moto.ssm.models import SimpleSystemManagerBackend

    original = SimpleSystemManagerBackend.put_parameter

    def put_parameter(self, *args, **kwargs):
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
        return original_attribute(self, attribute_name)

    DBInstance.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)
    DBInstance.get_cfn_attribute = get_cfn_attribute


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


def change_set_stack(region, change_set, stack_name=""):
    """The stack id of a change set given by name (with its stack's name) or ARN, or None."""
    from moto.cloudformation.models import cloudformation_backends
    backend = cloudformation_backends[ACCOUNT_ID][region]
    for identifier, item in backend.change_sets.items():
        if change_set == identifier or (item.change_set_name == change_set and
                                        (not stack_name or stack_name in (item.stack.name, item.stack.stack_id))):
            return item.stack.stack_id
    return None
