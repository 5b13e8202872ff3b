"""Makes moto's request authentication check signatures the way AWS does.

moto 5.2 rebuilds the request from its decoded URI before checking the SigV4 signature, so keys
and query values with non-ASCII or reserved characters ("ü", "+", "&", "/" in a prefix) fail
with SignatureDoesNotMatch for any correct client (boto3 included), and presigned URLs crash it
(it expects an Authorization header). Here the signature is checked over the URI exactly as
sent, the body's hash is taken over the bytes as sent (not moto's re-encoding of the parsed form),
and presigned (query-string) requests are verified, expiry included.
"""
import datetime
import json
import threading
import urllib.parse

from werkzeug.exceptions import HTTPException

from . import authorization

current = threading.local()


def prepare(environ, body=None):
    """Called by the middleware for each request, on the thread that will handle it, with the
    raw form or JSON body when it read one."""
    current.raw_uri = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    current.raw_body = body
    current.host = environ.get("HTTP_HOST", "")
    current.presigned = None
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    if "HTTP_AUTHORIZATION" not in environ and "X-Amz-Signature" in query:
        first = {name: values[0] for name, values in query.items()}
        issued = datetime.datetime.strptime(first.get("X-Amz-Date", "19700101T000000Z"), "%Y%m%dT%H%M%SZ")
        expires = int(first.get("X-Amz-Expires", "0"))
        if datetime.datetime.utcnow() > issued + datetime.timedelta(seconds=expires):
            return "expired"
        # Present the query's credentials to moto as a header so its access-key and policy
        # checks run; the signature itself is verified over the query below.
        environ["HTTP_AUTHORIZATION"] = (f"AWS4-HMAC-SHA256 Credential={first.get('X-Amz-Credential', '')}, "
                                         f"SignedHeaders={first.get('X-Amz-SignedHeaders', 'host')}, "
                                         f"Signature={first['X-Amz-Signature']}")
        environ["HTTP_X_AMZ_DATE"] = first.get("X-Amz-Date", "")
        current.presigned = first
    return None


def install():
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from moto.iam import access_control

    original_create = access_control.IAMRequestBase._create_aws_request
    original_calculate = access_control.IAMRequestBase._calculate_signature

    def create_aws_request(self):
        request = original_create(self)
        raw = getattr(current, "raw_uri", None)
        if raw:
            request.url = raw
            request.params = {}
        # moto hands over the parsed form, which botocore re-encodes its own way (spaces as "+"):
        # the signature covers the bytes as sent. A GET or DELETE without a body is signed over
        # the empty payload: moto handed over the query's parameters instead, whose hash no
        # client signed (REST-JSON GETs such as Scheduler's GetSchedule failed SignatureDoesNotMatch).
        if getattr(current, "raw_body", None):
            request.data = current.raw_body
        elif self._method in ("GET", "HEAD", "DELETE") and not self._body:
            request.data = b""
        return request

    def calculate_signature(self):
        presigned = getattr(current, "presigned", None)
        if not presigned:
            return original_calculate(self)
        raw = current.raw_uri or "/"
        path, _, query = raw.partition("?")
        pairs = [pair.partition("=") for pair in query.split("&") if pair]
        canonical_query = "&".join(sorted(f"{name}={value}" for name, _, value in pairs if name != "X-Amz-Signature"))
        signed = presigned.get("X-Amz-SignedHeaders", "host").split(";")
        header_lines = "".join(f"{name}:{current.host if name == 'host' else self._headers.get(name, '')}\n"
                               for name in signed)
        payload = "UNSIGNED-PAYLOAD" if self._service == "s3" else \
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        canonical_path = path if self._service == "s3" else urllib.parse.quote(path, safe="/~")
        canonical = "\n".join([self._method, canonical_path, canonical_query, header_lines, ";".join(signed), payload])
        auth = SigV4Auth(self._access_key.create_credentials(), self._service, self._region)
        request = AWSRequest(method=self._method, url=raw)
        request.context["timestamp"] = presigned["X-Amz-Date"]
        return auth.signature(auth.string_to_sign(request, canonical), request)

    def check_action_permitted(self, resource):
        """moto asks this after the signature check; our evaluator answers, trust policies of
        AssumeRole included."""
        operation = self._action.partition(":")[2]
        try:
            authorization.authorize(self._access_key, self._service, operation, request_parameters(self), self._region,
                                    resource)
        except authorization.Denied as denied:
            if isinstance(self, access_control.S3IAMRequest):
                self._raise_access_denied()      # S3's own AccessDenied document
            raise Refusal(denied, self._service, operation) from None
        if self._is_assuming_role_operation(resource) and \
                not authorization.trusted(self._access_key, resource, self._region):
            raise Refusal(authorization.untrusted(self._access_key, resource), self._service, operation)

    access_control.IAMRequestBase._create_aws_request = create_aws_request
    access_control.IAMRequestBase._calculate_signature = calculate_signature
    access_control.IAMRequestBase.check_action_permitted = check_action_permitted


