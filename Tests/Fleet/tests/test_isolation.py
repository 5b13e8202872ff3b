"""Each instance's commands and user data run inside that instance: its root is `/`, its hostname
its own, nothing of the host or of other instances writable or visible -- while the host still
finds the instance's files under <state>/instances/<id>/root, and loopback still reaches the
simulator."""
import base64
import json
import os
import time
import uuid

from test_runcommand import agent_root, launch, wait


def run(simulator, instance, *commands):
    ssm = simulator.client("ssm")
    command = ssm.send_command(DocumentName="AWS-RunShellScript", InstanceIds=[instance],
                               Parameters={"commands": list(commands)})["Command"]
    [item] = wait(ssm, command["CommandId"], 1)
    return item, ssm.get_command_invocation(CommandId=command["CommandId"], InstanceId=instance)


def test_the_instance_root_is_slash_and_the_host_is_read_only(simulator):
    [instance] = launch(simulator, 1, {"Role": "isolated"})
    marker = f"/tmp/fleet-isolation-{uuid.uuid4().hex}"
    item, result = run(simulator, instance, f"echo inside > {marker}", "echo $? > /tmp/status",
                       "touch /usr/fleet-probe 2>/dev/null || echo usr-read-only", "pwd", "hostname",
                       "test -d /srv || echo no-srv-yet", "ls /instances 2>&1 | head -1")
    assert item["Status"] == "Success", result
    assert not os.path.exists(marker)                                           # the host's /tmp is untouched
    with open(os.path.join(agent_root(simulator, instance), marker.lstrip("/"))) as handle:
        assert handle.read() == "inside\n"                                      # it went to the instance's /tmp
    lines = result["StandardOutputContent"].splitlines()
    assert lines[0] == "usr-read-only"
    assert lines[1] == "/"
    assert lines[2].startswith("ip-") and lines[2] != os.uname().nodename      # an EC2-style hostname of its own
    assert not os.path.exists("/usr/fleet-probe")


def test_user_data_writes_the_instances_own_etc(simulator):
    ec2, scaling = simulator.client("ec2"), simulator.client("autoscaling")
    script = b"mkdir -p /etc/devbox && printf 'region = \"eu-west-3\"\\n' > /etc/devbox/config.toml && hostname > /etc/booted-as"
    template = ec2.create_launch_template(LaunchTemplateName="isolated-boot", LaunchTemplateData={
        "ImageId": "ami-12c6146b", "UserData": base64.b64encode(script).decode()})["LaunchTemplate"]["LaunchTemplateId"]
    scaling.create_auto_scaling_group(AutoScalingGroupName="isolated-boot", MinSize=1, MaxSize=1, DesiredCapacity=1,
                                      LaunchTemplate={"LaunchTemplateId": template, "Version": "1"},
                                      AvailabilityZones=["eu-west-3a"])
    [member] = [item["InstanceId"] for item in scaling.describe_auto_scaling_groups(
        AutoScalingGroupNames=["isolated-boot"])["AutoScalingGroups"][0]["Instances"]]
    simulator.client("ssm").describe_instance_information()
    path = os.path.join(agent_root(simulator, member), "etc", "devbox", "config.toml")
    deadline = time.time() + 15
    while not os.path.exists(path) and time.time() < deadline:
        time.sleep(0.1)
    with open(path) as handle:
        assert handle.read() == 'region = "eu-west-3"\n'
    assert not os.path.exists("/etc/devbox/config.toml") or open("/etc/devbox/config.toml").read() != 'region = "eu-west-3"\n'
    item, result = run(simulator, member, "cat /etc/devbox/config.toml")       # and a command sees the same file
    assert result["StandardOutputContent"] == 'region = "eu-west-3"\n'


def test_two_instances_never_see_each_others_files(simulator):
    first, second = launch(simulator, 2, {"Role": "neighbours"})
    secret = uuid.uuid4().hex
    run(simulator, first, f"mkdir -p /srv && echo {secret} > /srv/secret")
    item, result = run(simulator, second, "cat /srv/secret 2>&1 || true",
                       f"grep -rsl {secret} /srv /tmp /etc /root /var /run /home || echo not-found",
                       f"ls {agent_root(simulator, first)} 2>&1 || true")
    output = result["StandardOutputContent"]
    assert secret not in output.replace(f"grep -rs {secret}", "")
    assert "not-found" in output
    assert "No such file or directory" in output                               # the host path of the other root is not there
    with open(os.path.join(agent_root(simulator, first), "srv", "secret")) as handle:
        assert handle.read() == secret + "\n"                                  # the host sees the file where it always did


def test_commands_reach_the_simulator_on_loopback(simulator):
    [instance] = launch(simulator, 1, {"Role": "calls-home"})
    environment = " ".join(f"{key}={value}" for key, value in simulator.env.items() if key.startswith("AWS_"))
    item, result = run(simulator, instance, f"{environment} aws sts get-caller-identity --query Arn --output text",
                       "echo $AWS_ENDPOINT_URL")
    assert item["Status"] == "Success", result["StandardErrorContent"]
    assert result["StandardOutputContent"].split() == ["arn:aws:iam::123456789012:user/fleet-admin", simulator.endpoint]


