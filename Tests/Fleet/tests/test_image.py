"""The simulated machine image (simulator/image/bin): the shared stack's own install script boots
in an instance as it would on Amazon Linux, its dnf, systemctl and nginx requests recorded."""
import os
import re

import time

from test_isolation import profile_with_policy, run, wait_for_file
from test_runcommand import agent_root, launch

TEMPLATE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))),
                        "adminctl", "templates", "shared.yaml")


def install_script():
    """The `UserData.InstallRelease.Script` mapping of shared.yaml, as the launch templates join it."""
    text = open(TEMPLATE).read()
    block = text.split("    InstallRelease:\n      Script: |\n", 1)[1]
    lines = []
    for line in block.splitlines():
        if line and not line.startswith("        "):
            break
        lines.append(line[8:])
    return "\n".join(lines) + "\n"


def test_the_shared_stacks_install_script_boots_on_the_image(simulator):
    simulator.client("ssm").put_parameter(Name="/imgtest/prod/release", Value="none", Type="String")
    profile = profile_with_policy(simulator, "image-reader", [
        {"Effect": "Allow", "Action": "ssm:GetParameter", "Resource": "*"}])
    script = "#!/bin/bash\nENV=prod PROJECT=imgtest BUCKET=unused REGION=eu-west-3\n" + install_script()
    [instance] = [item["InstanceId"] for item in simulator.client("ec2").run_instances(
        ImageId="ami-12c6146b", MinCount=1, MaxCount=1, IamInstanceProfile={"Name": profile}, UserData=script)["Instances"]]
    simulator.client("ssm").describe_instance_information()
    root = agent_root(simulator, instance)
    log = os.path.join(root, "var", "log", "cloud-init-output.log")
    text = wait_for_file(log, timeout=60)
    deadline = time.time() + 60
    while "install: prod runs release none" not in text and time.time() < deadline:
        time.sleep(0.2)
        text = open(log).read()
    assert "install: prod runs release none" in text, text
    assert os.readlink(os.path.join(root, "srv", "app", "current")) == "releases/none"
    assert open(os.path.join(root, "srv", "app", "current", "public", "health")).read() == "ok\n"
    recorded = open(os.path.join(root, "var", "log", "fleet-image.log")).read().splitlines()
    assert recorded[0].startswith("dnf install -y -q nginx php8.2-fpm")
    assert "nginx -t" in recorded and "systemctl enable --now php-fpm nginx" in recorded
    assert recorded[-1] == "systemctl reload php-fpm nginx"
    # php-fpm's package made its user, which owns the release's var/.
    assert re.search(r"^apache:x:48:48:", open(os.path.join(root, "etc", "passwd")).read(), re.M)
    assert os.stat(os.path.join(root, "srv", "app", "releases", "none", "var")).st_uid == 48
    # The nginx server block the script wrote replaced the image's default one.
    assert "root /srv/app/current/public;" in open(os.path.join(root, "etc", "nginx", "conf.d", "nuvola.conf")).read()
    assert "/usr/share/nginx/html" not in open(os.path.join(root, "etc", "nginx", "nginx.conf")).read()


def test_the_image_tools_answer_like_their_originals(simulator):
    [instance] = launch(simulator, 1, {"Role": "image-tools"})
    _, result = run(simulator, instance, "systemctl reload php-fpm; echo status $?; dnf install -y php8.2-fpm; "
                    "systemctl is-active --quiet php-fpm; echo active $?; systemctl enable --now php-fpm; "
                    "systemctl is-active php-fpm; nginx -t; echo nginx $?")
    out = result["StandardOutputContent"]
    assert "status 5" in out and "active 3" in out and "active\n" in out and "nginx 1" in out, out
    assert "Unit php-fpm.service could not be found." in result["StandardErrorContent"]
    # A developer machine's install: every package brings its own unit.
    _, result = run(simulator, instance, "set -e; dnf install -y -q git docker; systemctl enable --now docker; echo done")
    assert result["StandardOutputContent"] == "done\n", result["StandardErrorContent"]
