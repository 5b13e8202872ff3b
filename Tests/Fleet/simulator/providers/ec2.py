"""EC2 launch templates: CreateLaunchTemplateVersion's SourceVersion, which moto ignores (the new
version held only the parameters the request gave; on AWS it inherits the source version's and
the request's overwrite them). Callers hold state.LOCK (the dispatcher does)."""
from .. import moto_adapter
from ..errors import AWSError


def check_source(call):
    params = call.params
    source = params.get("SourceVersion")
    if not source:
        return None
    template_id, name = params.get("LaunchTemplateId"), params.get("LaunchTemplateName")
    try:
        count = moto_adapter.launch_template_version_count(call.region, template_id, name)
    except Exception:
        return None                     # moto answers the unknown template in its own words
    if source.lower() not in ("$latest", "$default") and not (source.isdigit() and 1 <= int(source) <= count):
        raise AWSError("InvalidLaunchTemplateId.VersionNotFound",
                       f"Could not find launch template version {source} for template {template_id or name}")
    return None


def inherit_source(call, response):
    params = call.params
    if response.status != 200 or not params.get("SourceVersion"):
        return None
    moto_adapter.inherit_launch_template_version(call.region, params.get("LaunchTemplateId"),
                                                 params.get("LaunchTemplateName"), "$Latest", params["SourceVersion"])
    return None


def register(registry, world):
    registry.before("ec2", "CreateLaunchTemplateVersion", check_source)
    registry.after("ec2", "CreateLaunchTemplateVersion", inherit_source)
