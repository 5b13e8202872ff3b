"""The judges of adminctl's CloudFormation templates and IAM policies.

  - cfn-lint: no error; a warning only if listed (with its reason) in CFN_LINT_ALLOWED_WARNINGS;
  - checkov: no failed check; the checks a template skips (Metadata.checkov.skip) are exactly those
    listed with their reasons in templates/checkov-skips.yaml, and each still fails without its skip;
  - parliament: no finding above LOW in any policy, unless listed in PARLIAMENT_ALLOWED;
  - the policies in policies/*.json are the documents the template embeds;
  - the simulated cloud (Tests/Fleet, moto 5.2.1 behind our middleware) creates the stack, and boto3
    sees the properties the template promises.

The judges are commands found on PATH (cfn-lint, checkov, parliament); the simulator part runs with
the project's venv (boto3, moto). Run:

    PATH=/tmp/judges/bin:$PATH .venv/bin/python -m pytest -q adminctl/tests

Where moto does not do what AWS does, the assertion stays as AWS would answer and is marked
`xfail(strict=True, reason="moto gap: ...")`: when the simulator learns the behaviour the test
passes, strictness turns that into a failure, and the mark comes off. The templates are never
changed to suit moto.
"""
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import time

import pytest
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cfn_yaml  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ADMINCTL = os.path.dirname(HERE)
ROOT = os.path.dirname(ADMINCTL)
TEMPLATES_DIR = os.path.join(ADMINCTL, "templates")
POLICIES_DIR = os.path.join(ADMINCTL, "policies")
SKIPS_FILE = os.path.join(TEMPLATES_DIR, "checkov-skips.yaml")
FLEET = os.path.join(ROOT, "Tests", "Fleet", "fleet")
TEMPLATES = sorted(name for name in os.listdir(TEMPLATES_DIR)
                   if name.endswith((".yaml", ".yml", ".json")) and os.path.join(TEMPLATES_DIR, name) != SKIPS_FILE)
POLICIES = sorted(name for name in os.listdir(POLICIES_DIR) if name.endswith(".json"))
SHARED = os.path.join(TEMPLATES_DIR, "shared.yaml")

# CreateStack's TemplateBody is at most 51,200 bytes (larger templates must go through S3).
TEMPLATE_BODY_LIMIT = 51200

# (template, rule id) -> why the warning is acceptable. Empty: cfn-lint reports no warning today.
CFN_LINT_ALLOWED_WARNINGS = {}
# (policy file, parliament issue code) -> why.
PARLIAMENT_ALLOWED = {
    ("developer-session.json", "UNKNOWN_CONDITION_FOR_ACTION"):
        "ssm:SessionDocumentAccessCheck is the condition AWS's Session Manager guide gives for StartSession "
        "(docs.aws.amazon.com/systems-manager/latest/userguide/getting-started-restrict-access-quickstart.html, "
        "\"BoolIfExists\": {\"ssm:SessionDocumentAccessCheck\": \"true\"}); parliament 1.6.4's action table "
        "predates it",
    ("dump-scheduler.json", "RESOURCE_MISMATCH"):
        "ssm:SendCommand acts on the document and on each instance, and the Run Command guide grants them in "
        "separate statements so a tag condition applies to the instances only "
        "(docs.aws.amazon.com/systems-manager/latest/userguide/sysman-rc-setting-up-cmdsec.html); parliament 1.6.4 "
        "marks the document required in every statement, so the instances' statement reads as a mismatch",
}

# The values policies/*.json are rendered with for parliament (their ${...} are CloudFormation's
# Fn::Sub variables, which parliament cannot read as ARNs).
EXAMPLE_VALUES = {"AWS::Partition": "aws", "AWS::Region": "eu-west-3", "AWS::AccountId": "123456789012",
                  "ProjectName": "nuvola", "ArtifactsBucket": "nuvola-artifacts-123456789012-eu-west-3",
                  "DumpsBucket": "nuvola-dumps-123456789012-eu-west-3",
                  "ProdDatabase.MasterUserSecret.SecretArn":
                      "arn:aws:secretsmanager:eu-west-3:123456789012:secret:rds!db-0d9c2b1e-prod-AbCdEf",
                  "DevDatabase.MasterUserSecret.SecretArn":
                      "arn:aws:secretsmanager:eu-west-3:123456789012:secret:rds!db-5e7f3a2c-dev-GhIjKl"}


def tool(name):
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"`{name}` is not on PATH. The template judges are pinned separately from the simulator: "
                    f"`python3 -m venv /tmp/judges && /tmp/judges/bin/pip install cfn-lint==1.58.0 checkov==3.3.30 "
                    f"parliament==1.6.4`, then run with PATH=/tmp/judges/bin:$PATH")
    return path


def load(name):
    return cfn_yaml.load(os.path.join(TEMPLATES_DIR, name))


def listed_skips():
    with open(SKIPS_FILE) as handle:
        return yaml.safe_load(handle) or {}


