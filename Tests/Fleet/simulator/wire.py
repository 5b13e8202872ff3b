"""Responses on the wire: an `AWSError`, or a result of our own handlers, in the protocol of the
service called, as botocore's parsers read them (botocore/parsers.py) and the Smithy protocol
specifications define them:

  query               <ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>, text/xml
  ec2                 <Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/>
  json                {"__type", "message"}, application/x-amz-json-<jsonVersion>
  rest-json           {"message"} with the code in X-Amzn-ErrorType
  rest-xml            <ErrorResponse>...; S3's own <Error><Code/>... at the top
  smithy-rpc-v2-cbor  a CBOR map {"__type", "message"}, header smithy-protocol: rpc-v2-cbor
For awsQueryCompatible services (CloudWatch) the JSON and CBOR forms also carry the query code in
x-amzn-query-error, which botocore reports as the error's Code.
"""
import json
import random
from xml.sax.saxutils import escape

from . import cbor, protocols


class Response:
    """A whole HTTP response: status, headers, body chunks."""

    def __init__(self, status, headers, chunks):
        self.status = int(status)
        self.headers = list(headers)
        self.chunks = list(chunks)

    @property
    def body(self):
        return b"".join(self.chunks)

    def header(self, name):
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)

    def status_line(self):
        from http import HTTPStatus
        try:
            return f"{self.status} {HTTPStatus(self.status).phrase}"
        except ValueError:
            return f"{self.status} Status"


def request_id():
    return "fleet-%08x-%04x" % (random.getrandbits(32), random.getrandbits(16))


def _headers(content_type, identifier, body):
    return [("Content-Type", content_type), ("Content-Length", str(len(body))),
            ("x-amzn-RequestId", identifier), ("x-amz-request-id", identifier)]


def error(err, service, protocol=None, method="POST"):
    """`err` (an AWSError) as `service` (a botocore service name) answers it in `protocol`."""
    protocol = protocols.resolve(service, protocol)
    meta = protocols.metadata(service)
    identifier = request_id()
    code, message = err.code, err.message
    extra = []
    if protocol in ("json", "smithy-rpc-v2-cbor") and "awsQueryCompatible" in meta:
        extra.append(("x-amzn-query-error", f"{err.query_code or code};{err.fault}"))
    if protocol == "json":
        body = json.dumps({"__type": code, "message": message}).encode()
        content_type = f"application/x-amz-json-{meta.get('jsonVersion', '1.1')}"
    elif protocol == "rest-json":
        body = json.dumps({"message": message}).encode()
        content_type = "application/json"
        extra.append(("x-amzn-ErrorType", code))
    elif protocol == "smithy-rpc-v2-cbor":
        body = cbor.encode({"__type": code, "message": message})
        content_type = "application/cbor"
        extra.append(("smithy-protocol", "rpc-v2-cbor"))
    elif protocol == "ec2":
        body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error><Code>{escape(code)}</Code>"
                f"<Message>{escape(message)}</Message></Error></Errors><RequestID>{identifier}</RequestID></Response>").encode()
        content_type = "text/xml"
    elif protocol == "rest-xml" and service == "s3":
        body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{escape(code)}</Code>"
                f"<Message>{escape(message)}</Message><RequestId>{identifier}</RequestId></Error>").encode()
        content_type = "application/xml"
    else:  # query, rest-xml
        namespace = meta.get("xmlNamespace", "")
        body = (f"<ErrorResponse{f' xmlns={chr(34)}{namespace}{chr(34)}' if namespace else ''}><Error>"
                f"<Type>{err.fault}</Type><Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
                f"<RequestId>{identifier}</RequestId></ErrorResponse>").encode()
        content_type = "text/xml"
    headers = _headers(content_type, identifier, body) + extra
    if method == "HEAD":  # a HEAD answer has no body; S3 clients read the status alone
        body = b""
    return Response(err.status, headers, [body])


def json_result(service, result):
    """A JSON-protocol result (SSM's)."""
    meta = protocols.metadata(service)
    body = json.dumps(result).encode()
    return Response(200, _headers(f"application/x-amz-json-{meta.get('jsonVersion', '1.1')}", request_id(), body), [body])


def query_result(service, operation, inner_xml):
    """A query-protocol result: <OperationResponse><OperationResult>inner</...><ResponseMetadata>."""
    namespace = protocols.metadata(service).get("xmlNamespace", "")
    identifier = request_id()
    body = (f'<{operation}Response xmlns="{namespace}"><{operation}Result>{inner_xml}</{operation}Result>'
            f"<ResponseMetadata><RequestId>{identifier}</RequestId></ResponseMetadata></{operation}Response>").encode()
    return Response(200, _headers("text/xml", identifier, body), [body])
