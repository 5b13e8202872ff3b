"""DescribeInstanceInformation's filters, as AWS documents them, or their rejection.

Two request members filter (botocore's ssm model): the legacy `InstanceInformationFilterList`
(`key` / `valueSet`, keys of the enum InstanceInformationFilterKey) and `Filters` (`Key` /
`Values`: the keys InstanceInformationStringFilter documents, plus `tag:<name>` and `tag-key`).
A key of neither gives `InvalidFilterKey`, a value a key cannot take (PingStatus=Up)
`InvalidInstanceInformationFilterValue`, and using both members at once is refused, as the
API reference warns. Within a filter any value matches; all filters must match.

`item` is one InstanceInformation as the simulator answers it; `tags` the instance's EC2 tags.
"""
LEGACY_KEYS = {"InstanceIds", "AgentVersion", "PingStatus", "PlatformTypes", "ActivationIds", "IamRole",
               "ResourceType", "AssociationStatus"}
STRING_KEYS = {"ActivationIds", "AgentVersion", "AssociationStatus", "IamRole", "InstanceIds", "PingStatus",
               "PlatformType", "PlatformTypes", "ResourceType", "SourceIds", "SourceTypes", "tag-key"}
ALLOWED_VALUES = {
    "PingStatus": {"Online", "ConnectionLost", "Inactive"},
    "PlatformType": {"Windows", "Linux", "MacOS"},
    "PlatformTypes": {"Windows", "Linux", "MacOS"},
    "ResourceType": {"EC2Instance", "ManagedInstance"},
    "AssociationStatus": {"Success", "Pending", "Failed"},
    "SourceTypes": {"AWS::EC2::Instance", "AWS::SSM::ManagedInstance", "AWS::IoT::Thing"},
}
# Which InstanceInformation member a key compares against.
MEMBERS = {"InstanceIds": "InstanceId", "SourceIds": "SourceId", "AgentVersion": "AgentVersion",
           "PingStatus": "PingStatus", "PlatformType": "PlatformType", "PlatformTypes": "PlatformType",
           "ActivationIds": "ActivationId", "IamRole": "IamRole", "ResourceType": "ResourceType",
           "AssociationStatus": "AssociationStatus", "SourceTypes": "SourceType"}


class FilterError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code, self.message = code, message


def parse(request):
    """[(key, values)] from a DescribeInstanceInformation request, validated."""
    legacy = request.get("InstanceInformationFilterList") or []
    string = request.get("Filters") or []
    if legacy and string:
        raise FilterError("InvalidFilterKey", "InstanceInformationFilterList and Filters cannot be used together")
    parsed = []
    for spec in legacy:
        key, values = spec.get("key"), spec.get("valueSet") or []
        if key not in LEGACY_KEYS:
            raise FilterError("InvalidFilterKey", f"The filter key {key} is not valid for InstanceInformationFilterList")
        parsed.append((key, values))
    for spec in string:
        key, values = spec.get("Key") or "", spec.get("Values") or []
        if key not in STRING_KEYS and not (key.startswith("tag:") and len(key) > 4):
            raise FilterError("InvalidFilterKey", f"The filter key {key} is not valid")
        parsed.append((key, values))
    for key, values in parsed:
        if not values:
            raise FilterError("InvalidInstanceInformationFilterValue", f"The filter {key} needs at least one value")
        allowed = ALLOWED_VALUES.get(key)
        wrong = [value for value in values if allowed is not None and value not in allowed]
        if wrong:
            raise FilterError("InvalidInstanceInformationFilterValue",
                              f"{', '.join(wrong)} is not a valid value for filter {key}; valid: {', '.join(sorted(allowed))}")
    return parsed


def matches(item, tags, filters):
    """Whether an instance (its InstanceInformation `item` and EC2 `tags`) passes every filter."""
    for key, values in filters:
        if key.startswith("tag:"):
            if tags.get(key[4:]) not in values:
                return False
        elif key == "tag-key":
            if not any(value in tags for value in values):
                return False
        elif item.get(MEMBERS[key], "") not in values:
            return False
    return True
