"""Parameter constraints as the CloudFormation user guide describes them: a value that breaks its
parameter's AllowedPattern, AllowedValues, lengths or number range is refused before anything is
made (providers/cloudformation.py; moto ignored them)."""
import pytest
from botocore.exceptions import ClientError

TEMPLATE = r"""
Parameters:
  Owner:
    Type: String
    AllowedPattern: "^[a-z][a-z0-9]{1,31}$"
    ConstraintDescription: 2-32 lowercase letters and digits, starting with a letter.
  Email:
    Type: String
    Default: ""
    AllowedPattern: "^(|[^@\\s]+@[^@\\s]+)$"
  Size:
    Type: Number
    Default: 40
    MinValue: 20
  Zone:
    Type: String
    Default: "0"
    AllowedValues: ["0", "1"]
  Label:
    Type: String
    Default: ok
    MaxLength: 8
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties: {TopicName: !Sub "topic-${Owner}"}
"""


def values(**given):
    return [{"ParameterKey": key, "ParameterValue": value} for key, value in given.items()]


@pytest.mark.parametrize("given, message", [
    ({"Owner": "a;b"}, "Parameter 'Owner' failed to satisfy constraint: 2-32 lowercase letters and digits, starting with a letter."),
    ({"Owner": "ana", "Email": "a\nb@x.com"}, r"Parameter 'Email' must match pattern ^(|[^@\s]+@[^@\s]+)$"),
    ({"Owner": "ana", "Email": "not-an-email"}, r"Parameter 'Email' must match pattern ^(|[^@\s]+@[^@\s]+)$"),
    ({"Owner": "ana", "Size": "10"}, "Parameter 'Size' must be a number not less than 20"),
    ({"Owner": "ana", "Size": "big"}, "Parameter 'Size' must be a number"),
    ({"Owner": "ana", "Zone": "2"}, "Parameter 'Zone' must be one of AllowedValues"),
    ({"Owner": "ana", "Label": "far-too-long"}, "Parameter 'Label' must contain at most 8 characters"),
])
def test_a_value_breaking_its_constraint_is_refused_and_nothing_is_made(simulator, given, message):
    cloudformation = simulator.client("cloudformation")
    for create in (lambda: cloudformation.create_stack(StackName="constrained", TemplateBody=TEMPLATE, Parameters=values(**given)),
                   lambda: cloudformation.create_change_set(StackName="constrained", ChangeSetName="first", ChangeSetType="CREATE",
                                                            TemplateBody=TEMPLATE, Parameters=values(**given))):
        with pytest.raises(ClientError) as refused:
            create()
        assert refused.value.response["Error"]["Code"] == "ValidationError"
        assert refused.value.response["Error"]["Message"] == message
    assert not [stack for stack in cloudformation.list_stacks()["StackSummaries"] if stack["StackName"] == "constrained"]


def test_values_within_their_constraints_pass(simulator):
    cloudformation = simulator.client("cloudformation")
    cloudformation.create_stack(StackName="fine", TemplateBody=TEMPLATE,
                                Parameters=values(Owner="ana", Email="ana@example.com", Size="20", Zone="1"))
    assert cloudformation.describe_stacks(StackName="fine")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    cloudformation.create_change_set(StackName="fine", ChangeSetName="again", TemplateBody=TEMPLATE,
                                     Parameters=values(Owner="ana", Label="changed"))
    assert cloudformation.describe_change_set(StackName="fine", ChangeSetName="again")["ChangeSetName"] == "again"
