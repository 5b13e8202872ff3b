"""The simulator's one error type: an AWS error as a service would return it.

Every handler (ours, the hooks around moto, authentication, fault injection) raises or builds an
`AWSError`; `wire.py` writes it in the protocol of the service that was called, so one error
reaches any client the way that service's real errors do.
"""


class AWSError(Exception):
    def __init__(self, code, message="", status=400, query_code=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = int(status)
        # For services whose JSON/CBOR protocol is "awsQueryCompatible" (CloudWatch, SQS): the
        # code their query protocol used, sent in the x-amzn-query-error header.
        self.query_code = query_code

    @property
    def fault(self):
        """"Sender" for a client's fault (4xx), "Receiver" for the service's (5xx)."""
        return "Receiver" if self.status >= 500 else "Sender"

    def __repr__(self):
        return f"AWSError({self.code!r}, {self.message!r}, {self.status})"