# --------------------------------------------------------------------------------------------------
# cfn-lint
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("template", TEMPLATES)
def test_cfn_lint(template):
    result = subprocess.run([tool("cfn-lint"), "--format", "json", "--", os.path.join(TEMPLATES_DIR, template)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode in (0, 2, 4, 6, 8, 10, 12, 14), result.stderr  # bit flags: 2 error, 4 warning, 8 info
    matches = json.loads(result.stdout or "[]")
    errors = [m for m in matches if m["Level"] == "Error"]
    warnings = [m for m in matches if m["Level"] == "Warning"
                and (template, m["Rule"]["Id"]) not in CFN_LINT_ALLOWED_WARNINGS]

    def show(items):
        return "\n".join(f"{m['Rule']['Id']} line {m['Location']['Start']['LineNumber']}: {m['Message']}" for m in items)
    assert not errors, "cfn-lint errors:\n" + show(errors)
    assert not warnings, "cfn-lint warnings not listed in CFN_LINT_ALLOWED_WARNINGS:\n" + show(warnings)


# --------------------------------------------------------------------------------------------------
# checkov
# --------------------------------------------------------------------------------------------------
def run_checkov(path):
    # --skip-download: no network (checkov would otherwise fetch guidelines from Prisma Cloud).
    result = subprocess.run([tool("checkov"), "-f", path, "--framework", "cloudformation", "-o", "json",
                             "--skip-download"], capture_output=True, text=True, timeout=600)
    assert result.returncode in (0, 1), f"checkov failed to run ({result.returncode}):\n{result.stderr[-3000:]}"
    report = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]
    results = {"failed_checks": [], "skipped_checks": [], "parsing_errors": []}
    for item in reports:
        for key in results:
            results[key] += item.get("results", {}).get(key, [])
    assert not results["parsing_errors"], results["parsing_errors"]
    return results


def logical_id(check):
    return check["resource"].rsplit(".", 1)[-1]


@pytest.mark.parametrize("template", TEMPLATES)
def test_checkov_fails_nothing_and_skips_only_what_is_listed(template):
    results = run_checkov(os.path.join(TEMPLATES_DIR, template))
    failed = [f"{c['check_id']} on {c['resource']} ({c['check_name']})" for c in results["failed_checks"]]
    assert not failed, "checkov failed checks (fix them, or skip them with a reason in the template " \
                       "and checkov-skips.yaml):\n" + "\n".join(failed)
    skipped = {(logical_id(c), c["check_id"]) for c in results["skipped_checks"]}
    listed = {(resource, check) for resource, checks in listed_skips().get(template, {}).items() for check in checks}
    assert skipped == listed, f"skipped in the template but not listed: {sorted(skipped - listed)}; " \
                              f"listed but not skipped: {sorted(listed - skipped)}"
    for check in results["skipped_checks"]:
        assert check["check_result"].get("suppress_comment"), f"{check['check_id']} is skipped without a comment"


def test_checkov_skips_are_listed_with_reasons():
    for template, resources in listed_skips().items():
        assert template in TEMPLATES, f"checkov-skips.yaml names {template}, which is not a template"
        for resource, checks in resources.items():
            assert resource in load(template)["Resources"], f"{template}: no resource {resource}"
            for check, reason in checks.items():
                assert re.fullmatch(r"CKV2?_AWS_\d+", check), check
                assert isinstance(reason, str) and len(reason.split()) >= 8, f"{resource} {check}: give a reason"


@pytest.mark.parametrize("template", [t for t in TEMPLATES if t in listed_skips()])
def test_every_listed_skip_is_still_needed(template, tmp_path):
    """Without its Metadata.checkov blocks the template fails exactly the listed checks: a skip that
    is no longer needed (the finding was fixed) must leave the list."""
    with open(os.path.join(TEMPLATES_DIR, template)) as handle:
        text = handle.read()
    stripped = re.sub(r"^    Metadata:\n      checkov:\n(?:        .*\n)+", "", text, flags=re.M)
    assert "checkov:" not in stripped, "a Metadata.checkov block the test cannot strip; keep them in the usual form"
    path = tmp_path / template
    path.write_text(stripped)
    results = run_checkov(str(path))
    failed = {(logical_id(c), c["check_id"]) for c in results["failed_checks"]}
    listed = {(resource, check) for resource, checks in listed_skips()[template].items() for check in checks}
    assert failed == listed, f"fails without being listed: {sorted(failed - listed)}; " \
                             f"listed but passes anyway: {sorted(listed - failed)}"


# --------------------------------------------------------------------------------------------------
# IAM policies: the files are the template's documents; parliament judges them
# --------------------------------------------------------------------------------------------------
def file_form(document, where):
    """The template's document as policies/*.json holds it: `!Sub "..."` strings become plain
    strings (keeping their ${...}, and ${!...}, Fn::Sub's escape for IAM's own ${...}); a `!Sub [string,
    {variable: !ImportValue ...}]` is its string too (the variable named like an example value).
    Any other intrinsic function would make the file a different document, so it is refused."""
    if isinstance(document, dict):
        if set(document) == {"Fn::Sub"} and isinstance(document["Fn::Sub"], str):
            return document["Fn::Sub"]
        if set(document) == {"Fn::Sub"} and isinstance(document["Fn::Sub"], list):
            text, variables = document["Fn::Sub"]
            assert all(set(value) == {"Fn::ImportValue"} for value in variables.values()), f"{where}: {variables}"
            return text
        bad = [key for key in document if key == "Ref" or key.startswith("Fn::")]
        assert not bad, f"{where}: {bad[0]} in a policy document; use a !Sub string so the file can hold it"
        return {key: file_form(value, where) for key, value in document.items()}
    if isinstance(document, list):
        return [file_form(value, where) for value in document]
    return document


def embedded_policies():
    """(template, resource, policy file name, document) for every IAM policy the templates embed."""
    for template in TEMPLATES:
        for name, resource in load(template)["Resources"].items():
            kind, properties = resource["Type"], resource.get("Properties", {})
            if kind in ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"):
                for policy in properties.get("Policies", []):
                    yield template, name, policy["PolicyName"] + ".json", policy["PolicyDocument"]
            elif kind in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
                file = resource.get("Metadata", {}).get("PolicyFile")
                assert file, f"{template} {name}: say which policies/ file holds it (Metadata: {{PolicyFile: ...}})"
                yield template, name, file, properties["PolicyDocument"]


def test_policy_files_are_the_embedded_documents():
    embedded = list(embedded_policies())
    assert embedded, "the templates embed no IAM policy?"
    for template, resource, file, document in embedded:
        path = os.path.join(POLICIES_DIR, file)
        assert os.path.exists(path), f"{template} {resource} embeds {file}, which policies/ lacks"
        with open(path) as handle:
            on_disk = json.load(handle)
        assert on_disk == file_form(document, f"{template} {resource}"), \
            f"policies/{file} differs from what {template} {resource} embeds"
    assert set(POLICIES) == {file for _, _, file, _ in embedded}, "a policies/ file no template embeds"


def render(text, values):
    """Fn::Sub's substitution: ${Name} takes its value, ${!Literal} becomes ${Literal} (an IAM
    policy variable such as ${aws:username}, which stays for IAM to resolve)."""
    rendered = re.sub(r"\$\{(?!aws:)([A-Za-z0-9:.]+)\}", lambda m: values[m.group(1)], text)
    assert "${" not in re.sub(r"\$\{!?aws:username\}", "", rendered), rendered
    return rendered.replace("${!", "${")


@pytest.mark.parametrize("policy", POLICIES)
def test_parliament(policy, tmp_path):
    with open(os.path.join(POLICIES_DIR, policy)) as handle:
        rendered = tmp_path / policy
        rendered.write_text(render(handle.read(), EXAMPLE_VALUES))
    # --files, not --file: parliament 1.6 refuses --file whenever stdin is not a terminal.
    result = subprocess.run([tool("parliament"), "--files", str(rendered), "--json", "--minimum_severity", "INFO",
                             "--include-community-auditors"], capture_output=True, text=True, timeout=300,
                            stdin=subprocess.DEVNULL)
    assert result.returncode in (0, 1), f"parliament failed to run:\n{result.stderr}"
    findings = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    serious = [f for f in findings if f["severity"] not in ("LOW", "INFO")
               and (policy, f["issue"]) not in PARLIAMENT_ALLOWED]
    assert not serious, "\n".join(f"{f['severity']} {f['issue']}: {f.get('detail')} at {f.get('location')}"
                                  for f in serious)


# --------------------------------------------------------------------------------------------------
# The template's own promises, read statically
# --------------------------------------------------------------------------------------------------
TAGGED = {  # resource types that take tags, and where they go
    "AWS::EC2::VPC": "Tags", "AWS::EC2::InternetGateway": "Tags", "AWS::EC2::Subnet": "Tags",
    "AWS::EC2::RouteTable": "Tags", "AWS::EC2::EIP": "Tags", "AWS::EC2::NatGateway": "Tags",
    "AWS::EC2::VPCEndpoint": "Tags", "AWS::EC2::SecurityGroup": "Tags",
    "AWS::ElasticLoadBalancingV2::LoadBalancer": "Tags", "AWS::ElasticLoadBalancingV2::TargetGroup": "Tags",
    "AWS::ElasticLoadBalancingV2::Listener": "Tags", "AWS::EC2::LaunchTemplate": "TagSpecifications",
    "AWS::AutoScaling::AutoScalingGroup": "Tags", "AWS::IAM::Role": "Tags", "AWS::RDS::DBSubnetGroup": "Tags",
    "AWS::RDS::DBInstance": "Tags", "AWS::S3::Bucket": "Tags", "AWS::SSM::Parameter": "Tags",
    "AWS::EC2::Instance": "Tags", "AWS::IAM::User": "Tags",
}
UNTAGGABLE = {"AWS::EC2::VPCGatewayAttachment", "AWS::EC2::Route", "AWS::EC2::SubnetRouteTableAssociation",
              "AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress", "AWS::IAM::InstanceProfile",
              "AWS::IAM::ManagedPolicy", "AWS::AutoScaling::ScalingPolicy", "AWS::S3::BucketPolicy"}


def tags_of(resource):
    properties = resource["Properties"]
    if TAGGED[resource["Type"]] == "TagSpecifications":
        tags = {}
        for spec in properties.get("TagSpecifications", []):
            tags.update({t["Key"]: t["Value"] for t in spec["Tags"]})
        return tags
    tags = properties.get("Tags", {})
    return tags if isinstance(tags, dict) else {t["Key"]: t["Value"] for t in tags}


@pytest.mark.parametrize("template", TEMPLATES)
def test_every_resource_is_tagged(template):
    for name, resource in load(template)["Resources"].items():
        kind = resource["Type"]
        assert kind in TAGGED or kind in UNTAGGABLE, f"{name}: is {kind} taggable? classify it in this test"
        if kind in UNTAGGABLE:
            continue
        tags = tags_of(resource)
        assert tags.get("Project") == {"Ref": "ProjectName"}, f"{name}: tag Project"
        assert tags.get("ManagedBy") == "adminctl", f"{name}: tag ManagedBy=adminctl"
        for env in ("prod", "dev"):
            if re.match(f"{env.capitalize()}[A-Z]", name) or name.endswith(f"Instance{env.capitalize()}"):
                assert tags.get("Env") == env, f"{name}: tag Env={env}"


def compacted(text):
    """What adminctl sends (Sources/AdminKit/Infra/TemplateBody.swift, the same rule): comment-only
    and blank lines dropped, except inside block scalars, which are kept whole."""
    kept, scalar_indent = [], None
    for line in text.split("\n"):
        indent = len(line) - len(line.lstrip(" "))
        content = line[indent:]
        if scalar_indent is not None:
            if not content or indent > scalar_indent:
                kept.append(line)
                continue
            scalar_indent = None
        if not content or content.startswith("#"):
            continue
        kept.append(line)
        last = content.split(" ")[-1]
        if last[:1] in ("|", ">") and all(c in "-+" or c.isdigit() for c in last[1:]):
            scalar_indent = indent
    return "\n".join(kept)


def test_template_fits_create_stack():
    # Tests/AdminKitTests/TemplateBodyTests checks the compacted template reads the same.
    with open(SHARED) as handle:
        size = len(compacted(handle.read()).encode()) + 1
    assert size <= TEMPLATE_BODY_LIMIT, f"shared.yaml is {size} bytes as sent; CreateStack's TemplateBody takes {TEMPLATE_BODY_LIMIT}"


def test_security_groups_describe_every_rule_and_use_the_stack_vpc():
    resources = load("shared.yaml")["Resources"]
    for name, resource in resources.items():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::EC2::SecurityGroup":
            assert properties["VpcId"] == {"Ref": "Vpc"}, f"{name}: not in the stack's VPC"
            assert len(properties["GroupDescription"]) > 20
            assert properties.get("SecurityGroupEgress"), f"{name}: states no egress, so keeps AWS's allow-all"
            for rule in properties.get("SecurityGroupIngress", []) + properties["SecurityGroupEgress"]:
                # A rule present only under a condition: `!If [Cond, rule, !Ref AWS::NoValue]`.
                branches = rule["Fn::If"][1:] if "Fn::If" in rule else [rule]
                for branch in branches:
                    if branch != {"Ref": "AWS::NoValue"}:
                        assert branch.get("Description"), f"{name}: a rule without description"
        if resource["Type"] in ("AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress"):
            assert properties.get("Description"), name
        if resource["Type"] == "AWS::EC2::Subnet":
            assert properties["VpcId"] == {"Ref": "Vpc"}
    # Nobody references a VPC's default security group.
    assert "DefaultSecurityGroup" not in json.dumps(resources)


def test_network_placement():
    resources = load("shared.yaml")["Resources"]
    private = [{"Ref": "PrivateSubnetA"}, {"Ref": "PrivateSubnetB"}]
    assert resources["LoadBalancer"]["Properties"]["Subnets"] == [{"Ref": "PublicSubnetA"}, {"Ref": "PublicSubnetB"}]
    for group in ("ProdAutoScalingGroup", "DevAutoScalingGroup"):
        assert resources[group]["Properties"]["VPCZoneIdentifier"] == private
    assert resources["DatabaseSubnetGroup"]["Properties"]["SubnetIds"] == private
    azs = [resources[s]["Properties"]["AvailabilityZone"] for s in ("PrivateSubnetA", "PrivateSubnetB")]
    assert azs == [{"Fn::Select": [0, {"Fn::GetAZs": ""}]}, {"Fn::Select": [1, {"Fn::GetAZs": ""}]}]
    for nat, subnet in (("NatGatewayA", "PublicSubnetA"), ("NatGatewayB", "PublicSubnetB")):
        assert resources[nat]["Properties"]["SubnetId"] == {"Ref": subnet}


def user_data_script(env):
    lt = load("shared.yaml")["Resources"][f"{env.capitalize()}LaunchTemplate"]["Properties"]["LaunchTemplateData"]
    preamble, script = lt["UserData"]["Fn::Base64"]["Fn::Join"][1]
    mappings = load("shared.yaml")["Mappings"]
    assert script == {"Fn::FindInMap": ["UserData", "InstallRelease", "Script"]}
    return preamble["Fn::Sub"] + mappings["UserData"]["InstallRelease"]["Script"]


@pytest.mark.parametrize("env", ["prod", "dev"])
def test_user_data_is_valid_bash(env):
    script = user_data_script(env)
    assert script.startswith(f"#!/bin/bash\nENV={env} ")
    assert "set -euo pipefail" in script and "sha256sum" in script and "mv -T" in script and "ln -sfn" in script
    result = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


# --------------------------------------------------------------------------------------------------
# The simulated cloud
# --------------------------------------------------------------------------------------------------
STACK = "nuvola-shared"
REGION = "eu-west-3"

# The template goes to the simulator as written (YAML, short-form intrinsics), as `adminctl infra up`
# sends it. moto could not take it so: the simulator fixes the gaps it hit (the tests after the
# `cloud` fixture pin each one alone).
with open(SHARED) as _handle:
    SHARED_TEXT = _handle.read()


class Cloud:
    """One simulator for the module (`fleet up --auth`), and boto3 clients on it."""

    def __init__(self, state, shim):
        # The simulator runs each instance's user data with bash on this machine (in the instance's
        # directory, but not confined to it). An `aws` first on its PATH that answers nothing makes
        # our user data stop at its first AWS call, before dnf, /srv/app or systemctl: nothing on
        # this host is touched. Its arguments land in the instance's cloud-init-output.log.
        aws = os.path.join(shim, "aws")
        with open(aws, "w") as handle:
            handle.write('#!/bin/sh\necho "aws-shim: $*" >&2\nexit 97\n')
        os.chmod(aws, 0o755)
        environment = dict(os.environ, PATH=f"{shim}:{os.environ.get('PATH', '/usr/bin:/bin')}")
        self.state = state
        output = subprocess.run([FLEET, "up", "--auth", "--state", state, "--port", "0", "--exit-with", str(os.getpid())],
                                check=True, capture_output=True, text=True, env=environment, timeout=120).stdout
        self.env = dict(line.removeprefix("export ").split("=", 1) for line in output.splitlines()
                        if line.startswith("export "))
        assert self.env["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:"), self.env

    def client(self, service):
        import boto3
        from botocore.config import Config
        return boto3.client(service, endpoint_url=self.env["AWS_ENDPOINT_URL"], region_name=self.env["AWS_REGION"],
                            aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"],
                            config=Config(retries={"mode": "standard", "total_max_attempts": int(os.environ.get("TEMPLATE_TEST_ATTEMPTS", "3"))}))

    def create_stack(self, name, body, parameters=None):
        cloudformation = self.client("cloudformation")
        cloudformation.create_stack(StackName=name, TemplateBody=body, Capabilities=["CAPABILITY_IAM"],
                                    Parameters=[{"ParameterKey": k, "ParameterValue": v}
                                                for k, v in (parameters or {}).items()])
        deadline = time.time() + 120
        while True:
            stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
            if not stack["StackStatus"].endswith("_IN_PROGRESS"):
                break
            assert time.time() < deadline, f"{name} still {stack['StackStatus']}"
            time.sleep(0.2)
        if stack["StackStatus"] != "CREATE_COMPLETE":
            events = cloudformation.describe_stack_events(StackName=name)["StackEvents"]
            failed = [f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason')}" for e in events
                      if e["ResourceStatus"].endswith("FAILED")]
            raise AssertionError(f"{name}: {stack['StackStatus']} {stack.get('StackStatusReason')} {failed}")
        return stack

    def stop(self):
        subprocess.run([FLEET, "down", "--state", self.state], capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    if not os.access(FLEET, os.X_OK):
        pytest.fail(f"{FLEET} is missing")
    simulator = Cloud(str(tmp_path_factory.mktemp("fleet")), str(tmp_path_factory.mktemp("shim")))
    yield simulator
    simulator.stop()


class Stack:
    def __init__(self, cloud, description):
        self.cloud = cloud
        self.description = description
        self.outputs = {o["OutputKey"]: o for o in description.get("Outputs", [])}
        pages = cloud.client("cloudformation").get_paginator("list_stack_resources").paginate(
            StackName=description["StackName"])
        self.listed = [r for page in pages for r in page["StackResourceSummaries"]]
        self.physical = {r["LogicalResourceId"]: r.get("PhysicalResourceId") for r in self.listed
                         if r.get("LogicalResourceId")}

    def value(self, key):
        return self.outputs[key]["OutputValue"]


@pytest.fixture(scope="module")
def stack(cloud):
    return Stack(cloud, cloud.create_stack(STACK, SHARED_TEXT))


# --- moto's gaps, each alone -----------------------------------------------------------------------
# moto refused shared.yaml as written (`!GetAtt` split at every dot, MasterUserSecret.SecretArn unknown, SSM
# parameter Tags as a map); the simulator takes it (each gap pinned alone below).
def test_moto_creates_the_template_as_written(cloud):
    with open(SHARED) as handle:
        cloud.create_stack("as-written", handle.read(), {"ProjectName": "nuvolaraw"})


GAP_DATABASE = {"Type": "AWS::RDS::DBInstance",
                "Properties": {"Engine": "mysql", "EngineVersion": "8.0", "DBInstanceClass": "db.t4g.micro",
                               "AllocatedStorage": 20, "MasterUsername": "admin", "ManageMasterUserPassword": True}}


# moto split `!GetAtt Db.Endpoint.Address` at every dot; the simulator splits at the first, as
# CloudFormation does (Tests/Fleet/simulator/moto_adapter.fix_short_get_att).
def test_moto_reads_short_form_getatt_with_dotted_attribute(cloud):
    body = ("Resources:\n  Db:\n" + "\n".join("    " + line for line in yaml.safe_dump(GAP_DATABASE).splitlines())
            + "\nOutputs:\n  Address:\n    Value: !GetAtt Db.Endpoint.Address\n")
    stack = cloud.create_stack("gap-getatt-yaml", body)
    assert stack["Outputs"][0]["OutputValue"].endswith(".rds.amazonaws.com")


# moto knew no MasterUserSecret.SecretArn attribute (not even in its template check); the simulator answers it
# (Tests/Fleet/simulator/moto_adapter.manage_rds_master_passwords).
def test_moto_gives_the_rds_managed_secret_arn(cloud):
    body = {"Resources": {"Db": GAP_DATABASE},
            "Outputs": {"Secret": {"Value": {"Fn::GetAtt": ["Db", "MasterUserSecret.SecretArn"]}}}}
    stack = cloud.create_stack("gap-master-secret", json.dumps(body))
    assert ":secretsmanager:" in stack["Outputs"][0]["OutputValue"]


# moto crashed on AWS::SSM::Parameter's Tags map (put_parameter wants a list); the simulator converts it
# as CloudFormation does (Tests/Fleet/simulator/moto_adapter.accept_ssm_parameter_tag_maps).
def test_moto_takes_ssm_parameter_tags_as_a_map(cloud):
    body = {"Resources": {"Pointer": {"Type": "AWS::SSM::Parameter", "Properties": {
        "Name": "/gap/release", "Type": "String", "Value": "none", "Tags": {"Project": "gap"}}}}}
    cloud.create_stack("gap-ssm-tags", json.dumps(body))
    tags = cloud.client("ssm").list_tags_for_resource(ResourceType="Parameter", ResourceId="/gap/release")["TagList"]
    assert tags == [{"Key": "Project", "Value": "gap"}]


# --- the stack -------------------------------------------------------------------------------------
def test_outputs_are_exported(stack):
    template = load("shared.yaml")
    expected = set(template["Outputs"])
    assert set(stack.outputs) == expected
    exports = {e["Name"]: e["Value"] for e in stack.cloud.client("cloudformation").list_exports()["Exports"]}
    for key in expected:
        assert exports[f"{STACK}-{key}"] == stack.value(key), key
    balancer = stack.cloud.client("elbv2").describe_load_balancers(
        LoadBalancerArns=[stack.physical["LoadBalancer"]])["LoadBalancers"][0]
    assert stack.value("LoadBalancerDNSName") == balancer["DNSName"]
    assert stack.value("LoadBalancerUrl") == f"http://{balancer['DNSName']}/"
    assert stack.value("DevUrl") == f"http://{balancer['DNSName']}:8080/"
    assert stack.value("ProdDatabasePort") == "3306"
    assert stack.value("ProdDatabaseAddress") != stack.value("DevDatabaseAddress")


# moto named each output's export by the first export with the same value; the simulator names each by its
# own Export (Tests/Fleet/simulator/moto_adapter.name_each_output_export).
def test_describe_stacks_names_each_export(stack):
    for key, output in stack.outputs.items():
        assert output["ExportName"] == f"{STACK}-{key}", key


# moto listed BucketPolicy, ScalingPolicy and false-Condition resources as empty entries and gave
# SecurityGroupIngress and DBSubnetGroup no physical id; the simulator lists them as CloudFormation does
# (Tests/Fleet/simulator/moto_adapter.listed_stack_resources).


def stack_resources_as_aws_lists_them(entries):
    assert all(r.get("LogicalResourceId") and r.get("ResourceType") and r.get("PhysicalResourceId")
               for r in entries), [r for r in entries if not r.get("PhysicalResourceId")]
    return {r["LogicalResourceId"] for r in entries}


def test_list_stack_resources_names_every_resource(stack):
    expected = set(load("shared.yaml")["Resources"]) - {"HttpsListener"}  # HasCertificate is false here
    assert stack_resources_as_aws_lists_them(stack.listed) == expected


def test_describe_stack_resources_names_every_resource(stack):
    described = stack.cloud.client("cloudformation").describe_stack_resources(StackName=STACK)["StackResources"]
    expected = set(load("shared.yaml")["Resources"]) - {"HttpsListener"}
    assert stack_resources_as_aws_lists_them(described) == expected


def groups(stack):
    names = [stack.value("ProdAutoScalingGroupName"), stack.value("DevAutoScalingGroupName")]
    found = stack.cloud.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=names)
    return {g["AutoScalingGroupName"]: g for g in found["AutoScalingGroups"]}


def subnet_zones(stack, subnet_ids):
    subnets = stack.cloud.client("ec2").describe_subnets(SubnetIds=list(subnet_ids))["Subnets"]
    return {s["SubnetId"]: s["AvailabilityZone"] for s in subnets}


def test_each_group_spans_two_zones_in_private_subnets(stack):
    private = stack.value("PrivateSubnetIds").split(",")
    assert len(set(subnet_zones(stack, private).values())) == 2
    ec2 = stack.cloud.client("ec2")
    for name, group in groups(stack).items():
        subnets = group["VPCZoneIdentifier"].split(",")
        assert sorted(subnets) == sorted(private), name
        assert len(set(subnet_zones(stack, subnets).values())) == 2, name


def default_route(ec2, table):
    routes = ec2.describe_route_tables(RouteTableIds=[table])["RouteTables"][0]["Routes"]
    found = [r for r in routes if r.get("DestinationCidrBlock") == "0.0.0.0/0"]
    assert len(found) == 1, routes
    return found[0]


def test_each_zone_leaves_through_its_own_nat_gateway(stack):
    ec2 = stack.cloud.client("ec2")
    for zone in ("A", "B"):
        assert default_route(ec2, stack.physical[f"PrivateRouteTable{zone}"])["NatGatewayId"] == \
            stack.physical[f"NatGateway{zone}"]
        nat = ec2.describe_nat_gateways(NatGatewayIds=[stack.physical[f"NatGateway{zone}"]])["NatGateways"][0]
        assert nat["SubnetId"] == stack.physical[f"PublicSubnet{zone}"]
    assert default_route(ec2, stack.physical["PublicRouteTable"])["GatewayId"] == stack.physical["InternetGateway"]


# moto recorded SubnetRouteTableAssociation without associating; the simulator associates the subnet
# (Tests/Fleet/simulator/moto_adapter.associate_subnet_route_tables).
def test_subnets_use_their_route_tables(stack):
    ec2 = stack.cloud.client("ec2")
    for subnet, table in (("PrivateSubnetA", "PrivateRouteTableA"), ("PrivateSubnetB", "PrivateRouteTableB"),
                          ("PublicSubnetA", "PublicRouteTable"), ("PublicSubnetB", "PublicRouteTable")):
        found = ec2.describe_route_tables(Filters=[{"Name": "association.subnet-id",
                                                    "Values": [stack.physical[subnet]]}])["RouteTables"]
        assert [t["RouteTableId"] for t in found] == [stack.physical[table]], subnet


# moto's `Fn::GetAZs ""` gave us-east-1's zones; the simulator gives the stack region's
# (Tests/Fleet/simulator/moto_adapter.get_azs_of_the_stack_region).
def test_subnets_are_in_the_stack_region(stack):
    zones = subnet_zones(stack, stack.value("PrivateSubnetIds").split(",") + stack.value("PublicSubnetIds").split(","))
    assert all(zone.startswith(REGION) for zone in zones.values()), zones


def test_group_sizes_and_health_checks(stack):
    prod, dev = (groups(stack)[stack.value(k)] for k in ("ProdAutoScalingGroupName", "DevAutoScalingGroupName"))
    assert prod["MinSize"] >= 2 and prod["MaxSize"] > prod["MinSize"]
    assert dev["MaxSize"] < prod["MaxSize"] and dev["MinSize"] <= prod["MinSize"]
    for group, target_group in ((prod, "ProdTargetGroupArn"), (dev, "DevTargetGroupArn")):
        assert group["HealthCheckType"] == "ELB"
        assert group["TargetGroupARNs"] == [stack.value(target_group)]
    assert len(prod["Instances"]) >= 2


# moto launched every instance of a group in its first subnet; the simulator balances them over the
# zones as Auto Scaling does (Tests/Fleet/simulator/moto_adapter.balance_group_launches).
def test_prod_instances_run_in_both_zones(stack):
    prod = groups(stack)[stack.value("ProdAutoScalingGroupName")]
    assert len({i["AvailabilityZone"] for i in prod["Instances"]}) == 2


# moto accepted AWS::AutoScaling::ScalingPolicy without applying it; the simulator puts it on its
# group (providers/cloudformation.py).
def test_prod_scales_on_request_count_per_target(stack):
    policies = stack.cloud.client("autoscaling").describe_policies(
        AutoScalingGroupName=stack.value("ProdAutoScalingGroupName"))["ScalingPolicies"]
    assert len(policies) == 1 and policies[0]["PolicyType"] == "TargetTrackingScaling"
    metric = policies[0]["TargetTrackingConfiguration"]["PredefinedMetricSpecification"]
    balancer = stack.physical["LoadBalancer"].split(":loadbalancer/")[1]
    target_group = stack.value("ProdTargetGroupArn").split(":")[-1]
    assert metric == {"PredefinedMetricType": "ALBRequestCountPerTarget", "ResourceLabel": f"{balancer}/{target_group}"}


def databases(stack):
    rds = stack.cloud.client("rds")
    return {env: rds.describe_db_instances(DBInstanceIdentifier=stack.physical[f"{env.capitalize()}Database"])
            ["DBInstances"][0] for env in ("prod", "dev")}


def test_databases(stack):
    found = databases(stack)
    prod, dev = found["prod"], found["dev"]
    assert prod["MultiAZ"] is True and dev["MultiAZ"] is False
    private = sorted(stack.value("PrivateSubnetIds").split(","))
    for database in (prod, dev):
        assert database["Engine"] == "mysql" and database["EngineVersion"].startswith("8.0")
        assert database["StorageEncrypted"] is True
        assert database["PubliclyAccessible"] is False
        assert sorted(s["SubnetIdentifier"] for s in database["DBSubnetGroup"]["Subnets"]) == private
    assert prod["BackupRetentionPeriod"] >= 7
    assert prod["Endpoint"]["Address"] == stack.value("ProdDatabaseAddress")


def test_databases_are_protected_and_their_passwords_rds_managed(stack):
    for env, database in databases(stack).items():
        assert database["DeletionProtection"] is True, env
        assert database["MasterUserSecret"]["SecretArn"] == stack.value(f"{env.capitalize()}DatabaseSecretArn"), env


# moto read `VpcSecurityGroupIds` instead of the documented `VPCSecurityGroups`; the simulator reads it
# (Tests/Fleet/simulator/moto_adapter.read_rds_vpc_security_groups).
def test_databases_use_their_own_security_groups(stack):
    for env, database in databases(stack).items():
        groups_ = [g["VpcSecurityGroupId"] for g in database["VpcSecurityGroups"]]
        assert groups_ == [stack.physical[f"{env.capitalize()}DatabaseSecurityGroup"]], env


def security_group(stack, logical):
    return stack.cloud.client("ec2").describe_security_groups(GroupIds=[stack.physical[logical]])["SecurityGroups"][0]


def test_security_group_rules(stack):
    alb = stack.physical["LoadBalancerSecurityGroup"]
    for env in ("Prod", "Dev"):
        instances = security_group(stack, f"{env}InstanceSecurityGroup")
        assert instances["GroupId"] == stack.value(f"{env}InstanceSecurityGroupId")
        assert [(p["FromPort"], [g["GroupId"] for g in p["UserIdGroupPairs"]], p["IpRanges"])
                for p in instances["IpPermissions"]] == [(80, [alb], [])]
        database = security_group(stack, f"{env}DatabaseSecurityGroup")
        assert [(p["FromPort"], [g["GroupId"] for g in p["UserIdGroupPairs"]], p["IpRanges"])
                for p in database["IpPermissions"]] == [(3306, [instances["GroupId"]], [])]
    balancer = security_group(stack, "LoadBalancerSecurityGroup")
    opened = sorted((p["FromPort"], r["CidrIp"]) for p in balancer["IpPermissions"] for r in p["IpRanges"])
    assert opened == [(80, "0.0.0.0/0"), (443, "0.0.0.0/0"), (8080, "10.20.0.0/16")]


def test_no_default_vpc_and_default_security_group_untouched(stack):
    ec2 = stack.cloud.client("ec2")
    vpc = ec2.describe_vpcs(VpcIds=[stack.value("VpcId")])["Vpcs"][0]
    assert vpc["IsDefault"] is False
    default = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]},
                                                    {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"][0]
    for permission in default["IpPermissions"]:  # only AWS's own self-reference, if any
        assert not permission["IpRanges"] and all(g["GroupId"] == default["GroupId"]
                                                  for g in permission["UserIdGroupPairs"]), permission


def instances(stack):
    ec2 = stack.cloud.client("ec2")
    found = {}
    for env in ("prod", "dev"):
        group = groups(stack)[stack.value(f"{env.capitalize()}AutoScalingGroupName")]
        ids = [i["InstanceId"] for i in group["Instances"]]
        for reservation in ec2.describe_instances(InstanceIds=ids)["Reservations"]:
            for instance in reservation["Instances"]:
                found[instance["InstanceId"]] = (env, instance)
    return found


def test_no_instance_uses_a_default_security_group(stack):
    ec2 = stack.cloud.client("ec2")
    defaults = {g["GroupId"] for g in ec2.describe_security_groups(
        Filters=[{"Name": "group-name", "Values": ["default"]}])["SecurityGroups"]}
    found = instances(stack)
    assert len(found) >= 3
    for instance_id, (env, instance) in found.items():
        groups_ = {g["GroupId"] for g in instance["SecurityGroups"]}
        assert groups_ == {stack.value(f"{env.capitalize()}InstanceSecurityGroupId")}, instance_id
        assert not groups_ & defaults
        tags = {t["Key"]: t["Value"] for t in instance.get("Tags", [])}
        assert (tags.get("Env"), tags.get("Role"), tags.get("Project")) == (env, "app", "nuvola"), tags


def launch_template_data(stack, env):
    ec2 = stack.cloud.client("ec2")
    versions = ec2.describe_launch_template_versions(
        LaunchTemplateId=stack.physical[f"{env.capitalize()}LaunchTemplate"], Versions=["$Latest"])
    return versions["LaunchTemplateVersions"][0]["LaunchTemplateData"]


@pytest.mark.parametrize("env", ["prod", "dev"])
def test_launch_templates_require_imdsv2_and_encrypt_volumes(stack, env):
    data = launch_template_data(stack, env)
    assert data["MetadataOptions"]["HttpTokens"] == "required"
    assert data["MetadataOptions"]["HttpPutResponseHopLimit"] == 1
    assert all(m["Ebs"]["Encrypted"] is True for m in data["BlockDeviceMappings"])
    assert data["SecurityGroupIds"] == [stack.value(f"{env.capitalize()}InstanceSecurityGroupId")]
    assert data["IamInstanceProfile"]["Arn"].split("/")[-1] == stack.physical[f"{env.capitalize()}InstanceProfile"]
    script = base64.b64decode(data["UserData"]).decode()
    db = env.capitalize() + "Database"
    assert script == render(user_data_script(env), {
        "ProjectName": "nuvola", "AWS::Region": REGION, "ArtifactsBucket": stack.value("ArtifactsBucketName"),
        "DatabaseName": "nuvola", f"{db}.Endpoint.Address": stack.value(f"{db}Address"),
        f"{db}.Endpoint.Port": stack.value(f"{db}Port"), f"{db}.MasterUserSecret.SecretArn": stack.value(f"{db}SecretArn")})


# moto left out the launch template's IamInstanceProfile and MetadataOptions; the simulator applies them
# (Tests/Fleet/simulator/moto_adapter.launch_from_templates_as_ec2_does).
def test_instances_follow_their_launch_template(stack):
    for instance_id, (env, instance) in instances(stack).items():
        assert instance["MetadataOptions"]["HttpTokens"] == "required", instance_id
        assert instance["IamInstanceProfile"]["Arn"].split("/")[-1] == \
            stack.physical[f"{env.capitalize()}InstanceProfile"], instance_id


# moto added an unencrypted root at /dev/sda1 beside the template's /dev/xvda; the simulator's root volume is at
# the image's root device, and the template's mapping replaces it (moto_adapter.launch_from_templates_as_ec2_does).
def test_instance_volumes_are_encrypted(stack):
    ec2 = stack.cloud.client("ec2")
    for instance_id in instances(stack):
        volumes = ec2.describe_volumes(Filters=[{"Name": "attachment.instance-id", "Values": [instance_id]}])["Volumes"]
        assert volumes and all(v["Encrypted"] for v in volumes), (instance_id, volumes)


# A group's instance boots once, even if the simulator sees it before moto records its group on it
# (Tests/Fleet/simulator/runcommand.sync_agents; the race is pinned in test_units_runcommand.py).
def test_user_data_reads_its_environment_release_pointer(stack):
    """Every instance's user data ran at boot and asked SSM for its own environment's pointer
    (the test's `aws` stops it there: see Cloud)."""
    found = instances(stack)
    deadline = time.time() + 30
    for instance_id, (env, _) in found.items():
        log = os.path.join(stack.cloud.state, "instances", instance_id, "root", "var", "log", "cloud-init-output.log")
        while not (os.path.exists(log) and "aws-shim" in open(log).read()):
            assert time.time() < deadline, f"{instance_id}: its user data did not run ({log})"
            time.sleep(0.2)
        assert open(log).read().splitlines()[0] == \
            f"aws-shim: ssm get-parameter --name /nuvola/{env}/release --query Parameter.Value " \
            f"--output text"
        # Nothing was installed without a release.
        assert not os.path.exists(os.path.join(stack.cloud.state, "instances", instance_id, "root", "srv"))


def test_target_groups_health_checks(stack):
    elbv2 = stack.cloud.client("elbv2")
    for key in ("ProdTargetGroupArn", "DevTargetGroupArn"):
        group = elbv2.describe_target_groups(TargetGroupArns=[stack.value(key)])["TargetGroups"][0]
        assert (group["Protocol"], group["Port"], group["VpcId"]) == ("HTTP", 80, stack.value("VpcId"))
        assert (group["HealthCheckPath"], group["Matcher"]) == ("/health", {"HttpCode": "200"})
        assert (group["HealthyThresholdCount"], group["UnhealthyThresholdCount"]) == (2, 3)
        assert (group["HealthCheckIntervalSeconds"], group["HealthCheckTimeoutSeconds"]) == (15, 5)


# moto ignored TargetGroupAttributes and LoadBalancerAttributes; the simulator applies them after the stack
# operation (Tests/Fleet/simulator/moto_adapter.apply_stack_resource_settings).
def test_target_groups_deregistration_delay(stack):
    elbv2 = stack.cloud.client("elbv2")
    for key, seconds in (("ProdTargetGroupArn", "30"), ("DevTargetGroupArn", "10")):
        attributes = {a["Key"]: a["Value"] for a in
                      elbv2.describe_target_group_attributes(TargetGroupArn=stack.value(key))["Attributes"]}
        assert attributes["deregistration_delay.timeout_seconds"] == seconds, key


def listeners(stack, physical="LoadBalancer"):
    found = stack.cloud.client("elbv2").describe_listeners(LoadBalancerArn=stack.physical[physical])["Listeners"]
    return {listener["Port"]: listener for listener in found}


def test_load_balancer_without_certificate(stack):
    elbv2 = stack.cloud.client("elbv2")
    balancer = elbv2.describe_load_balancers(LoadBalancerArns=[stack.physical["LoadBalancer"]])["LoadBalancers"][0]
    assert balancer["Scheme"] == "internet-facing"
    assert sorted(z["SubnetId"] for z in balancer["AvailabilityZones"]) == sorted(stack.value("PublicSubnetIds").split(","))
    assert balancer["SecurityGroups"] == [stack.physical["LoadBalancerSecurityGroup"]]
    found = listeners(stack)
    assert sorted(found) == [80, 8080]
    for port, key in ((80, "ProdTargetGroupArn"), (8080, "DevTargetGroupArn")):
        assert found[port]["Protocol"] == "HTTP"
        assert [(a["Type"], a["TargetGroupArn"]) for a in found[port]["DefaultActions"]] == [("forward", stack.value(key))]


def test_load_balancer_attributes(stack):
    attributes = {a["Key"]: a["Value"] for a in stack.cloud.client("elbv2").describe_load_balancer_attributes(
        LoadBalancerArn=stack.physical["LoadBalancer"])["Attributes"]}
    assert attributes["access_logs.s3.enabled"] == "true"
    assert attributes["access_logs.s3.bucket"] == stack.physical["LogsBucket"]
    assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"


def test_load_balancer_with_certificate(cloud):
    """The HasCertificate branch: HTTPS on 443 and 8080, and port 80 only redirects."""
    certificate = cloud.client("acm").request_certificate(DomainName="nuvola.example.com")["CertificateArn"]
    description = cloud.create_stack("nuvola-tls", SHARED_TEXT,
                                     {"ProjectName": "nuvolatls", "CertificateArn": certificate})
    tls = Stack(cloud, description)
    found = listeners(tls)
    assert sorted(found) == [80, 443, 8080]
    redirect = found[80]["DefaultActions"][0]
    assert redirect["Type"] == "redirect"
    assert (redirect["RedirectConfig"]["Protocol"], redirect["RedirectConfig"]["Port"],
            redirect["RedirectConfig"]["StatusCode"]) == ("HTTPS", "443", "HTTP_301")
    for port, key in ((443, "ProdTargetGroupArn"), (8080, "DevTargetGroupArn")):
        assert found[port]["Protocol"] == "HTTPS"
        assert [c["CertificateArn"] for c in found[port]["Certificates"]] == [certificate]
        assert found[port]["SslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
        assert found[port]["DefaultActions"][0]["TargetGroupArn"] == tls.value(key)
    assert tls.value("LoadBalancerUrl") == f"https://{tls.value('LoadBalancerDNSName')}/"


def buckets(stack):
    return {key: stack.physical[key] for key in ("ArtifactsBucket", "DumpsBucket", "LogsBucket")}


def test_bucket_names_and_encryption(stack):
    names = buckets(stack)
    assert names["ArtifactsBucket"] == stack.value("ArtifactsBucketName") == f"nuvola-artifacts-123456789012-{REGION}"
    assert names["DumpsBucket"] == stack.value("DumpsBucketName")
    s3 = stack.cloud.client("s3")
    for name in names.values():
        rules = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"]
        assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256", name
    # S3 Bucket Keys where the template asks for them (not the logs bucket: ALB log delivery takes SSE-S3 only).
    for key, name in names.items():
        rules = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"]
        assert rules[0].get("BucketKeyEnabled", False) is (key != "LogsBucket"), key


def bucket_property(s3, name, what):
    if what == "public access block":
        return s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
    if what == "versioning":
        return s3.get_bucket_versioning(Bucket=name).get("Status") == "Enabled"
    if what == "ownership controls":
        return s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]["Rules"] == [
            {"ObjectOwnership": "BucketOwnerEnforced"}]
    if what == "lifecycle":
        rules = s3.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]
        return any("NoncurrentVersionExpiration" in r for r in rules)
    if what == "TLS-only policy":
        statements = json.loads(s3.get_bucket_policy(Bucket=name)["Policy"])["Statement"]
        return any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
                   for s in statements)
    raise AssertionError(what)


