"""The pure logic of Run Command: invocation states, command status, limits, the agent's output
truncation and DescribeInstanceInformation's filters. No simulator needed."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from simulator import instancefilters, invocations  # noqa: E402
from simulator.pluginoutput import ERROR_CUT, ERROR_TITLE, OUTPUT_CUT, plugin_output  # noqa: E402


class Item:
    def __init__(self, status="Pending", details="Pending"):
        self.status, self.details = status, details


# --- the state machine ----------------------------------------------------------------------------
@pytest.mark.parametrize("path", [
    ["InProgress", "Success"], ["InProgress", "Failed"], ["InProgress", "ExecutionTimedOut"],
    ["InProgress", "Cancelling", "Cancelled"], ["InProgress", "Cancelling", "Success"], ["Cancelled"],
    ["Terminated"], ["Undeliverable"], ["DeliveryTimedOut"], ["Delayed", "InProgress", "Success"],
])
def test_legal_paths(path):
    item = Item()
    for details in path:
        invocations.move(item, details)
    assert item.details == path[-1]
    assert item.status in invocations.STATUSES


@pytest.mark.parametrize("start,details", [
    (("Cancelled", "Cancelled"), "InProgress"),          # a cancelled Pending invocation never runs
    (("Success", "Success"), "Failed"),                  # final states are final
    (("TimedOut", "DeliveryTimedOut"), "InProgress"),
    (("Pending", "Pending"), "Success"),                 # nothing succeeds without running
    (("Pending", "Pending"), "Cancelling"),
    (("InProgress", "InProgress"), "Undeliverable"),
    (("Pending", "Pending"), "Bogus"),
])
def test_illegal_moves_change_nothing(start, details):
    item = Item(*start)
    with pytest.raises(invocations.IllegalTransition):
        invocations.move(item, details)
    assert (item.status, item.details) == start


def test_every_details_value_maps_to_a_command_invocation_status():
    from botocore.loaders import Loader
    enum = Loader().load_service_model("ssm", "service-2")["shapes"]["CommandInvocationStatus"]["enum"]
    assert set(invocations.DETAILS.values()) <= set(enum)
    assert set(invocations.STATUSES) == set(enum)


# --- command status ---------------------------------------------------------------------------------
@pytest.mark.parametrize("details,max_errors,expected", [
    (["Success", "Success"], 0, ("Success", "Success")),
    (["Undeliverable"] * 3, 0, ("Failed", "Failed")),                       # all undeliverable: Failed
    (["Undeliverable"] * 4 + ["Success"], 0, ("Success", "Success")),       # the User Guide's example
    (["Failed", "Success"], 0, ("Failed", "Failed")),
    (["Failed", "Success"], 1, ("Success", "Incomplete")),                  # within MaxErrors
    (["Failed", "Failed", "Terminated"], 1, ("Failed", "Failed")),
    (["ExecutionTimedOut", "ExecutionTimedOut"], 1, ("TimedOut", "ExecutionTimedOut")),
    (["DeliveryTimedOut", "Success"], 0, ("TimedOut", "DeliveryTimedOut")),
    (["DeliveryTimedOut", "Success"], 1, ("Success", "Incomplete")),
    (["Pending", "Success"], 0, ("Pending", "Pending")),
    (["InProgress", "Pending"], 0, ("InProgress", "InProgress")),
])
def test_command_status(details, max_errors, expected):
    assert invocations.command_status(details, max_errors, False) == expected


def test_a_cancelled_command():
    assert invocations.command_status(["Cancelling", "Cancelled"], 0, True) == ("Cancelling", "Cancelling")
    assert invocations.command_status(["Cancelled", "Success"], 0, True) == ("Cancelled", "Cancelled")


def test_max_errors_counts_failed_and_execution_timeouts_only():
    assert [invocations.counts_as_error(item) for item in
            ("Failed", "ExecutionTimedOut", "Undeliverable", "DeliveryTimedOut", "Terminated", "Success")] == \
        [True, True, False, False, False, False]


# --- MaxConcurrency / MaxErrors ---------------------------------------------------------------------
@pytest.mark.parametrize("name,value", [("maxErrors", "0"), ("maxErrors", "0%"), ("maxErrors", "100%"),
                                        ("maxErrors", "25"), ("maxConcurrency", "1"), ("maxConcurrency", "50%"),
                                        ("maxConcurrency", "100%"), ("maxConcurrency", "1234567")])
def test_valid_limits(name, value):
    invocations.validate_limit(name, value)


@pytest.mark.parametrize("name,value", [("maxErrors", "abc"), ("maxErrors", "-1"), ("maxErrors", "101%"),
                                        ("maxErrors", "01"), ("maxConcurrency", "0"), ("maxConcurrency", "0%"),
                                        ("maxConcurrency", "12345678"), ("maxConcurrency", "5.5"), ("maxErrors", "")])
def test_invalid_limits_are_refused_with_aws_words(name, value):
    with pytest.raises(invocations.InvalidLimit) as refused:
        invocations.validate_limit(name, value)
    assert "validation error" in str(refused.value) and f"at '{name}' failed to satisfy constraint" in str(refused.value)


def test_limits_resolve_against_the_targets():
    assert invocations.resolve_limit("10%", 50, 0) == 5
    assert invocations.resolve_limit("1%", 3, 0) == 1       # a non-zero percentage is at least one
    assert invocations.resolve_limit("0%", 30, 7) == 0
    assert invocations.resolve_limit(None, 30, 50) == 50
    assert invocations.resolve_limit("3", 30, 50) == 3


# --- the agent's truncation -------------------------------------------------------------------------
def test_short_output_is_whole_with_the_error_title():
    assert plugin_output("out\n", "err\n") == "out\n\n----------ERROR-------\nerr\n"
    assert plugin_output("only\n", "") == "only\n"


def test_long_stdout_alone_is_cut_to_capacity():
    text = plugin_output("a" * 3000, "")
    assert text == "a" * (2500 - len(OUTPUT_CUT)) + OUTPUT_CUT.decode()
    assert len(text) == 2500


def test_both_long_keep_half_each():
    text = plugin_output("a" * 5000, "b" * 5000)
    each = (2500 - len(ERROR_TITLE) - len(OUTPUT_CUT) - len(ERROR_CUT)) // 2
    assert text == "a" * each + OUTPUT_CUT.decode() + ERROR_TITLE.decode() + "b" * each + ERROR_CUT.decode()


def test_short_stdout_long_stderr_cuts_stderr_only():
    text = plugin_output("hello\n", "e" * 4000)
    assert text.startswith("hello\n" + ERROR_TITLE.decode()) and text.endswith("e" + ERROR_CUT.decode())
    assert len(text) == 2500


def test_long_stdout_short_stderr_cuts_stdout_only():
    text = plugin_output("o" * 4000, "warning\n")
    assert text.endswith(OUTPUT_CUT.decode() + ERROR_TITLE.decode() + "warning\n")
    assert len(text) == 2500


def test_exactly_full_is_already_cut_as_the_agent_does():
    room = 2500 - len(ERROR_TITLE)
    assert plugin_output("a" * (room - 1), "") == "a" * (room - 1)      # no error title without stderr
    assert plugin_output("a" * 2499, "").endswith("a")
    assert plugin_output("a" * 2500, "").endswith(OUTPUT_CUT.decode())


def test_bytes_are_counted_and_a_cut_character_is_replaced():
    text = plugin_output("é" * 2000, "")          # 4,000 bytes
    assert len(text.encode("utf-8", "replace")) <= 2500 + 3
    assert text.endswith(OUTPUT_CUT.decode())


# --- DescribeInstanceInformation filters -------------------------------------------------------------
ITEM = {"InstanceId": "i-1", "PingStatus": "Online", "AgentVersion": "3.3.987.0", "PlatformType": "Linux",
        "ResourceType": "EC2Instance", "AssociationStatus": "Success", "SourceId": "i-1",
        "SourceType": "AWS::EC2::Instance"}
TAGS = {"Role": "web", "Owner": "ana"}


@pytest.mark.parametrize("request_,expected", [
    ({"Filters": [{"Key": "InstanceIds", "Values": ["i-1", "i-2"]}]}, True),
    ({"Filters": [{"Key": "InstanceIds", "Values": ["i-2"]}]}, False),
    ({"Filters": [{"Key": "PingStatus", "Values": ["ConnectionLost"]}]}, False),
    ({"Filters": [{"Key": "PlatformType", "Values": ["Linux"]}]}, True),
    ({"Filters": [{"Key": "PlatformTypes", "Values": ["Windows"]}]}, False),
    ({"Filters": [{"Key": "ResourceType", "Values": ["EC2Instance"]}]}, True),
    ({"Filters": [{"Key": "AgentVersion", "Values": ["3.3.987.0"]}]}, True),
    ({"Filters": [{"Key": "AssociationStatus", "Values": ["Failed"]}]}, False),
    ({"Filters": [{"Key": "SourceIds", "Values": ["i-1"]}]}, True),
    ({"Filters": [{"Key": "SourceTypes", "Values": ["AWS::EC2::Instance"]}]}, True),
    ({"Filters": [{"Key": "ActivationIds", "Values": ["a-1"]}]}, False),
    ({"Filters": [{"Key": "IamRole", "Values": ["role"]}]}, False),
    ({"Filters": [{"Key": "tag:Role", "Values": ["web", "db"]}]}, True),
    ({"Filters": [{"Key": "tag:Role", "Values": ["db"]}]}, False),
    ({"Filters": [{"Key": "tag-key", "Values": ["Owner"]}]}, True),
    ({"Filters": [{"Key": "tag-key", "Values": ["Team"]}]}, False),
    ({"Filters": [{"Key": "tag:Role", "Values": ["web"]}, {"Key": "PingStatus", "Values": ["Online"]}]}, True),
    ({"InstanceInformationFilterList": [{"key": "PingStatus", "valueSet": ["Online"]}]}, True),
    ({"InstanceInformationFilterList": [{"key": "InstanceIds", "valueSet": ["i-9"]}]}, False),
    ({"InstanceInformationFilterList": [{"key": "PlatformTypes", "valueSet": ["Linux"]}]}, True),
])
def test_filters_match(request_, expected):
    assert instancefilters.matches(ITEM, TAGS, instancefilters.parse(request_)) is expected


@pytest.mark.parametrize("request_,code", [
    ({"Filters": [{"Key": "Colour", "Values": ["x"]}]}, "InvalidFilterKey"),
    ({"Filters": [{"Key": "tag:", "Values": ["x"]}]}, "InvalidFilterKey"),
    ({"InstanceInformationFilterList": [{"key": "tag:Role", "valueSet": ["web"]}]}, "InvalidFilterKey"),
    ({"InstanceInformationFilterList": [{"key": "SourceIds", "valueSet": ["i-1"]}]}, "InvalidFilterKey"),
    ({"Filters": [{"Key": "PingStatus", "Values": ["Up"]}]}, "InvalidInstanceInformationFilterValue"),
    ({"Filters": [{"Key": "PlatformType", "Values": ["Plan9"]}]}, "InvalidInstanceInformationFilterValue"),
    ({"Filters": [{"Key": "InstanceIds", "Values": ["i-1"]}],
      "InstanceInformationFilterList": [{"key": "InstanceIds", "valueSet": ["i-1"]}]}, "InvalidFilterKey"),
])
def test_filters_refused(request_, code):
    with pytest.raises(instancefilters.FilterError) as refused:
        instancefilters.parse(request_)
    assert refused.value.code == code


# --- which instances boot (run their user data) -----------------------------------------------------
class FakeInstance:
    """What sync_agents reads of a moto instance, through moto_adapter."""

    def __init__(self, instance_id, group=None, state="running"):
        self.id, self.state, self.tags = instance_id, state, {}
        if group:
            self.tags["aws:autoscaling:groupName"] = group   # on the instance from its creation

    def get_tags(self):
        return [{"key": key, "value": value} for key, value in self.tags.items()]


def test_every_instance_with_user_data_boots_once_when_first_seen_running(tmp_path, monkeypatch):
    """As cloud-init does at first boot: a group's instance (even seen before moto records its
    group), one started by hand, one still pending until it runs; never twice, and not one
    without user data."""
    import threading
    import time
    from simulator import moto_adapter, runcommand
    seen = []
    monkeypatch.setattr(moto_adapter, "instances", lambda region: list(seen))
    monkeypatch.setattr(moto_adapter, "instance_id", lambda instance: instance.id)
    monkeypatch.setattr(moto_adapter, "instance_state", lambda instance: instance.state)
    monkeypatch.setattr(moto_adapter, "instance_private_ip", lambda instance: "10.20.10.5")
    monkeypatch.setattr(moto_adapter, "instance_user_data",
                        lambda instance: "" if instance.id == "i-plain" else "#!/bin/sh\necho hello\n")
    monkeypatch.setattr(runcommand.isolation, "prepare_root", lambda root: None)
    run_command = runcommand.RunCommand(str(tmp_path))
    booted, lock = [], threading.Lock()

    def boot(instance, region):
        with lock:
            booted.append(instance.id)
    monkeypatch.setattr(run_command, "boot", boot)

    def sync_and_settle():
        run_command.sync_agents("eu-west-3")
        time.sleep(0.2)              # the boot threads
        with lock:
            return sorted(booted)

    launched = FakeInstance("i-launched", group="prod")      # RunInstances returned; moto has not set .autoscaling_group yet
    direct = FakeInstance("i-direct")                         # RunInstances by hand
    plain = FakeInstance("i-plain")                           # no user data: nothing to run
    pending = FakeInstance("i-pending", group="prod", state="pending")
    seen.extend([launched, direct, plain, pending])
    assert sync_and_settle() == ["i-direct", "i-launched"]
    launched.autoscaling_group = object()                    # moto records the group: no second boot
    assert sync_and_settle() == ["i-direct", "i-launched"]
    pending.state = "running"
    assert sync_and_settle() == ["i-direct", "i-launched", "i-pending"]
    assert sync_and_settle() == ["i-direct", "i-launched", "i-pending"]
