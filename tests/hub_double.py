#!/usr/bin/python3
"""hub_double.py - a stand-in for the Hugging Face Hub, for tests only.

Python standard library only.  Listens on 127.0.0.1 on a free port, prints
the port on the first line of stdout, and serves the repositories found
under --root (the first folder on each path that holds a regular file is a
repo; its path relative to --root is the repo id, e.g. acme/tiny):

  GET  /api/models/{id}/revision/{rev}   {"id", "sha", "siblings": [{"rfilename"}]}
  HEAD|GET /{id}/resolve/{rev}/{file}    X-Repo-Commit, ETag; LFS files answer
                                         302 to /cdn/{sha256}?file=... with
                                         X-Linked-Etag and X-Linked-Size
  GET  /cdn/{sha256}?file=...            the bytes (Range supported); with
                                         --cdn-host the redirect names another host

Revisions: "main", "v1.0" and the commit hash (SHA-1 of the repo's files).
A repo holding ".moved" (a repo id) was renamed: every request for it is
answered 307 with the same path under the new id.  A repo holding ".token" requires "Authorization: Bearer <its content>"
(401 otherwise).  A repo holding ".siblings.json" lists that JSON array of
names instead of its files.  Dot files are never listed.

Control (never counted):
  POST /_fault  {"kind", "match", "times", ...}  add a fault for requests whose
                path (with query) contains "match" (and method "method" if given):
      status  {"code"}                 answer that HTTP status
      drop    {"at"}                   send "at" body bytes, then cut the connection
      corrupt {}                       flip every byte of the body at offset 1000
      slow    {"chunk", "delay"}       send the body in chunks with a delay
      stall   {"at", "delay"}          send "at" bytes, wait, then the rest
      norange {}                       ignore the Range header
      header  {"name", "value"}        replace a response header
  POST /_reset                         clear faults and the request log
  GET  /_stats                         {"total": n, "requests":
                                         [[method, path, range, has_authorization], ...]}
"""
import argparse
import hashlib
import json
import os
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LFS_SUFFIXES = (".safetensors", ".bin", ".h5", ".msgpack", ".onnx", ".pt")
REVISIONS = ("main", "v1.0")


class Repo:
    def __init__(self, repo_id, folder):
        self.id = repo_id
        self.folder = folder
        self.files = {}  # relative path -> bytes
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames.sort()
            for name in sorted(filenames):
                full = os.path.join(dirpath, name)
                rel = os.path.relpath(full, folder).replace(os.sep, "/")
                with open(full, "rb") as f:
                    self.files[rel] = f.read()
        h = hashlib.sha1()
        for rel in sorted(self.files):
            h.update(rel.encode() + b"\0" + self.files[rel])
        self.commit = h.hexdigest()
        moved = self.files.get(".moved")
        self.moved = moved.decode().strip() if moved is not None else None
        token = self.files.get(".token")
        self.token = token.decode().strip() if token is not None else None
        listing = self.files.get(".siblings.json")
        if listing is not None:
            self.siblings = json.loads(listing)
        else:
            self.siblings = [p for p in self.files if not p.startswith(".")]

    def visible(self, path):
        return path in self.files and not path.split("/")[-1].startswith(".")


def find_repos(root):
    repos = {}
    for dirpath, dirnames, filenames in os.walk(root):
        if dirpath != root and any(os.path.isfile(os.path.join(dirpath, f)) for f in filenames):
            rel = os.path.relpath(dirpath, root).replace(os.sep, "/")
            repos[rel] = Repo(rel, dirpath)
            dirnames[:] = []  # a repo's subfolders belong to it
        dirnames.sort()
    return repos


