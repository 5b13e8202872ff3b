"""`fleet down` leaves nothing of the simulator behind, however its commands misbehave; the
server stops promptly on SIGTERM and when its state directory disappears."""
import base64
import os
import shutil
import tempfile
import time

from conftest import Simulator
from polling import eventually


def ours(state, identifier):
    """Every process on the machine that belongs to the simulator of `state`: its marker in the
    environment, or its state directory on the command line (haproxy, php, the server)."""
    found = {}
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as handle:
                environ = handle.read()
            with open(f"/proc/{name}/cmdline", "rb") as handle:
                cmdline = handle.read().replace(b"\0", b" ").decode("utf-8", "replace")
            with open(f"/proc/{name}/stat") as handle:
                if handle.read().rsplit(")", 1)[1].split()[0] == "Z":
                    continue
        except OSError:
            continue
        if f"FLEET_SIMULATOR={identifier}".encode() in environ.split(b"\0") or state in cmdline:
            found[int(name)] = cmdline
    return found




def test_down_ends_every_process_the_simulator_started():
    state = tempfile.mkdtemp(prefix="fleet-lifecycle-")
    try:
        sim = Simulator(state)
        identifier = open(os.path.join(state, "simulator-id")).read().strip()
        ec2, scaling, ssm, elb = (sim.client(name) for name in ("ec2", "autoscaling", "ssm", "elbv2"))
        user_data = "setsid sleep 1001 >/dev/null 2>&1 < /dev/null &\nmkdir -p srv/app/r/public && echo ok > srv/app/r/public/index.php && ln -s r srv/app/current\n"
        template = ec2.create_launch_template(LaunchTemplateName="daemons", LaunchTemplateData={
            "ImageId": "ami-12c6146b", "UserData": base64.b64encode(user_data.encode()).decode()})["LaunchTemplate"]
        scaling.create_auto_scaling_group(AutoScalingGroupName="daemons", MinSize=2, MaxSize=2, DesiredCapacity=2,
                                          LaunchTemplate={"LaunchTemplateId": template["LaunchTemplateId"], "Version": "1"},
                                          AvailabilityZones=["eu-west-3a"])
        members = [item["InstanceId"] for item in scaling.describe_auto_scaling_groups(
            AutoScalingGroupNames=["daemons"])["AutoScalingGroups"][0]["Instances"]]
        ssm.describe_instance_information()
        # A daemon from a command, a command that hangs, an agent that hangs.
        ssm.send_command(DocumentName="AWS-RunShellScript", InstanceIds=[members[0]],
                         Parameters={"commands": ["setsid sleep 1002 >/dev/null 2>&1 < /dev/null &", "echo started"]})
        ssm.send_command(DocumentName="AWS-RunShellScript", InstanceIds=[members[0]], Parameters={"commands": ["sleep 1003"]})
        sim.fleet("agent", "--instance", members[1], "--hang")
        ssm.send_command(DocumentName="AWS-RunShellScript", InstanceIds=[members[1]], Parameters={"commands": ["true"]})
        # Web serving and a load balancer: PHP and haproxy processes.
        vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
        subnets = [subnet["SubnetId"] for subnet in ec2.describe_subnets()["Subnets"]][:2]
        balancer = elb.create_load_balancer(Name="life", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
        group = elb.create_target_group(Name="life", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]["TargetGroupArn"]
        elb.create_listener(LoadBalancerArn=balancer, Protocol="HTTP", Port=80,
                            DefaultActions=[{"Type": "forward", "TargetGroupArn": group}])
        elb.register_targets(TargetGroupArn=group, Targets=[{"Id": member} for member in members])

        def everything_runs():
            commands = " ".join(ours(state, identifier).values())
            return all(word in commands for word in ("sleep 1001", "sleep 1002", "sleep 1003", "sleep 2147483647",
                                                     "haproxy", "php"))
        eventually(everything_runs, timeout=20, interval=0.1, message=lambda: str(ours(state, identifier)))
        started = time.time()
        sim.stop()
        assert time.time() - started < 15
        eventually(lambda: not ours(state, identifier), timeout=10, interval=0.1, message=lambda: str(ours(state, identifier)))
    finally:
        shutil.rmtree(state, ignore_errors=True)


def test_server_stops_when_its_state_directory_disappears():
    state = tempfile.mkdtemp(prefix="fleet-vanish-")
    sim = Simulator(state)
    identifier = open(os.path.join(state, "simulator-id")).read().strip()
    pid = int(open(os.path.join(state, "pid")).read())
    ec2, ssm = sim.client("ec2"), sim.client("ssm")
    [instance] = [item["InstanceId"] for item in ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)["Instances"]]
    ssm.describe_instance_information()
    ssm.send_command(DocumentName="AWS-RunShellScript", InstanceIds=[instance], Parameters={"commands": ["sleep 1004"]})
    eventually(lambda: any("sleep 1004" in line for line in ours(state, identifier).values()), timeout=20, interval=0.1)
    shutil.rmtree(state, ignore_errors=True)   # the simulator may still be writing in it: the directory goes anyway
    eventually(lambda: not os.path.exists(f"/proc/{pid}") or
               open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] == "Z", timeout=15, interval=0.1)
    eventually(lambda: not ours(state, identifier), timeout=10, interval=0.1, message=lambda: str(ours(state, identifier)))
    shutil.rmtree(state, ignore_errors=True)
