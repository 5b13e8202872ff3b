#!/usr/bin/env python3
"""A stand-in for GitHub's REST API on loopback, for the tests and `make demo`.

usage: github_api.py [--repo OWNER/NAME=BARE_GIT_DIR]... [--login LOGIN] [--forever]
The token is stdin's first line, never argv. Prints {"port": N, "url": "http://127.0.0.1:N"}, then
serves until stdin closes (or, with --forever, until killed: scripts/github-standin runs it so).

Routes and payloads follow GitHub's OpenAPI description (api.github.com, version 2022-11-28) for
what devbox uses: pulls (list with state/head/base and Link pagination, create, get, update),
requested_reviewers, reviews, commit statuses (combined status, create) and check runs (list for a
ref, create). Pull requests are checked against the real repository on disk like GitHub does: the
base and head must exist there, and "No commits between" / "A pull request already exists"
are answered with GitHub's 422 bodies; a pull request's head.sha follows its branch as it is pushed.

Test controls (no auth), not part of GitHub:
  GET    /_standin/requests   every API request received: method, path, query, headers, body
  DELETE /_standin/requests   forget them
  POST   /_standin/fail       {"path": REGEX, "method": M?, "status": N, "headers": {...}, "body": {...}, "count": K}:
                              the next K matching requests get that answer instead
"""
import argparse
import datetime
import json
import re
import subprocess
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from serving import serve

parser = argparse.ArgumentParser()
parser.add_argument("--repo", action="append", default=[], help="OWNER/NAME=PATH of a bare repository")
parser.add_argument("--login", default="ada", help="the token owner's login")
parser.add_argument("--forever", action="store_true", help="keep serving after stdin closes")
arguments = parser.parse_args()
TOKEN = sys.stdin.readline().rstrip("\n")
REPOS = dict(entry.split("=", 1) for entry in arguments.repo)
LOGIN = arguments.login
DOCS = "https://docs.github.com/rest"

LOCK = threading.Lock()
REQUESTS = []
FAILURES = []
PULLS = {}          # (owner/name) -> {number: pull}
STATUSES = {}       # (owner/name, sha) -> [status]
CHECK_RUNS = {}     # (owner/name, sha) -> [check run]
REVIEWS = {}        # (owner/name, number) -> [review]
COUNTER = {"id": 1000}


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def next_id():
    COUNTER["id"] += 1
    return COUNTER["id"]


