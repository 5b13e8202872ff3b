#!/usr/bin/env python3
"""A bounded HTTP load generator for tests and benchmarks, loopback only: CONCURRENCY workers send
GET requests to URL, each at most RATE a second (0: as fast as answers come), until SECONDS have
passed or the file --until exists; then one JSON line: requests, failed, the first failures, the
answers' bodies (first 40 characters) counted, and requests per second.

    loadgen.py --url http://127.0.0.1:PORT/ [--seconds S | --until FILE] [--concurrency N] [--rate R]
    loadgen.py --url http://<balancer DNS name>/ --proxy $FLEET_HTTP_PROXY ...   (the simulator answers the name)

Any status other than 2xx, a reset or a timeout is a failed request."""
import argparse
import json
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--until", default=None, help="stop once this file exists (at most 600 s)")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rate", type=float, default=0.0, help="requests per second per worker; 0: unthrottled")
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--proxy", default=None, help="an HTTP proxy on loopback (the simulator's FLEET_HTTP_PROXY)")
    options = parser.parse_args()
    host = urllib.parse.urlsplit(options.proxy or options.url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        sys.exit(f"loadgen: only loopback, not {host}")
    limit = time.time() + (options.seconds if options.seconds is not None else 600)
    lock = threading.Lock()
    totals = {"requests": 0, "failed": 0, "failures": [], "answers": {}}
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": options.proxy} if options.proxy else {}))

    def done():
        if time.time() >= limit:
            return True
        if options.until:
            try:
                open(options.until).close()
                return True
            except OSError:
                return False
        return False

    def worker():
        gap = 1.0 / options.rate if options.rate > 0 else 0
        while not done():
            started = time.time()
            failure, body = None, ""
            try:
                with opener.open(options.url, timeout=options.timeout) as response:
                    body = response.read().decode("utf-8", "replace").strip()[:40]
                    if not 200 <= response.status < 300:
                        failure = f"HTTP {response.status}"
            except urllib.error.HTTPError as error:
                failure = f"HTTP {error.code}: {error.read()[:80]!r}"
            except Exception as error:  # noqa: BLE001 - every failure counts
                failure = repr(error)
            with lock:
                totals["requests"] += 1
                if failure:
                    totals["failed"] += 1
                    if len(totals["failures"]) < 5:
                        totals["failures"].append(failure)
                else:
                    totals["answers"][body] = totals["answers"].get(body, 0) + 1
            if gap:
                time.sleep(max(0.0, gap - (time.time() - started)))

    begun = time.time()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(max(1, options.concurrency))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    totals["seconds"] = round(time.time() - begun, 3)
    totals["perSecond"] = round(totals["requests"] / max(0.001, totals["seconds"]), 1)
    print(json.dumps(totals), flush=True)


if __name__ == "__main__":
    main()