# moto's CloudFormation applied only BucketEncryption; the simulator applies the public access block,
# versioning, ownership controls, lifecycle and logging, and AWS::S3::BucketPolicy (a type moto lacks)
# after the stack operation (Tests/Fleet/simulator/moto_adapter.apply_stack_resource_settings).


@pytest.mark.parametrize("what", ["public access block", "versioning", "ownership controls", "lifecycle", "TLS-only policy"])
def test_bucket_protections(stack, what):
    s3 = stack.cloud.client("s3")
    for key, name in buckets(stack).items():
        assert bucket_property(s3, name, what), (key, what)


def test_prod_dumps_expire(stack):
    rules = stack.cloud.client("s3").get_bucket_lifecycle_configuration(Bucket=stack.value("DumpsBucketName"))["Rules"]
    expiring = [r for r in rules if r.get("Filter", {}).get("Prefix", r.get("Prefix")) == "dumps/prod/"]
    assert expiring and expiring[0]["Expiration"]["Days"] == 30


def test_buckets_log_access(stack):
    s3 = stack.cloud.client("s3")
    for key in ("ArtifactsBucket", "DumpsBucket"):
        logging = s3.get_bucket_logging(Bucket=stack.physical[key])["LoggingEnabled"]
        assert logging["TargetBucket"] == stack.physical["LogsBucket"], key


