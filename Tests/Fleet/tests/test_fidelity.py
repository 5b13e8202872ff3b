"""Every response the simulator itself produces (our handlers, and our hooks' answers) fits
botocore's service model: each member exists, has the right type, and enum values are valid."""
import base64
import json
import time

import pytest

from shapecheck import check_json, check_query_xml
from polling import eventually


class Recorder:
    """Keeps the raw body of every response a boto3 client receives, by operation."""

    def __init__(self, client):
        self.client = client
        self.raw = {}
        client.meta.events.register("after-call", self.keep)

    def keep(self, http_response, model, **_):
        if http_response.status_code == 200:
            self.raw.setdefault(model.name, []).append(http_response.content)

    def problems(self, operation):
        model = self.client.meta.service_model.operation_model(operation)
        bodies = self.raw.get(operation)
        assert bodies, f"no response of {operation} recorded"
        found = []
        for body in bodies:
            if self.client.meta.service_model.protocol == "json":
                found += check_json(json.loads(body), model.output_shape, operation) if model.output_shape else []
            else:
                found += check_query_xml(body, model)
        return found




def test_run_command_responses_fit_the_ssm_model(simulator):
    ec2 = simulator.client("ec2")
    ssm = Recorder(simulator.client("ssm"))
    instances = [item["InstanceId"] for item in ec2.run_instances(ImageId="ami-12c6146b", MinCount=2, MaxCount=2, TagSpecifications=[
        {"ResourceType": "instance", "Tags": [{"Key": "Role", "Value": "fidelity"}]}])["Instances"]]
    ssm.client.describe_instance_information(Filters=[{"Key": "InstanceIds", "Values": instances}])
    ok = ssm.client.send_command(DocumentName="AWS-RunShellScript", Targets=[{"Key": "tag:Role", "Values": ["fidelity"]}],
                                 Parameters={"commands": ["echo out; echo err >&2; exit 3"]})["Command"]
    slow = ssm.client.send_command(DocumentName="AWS-RunShellScript", InstanceIds=instances,
                                   Parameters={"commands": ["sleep 30"]})["Command"]
    eventually(lambda: all(item["Status"] not in ("Pending", "InProgress") for item in ssm.client.list_command_invocations(
        CommandId=ok["CommandId"], Details=True)["CommandInvocations"]) and len(ssm.client.list_command_invocations(
        CommandId=ok["CommandId"])["CommandInvocations"]) == 2, timeout=30)
    ssm.client.get_command_invocation(CommandId=ok["CommandId"], InstanceId=instances[0])
    ssm.client.cancel_command(CommandId=slow["CommandId"])
    eventually(lambda: ssm.client.list_commands(CommandId=slow["CommandId"])["Commands"][0]["Status"] not in ("Pending", "InProgress", "Cancelling"), timeout=30)
    ssm.client.list_commands()
    ssm.client.list_command_invocations(CommandId=slow["CommandId"], Details=True)
    for operation in ("DescribeInstanceInformation", "SendCommand", "ListCommandInvocations", "GetCommandInvocation",
                      "CancelCommand", "ListCommands"):
        assert ssm.problems(operation) == [], operation


def test_session_manager_responses_fit_the_ssm_model(simulator):
    ec2 = simulator.client("ec2")
    ssm = Recorder(simulator.client("ssm"))
    [instance] = [item["InstanceId"] for item in ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)["Instances"]]
    session = ssm.client.start_session(Target=instance, Reason="fidelity")["SessionId"]
    ssm.client.describe_sessions(State="Active", Filters=[{"key": "Target", "value": instance}])
    ssm.client.terminate_session(SessionId=session)
    assert ssm.client.describe_sessions(State="History", Filters=[{"key": "SessionId", "value": session}])["Sessions"]
    for operation in ("StartSession", "DescribeSessions", "TerminateSession"):
        assert ssm.problems(operation) == [], operation


