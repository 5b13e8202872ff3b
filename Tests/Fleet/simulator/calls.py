"""What an incoming request is: which service (botocore's model name), which operation, and in
which wire protocol it was sent, read from the request as AWS's front ends read it.

  smithy-rpc-v2-cbor  POST /service/<ServiceName>/operation/<Operation>, smithy-protocol header
  json                X-Amz-Target: <targetPrefix>.<Operation>
  query / ec2         Action=<Operation> in the form body or the query string
  rest-xml (S3)       the method and path (see s3_operation)
  rest-json/rest-xml  the method, path and query matched against each operation's `http`
                      requestUri in the service's model (rest_operation)
"""
import functools
import re
import urllib.parse

from . import protocols


class Call:
    """One request's (signing name, service, operation, protocol) and its raw body."""

    def __init__(self, signing_name, service, operation, protocol, body, region, params):
        self.signing_name = signing_name
        self.service = service
        self.operation = operation
        self.protocol = protocol
        self.body = body
        self.region = region
        self.params = params   # the query form's fields, first value each (query/ec2 only)
        self.access_key = None  # the access key id that signed it (set by the dispatcher)

    def __repr__(self):
        return f"Call({self.service}.{self.operation} via {self.protocol})"


def credential_scope(environ, query):
    """(region, signing name) from the Authorization header or a presigned URL's X-Amz-Credential."""
    authorization = environ.get("HTTP_AUTHORIZATION", "")
    credential = authorization.partition("Credential=")[2].partition(",")[0].strip()
    if not credential:
        credential = query.get("X-Amz-Credential", [""])[0]
    parts = credential.split("/")
    return (parts[2], parts[3]) if len(parts) >= 5 else ("us-east-1", "")


def identify(environ, body):
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    region, signing = credential_scope(environ, query)
    path = environ.get("PATH_INFO", "")
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    params = {}
    if environ.get("HTTP_SMITHY_PROTOCOL") == "rpc-v2-cbor" or path.startswith("/service/"):
        pieces = path.strip("/").split("/")
        operation = pieces[3] if len(pieces) >= 4 and pieces[2] == "operation" else ""
        service = protocols.model_name(signing, operation)
        return Call(signing, service, operation, "smithy-rpc-v2-cbor", body, region, params)
    if target:
        prefix, _, operation = target.rpartition(".")
        service = protocols.model_name(signing, operation, target_prefix=prefix)
        return Call(signing, service, operation, "json", body, region, params)
    form = {}
    if body and environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    fields = {**query, **form}
    if "Action" in fields:
        params = {key: values[0] for key, values in fields.items()}
        operation = params["Action"]
        service = protocols.model_name(signing, operation, api_version=params.get("Version", ""))
        spoken = "ec2" if "ec2" in protocols.protocols(service) else "query"
        return Call(signing, service, operation, spoken, body, region, params)
    service = protocols.model_name(signing) if signing else None
    method = environ.get("REQUEST_METHOD", "GET")
    if signing == "s3":
        operation = s3_operation(environ, query) or rest_operation("s3", method, path, query)
        return Call(signing, "s3", operation, "rest-xml", body, region, params)
    protocol = protocols.resolve(service) if service else None
    operation = rest_operation(service, method, path, query) if protocol in ("rest-json", "rest-xml") else ""
    return Call(signing, service, operation, protocol, body, region, params)


@functools.lru_cache(maxsize=None)
def _routes(service):
    """[(method, path regex, required query keys, operation)] from the model, most specific first."""
    model = protocols.service_model(service)
    routes = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        uri = http.get("requestUri", "/")
        template, _, required = uri.partition("?")
        pattern = "".join(".+" if piece.endswith("+}") else "[^/]+" if piece.startswith("{") else re.escape(piece)
                          for piece in re.split(r"(\{[^}]+\})", template))
        keys = tuple(item.partition("=")[0] for item in required.split("&") if item)
        literal = len(re.sub(r"\{[^}]+\}", "", template))
        routes.append((-len(keys), -literal, http.get("method", "GET"), re.compile(pattern.rstrip("/") + "/?$"), keys, name))
    return [route[2:] for route in sorted(routes, key=lambda item: item[:2])]


def rest_operation(service, method, path, query):
    """The operation of a REST request, as the model's requestUri templates give it ("" if none)."""
    if not service:
        return ""
    try:
        routes = _routes(service)
    except Exception:
        return ""
    for route_method, pattern, keys, name in routes:
        if route_method == method and pattern.match(path or "/") and all(key in query for key in keys):
            return name
    return ""


def s3_operation(environ, query):
    """The S3 operations the project uses, from method, path and sub-resource (path-style URLs)."""
    method = environ["REQUEST_METHOD"]
    path = environ.get("PATH_INFO", "/").strip("/")
    has_key = "/" in path
    if "uploads" in query:
        return "ListMultipartUploads" if method == "GET" else "CreateMultipartUpload"
    if "uploadId" in query:
        return {"PUT": "UploadPart", "POST": "CompleteMultipartUpload", "DELETE": "AbortMultipartUpload",
                "GET": "ListParts"}.get(method, "")
    if not path:
        return "ListBuckets" if method == "GET" else ""
    if not has_key:
        if "publicAccessBlock" in query:
            return {"GET": "GetPublicAccessBlock", "PUT": "PutPublicAccessBlock",
                    "DELETE": "DeletePublicAccessBlock"}.get(method, "")
        if "versions" in query and method == "GET":
            return "ListObjectVersions"
        if "versioning" in query:
            return {"GET": "GetBucketVersioning", "PUT": "PutBucketVersioning"}.get(method, "")
        return {"GET": "ListObjectsV2", "PUT": "CreateBucket", "DELETE": "DeleteBucket", "HEAD": "HeadBucket"}.get(method, "")
    if method == "PUT" and environ.get("HTTP_X_AMZ_COPY_SOURCE"):
        return "CopyObject"
    if method == "DELETE" and "versionId" in query:
        return "DeleteObjectVersion"
    return {"GET": "GetObject", "PUT": "PutObject", "DELETE": "DeleteObject", "HEAD": "HeadObject"}.get(method, "")