def test_release_pointers(stack):
    ssm = stack.cloud.client("ssm")
    for env in ("prod", "dev"):
        assert stack.value(f"{env.capitalize()}ReleaseParameterName") == f"/nuvola/{env}/release"
        parameter = ssm.get_parameter(Name=f"/nuvola/{env}/release")["Parameter"]
        assert (parameter["Type"], parameter["Value"]) == ("String", "none")


def stack_values(stack):
    return {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": "123456789012",
            "ProjectName": "nuvola", "ArtifactsBucket": stack.value("ArtifactsBucketName"),
            "DumpsBucket": stack.value("DumpsBucketName"),
            "ProdDatabase.MasterUserSecret.SecretArn": stack.value("ProdDatabaseSecretArn"),
            "DevDatabase.MasterUserSecret.SecretArn": stack.value("DevDatabaseSecretArn")}


def policy_file(name, values):
    with open(os.path.join(POLICIES_DIR, name)) as handle:
        return json.loads(render(handle.read(), values))


# moto stored a Role's inline Policies as Python's repr; the simulator stores JSON
# (Tests/Fleet/simulator/moto_adapter.create_iam_roles_as_cloudformation_does).
def test_instance_roles_carry_the_policy_files(stack):
    iam = stack.cloud.client("iam")
    for env in ("prod", "dev"):
        role = stack.physical[f"{env.capitalize()}InstanceRole"]
        assert iam.list_role_policies(RoleName=role)["PolicyNames"] == [f"instance-{env}"]
        document = iam.get_role_policy(RoleName=role, PolicyName=f"instance-{env}")["PolicyDocument"]
        assert document == policy_file(f"instance-{env}.json", stack_values(stack))


