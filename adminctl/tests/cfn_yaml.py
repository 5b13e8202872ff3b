"""Reads CloudFormation YAML as CloudFormation does: short-form intrinsics (`!Ref`, `!GetAtt`,
`!Sub`, ...) become their long JSON form; `!GetAtt A.B.C` is `["A", "B.C"]` (split at the first dot)."""
import yaml


class Loader(yaml.SafeLoader):
    pass


def _construct(loader, suffix, node):
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


Loader.add_multi_constructor("!", lambda loader, suffix, node: _construct(loader, suffix, node))


def load(path):
    with open(path) as handle:
        return yaml.load(handle, Loader=Loader)