class State:
    def __init__(self, root):
        self.root = root
        self.repos = find_repos(root)
        self.lock = threading.Lock()
        self.faults = []
        self.log = []
        self.blobs = {}
        for repo in self.repos.values():
            for data in repo.files.values():
                self.blobs[hashlib.sha256(data).hexdigest()] = data

    def take_fault(self, method, path):
        """The first matching fault (its count is used up), or None."""
        with self.lock:
            for f in self.faults:
                if f["times"] > 0 and f["match"] in path and f.get("method", method) == method:
                    f["times"] -= 1
                    return dict(f)
        return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "hub-double"

    def log_message(self, fmt, *args):  # quiet
        pass

    # ---------------------------------------------------------------- helpers
    def reply(self, code, body=b"", headers=None, ctype="application/json"):
        fault_headers = getattr(self, "fault_headers", {})
        self.send_response(code)
        hdrs = {"Content-Type": ctype, "Content-Length": str(len(body))}
        hdrs.update(headers or {})
        hdrs.update(fault_headers)
        for k, v in hdrs.items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def error(self, code, message, code_name=None):
        headers = {"X-Error-Message": message}
        if code_name:
            headers["X-Error-Code"] = code_name
        self.reply(code, json.dumps({"error": message}).encode(), headers)

    def body_json(self):
        n = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(n) or b"{}")

    def serve_bytes(self, data, headers, fault):
        """Send data honouring Range, with any body fault applied."""
        rng = self.headers.get("Range")
        start = 0
        code = 200
        if rng and not (fault and fault["kind"] == "norange"):
            spec = rng.strip().split("=", 1)[1]
            first = spec.split("-", 1)[0]
            start = int(first) if first else 0
            if start >= len(data):
                self.reply(416, b"", {"Content-Range": "bytes */%d" % len(data)})
                return
            code = 206
            headers["Content-Range"] = "bytes %d-%d/%d" % (start, len(data) - 1, len(data))
        body = data[start:]
        kind = fault["kind"] if fault else None
        if kind == "corrupt":
            b = bytearray(body)
            for i in range(min(1000, len(b)), len(b), 4096):
                b[i] ^= 0xFF
            if len(b) and len(b) <= 1000:
                b[-1] ^= 0xFF
            body = bytes(b)
        self.send_response(code)
        headers.setdefault("Content-Type", "application/octet-stream")
        headers["Content-Length"] = str(len(body))
        headers["Accept-Ranges"] = "bytes"
        headers.update(getattr(self, "fault_headers", {}))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        if self.command == "HEAD":
            return
        if kind == "drop":
            at = min(int(fault.get("at", len(body) // 2)), len(body))
            self.wfile.write(body[:at])
            self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if kind == "slow":
            chunk = int(fault.get("chunk", 8192))
            delay = float(fault.get("delay", 0.05))
            for i in range(0, len(body), chunk):
                self.wfile.write(body[i:i + chunk])
                self.wfile.flush()
                time.sleep(delay)
            return
        if kind == "stall":
            at = min(int(fault.get("at", len(body) // 2)), len(body))
            self.wfile.write(body[:at])
            self.wfile.flush()
            time.sleep(float(fault.get("delay", 3)))
            try:
                self.wfile.write(body[at:])
            except OSError:
                pass
            return
        self.wfile.write(body)

    # ---------------------------------------------------------------- routes
    def handle_any(self):
        st = self.server.state
        path = self.path
        if path.startswith("/_"):
            return self.control(path)
        with st.lock:
            st.log.append([self.command, path, self.headers.get("Range") or "",
                           self.headers.get("Authorization") is not None])
        fault = st.take_fault(self.command, path)
        self.fault_headers = {}
        if fault and fault["kind"] == "header":
            self.fault_headers = {fault["name"]: fault["value"]}
            fault = None
        if fault and fault["kind"] == "status":
            return self.error(int(fault["code"]), "injected fault")
        url = urllib.parse.urlsplit(path)
        parts = [urllib.parse.unquote(p) for p in url.path.split("/")[1:]]
        for repo in st.repos.values():
            if repo.moved:
                for prefix in ("/api/models/%s/" % repo.id, "/%s/" % repo.id):
                    if path.startswith(prefix):
                        new = prefix.replace(repo.id, repo.moved) + path[len(prefix):]
                        return self.reply(307, b"", {"Location": new})
        if parts[:2] == ["api", "models"]:
            return self.api(parts[2:])
        if parts[:1] == ["cdn"] and len(parts) == 2:
            data = st.blobs.get(parts[1])
            if data is None:
                return self.error(404, "no such object")
            return self.serve_bytes(data, {}, fault)
        # /{id}/resolve/{rev}/{file...}
        for n in (1, 2):
            if len(parts) > n + 2 and parts[n] == "resolve":
                repo = st.repos.get("/".join(parts[:n]))
                if repo:
                    return self.resolve(repo, parts[n + 1], "/".join(parts[n + 2:]), fault)
        return self.error(404, "Repository not found", "RepoNotFound")

    def authorized(self, repo):
        if repo.token is None:
            return True
        return self.headers.get("Authorization") == "Bearer " + repo.token

    def revision_ok(self, repo, rev):
        return rev in REVISIONS or rev == repo.commit

    def api(self, rest):
        st = self.server.state
        if len(rest) < 3 or rest[-2] != "revision":
            return self.error(404, "not found")
        repo = st.repos.get("/".join(rest[:-2]))
        if repo is None:
            return self.error(404, "Repository not found", "RepoNotFound")
        if not self.authorized(repo):
            return self.error(401, "Invalid credentials", "GatedRepo")
        if not self.revision_ok(repo, rest[-1]):
            return self.error(404, "Revision not found", "RevisionNotFound")
        info = {"id": repo.id, "modelId": repo.id, "sha": repo.commit,
                "siblings": [{"rfilename": p} for p in repo.siblings]}
        self.reply(200, json.dumps(info).encode())

    def resolve(self, repo, rev, file, fault):
        if not self.authorized(repo):
            return self.error(401, "Invalid credentials", "GatedRepo")
        if not self.revision_ok(repo, rev):
            return self.error(404, "Revision not found", "RevisionNotFound")
        if not repo.visible(file):
            return self.error(404, "Entry not found", "EntryNotFound")
        data = repo.files[file]
        headers = {"X-Repo-Commit": repo.commit}
        if file.endswith(LFS_SUFFIXES):
            sha = hashlib.sha256(data).hexdigest()
            headers.update({
                "X-Linked-Etag": '"%s"' % sha,
                "X-Linked-Size": str(len(data)),
                "ETag": '"%s"' % hashlib.sha1(data).hexdigest(),
                "Location": "%s/cdn/%s?file=%s" % (self.server.cdn, sha, urllib.parse.quote(file)),
            })
            return self.reply(302, b"", headers)
        blob = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
        headers["ETag"] = 'W/"%s"' % blob
        return self.serve_bytes(data, headers, fault)

    def control(self, path):
        st = self.server.state
        if path == "/_fault" and self.command == "POST":
            f = self.body_json()
            f.setdefault("times", 1)
            f.setdefault("match", "")
            with st.lock:
                st.faults.append(f)
            return self.reply(200, b"{}")
        if path == "/_reset" and self.command == "POST":
            with st.lock:
                st.faults = []
                st.log = []
            return self.reply(200, b"{}")
        if path == "/_stats":
            with st.lock:
                body = json.dumps({"total": len(st.log), "requests": st.log}).encode()
            return self.reply(200, body)
        return self.error(404, "unknown control path")

    do_GET = do_HEAD = do_POST = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # clients hanging up mid-answer are part of the tests
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", required=True, help="folder holding the served repositories")
    ap.add_argument("--port", type=int, default=0, help="port (0: any free one)")
    ap.add_argument("--cdn-host", help="send LFS redirects to http://HOST:PORT (another host name"
                    " for this server, e.g. localhost) instead of a relative path")
    args = ap.parse_args()
    server = Server(("127.0.0.1", args.port), Handler)
    server.state = State(args.root)
    port = server.server_address[1]
    server.cdn = "http://%s:%d" % (args.cdn_host, port) if args.cdn_host else ""
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
