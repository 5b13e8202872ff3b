"""Instance refresh as the Auto Scaling API reference describes it (StartInstanceRefresh,
DescribeInstanceRefreshes, CancelInstanceRefresh), and CreateLaunchTemplateVersion's SourceVersion."""
import base64
import time
import urllib.request
import uuid

import botocore.exceptions
import pytest
from polling import eventually

ACTIVE = ("Pending", "InProgress", "Cancelling", "RollbackInProgress")
# A release the simulator's web servers serve: srv/app/current/public with a health page.
SERVE = ("mkdir -p srv/app/releases/{r}/public && echo ok > srv/app/releases/{r}/public/health && "
         "echo '<?php echo \"{r}\";' > srv/app/releases/{r}/public/index.php && ln -sfn releases/{r} srv/app/current")


def user_data(script):
    return base64.b64encode(script.encode()).decode()


def group_of(scaling, name):
    return scaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0]


def refresh_of(scaling, name, refresh_id):
    return scaling.describe_instance_refreshes(AutoScalingGroupName=name, InstanceRefreshIds=[refresh_id])["InstanceRefreshes"][0]


def follow(scaling, name, refresh_id, timeout=120, each=None):
    seen = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        item = refresh_of(scaling, name, refresh_id)
        seen.append(item)
        if each:
            each()
        if item["Status"] not in ACTIVE:
            return item, seen
        time.sleep(0.05)
    raise AssertionError(f"refresh {refresh_id} did not end: {seen[-1]}")


