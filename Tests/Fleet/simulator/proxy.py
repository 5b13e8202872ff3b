"""The load balancers' DNS names, reachable from this machine through the simulator as an HTTP proxy.

On AWS an ALB's DNSName resolves to its addresses and its listeners answer on their own ports
(80, 8080, ...). Here each balancer is a local haproxy with one frontend per listener on some
loopback port, and the DNS name resolves nowhere. So the simulator's own port also serves as a
plain HTTP proxy: a client with `http_proxy=http://127.0.0.1:<fleet port>` (and `no_proxy`
holding 127.0.0.1, so AWS calls still go straight) that asks for `http://<DNSName>[:port]/path`
is answered by that balancer's listener on that port, as if the name resolved. Anything else in
absolute form gets 502 from the proxy, as a proxy that cannot reach the host answers.
"""
import http.client
import logging
from urllib.parse import urlsplit

log = logging.getLogger("fleet.proxy")
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te",
              "trailers", "transfer-encoding", "upgrade"}


def target(environ):
    """(host, port, path with query) of a request in absolute form to a host other than loopback, or None."""
    uri = environ.get("REQUEST_URI", "")
    if not uri.startswith("http://"):
        return None
    parts = urlsplit(uri)
    host = (parts.hostname or "").lower()
    if host in ("127.0.0.1", "localhost", "::1"):
        return None              # ourselves through the proxy: an ordinary AWS request
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return host, parts.port or 80, path


def forward(environ, start_response, web, destination, body):
    host, port, path = destination
    local = web.local_port(host, port)
    if local is None:
        message = f"fleet proxy: no load balancer listens at {host}:{port}\n".encode()
        start_response("502 Bad Gateway", [("Content-Type", "text/plain"), ("Content-Length", str(len(message)))])
        return [message]
    headers = {name[5:].replace("_", "-").title(): value for name, value in environ.items() if name.startswith("HTTP_")}
    for name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(name):
            headers[name.replace("_", "-").title()] = environ[name]
    headers = {name: value for name, value in headers.items() if name.lower() not in HOP_BY_HOP}
    headers["Host"] = host if port == 80 else f"{host}:{port}"
    connection = http.client.HTTPConnection("127.0.0.1", local, timeout=60)
    try:
        connection.request(environ.get("REQUEST_METHOD", "GET"), path, body=body or None, headers=headers)
        response = connection.getresponse()
        data = response.read()
    except OSError as error:
        message = f"fleet proxy: the load balancer at {host}:{port} did not answer: {error}\n".encode()
        start_response("502 Bad Gateway", [("Content-Type", "text/plain"), ("Content-Length", str(len(message)))])
        return [message]
    finally:
        connection.close()
    kept = [(name, value) for name, value in response.getheaders() if name.lower() not in HOP_BY_HOP | {"content-length"}]
    start_response(f"{response.status} {response.reason}", kept + [("Content-Length", str(len(data)))])
    return [data]