def test_the_namespace_shares_the_network_and_hides_other_roots(tmp_path):
    """The wrapper itself: new mount, UTS and IPC namespaces, never a new network one; no bind of
    a directory that holds instance roots, even when it is on PATH."""
    from simulator import isolation
    state = tmp_path / "state"
    root = state / "instances" / "i-1" / "root"
    (tmp_path / "tools" / "bin").mkdir(parents=True)
    root.mkdir(parents=True)
    isolation.prepare_root(str(root))
    assert os.readlink(root / "bin") == "usr/bin" and (root / "etc" / "passwd").is_file()
    argv = isolation.command(str(root), "ip-10-0-0-1", ["bash", "-c", "true"], "/srv",
                             f"{state}:{tmp_path / 'tools' / 'bin'}:/usr/bin")
    assert argv[:4] == [isolation.BWRAP, "--bind", str(root), "/"]
    assert "--unshare-uts" in argv and "--unshare-ipc" in argv and argv[argv.index("--hostname") + 1] == "ip-10-0-0-1"
    assert not any(flag in argv for flag in ("--unshare-net", "--unshare-all", "--share-net"))
    bound = [argv[index + 2] for index, flag in enumerate(argv) if flag == "--ro-bind"]
    assert str(tmp_path / "tools") in bound                       # a bin directory brings its prefix
    assert str(state) not in bound and "/usr" in bound
    assert argv[-4:] == ["--", "bash", "-c", "true"] and argv[argv.index("--chdir") + 1] == "/srv"


def wait_for_file(path, timeout=15):
    deadline = time.time() + timeout
    while not os.path.exists(path):
        assert time.time() < deadline, f"{path} never appeared"
        time.sleep(0.1)
    time.sleep(0.2)  # let the writer finish its line
    with open(path) as handle:
        return handle.read()


def test_an_instance_run_alone_runs_its_user_data(simulator):
    """Not only a group's instances: cloud-init runs any instance's user data at first boot."""
    ec2 = simulator.client("ec2")
    script = b"#!/bin/bash\nmkdir -p /srv && echo booted $FLEET_INSTANCE_ID > /srv/boot\n"
    [instance] = [item["InstanceId"] for item in ec2.run_instances(
        ImageId="ami-12c6146b", MinCount=1, MaxCount=1, UserData=script.decode())["Instances"]]  # boto3 encodes it
    simulator.client("ssm").describe_instance_information()
    assert wait_for_file(os.path.join(agent_root(simulator, instance), "srv", "boot")) == f"booted {instance}\n"


def profile_with_policy(simulator, name, statements):
    iam = simulator.client("iam")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument='{"Version": "2012-10-17", "Statement": [{"Effect": '
                    '"Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}')
    iam.put_role_policy(RoleName=name, PolicyName="reads", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": statements}))
    iam.create_instance_profile(InstanceProfileName=name)
    iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)
    return name


def test_an_instance_profile_gives_the_instance_its_role_credentials(simulator):
    """As the metadata service does: the AWS CLI inside the instance signs as the profile's role,
    and the role's policy decides (here: one object allowed, its neighbour denied)."""
    s3 = simulator.client("s3")
    s3.create_bucket(Bucket="profile-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    s3.put_object(Bucket="profile-bucket", Key="tools/devbox", Body=b"tool\n")
    s3.put_object(Bucket="profile-bucket", Key="artifacts/secret", Body=b"secret\n")
    profile = profile_with_policy(simulator, "devbox-reader", [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::profile-bucket/tools/*"}])
    ec2 = simulator.client("ec2")
    script = ("#!/bin/bash\nmkdir -p /srv\naws s3 cp --region eu-west-3 s3://profile-bucket/tools/devbox /srv/tool"
              " > /srv/log 2>&1; aws s3 cp --region eu-west-3 s3://profile-bucket/artifacts/secret /srv/secret"
              " >> /srv/log 2>&1; echo $? > /srv/denied\n")
    [instance] = [item["InstanceId"] for item in ec2.run_instances(
        ImageId="ami-12c6146b", MinCount=1, MaxCount=1, IamInstanceProfile={"Name": profile},
        UserData=script)["Instances"]]
    simulator.client("ssm").describe_instance_information()
    root = agent_root(simulator, instance)
    assert wait_for_file(os.path.join(root, "srv", "denied"), timeout=60) != "0\n"
    assert open(os.path.join(root, "srv", "tool")).read() == "tool\n", open(os.path.join(root, "srv", "log")).read()
    assert not os.path.exists(os.path.join(root, "srv", "secret"))
    assert "(403)" in open(os.path.join(root, "srv", "log")).read()  # HeadObject: a 403 without a body
    # Without a profile there are no credentials at all.
    [bare] = launch(simulator, 1, {"Role": "bare"})
    item, result = run(simulator, bare, "echo ${AWS_ACCESS_KEY_ID:-none}")
    assert result["StandardOutputContent"] == "none\n"