def test_dump_scheduler_role_is_for_scheduler_only_and_carries_its_policy_file(stack):
    iam = stack.cloud.client("iam")
    role = iam.get_role(RoleName=stack.physical["DumpSchedulerRole"])["Role"]
    assert stack.value("DumpSchedulerRoleArn") == role["Arn"]
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    document = iam.get_role_policy(RoleName=role["RoleName"], PolicyName="dump-scheduler")["PolicyDocument"]
    assert document == policy_file("dump-scheduler.json", stack_values(stack))


def test_ssm_agent_policy_is_the_policy_file(stack):
    iam = stack.cloud.client("iam")
    agent = iam.get_policy(PolicyArn=stack.physical["SsmAgentPolicy"])["Policy"]
    version = iam.get_policy_version(PolicyArn=agent["Arn"], VersionId=agent["DefaultVersionId"])["PolicyVersion"]
    document = version["Document"]
    document = json.loads(document) if isinstance(document, str) else document
    assert document == policy_file("ssm-agent.json", stack_values(stack))


# moto ignored a Role's ManagedPolicyArns; the simulator attaches them
# (Tests/Fleet/simulator/moto_adapter.create_iam_roles_as_cloudformation_does).
def test_roles_have_their_managed_policies(stack):
    iam = stack.cloud.client("iam")
    for logical, expected in (("ProdInstanceRole", stack.physical["SsmAgentPolicy"]),
                              ("DevInstanceRole", stack.physical["SsmAgentPolicy"]),
                              ("DatabaseMonitoringRole",
                               "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole")):
        attached = iam.list_attached_role_policies(RoleName=stack.physical[logical])["AttachedPolicies"]
        assert [p["PolicyArn"] for p in attached] == [expected], logical


