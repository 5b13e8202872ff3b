"""A bounded load generator for deploy tests: THREADS threads send GET URL at RATE requests per
second in all (loopback only) until SIGTERM or SECONDS, then print one JSON summary: requests,
failed (connection errors and non-2xx), statuses, and each distinct body with its count.

usage: load.py URL [--threads N] [--rate R] [--seconds S] [--ready FILE]
"""
import argparse
import collections
import http.client
import json
import signal
import sys
import threading
import time
import urllib.parse


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--rate", type=float, default=40)
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--ready", help="file written once the first request was answered")
    args = parser.parse_args()
    url = urllib.parse.urlsplit(args.url)
    assert url.hostname in ("127.0.0.1", "localhost"), "loopback only"
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    lock = threading.Lock()
    statuses, bodies, errors = collections.Counter(), collections.Counter(), []
    counts = {"requests": 0, "failed": 0}
    interval = args.threads / args.rate
    first = threading.Event()

    def worker():
        connection = None
        while not stop.is_set():
            started = time.monotonic()
            try:
                if connection is None:
                    connection = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=10)
                connection.request("GET", url.path or "/")
                response = connection.getresponse()
                body = response.read().decode("utf-8", "replace")
                with lock:
                    counts["requests"] += 1
                    statuses[str(response.status)] += 1
                    bodies[body] += 1
                    if not 200 <= response.status < 300:
                        counts["failed"] += 1
                        if len(errors) < 20:
                            errors.append(f"{response.status}: {body[:200]}")
                first.set()
                if response.getheader("connection", "").lower() == "close":
                    connection.close()
                    connection = None
            except Exception as error:  # noqa: BLE001 - every failure counts
                with lock:
                    counts["requests"] += 1
                    counts["failed"] += 1
                    if len(errors) < 20:
                        errors.append(repr(error))
                if connection is not None:
                    connection.close()
                connection = None
            left = interval - (time.monotonic() - started)
            if left > 0:
                stop.wait(left)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(args.threads)]
    for thread in threads:
        thread.start()
    if args.ready:
        first.wait(30)
        with open(args.ready, "w") as handle:
            handle.write("ready\n")
    stop.wait(args.seconds)
    stop.set()
    for thread in threads:
        thread.join(15)
    json.dump({**counts, "statuses": statuses, "bodies": bodies, "errors": errors}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