def git(repo, *args):
    result = subprocess.run(["git", "-C", REPOS[repo], *args], capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin", "GIT_CONFIG_NOSYSTEM": "1", "HOME": "/nonexistent"})
    return result.stdout.strip() if result.returncode == 0 else None


def branch_sha(repo, branch):
    return git(repo, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}^{{commit}}")


def user(login):
    return {"login": login, "id": abs(hash(login)) % 100000, "node_id": "U_" + login, "type": "User", "site_admin": False,
            "html_url": f"https://github.com/{login}"}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    # -- plumbing --------------------------------------------------------------------------------
    def base_url(self):
        return f"http://{self.headers.get('Host') or '127.0.0.1:%d' % self.server.server_address[1]}"

    def reply(self, status, payload=None, headers=None):
        body = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("X-GitHub-Media-Type", "github.v3; format=json")
        given = {name.lower() for name in (headers or {})}
        defaults = {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "4999",
                    "x-ratelimit-reset": str(int(datetime.datetime.now().timestamp()) + 3600), "x-ratelimit-resource": "core"}
        for name, value in defaults.items():
            if name not in given:
                self.send_header(name, value)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def error(self, status, message, errors=None):
        payload = {"message": message, "documentation_url": DOCS, "status": str(status)}
        if errors is not None:
            payload["errors"] = errors
        self.reply(status, payload)

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return raw.decode(errors="replace")

    def handle_any(self):
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        body = self.read_body()
        if url.path.startswith("/_standin/"):
            return self.control(url.path, body)
        with LOCK:
            REQUESTS.append({"method": self.command, "path": url.path, "query": query,
                             "headers": {name.lower(): value for name, value in self.headers.items()}, "body": body})
            injected = None
            for failure in FAILURES:
                if failure["count"] > 0 and re.search(failure["path"], url.path) and failure.get("method", self.command) == self.command:
                    failure["count"] -= 1
                    injected = failure
                    break
        if injected:
            return self.reply(injected["status"], injected.get("body"), injected.get("headers"))
        if self.headers.get("Authorization") not in (f"Bearer {TOKEN}", f"token {TOKEN}"):
            return self.error(401, "Bad credentials")
        match = re.fullmatch(r"/repos/([^/]+)/([^/]+)(/.*)?", url.path)
        if not match or f"{match[1]}/{match[2]}" not in REPOS:
            return self.error(404, "Not Found")
        repo, rest = f"{match[1]}/{match[2]}", match[3] or ""
        with LOCK:
            return self.route(repo, rest, query, body)

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = handle_any

    def control(self, path, body):
        with LOCK:
            if path == "/_standin/requests" and self.command == "GET":
                return self.reply(200, REQUESTS)
            if path == "/_standin/requests" and self.command == "DELETE":
                REQUESTS.clear()
                return self.reply(204)
            if path == "/_standin/fail" and self.command == "POST":
                FAILURES.append(dict(body, count=body.get("count", 1)))
                return self.reply(201, body)
        return self.error(404, "Not Found")

    # -- GitHub ----------------------------------------------------------------------------------
    def route(self, repo, rest, query, body):
        method = self.command
        if rest == "" and method == "GET":
            return self.reply(200, {"full_name": repo, "name": repo.split("/")[1], "default_branch": "main", "private": True})
        if rest == "/pulls" and method == "GET":
            return self.list_pulls(repo, query)
        if rest == "/pulls" and method == "POST":
            return self.create_pull(repo, body or {})
        match = re.fullmatch(r"/pulls/(\d+)(/.*)?", rest)
        if match:
            pull = PULLS.get(repo, {}).get(int(match[1]))
            if pull is None:
                return self.error(404, "Not Found")
            sub = match[2] or ""
            if sub == "" and method == "GET":
                return self.reply(200, self.render(repo, pull, single=True))
            if sub == "" and method == "PATCH":
                for field in ("title", "body", "state", "base"):
                    if field in (body or {}):
                        pull[field] = body[field]
                pull["updated_at"] = now()
                return self.reply(200, self.render(repo, pull, single=True))
            if sub == "/requested_reviewers" and method == "POST":
                for login in (body or {}).get("reviewers", []):
                    if login == pull["user"]:
                        return self.error(422, "Reviews may only be requested from collaborators. One or more of the users or "
                                          "teams you specified is not a collaborator of the %s repository." % repo)
                    if login not in pull["requested_reviewers"]:
                        pull["requested_reviewers"].append(login)
                return self.reply(201, self.render(repo, pull))
            if sub == "/reviews" and method == "GET":
                return self.paginate(REVIEWS.get((repo, pull["number"]), []), query)
            if sub == "/reviews" and method == "POST":
                events = {"APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED", "COMMENT": "COMMENTED"}
                review = {"id": next_id(), "user": user((body or {}).get("user", "reviewer")), "body": (body or {}).get("body", ""),
                          "state": events.get((body or {}).get("event"), "PENDING"), "submitted_at": now(),
                          "commit_id": self.head_sha(repo, pull), "author_association": "MEMBER"}
                REVIEWS.setdefault((repo, pull["number"]), []).append(review)
                return self.reply(200, review)
        match = re.fullmatch(r"/commits/(.+)/(status|check-runs)", rest)
        if match and method == "GET":
            sha = self.resolve(repo, urllib.parse.unquote(match[1]))
            if sha is None:
                return self.error(422, f"No commit found for SHA: {match[1]}")
            if match[2] == "status":
                return self.combined_status(repo, sha)
            runs = CHECK_RUNS.get((repo, sha), [])
            return self.reply(200, {"total_count": len(runs), "check_runs": runs})
        match = re.fullmatch(r"/statuses/([0-9a-f]{40})", rest)
        if match and method == "POST":
            status = {"id": next_id(), "state": body["state"], "context": body.get("context", "default"),
                      "description": body.get("description"), "target_url": body.get("target_url"),
                      "created_at": now(), "updated_at": now(), "creator": user(LOGIN)}
            STATUSES.setdefault((repo, match[1]), []).insert(0, status)
            return self.reply(201, status)
        if rest == "/check-runs" and method == "POST":
            run = {"id": next_id(), "name": body["name"], "head_sha": body["head_sha"], "status": body.get("status", "queued"),
                   "conclusion": body.get("conclusion"), "started_at": now(),
                   "completed_at": now() if body.get("conclusion") else None,
                   "html_url": f"{self.base_url()}/{repo}/runs/{COUNTER['id']}", "details_url": body.get("details_url"),
                   "output": dict({"title": None, "summary": None, "annotations_count": 0}, **body.get("output", {})),
                   "app": {"slug": "github-actions", "name": "GitHub Actions"}}
            CHECK_RUNS.setdefault((repo, body["head_sha"]), []).append(run)
            return self.reply(201, run)
        return self.error(404, "Not Found")

    def resolve(self, repo, ref):
        return git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")

    def head_sha(self, repo, pull):
        return branch_sha(repo, pull["head"]) or pull["head_sha"]

    def render(self, repo, pull, single=False):
        owner = repo.split("/")[0]
        api = f"{self.base_url()}/repos/{repo}/pulls/{pull['number']}"
        repository = {"full_name": repo, "name": repo.split("/")[1], "owner": user(owner), "private": True}
        head_sha = self.head_sha(repo, pull)
        base_sha = branch_sha(repo, pull["base"]) or ""
        document = {
            "url": api, "id": pull["id"], "node_id": f"PR_{pull['id']}",
            "html_url": f"{self.base_url()}/{repo}/pull/{pull['number']}",
            "diff_url": f"{self.base_url()}/{repo}/pull/{pull['number']}.diff",
            "issue_url": f"{self.base_url()}/repos/{repo}/issues/{pull['number']}",
            "statuses_url": f"{self.base_url()}/repos/{repo}/statuses/{head_sha}",
            "number": pull["number"], "state": pull["state"], "locked": False, "title": pull["title"],
            "user": user(pull["user"]), "body": pull["body"], "labels": [], "milestone": None,
            "created_at": pull["created_at"], "updated_at": pull["updated_at"], "closed_at": None, "merged_at": None,
            "merge_commit_sha": None, "assignee": None, "assignees": [],
            "requested_reviewers": [user(login) for login in pull["requested_reviewers"]], "requested_teams": [],
            "head": {"label": f"{owner}:{pull['head']}", "ref": pull["head"], "sha": head_sha, "user": user(owner), "repo": repository},
            "base": {"label": f"{owner}:{pull['base']}", "ref": pull["base"], "sha": base_sha, "user": user(owner), "repo": repository},
            "author_association": "MEMBER", "auto_merge": None, "draft": pull["draft"], "active_lock_reason": None,
        }
        if single:
            behind = git(repo, "rev-list", "--count", f"{head_sha}..{base_sha}") if head_sha and base_sha else None
            mergeable = git(repo, "merge-tree", "--write-tree", base_sha, head_sha) is not None if head_sha and base_sha else None
            document.update({"merged": False, "mergeable": mergeable, "rebaseable": mergeable,
                             "mergeable_state": "dirty" if mergeable is False else "draft" if pull["draft"] else
                             "behind" if behind not in (None, "0") else "clean",
                             "merged_by": None, "comments": 0, "review_comments": 0, "maintainer_can_modify": True,
                             "commits": int(git(repo, "rev-list", "--count", f"{base_sha}..{head_sha}") or 0),
                             "additions": 0, "deletions": 0, "changed_files": 0})
        return document

    def paginate(self, items, query, extra=None):
        per_page = max(1, min(100, int(query.get("per_page", 30))))
        page = max(1, int(query.get("page", 1)))
        chunk = items[(page - 1) * per_page: page * per_page]
        last = max(1, -(-len(items) // per_page))
        headers = {}
        if last > 1:
            path = urllib.parse.urlsplit(self.path).path
            def link(number):
                return f"<{self.base_url()}{path}?{urllib.parse.urlencode(dict(query, page=number))}>"
            links = []
            if page < last:
                links += [f'{link(page + 1)}; rel="next"', f'{link(last)}; rel="last"']
            if page > 1:
                links += [f'{link(1)}; rel="first"', f'{link(page - 1)}; rel="prev"']
            headers["Link"] = ", ".join(links)
        return self.reply(200, chunk, headers)

    def list_pulls(self, repo, query):
        pulls = sorted(PULLS.get(repo, {}).values(), key=lambda pull: pull["number"], reverse=True)
        state = query.get("state", "open")
        if state != "all":
            pulls = [pull for pull in pulls if pull["state"] == state]
        if "head" in query:
            owner, _, branch = query["head"].partition(":")
            pulls = [pull for pull in pulls if owner == repo.split("/")[0] and pull["head"] == branch]
        if "base" in query:
            pulls = [pull for pull in pulls if pull["base"] == query["base"]]
        return self.paginate([self.render(repo, pull) for pull in pulls], query)

    def create_pull(self, repo, body):
        missing = [field for field in ("head", "base") if not body.get(field)]
        if not body.get("title"):
            missing.insert(0, "title")
        if missing:
            return self.error(422, "Validation Failed",
                              [{"resource": "PullRequest", "field": field, "code": "missing_field"} for field in missing])
        owner = repo.split("/")[0]
        head = body["head"].split(":", 1)[1] if ":" in body["head"] else body["head"]
        base = body["base"]
        invalid = [field for field, branch in (("base", base), ("head", head)) if branch_sha(repo, branch) is None]
        if invalid:
            return self.error(422, "Validation Failed",
                              [{"resource": "PullRequest", "field": field, "code": "invalid"} for field in invalid])
        for pull in PULLS.get(repo, {}).values():
            if pull["state"] == "open" and pull["head"] == head and pull["base"] == base:
                return self.error(422, "Validation Failed", [{"resource": "PullRequest", "code": "custom",
                                                              "message": f"A pull request already exists for {owner}:{head}."}])
        if git(repo, "rev-list", "--count", f"{base}..{head}") == "0":
            return self.error(422, "Validation Failed", [{"resource": "PullRequest", "code": "custom",
                                                          "message": f"No commits between {base} and {head}"}])
        pulls = PULLS.setdefault(repo, {})
        number = max([0] + [number for number in pulls]) + 1
        stamp = now()
        pull = {"id": next_id(), "number": number, "state": "open", "title": body["title"], "body": body.get("body"),
                "head": head, "base": base, "head_sha": branch_sha(repo, head), "draft": bool(body.get("draft", False)),
                "user": LOGIN, "requested_reviewers": [], "created_at": stamp, "updated_at": stamp}
        pulls[number] = pull
        return self.reply(201, self.render(repo, pull), {"Location": f"{self.base_url()}/repos/{repo}/pulls/{number}"})

    def combined_status(self, repo, sha):
        latest = {}
        for status in STATUSES.get((repo, sha), []):   # newest first
            latest.setdefault(status["context"], status)
        statuses = list(latest.values())
        states = {status["state"] for status in statuses}
        state = "failure" if states & {"error", "failure"} else "pending" if not statuses or "pending" in states else "success"
        return self.reply(200, {"state": state, "statuses": statuses, "sha": sha, "total_count": len(statuses),
                                "repository": {"full_name": repo},
                                "commit_url": f"{self.base_url()}/repos/{repo}/commits/{sha}",
                                "url": f"{self.base_url()}/repos/{repo}/commits/{sha}/status"})


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
port = server.server_address[1]
serve({"port": port, "url": f"http://127.0.0.1:{port}"}, server, forever=arguments.forever)