# --------------------------------------------------------------------------------------------------
# developer.yaml: one developer's machine and IAM user, on top of the shared stack
# --------------------------------------------------------------------------------------------------
DEVELOPER = os.path.join(TEMPLATES_DIR, "developer.yaml")


def developer_parameters(name):
    return {"ProjectName": "nuvola", "DeveloperName": name, "SharedStackName": STACK, "DevboxVersion": "1.2.3",
            "RepositoryUrl": "https://git.example.com/acme/nuvola.git", "DeveloperEmail": f"{name}@example.com"}


def developer_user_data():
    instance = load("developer.yaml")["Resources"]["Instance"]["Properties"]
    preamble, script = instance["UserData"]["Fn::Base64"]["Fn::Join"][1]
    assert script == {"Fn::FindInMap": ["UserData", "InstallDevbox", "Script"]}
    return preamble["Fn::Sub"][0] + load("developer.yaml")["Mappings"]["UserData"]["InstallDevbox"]["Script"]


def test_developer_user_data_is_valid_bash_and_verifies_before_installing():
    script = developer_user_data()
    assert script.startswith("#!/bin/bash\nPROJECT=${ProjectName} OWNER=${DeveloperName} ")
    assert "set -euo pipefail" in script
    # Checked before anything is installed; installed under /opt (read-only /usr in the simulator).
    assert script.index("sha256sum --check") < script.index("install -m 0755")
    assert "/usr/local" not in script.replace("not /usr/local", "")
    assert "devbox init" in script and "/etc/devbox/config.toml" in script
    result = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_developer_template_statics():
    resources = load("developer.yaml")["Resources"]
    group = resources["InstanceSecurityGroup"]["Properties"]
    assert "SecurityGroupIngress" not in group, "a developer machine takes no ingress at all"
    assert not [n for n, r in resources.items() if r["Type"] == "AWS::EC2::SecurityGroupIngress"]
    assert "DefaultSecurityGroup" not in json.dumps(resources)
    assert resources["Instance"]["Properties"]["SecurityGroupIds"] == [{"Ref": "InstanceSecurityGroup"}]
    # The access key is never a stack resource (its secret would be in the stack's events).
    assert not [n for n, r in resources.items() if r["Type"] == "AWS::IAM::AccessKey"]
    assert "LoginProfile" not in json.dumps(resources["DeveloperUser"])
    # No IAM action in what the developer holds: nothing to widen their own rights with.
    actions = json.dumps([s["Action"] for s in resources["DeveloperPolicy"]["Properties"]["PolicyDocument"]["Statement"]])
    assert "iam:" not in actions and "sts:" not in actions and "*" not in actions


