"""Target tracking acts: a load burst through the load balancer grows the group towards its
maximum, new instances serve (their user data installs the release) before they get traffic, and
after the burst the group shrinks back to its minimum; each change is a scaling activity."""
import base64
import json
import threading
import time
import urllib.error
import urllib.request

from polling import eventually

USER_DATA = b"""#!/bin/bash
set -e
mkdir -p /srv/app/releases/r1/public
printf '%s' '<?php echo "r1 " . getenv("FLEET_INSTANCE_ID");' > /srv/app/releases/r1/public/index.php
ln -sfn releases/r1 /srv/app/current
"""


class Load:
    """A bounded loop of requests (loopback only), counting answers and failures."""

    def __init__(self, url, rate):
        self.url, self.interval = url, 1.0 / rate
        self.ok, self.failed, self.bodies = 0, [], set()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stopping.is_set():
            started = time.time()
            try:
                body = urllib.request.urlopen(self.url, timeout=5).read().decode()
                self.ok += 1
                self.bodies.add(body)
            except (urllib.error.URLError, OSError) as error:
                self.failed.append(repr(error))
            self.stopping.wait(max(0.0, self.interval - (time.time() - started)))

    def stop(self):
        self.stopping.set()
        self.thread.join()


def group(scaling, name):
    return scaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0]


def test_a_burst_scales_out_towards_max_and_back_in_after_it(simulator):
    ec2, elb, scaling = simulator.client("ec2"), simulator.client("elbv2"), simulator.client("autoscaling")
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    subnets = [subnet["SubnetId"] for subnet in ec2.describe_subnets()["Subnets"]][:2]
    template = ec2.create_launch_template(LaunchTemplateName="tracked", LaunchTemplateData={
        "ImageId": "ami-12c6146b", "UserData": base64.b64encode(USER_DATA).decode()})["LaunchTemplate"]["LaunchTemplateId"]
    balancer = elb.create_load_balancer(Name="tracked-alb", Subnets=subnets)["LoadBalancers"][0]
    target_group = elb.create_target_group(Name="tracked", Protocol="HTTP", Port=80, VpcId=vpc, HealthCheckPath="/",
                                           HealthCheckIntervalSeconds=5, HealthyThresholdCount=2)["TargetGroups"][0]
    elb.create_listener(LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="HTTP", Port=80,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": target_group["TargetGroupArn"]}])
    scaling.create_auto_scaling_group(AutoScalingGroupName="tracked", MinSize=1, MaxSize=4, DesiredCapacity=1,
                                      LaunchTemplate={"LaunchTemplateId": template, "Version": "1"},
                                      VPCZoneIdentifier=",".join(subnets), TargetGroupARNs=[target_group["TargetGroupArn"]])
    label = "/".join(balancer["LoadBalancerArn"].split(":loadbalancer/")[1:]) + "/" + target_group["TargetGroupArn"].split(":")[-1]
    # 20 requests per target per (scaled) minute: 1.2 s at the tests' time scale.
    scaling.put_scaling_policy(AutoScalingGroupName="tracked", PolicyName="requests", PolicyType="TargetTrackingScaling",
                               TargetTrackingConfiguration={"TargetValue": 20.0, "PredefinedMetricSpecification": {
                                   "PredefinedMetricType": "ALBRequestCountPerTarget", "ResourceLabel": label}})
    simulator.client("ssm").describe_instance_information()     # the agents (and boots) of the first member

    def healthy():
        health = elb.describe_target_health(TargetGroupArn=target_group["TargetGroupArn"])["TargetHealthDescriptions"]
        return [item["Target"]["Id"] for item in health if item["TargetHealth"]["State"] == "healthy"]
    assert eventually(lambda: len(healthy()) == 1, timeout=30)
    url = next(item["url"] for item in json.loads(simulator.fleet("status", "--json"))["loadBalancers"]
               if item["name"] == "tracked-alb")

    load = Load(url, rate=40)                                    # ~48 per period on one target: above 20
    try:
        grown = eventually(lambda: (lambda g: g if g["DesiredCapacity"] >= 3 else None)(group(scaling, "tracked")),
                           timeout=40, message=lambda: json.dumps(group(scaling, "tracked"), default=str))
        assert grown["DesiredCapacity"] <= 4
        assert eventually(lambda: len(healthy()) >= 3, timeout=40)
        time.sleep(2)                                            # traffic over the grown group
    finally:
        load.stop()
    assert load.failed == [], load.failed[:5]
    assert load.ok > 100
    assert len({body.split()[1] for body in load.bodies}) >= 2   # new instances served the release, and got traffic
    assert {body.split()[0] for body in load.bodies} == {"r1"}

    activities = scaling.describe_scaling_activities(AutoScalingGroupName="tracked")["Activities"]
    assert activities and activities[-1]["Description"].startswith("Launching ")
    assert "ALBRequestCountPerTarget" in activities[-1]["Cause"] and activities[-1]["StatusCode"] == "Successful"

    # After the burst: 15 quiet datapoints and the cooldown, then back to the minimum.
    shrunk = eventually(lambda: group(scaling, "tracked")["DesiredCapacity"] == 1, timeout=60, interval=0.5,
                        message=lambda: json.dumps(group(scaling, "tracked"), default=str))
    assert shrunk
    activities = scaling.describe_scaling_activities(AutoScalingGroupName="tracked")["Activities"]
    assert activities[0]["Description"].startswith("Terminating ") and "below the target" in activities[0]["Cause"]
    assert scaling.describe_scaling_activities(AutoScalingGroupName="other")["Activities"] == []
