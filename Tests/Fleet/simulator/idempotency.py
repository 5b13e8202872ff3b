"""Client tokens honoured as AWS documents them, where moto does not (EC2 RunInstances creates a
second reservation for a repeated ClientToken; CloudFormation ignores ClientRequestToken).

A request that carries a token AWS treats as an idempotency token, sent again with the same
token and the same parameters, gets the first answer again instead of doing the work twice
("Ensuring idempotency in Amazon EC2 API requests"); the same token with other parameters is
refused with IdempotentParameterMismatch (EC2) or handed on (others). Tokens are those botocore's
models mark `idempotencyToken` (boto3 fills them in itself, and keeps them across its retries),
plus the ones CloudFormation's API reference documents but its model does not mark.
"""
import functools
import hashlib
import json

from . import protocols
from .errors import AWSError

# CloudFormation API reference: "ClientRequestToken: A unique identifier for this ... request.
# Specify this token if you plan to retry requests so that AWS CloudFormation knows that you're
# not attempting to [repeat the operation]."
DOCUMENTED = {
    ("cloudformation", "CreateStack"): "ClientRequestToken",
    ("cloudformation", "UpdateStack"): "ClientRequestToken",
    ("cloudformation", "DeleteStack"): "ClientRequestToken",
    ("cloudformation", "ExecuteChangeSet"): "ClientRequestToken",
    ("cloudformation", "CreateChangeSet"): "ClientToken",
}


@functools.lru_cache(maxsize=None)
def token_member(service, operation):
    """(member name, its name on the wire) of the operation's idempotency token, or None."""
    if (service, operation) in DOCUMENTED:
        name = DOCUMENTED[(service, operation)]
        return name, name
    try:
        shape = protocols.service_model(service).operation_model(operation).input_shape
    except Exception:
        return None
    for name, member in (shape.members.items() if shape is not None else []):
        if member.metadata.get("idempotencyToken"):
            wire = member.serialization.get("queryName") or member.serialization.get("name") or name
            if protocols.resolve(service) == "ec2" and not member.serialization.get("queryName"):
                wire = wire[0].upper() + wire[1:]
            return name, wire
    return None


def token_of(call):
    if not call.service or not call.operation:
        return None
    member = token_member(call.service, call.operation)
    if member is None:
        return None
    if call.protocol in ("query", "ec2"):
        return call.params.get(member[1])
    if call.protocol == "json" and call.body:
        try:
            return json.loads(call.body).get(member[0])
        except (ValueError, AttributeError):
            return None
    return None


class Tokens:
    """The answers given to requests with a token (caller holds state.LOCK)."""

    def __init__(self):
        self.answers = {}   # (key id, region, service, operation, token) -> (request digest, Response)

    @staticmethod
    def _key(call, token, access_key):
        return (access_key, call.region, call.service, call.operation, token)

    def replay(self, call, access_key):
        """The earlier answer to this request, an AWSError for a mismatched reuse, or None."""
        token = token_of(call)
        if not token:
            return None
        earlier = self.answers.get(self._key(call, token, access_key))
        if earlier is None:
            return None
        digest, response = earlier
        if digest == hashlib.sha256(call.body or b"").hexdigest():
            return response
        if call.service == "ec2":
            raise AWSError("IdempotentParameterMismatch",
                           f"Client token {token} was already used with different parameters", 400)
        return None

    def record(self, call, access_key, response):
        token = token_of(call)
        if token and 200 <= response.status < 300:
            self.answers[self._key(call, token, access_key)] = (hashlib.sha256(call.body or b"").hexdigest(), response)