def test_refresh_and_target_health_responses_fit_their_models(simulator):
    ec2 = simulator.client("ec2")
    scaling = Recorder(simulator.client("autoscaling"))
    elb = Recorder(simulator.client("elbv2"))
    template = ec2.create_launch_template(LaunchTemplateName="fidelity", LaunchTemplateData={
        "ImageId": "ami-12c6146b", "UserData": base64.b64encode(b"sleep 1").decode()})["LaunchTemplate"]["LaunchTemplateId"]
    scaling.client.create_auto_scaling_group(AutoScalingGroupName="fidelity", MinSize=2, MaxSize=4, DesiredCapacity=2,
                                             LaunchTemplate={"LaunchTemplateId": template, "Version": "1"},
                                             AvailabilityZones=["eu-west-3a"])
    refresh = scaling.client.start_instance_refresh(AutoScalingGroupName="fidelity", Preferences={"MinHealthyPercentage": 50})
    scaling.client.describe_instance_refreshes(AutoScalingGroupName="fidelity")
    scaling.client.cancel_instance_refresh(AutoScalingGroupName="fidelity")
    eventually(lambda: scaling.client.describe_instance_refreshes(AutoScalingGroupName="fidelity", InstanceRefreshIds=[
        refresh["InstanceRefreshId"]])["InstanceRefreshes"][0]["Status"] not in ("Pending", "InProgress", "Cancelling"),
               timeout=30)
    scaling.client.start_instance_refresh(AutoScalingGroupName="fidelity", Preferences={"MinHealthyPercentage": 50})
    scaling.client.rollback_instance_refresh(AutoScalingGroupName="fidelity")
    for operation in ("StartInstanceRefresh", "DescribeInstanceRefreshes", "CancelInstanceRefresh", "RollbackInstanceRefresh"):
        assert scaling.problems(operation) == [], operation

    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    subnets = [subnet["SubnetId"] for subnet in ec2.describe_subnets()["Subnets"]][:2]
    instances = [item["InstanceId"] for item in ec2.run_instances(ImageId="ami-12c6146b", MinCount=2, MaxCount=2)["Instances"]]
    group = elb.client.create_target_group(Name="fidelity", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]["TargetGroupArn"]
    elb.client.register_targets(TargetGroupArn=group, Targets=[{"Id": instances[0]}])
    elb.client.describe_target_health(TargetGroupArn=group)                    # unused: no listener
    balancer = elb.client.create_load_balancer(Name="fidelity", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
    elb.client.create_listener(LoadBalancerArn=balancer, Protocol="HTTP", Port=80,
                               DefaultActions=[{"Type": "forward", "TargetGroupArn": group}])
    elb.client.register_targets(TargetGroupArn=group, Targets=[{"Id": instances[1]}])
    elb.client.describe_target_health(TargetGroupArn=group)                    # initial, unhealthy
    elb.client.deregister_targets(TargetGroupArn=group, Targets=[{"Id": instances[1]}])
    time.sleep(0.5)
    elb.client.describe_target_health(TargetGroupArn=group, Targets=[{"Id": instances[0]}])
    elb.client.describe_target_health(TargetGroupArn=group)                    # draining
    assert elb.problems("DescribeTargetHealth") == []


def test_hook_answers_fit_the_cloudformation_model(simulator):
    cloudformation = Recorder(simulator.client("cloudformation"))
    template = ('AWSTemplateFormatVersion: "2010-09-09"\nParameters:\n  V: {Type: String}\nResources:\n'
                '  P:\n    Type: AWS::SSM::Parameter\n    Properties: {Name: /fidelity/p, Type: String, Value: !Ref V}\n')
    parameters = [{"ParameterKey": "V", "ParameterValue": "x"}]
    cloudformation.client.create_stack(StackName="fidelity", TemplateBody=template, Parameters=parameters)
    cloudformation.client.create_change_set(StackName="fidelity", ChangeSetName="same", TemplateBody=template,
                                            Parameters=parameters)
    cloudformation.client.list_stack_resources(StackName="fidelity")
    cloudformation.client.describe_stack_resources(StackName="fidelity")
    cloudformation.client.describe_stack_resource(StackName="fidelity", LogicalResourceId="P")
    for operation in ("CreateChangeSet", "ListStackResources", "DescribeStackResources", "DescribeStackResource"):
        assert cloudformation.problems(operation) == [], operation


@pytest.mark.parametrize("value,problem", [
    ({"Command": {"Status": "Weird"}}, "'Weird' is not one of"),
    ({"Command": {"NoSuchField": 1}}, "no such member"),
    ({"Command": {"TargetCount": "3"}}, "is not an integer"),
])
def test_the_validator_catches_what_botocore_would_hide(value, problem):
    import botocore.session
    model = botocore.session.get_session().get_service_model("ssm").operation_model("SendCommand")
    problems = check_json(value, model.output_shape, "SendCommand")
    assert len(problems) == 1 and problem in problems[0]
