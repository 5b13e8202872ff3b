"""Which botocore service model a request is for, and which wire protocol it speaks.

A request names its service only by the SigV4 signing name in its credential scope
("monitoring", "elasticloadbalancing", ...), or by its X-Amz-Target prefix. The installed
botocore's own service models say, for each service, its signing name, endpoint prefix, target
prefix and protocols (`protocol` and, in newer models, `protocols`, e.g. CloudWatch's
smithy-rpc-v2-cbor, json and query). The index reads only the metadata at the head of each model
file (a few KiB each), so it is built in milliseconds; whole models load on demand.
"""
import functools
import glob
import gzip
import json
import os
import threading

import botocore
from botocore.loaders import Loader
from botocore.model import ServiceModel
from botocore.utils import PRIORITY_ORDERED_SUPPORTED_PROTOCOLS

DATA = os.path.join(os.path.dirname(botocore.__file__), "data")
_index_lock = threading.Lock()
_index = None


def _metadata(path):
    """The "metadata" object of a service-2.json(.gz), read from the file's first bytes."""
    with (gzip.open(path) if path.endswith(".gz") else open(path, "rb")) as handle:
        head = handle.read(16384).decode("utf-8", "replace")
    start = head.find('"metadata"')
    start = head.find("{", start)
    depth = 0
    for position in range(start, len(head)):
        depth += {"{": 1, "}": -1}.get(head[position], 0)
        if depth == 0:
            return json.loads(head[start:position + 1])
    return {}


def index():
    """{"signing": {name: [service]}, "target": {prefix: service}, "metadata": {service: {...}}}."""
    global _index
    with _index_lock:
        if _index is None:
            signing, target, metadata = {}, {}, {}
            for directory in sorted(os.listdir(DATA)):
                versions = sorted(glob.glob(os.path.join(DATA, directory, "*", "service-2.json*")))
                if not versions:
                    continue
                meta = _metadata(versions[-1])
                metadata[directory] = meta
                for name in {meta.get("signingName") or meta.get("endpointPrefix"), meta.get("endpointPrefix")}:
                    if name:
                        signing.setdefault(name, []).append(directory)
                if meta.get("targetPrefix"):
                    target[meta["targetPrefix"]] = directory
            _index = {"signing": signing, "target": target, "metadata": metadata}
        return _index


@functools.lru_cache(maxsize=None)
def service_model(service):
    """botocore's whole model of `service` (a botocore service name such as "elbv2")."""
    return ServiceModel(Loader().load_service_model(service, "service-2"), service_name=service)


def model_name(signing_name, operation="", target_prefix="", api_version=""):
    """The botocore service a request is for: by X-Amz-Target prefix, else by signing name
    (several services share one: elb and elbv2 sign as "elasticloadbalancing"; then the one
    whose apiVersion the query request's Version names, or that has the operation)."""
    known = index()
    if target_prefix and target_prefix in known["target"]:
        return known["target"][target_prefix]
    candidates = known["signing"].get(signing_name, [])
    if len(candidates) > 1 and api_version:
        candidates = [name for name in candidates
                      if known["metadata"][name].get("apiVersion") == api_version] or candidates
    if signing_name in candidates:
        candidates = [signing_name] + [name for name in candidates if name != signing_name]
    if len(candidates) > 1 and operation:
        for name in sorted(candidates, key=lambda item: item != signing_name):
            if operation in service_model(name).operation_names:
                return name
    return candidates[0] if candidates else None


def metadata(service):
    return index()["metadata"].get(service, {}) if service else {}


def protocols(service):
    """The service's protocols, most preferred first, as its model lists them."""
    meta = metadata(service)
    return list(meta.get("protocols") or ([meta["protocol"]] if meta.get("protocol") else []))


def resolve(service, spoken=None):
    """The protocol to answer in: the one the request spoke when the model allows it, else the
    one botocore would choose from the model (its priority order)."""
    listed = protocols(service)
    if spoken and (spoken in listed or not listed):
        return spoken
    for protocol in PRIORITY_ORDERED_SUPPORTED_PROTOCOLS:
        if protocol in listed:
            return protocol
    return listed[0] if listed else (spoken or "query")