def make_group(simulator, script, size, name=None, balancer=False):
    ec2, scaling = simulator.client("ec2"), simulator.client("autoscaling")
    name = name or "rf-" + uuid.uuid4().hex[:8]
    template = ec2.create_launch_template(LaunchTemplateName=name, LaunchTemplateData={
        "ImageId": "ami-12c6146b", "InstanceType": "t3.small", "UserData": user_data(script)})["LaunchTemplate"]["LaunchTemplateId"]
    extra, group_arn = {}, None
    if balancer:
        elb = simulator.client("elbv2")
        vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
        subnets = [subnet["SubnetId"] for subnet in ec2.describe_subnets()["Subnets"]][:2]
        arn = elb.create_load_balancer(Name=name, Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
        group_arn = elb.create_target_group(Name=name, Protocol="HTTP", Port=80, VpcId=vpc, HealthCheckPath="/health",
                                            HealthCheckIntervalSeconds=15, HealthyThresholdCount=3)["TargetGroups"][0]["TargetGroupArn"]
        elb.create_listener(LoadBalancerArn=arn, Protocol="HTTP", Port=80,
                            DefaultActions=[{"Type": "forward", "TargetGroupArn": group_arn}])
        elb.modify_target_group_attributes(TargetGroupArn=group_arn, Attributes=[
            {"Key": "deregistration_delay.timeout_seconds", "Value": "30"}])
        extra = {"TargetGroupARNs": [group_arn], "HealthCheckType": "ELB", "HealthCheckGracePeriod": 300}
    scaling.create_auto_scaling_group(AutoScalingGroupName=name, MinSize=size, MaxSize=size * 2, DesiredCapacity=size,
                                      LaunchTemplate={"LaunchTemplateId": template, "Version": "1"},
                                      AvailabilityZones=["eu-west-3a", "eu-west-3b"], **extra)
    return name, template, group_arn


def test_a_version_made_from_a_source_inherits_its_parameters(simulator):
    ec2 = simulator.client("ec2")
    template = ec2.create_launch_template(LaunchTemplateName="src-" + uuid.uuid4().hex[:6], LaunchTemplateData={
        "ImageId": "ami-12c6146b", "InstanceType": "t3.small", "UserData": user_data("echo hi"),
        "MetadataOptions": {"HttpTokens": "required"}})["LaunchTemplate"]["LaunchTemplateId"]
    made = ec2.create_launch_template_version(LaunchTemplateId=template, SourceVersion="1",
                                              LaunchTemplateData={"ImageId": "ami-0000feed"})["LaunchTemplateVersion"]
    assert made["VersionNumber"] == 2
    [version] = ec2.describe_launch_template_versions(LaunchTemplateId=template, Versions=["2"])["LaunchTemplateVersions"]
    data = version["LaunchTemplateData"]
    assert data["ImageId"] == "ami-0000feed"                                  # what the request gave wins
    assert data["InstanceType"] == "t3.small" and data["MetadataOptions"]["HttpTokens"] == "required"
    assert base64.b64decode(data["UserData"]).decode() == "echo hi"         # the rest is the source's
    # Without SourceVersion a version holds only what the request gave, as on AWS.
    ec2.create_launch_template_version(LaunchTemplateId=template, LaunchTemplateData={"ImageId": "ami-0000beef"})
    [bare] = ec2.describe_launch_template_versions(LaunchTemplateId=template, Versions=["3"])["LaunchTemplateVersions"]
    assert "UserData" not in bare["LaunchTemplateData"]
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        ec2.create_launch_template_version(LaunchTemplateId=template, SourceVersion="9", LaunchTemplateData={})
    assert refused.value.response["Error"]["Code"] == "InvalidLaunchTemplateId.VersionNotFound"


def test_auto_rollback_needs_numbered_versions_and_a_second_refresh_is_refused(simulator):
    ec2, scaling = simulator.client("ec2"), simulator.client("autoscaling")
    name, template, _ = make_group(simulator, "sleep 1", 2)
    ec2.create_launch_template_version(LaunchTemplateId=template, SourceVersion="1", LaunchTemplateData={})
    for desired in ({}, {"DesiredConfiguration": {"LaunchTemplate": {"LaunchTemplateId": template, "Version": "$Latest"}}}):
        with pytest.raises(botocore.exceptions.ClientError) as refused:
            scaling.start_instance_refresh(AutoScalingGroupName=name, Preferences={"AutoRollback": True}, **desired)
        assert refused.value.response["Error"]["Code"] == "ValidationError"
    first = scaling.start_instance_refresh(AutoScalingGroupName=name, Preferences={"AutoRollback": True, "MinHealthyPercentage": 50},
                                           DesiredConfiguration={"LaunchTemplate": {"LaunchTemplateId": template, "Version": "2"}})
    with pytest.raises(botocore.exceptions.ClientError) as busy:
        scaling.start_instance_refresh(AutoScalingGroupName=name, Preferences={"MinHealthyPercentage": 50})
    assert busy.value.response["Error"]["Code"] == "InstanceRefreshInProgress"
    scaling.cancel_instance_refresh(AutoScalingGroupName=name)
    assert refresh_of(scaling, name, first["InstanceRefreshId"])["Status"] == "Cancelling"   # until the batch stops
    done, _ = follow(scaling, name, first["InstanceRefreshId"])
    assert done["Status"] == "Cancelled"
    assert group_of(scaling, name)["LaunchTemplate"]["Version"] == "1"      # a cancelled refresh keeps the group's configuration
    assert done["DesiredConfiguration"]["LaunchTemplate"] == {"LaunchTemplateId": template, "Version": "2"}


def test_progress_counts_down_and_skip_matching_keeps_matching_instances(simulator):
    ec2, scaling = simulator.client("ec2"), simulator.client("autoscaling")
    name, template, _ = make_group(simulator, "true", 4)
    ec2.create_launch_template_version(LaunchTemplateId=template, SourceVersion="1", LaunchTemplateData={})
    desired = {"LaunchTemplate": {"LaunchTemplateId": template, "Version": "2"}}
    started = scaling.start_instance_refresh(AutoScalingGroupName=name, DesiredConfiguration=desired,
                                             Preferences={"MinHealthyPercentage": 75, "SkipMatching": True, "InstanceWarmup": 10})
    done, seen = follow(scaling, name, started["InstanceRefreshId"])
    assert done["Status"] == "Successful" and done["PercentageComplete"] == 100 and done["InstancesToUpdate"] == 0
    running = [item for item in seen if item["Status"] == "InProgress"]
    remaining = [item["InstancesToUpdate"] for item in running]
    percentages = [item["PercentageComplete"] for item in running]
    assert remaining[0] == 4 and remaining == sorted(remaining, reverse=True) and len(set(remaining)) > 2, remaining
    assert percentages == sorted(percentages) and 0 < max(percentages) < 100, percentages
    members = {item["InstanceId"] for item in group_of(scaling, name)["Instances"]}

    # Everything is on version 2 now: with SkipMatching a refresh to it replaces nothing.
    again = scaling.start_instance_refresh(AutoScalingGroupName=name, DesiredConfiguration=desired,
                                           Preferences={"SkipMatching": True})
    done, _ = follow(scaling, name, again["InstanceRefreshId"])
    assert done["Status"] == "Successful" and done["InstancesToUpdate"] == 0
    assert {item["InstanceId"] for item in group_of(scaling, name)["Instances"]} == members


def test_behind_a_load_balancer_old_instances_go_only_once_new_ones_are_healthy(simulator):
    """With HealthCheckType ELB a new instance counts once its target group finds it healthy; the
    balancer keeps answering throughout, and a release that never turns healthy fails the refresh
    and is rolled back."""
    ec2, scaling, elb = simulator.client("ec2"), simulator.client("autoscaling"), simulator.client("elbv2")
    name, template, group_arn = make_group(simulator, SERVE.format(r="r1"), 3, balancer=True)
    url = eventually(lambda: next((item["url"] for item in simulator_status(simulator) if item["name"] == name), None))
    healthy = lambda: [item for item in elb.describe_target_health(TargetGroupArn=group_arn)["TargetHealthDescriptions"]
                       if item["TargetHealth"]["State"] == "healthy"]
    eventually(lambda: len(healthy()) == 3, timeout=30)
    ec2.create_launch_template_version(LaunchTemplateId=template, SourceVersion="1",
                                       LaunchTemplateData={"UserData": user_data(SERVE.format(r="r2"))})
    answers, failures, lowest, seen = set(), [], [3], set()

    def probe():
        lowest[0] = min(lowest[0], len(healthy()))
        seen.update(item["TargetHealth"]["State"] for item in elb.describe_target_health(TargetGroupArn=group_arn)["TargetHealthDescriptions"])
        try:
            answers.add(urllib.request.urlopen(url, timeout=5).read().decode())
        except Exception as error:  # noqa: BLE001 - every failure counts
            failures.append(repr(error))

    started = scaling.start_instance_refresh(AutoScalingGroupName=name, Preferences={"MinHealthyPercentage": 66, "AutoRollback": True},
                                             DesiredConfiguration={"LaunchTemplate": {"LaunchTemplateId": template, "Version": "2"}})
    done, _ = follow(scaling, name, started["InstanceRefreshId"], each=probe)
    assert done["Status"] == "Successful", done
    assert failures == [] and lowest[0] >= 2, (failures, lowest)
    assert "draining" in seen, seen                                        # old instances drained before they went
    assert answers <= {"r1", "r2"} and "r2" in answers
    assert eventually(lambda: {urllib.request.urlopen(url, timeout=5).read().decode() for _ in range(6)} == {"r2"})

    # A version whose instances never pass the health check: Failed, then rolled back to version 2.
    ec2.create_launch_template_version(LaunchTemplateId=template, SourceVersion="2",
                                       LaunchTemplateData={"UserData": user_data("mkdir -p srv/app/current/public")})
    broken = scaling.start_instance_refresh(AutoScalingGroupName=name, Preferences={"MinHealthyPercentage": 66, "AutoRollback": True},
                                            DesiredConfiguration={"LaunchTemplate": {"LaunchTemplateId": template, "Version": "3"}})
    done, seen = follow(scaling, name, broken["InstanceRefreshId"])
    assert done["Status"] == "RollbackSuccessful", done
    assert any("health checks did not pass" in (item.get("StatusReason") or "") for item in seen)
    assert group_of(scaling, name)["LaunchTemplate"]["Version"] == "2"
    assert {urllib.request.urlopen(url, timeout=5).read().decode() for _ in range(6)} == {"r2"}


def simulator_status(simulator):
    import json
    return json.loads(simulator.fleet("status", "--json"))["loadBalancers"]
