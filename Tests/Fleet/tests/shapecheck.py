"""A small validator: does a raw response (JSON, or query-protocol XML) fit a botocore output shape?

botocore's parsers silently drop what a model does not know and coerce what it can, so a client
tested through boto3 alone would never notice a member AWS never sends or a status outside an
enum. This walks the raw response against the shape and lists every member that does not exist,
has the wrong type, or holds a value outside its enum.
"""
import datetime
import xml.etree.ElementTree as ElementTree


def _timestamp(text):
    try:
        float(text)
        return True
    except (TypeError, ValueError):
        pass
    try:
        datetime.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
        return True
    except ValueError:
        return False


def check_json(value, shape, path="", problems=None):
    """Problems (path: what is wrong) of a parsed JSON `value` against `shape`."""
    problems = [] if problems is None else problems
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            problems.append(f"{path}: {type(value).__name__} where a structure {shape.name} belongs")
            return problems
        for key, item in value.items():
            if key not in shape.members:
                problems.append(f"{path}.{key}: no such member of {shape.name}")
            else:
                check_json(item, shape.members[key], f"{path}.{key}", problems)
    elif kind == "list":
        if not isinstance(value, list):
            problems.append(f"{path}: {type(value).__name__} where a list belongs")
            return problems
        for index, item in enumerate(value):
            check_json(item, shape.member, f"{path}[{index}]", problems)
    elif kind == "map":
        if not isinstance(value, dict):
            problems.append(f"{path}: {type(value).__name__} where a map belongs")
            return problems
        for key, item in value.items():
            check_json(key, shape.key, f"{path}<key>", problems)
            check_json(item, shape.value, f"{path}[{key}]", problems)
    else:
        _scalar(value, shape, path, problems, textual=False)
    return problems


def _scalar(value, shape, path, problems, textual):
    kind = shape.type_name
    if kind == "string":
        if not isinstance(value, str):
            problems.append(f"{path}: {type(value).__name__} where a string belongs")
        elif shape.enum and value not in shape.enum:
            problems.append(f"{path}: {value!r} is not one of {shape.name}'s values {shape.enum}")
    elif kind in ("integer", "long"):
        ok = (value.lstrip("-").isdigit() if textual else isinstance(value, int) and not isinstance(value, bool))
        if not ok:
            problems.append(f"{path}: {value!r} is not an integer")
    elif kind == "boolean":
        if not (value in ("true", "false") if textual else isinstance(value, bool)):
            problems.append(f"{path}: {value!r} is not a boolean")
    elif kind in ("double", "float"):
        try:
            ok = textual and float(value) is not None or (isinstance(value, (int, float)) and not isinstance(value, bool))
        except ValueError:
            ok = False
        if not ok:
            problems.append(f"{path}: {value!r} is not a number")
    elif kind == "timestamp":
        if isinstance(value, bool) or not _timestamp(value):
            problems.append(f"{path}: {value!r} is not a timestamp")
    elif kind == "blob":
        if not isinstance(value, str):
            problems.append(f"{path}: {value!r} is not base64 text")


def _local(tag):
    return tag.rsplit("}", 1)[-1]


def check_xml_element(element, shape, path="", problems=None):
    """Problems of a query-protocol XML element against `shape`."""
    problems = [] if problems is None else problems
    kind = shape.type_name
    if kind == "structure":
        names = {member.serialization.get("name", name): name for name, member in shape.members.items()}
        for child in element:
            tag = _local(child.tag)
            if tag not in names:
                problems.append(f"{path}.{tag}: no such member of {shape.name}")
            else:
                check_xml_element(child, shape.members[names[tag]], f"{path}.{tag}", problems)
    elif kind == "list":
        item_name = shape.member.serialization.get("name", "member")
        for index, child in enumerate(element):
            if _local(child.tag) != item_name:
                problems.append(f"{path}[{index}]: <{_local(child.tag)}> where <{item_name}> belongs")
            check_xml_element(child, shape.member, f"{path}[{index}]", problems)
    elif kind == "map":
        for index, entry in enumerate(element):
            for part in entry:
                sub = shape.key if _local(part.tag) == "key" else shape.value
                check_xml_element(part, sub, f"{path}{{{index}}}", problems)
    else:
        if len(element):
            problems.append(f"{path}: elements where a {kind} belongs")
        else:
            _scalar(element.text or "", shape, path, problems, textual=True)
    return problems


def check_query_xml(body, operation_model):
    """Problems of a whole query-protocol response body for `operation_model`."""
    root = ElementTree.fromstring(body)
    problems = []
    if _local(root.tag) != f"{operation_model.name}Response":
        problems.append(f"root <{_local(root.tag)}> is not <{operation_model.name}Response>")
    result = [child for child in root if _local(child.tag) == f"{operation_model.name}Result"]
    if operation_model.output_shape is not None:
        if not result:
            problems.append(f"no <{operation_model.name}Result>")
        else:
            check_xml_element(result[0], operation_model.output_shape, operation_model.name, problems)
    return problems