def request_parameters(request):
    """The request's parameters as moto parsed them (query forms) or as sent (JSON bodies)."""
    body = request._body
    if isinstance(body, (bytes, str)) and body[:1] in (b"{", "{"):
        try:
            return json.loads(body)
        except ValueError:
            pass
    data = request._data if isinstance(request._data, dict) else {}
    return {key: value[0] if isinstance(value, list) and len(value) == 1 else value for key, value in data.items()}


class Refusal(HTTPException):
    """A denial moto hands back as the response: the body is the service's own error document."""

    def __init__(self, denied, signing_name, operation):
        from .errors import AWSError
        try:
            from . import protocols, wire
            service = protocols.model_name(signing_name, operation) or signing_name
            response = wire.error(AWSError(denied.code, denied.message, denied.status), service)
            body = response.body.decode() if isinstance(response.body, bytes) else response.body
            content_type = response.header("Content-Type") or "text/xml"
        except Exception:
            body = json.dumps({"__type": denied.code, "message": denied.message})
            content_type = "application/x-amz-json-1.1"
        super().__init__(description=body)
        self.code = denied.status
        self.content_type = content_type

    def get_headers(self, *args, **kwargs):
        return [("Content-Type", self.content_type)]

    def get_body(self, *args, **kwargs):
        return self.description


class AuthError(Exception):
    def __init__(self, code, message, status):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def authenticate(environ, body, operation):
    """For requests the simulator answers itself: check the signature and permission exactly as
    moto does for its own (when authentication is on). Returns the region of the credential scope."""
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.iam.access_control import IAMRequest

    header = environ.get("HTTP_AUTHORIZATION", "")
    scope = header.partition("Credential=")[2].partition(",")[0].split("/")
    region = scope[2] if len(scope) > 2 else "us-east-1"
    if ActionAuthenticatorMixin.request_count < settings.INITIAL_NO_AUTH_ACTION_COUNT:
        ActionAuthenticatorMixin.request_count += 1
        return region
    headers = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers["-".join(part.capitalize() for part in key[5:].split("_"))] = value
    if environ.get("CONTENT_TYPE"):
        headers["Content-Type"] = environ["CONTENT_TYPE"]
    if environ.get("CONTENT_LENGTH"):
        headers["Content-Length"] = environ["CONTENT_LENGTH"]
    try:
        request = IAMRequest(account_id=authorization.ACCOUNT, method=environ["REQUEST_METHOD"], path=current.raw_uri or "/",
                             data={}, body=body, headers=headers, action=operation)
        request.check_signature()
        service = scope[3] if len(scope) > 3 else ""
        try:
            parameters = json.loads(body) if body else {}
        except ValueError:
            parameters = {key: values[0] for key, values in urllib.parse.parse_qs(body.decode()).items()}
        authorization.authorize(request._access_key, service, operation, parameters, region, "*",
                                environ.get("REMOTE_ADDR"))
    except authorization.Denied as denied:
        raise AuthError(denied.code, denied.message, denied.status) from None
    except Exception as error:
        code = getattr(error, "code", None) or getattr(error, "error_type", None) or type(error).__name__
        message = getattr(error, "message", None) or getattr(error, "description", None) or str(error)
        status = getattr(error, "code", 403) if isinstance(getattr(error, "code", None), int) else 403
        if hasattr(error, "error_type"):
            code = error.error_type
        raise AuthError(code, message, status if isinstance(status, int) else 403) from None
    return region