@pytest.fixture(scope="module")
def developers(stack):
    made = {}
    for name in ("alice", "bob"):
        made[name] = Stack(stack.cloud, stack.cloud.create_stack(f"nuvola-dev-{name}", json.dumps(load("developer.yaml")),
                                                                 developer_parameters(name)))
    return made


def developer_instance(developer):
    ec2 = developer.cloud.client("ec2")
    return ec2.describe_instances(InstanceIds=[developer.value("InstanceId")])["Reservations"][0]["Instances"][0]


def test_developer_instance_tags_subnet_and_group(stack, developers):
    ec2 = stack.cloud.client("ec2")
    private = stack.value("PrivateSubnetIds").split(",")
    defaults = {g["GroupId"] for g in ec2.describe_security_groups(
        Filters=[{"Name": "group-name", "Values": ["default"]}])["SecurityGroups"]}
    for name, developer in developers.items():
        instance = developer_instance(developer)
        tags = {t["Key"]: t["Value"] for t in instance["Tags"]}
        assert (tags["Owner"], tags["Role"], tags["Project"]) == (name, "devbox", "nuvola"), tags
        assert instance["SubnetId"] == private[0]
        assert instance["VpcId"] == stack.value("VpcId")
        groups_ = [g["GroupId"] for g in instance["SecurityGroups"]]
        assert groups_ == [developer.value("SecurityGroupId")], groups_
        assert not set(groups_) & defaults
        assert instance["IamInstanceProfile"]["Arn"].split("/")[-1] == developer.physical["InstanceProfile"]


