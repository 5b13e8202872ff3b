#!/usr/bin/env python3
"""Signs random requests with botocore's own SigV4 signers and prints them as JSON, so the Swift
tests can compare our signer with botocore byte for byte.

usage: botocore_vectors.py COUNT SEED

Each vector: service, region, timestamp, credentials, method, host, wire path, query pairs
(decoded), the headers botocore signed (minus X-Amz-Date, X-Amz-Security-Token, Authorization,
which our signer adds itself), the payload hash, and what botocore produced: the canonical
request and Authorization header, or for presigned URLs the full query.
"""
import datetime
import hashlib
import json
import random
import sys
from urllib.parse import parse_qsl, quote, urlsplit

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SERVICES = ["s3", "ec2", "ssm", "sts", "iam", "autoscaling", "elasticloadbalancing", "service"]
REGIONS = ["us-east-1", "eu-west-3", "ap-southeast-2", "sa-east-1"]
METHODS = ["GET", "PUT", "POST", "DELETE", "HEAD", "PATCH"]
SEGMENT_ALPHABET = list("abcXYZ019-_.~") + list("!*'();:@&=+$, %[]") + ["é", "ሴ", "日本", "ü", "😀"]
QUERY_ALPHABET = SEGMENT_ALPHABET + ["/", "?", "#"]
HOSTS = ["example.amazonaws.com", "s3.eu-west-3.amazonaws.com", "127.0.0.1:4566", "localhost:5000"]


def word(rng, alphabet, low, high):
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(low, high)))


def random_path(rng, service):
    segments = []
    for _ in range(rng.randint(0, 5)):
        roll = rng.random()
        if roll < 0.08 and service != "s3":
            segments.append(".")
        elif roll < 0.16 and service != "s3":
            segments.append("..")
        elif roll < 0.22:
            segments.append("")  # a doubled slash
        else:
            segments.append(quote(word(rng, SEGMENT_ALPHABET, 1, 8), safe="~"))
    path = "/" + "/".join(segments)
    if rng.random() < 0.3 and not path.endswith("/"):
        path += "/"
    return path


def random_headers(rng):
    headers = []
    for _ in range(rng.randint(0, 4)):
        name = rng.choice(["X-Custom-" + word(rng, list("abcdef"), 1, 4), "Content-Type",
                           "x-amz-meta-" + word(rng, list("xyz"), 1, 3), "X-Amz-Target", "Range"])
        pieces = [word(rng, list("abcXYZ0123=;,/\"'"), 1, 6) for _ in range(rng.randint(1, 3))]
        glue = [rng.choice([" ", "  ", "\t", " \t ", "\r\n  "]) for _ in pieces[1:]]
        value = pieces[0] + "".join(g + p for g, p in zip(glue, pieces[1:]))
        value = rng.choice(["", " ", "  "]) + value + rng.choice(["", " ", "\t"])
        headers.append((name, value))
    return headers


def main():
    count, seed = int(sys.argv[1]), int(sys.argv[2])
    rng = random.Random(seed)
    vectors = []
    for index in range(count):
        service = rng.choice(SERVICES)
        region = rng.choice(REGIONS)
        moment = datetime.datetime(2015, 1, 1, tzinfo=datetime.timezone.utc) + datetime.timedelta(
            seconds=rng.randint(0, 15 * 365 * 86400))
        botocore.auth.get_current_datetime = lambda: moment.replace(tzinfo=None)
        token = word(rng, list("ABCDEFabcdef0123456789/+="), 20, 60) if rng.random() < 0.5 else None
        credentials = Credentials("AKID" + word(rng, list("ABCDEFGHIJ0123456789"), 12, 16),
                                  word(rng, list("abcdefABCDEF0123456789/+"), 40, 40), token)
        host = rng.choice(HOSTS)
        presign = rng.random() < 0.25
        method = "GET" if presign else rng.choice(METHODS)
        path = random_path(rng, service)
        query = []
        names = set()
        for _ in range(rng.randint(0, 5)):
            name = word(rng, QUERY_ALPHABET, 1, 6)
            if presign and name in names:
                continue
            if presign and name.startswith("X-Amz-"):
                continue
            names.add(name)
            value = "" if rng.random() < 0.2 else word(rng, QUERY_ALPHABET, 1, 10)
            query.append((name, value))
            if not presign and rng.random() < 0.2:
                query.append((name, word(rng, QUERY_ALPHABET, 0, 4)))  # repeated key
        body = b"" if presign or method in ("GET", "HEAD") else bytes(rng.randrange(256) for _ in range(rng.randint(0, 64)))

        request = AWSRequest(method=method, url=f"https://{host}{path}", data=body)
        request.params = query
        vector = {
            "service": service, "region": region, "seconds": int(moment.timestamp()),
            "accessKeyID": credentials.access_key, "secretAccessKey": credentials.secret_key,
            "sessionToken": token, "method": method, "path": path,
            "query": [list(pair) for pair in query], "host": botocore.auth._host_from_url(request.url),
        }
        if presign:
            expires = rng.randint(1, 604800)
            signer_class = botocore.auth.S3SigV4QueryAuth if service == "s3" else botocore.auth.SigV4QueryAuth
            signer_class(credentials, service, region, expires=expires).add_auth(request)
            vector["expires"] = expires
            vector["payloadHash"] = "UNSIGNED-PAYLOAD" if service == "s3" else hashlib.sha256(body).hexdigest()
            vector["headers"] = []
            vector["presignedQuery"] = [list(pair) for pair in parse_qsl(urlsplit(request.url).query, keep_blank_values=True)]
        else:
            for name, value in random_headers(rng):
                request.headers[name] = value
            signer_class = botocore.auth.S3SigV4Auth if service == "s3" else botocore.auth.SigV4Auth
            signer = signer_class(credentials, service, region)
            canonical = []
            original = signer.canonical_request
            signer.canonical_request = lambda req: canonical.append(original(req)) or canonical[-1]
            signer.add_auth(request)
            skip = {"x-amz-date", "x-amz-security-token", "authorization"}
            vector["headers"] = [[name, value] for name, value in request.headers.items() if name.lower() not in skip]
            vector["payloadHash"] = request.headers.get("X-Amz-Content-SHA256") or hashlib.sha256(body).hexdigest()
            vector["canonicalRequest"] = canonical[0]
            vector["authorization"] = request.headers["Authorization"]
        vectors.append(vector)
    json.dump(vectors, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