def test_developer_groups_admit_nothing(stack, developers):
    ec2 = stack.cloud.client("ec2")
    for developer in developers.values():
        group = ec2.describe_security_groups(GroupIds=[developer.value("SecurityGroupId")])["SecurityGroups"][0]
        assert group["IpPermissions"] == [], group
        assert group["VpcId"] == stack.value("VpcId")


def test_developer_groups_egress(developers):
    ec2 = next(iter(developers.values())).cloud.client("ec2")
    for developer in developers.values():
        group = ec2.describe_security_groups(GroupIds=[developer.value("SecurityGroupId")])["SecurityGroups"][0]
        assert {(p.get("FromPort"), p["IpRanges"][0]["CidrIp"]) for p in group["IpPermissionsEgress"]} == \
            {(443, "0.0.0.0/0"), (22, "0.0.0.0/0")}


def test_developer_instance_requires_imdsv2(developers):
    for developer in developers.values():
        assert developer_instance(developer)["MetadataOptions"]["HttpTokens"] == "required"


def developer_values(stack, name):
    return dict(EXAMPLE_VALUES, **{"AWS::Region": REGION, "ArtifactsBucket": stack.value("ArtifactsBucketName"),
                                   "DumpsBucket": stack.value("DumpsBucketName")})


def test_developer_policies_are_the_policy_files(stack, developers):
    iam = stack.cloud.client("iam")
    for name, developer in developers.items():
        for logical, file, attached in (
                ("DeveloperPolicy", "developer-session.json",
                 iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]),
                ("InstancePolicy", "devbox-instance.json",
                 iam.list_attached_role_policies(RoleName=developer.physical["InstanceRole"])["AttachedPolicies"])):
            arn = developer.physical[logical]
            assert arn in [p["PolicyArn"] for p in attached], (name, logical, attached)
            policy = iam.get_policy(PolicyArn=arn)["Policy"]
            document = iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])["PolicyVersion"]["Document"]
            document = json.loads(document) if isinstance(document, str) else document
            assert document == policy_file(file, developer_values(stack, name)), (name, logical)


def test_developer_user(stack, developers):
    iam = stack.cloud.client("iam")
    for name, developer in developers.items():
        user = iam.get_user(UserName=name)["User"]
        assert user["Path"] == "/nuvola/developers/"
        assert developer.value("UserName") == name
        assert iam.list_access_keys(UserName=name)["AccessKeyMetadata"] == []
        assert iam.list_user_policies(UserName=name)["PolicyNames"] == []


def test_developer_user_tags(stack, developers):
    iam = stack.cloud.client("iam")
    for name in developers:
        tags = {t["Key"]: t["Value"] for t in iam.list_user_tags(UserName=name)["Tags"]}
        assert tags["Owner"] == name and tags["Email"] == f"{name}@example.com"


def test_developer_user_data_on_the_instance(stack, developers):
    for name, developer in developers.items():
        data = stack.cloud.client("ec2").describe_instance_attribute(
            InstanceId=developer.value("InstanceId"), Attribute="userData")["UserData"]["Value"]
        values = dict(developer_parameters(name), **{"AWS::Region": REGION, "IntegrationBranch": "new_features",
                                                      "ArtifactsBucket": stack.value("ArtifactsBucketName"),
                                                      "DumpsBucket": stack.value("DumpsBucketName")})
        assert base64.b64decode(data).decode() == render(developer_user_data(), values)
