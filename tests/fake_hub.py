"""A tiny imitation of the Hugging Face Hub's download endpoints, on 127.0.0.1, for tests.

It speaks just enough of the protocol for ``huggingface_hub`` (point it here with
``HF_ENDPOINT``):

- ``GET /api/models/{repo}[/revision/{rev}]`` -> ``{"id", "sha", "siblings": [{"rfilename"}]}``
- ``GET /api/models/{repo}/tree/{rev}/{path}`` -> ``[]`` (the reference asks for chat templates)
- ``HEAD|GET /{repo}/resolve/{rev}/{file}`` with ``X-Repo-Commit``, ``ETag``, ``Content-Length``,
  ``Accept-Ranges`` and ``Range`` requests (206 + ``Content-Range``) so a cut-off download can resume
- errors with ``X-Error-Code`` (``RepoNotFound``, ``RevisionNotFound``, ``EntryNotFound``)
- legacy names (``bert-base-uncased``) answered with a relative 307 to the canonical id, as the Hub does.

Every repo is a list of commits (dicts of file name -> bytes); branches point at commits.
``cut_off[filename] = n`` makes the next n GETs of that file stop half-way and drop the connection.
"""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, unquote, urlsplit


class FakeHub:
    def __init__(self) -> None:
        self.commits: dict[str, dict[str, dict[str, bytes]]] = {}  # repo -> commit -> files
        self.refs: dict[str, dict[str, str]] = {}  # repo -> branch -> commit
        self.aliases: dict[str, str] = {}  # legacy name -> canonical id
        self.cut_off: dict[str, int] = {}
        self.log: list[tuple[str, str, str | None]] = []  # (method, path, Range header) of every request
        self._server: ThreadingHTTPServer | None = None
        self.url = ""

    # --- content ---
    def push(self, repo: str, files: dict[str, bytes], branch: str = "main") -> str:
        """Make a new commit of `repo` holding exactly `files`; returns its 40-hex sha."""
        n = sum(len(c) for c in self.commits.values()) + 1
        sha = hashlib.sha1(f"{repo}@{n}".encode() + json.dumps(sorted(files)).encode()).hexdigest()
        self.commits.setdefault(repo, {})[sha] = dict(files)
        self.refs.setdefault(repo, {})[branch] = sha
        return sha

    def push_folder(self, repo: str, folder, branch: str = "main", **extra: bytes) -> str:
        from pathlib import Path

        files = {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(Path(folder).rglob("*")) if p.is_file()}
        files.update(extra)
        return self.push(repo, files, branch)

    def _lookup(self, repo: str, rev: str) -> tuple[str, dict[str, bytes]] | None:
        commits = self.commits.get(repo, {})
        sha = self.refs.get(repo, {}).get(rev, rev)
        if sha not in commits:  # a short commit hash, as the Hub accepts
            matches = [c for c in commits if len(rev) >= 7 and c.startswith(rev)]
            sha = matches[0] if len(matches) == 1 else sha
        return (sha, commits[sha]) if sha in commits else None

    # --- server ---
    def start(self) -> str:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_HEAD(self):
                hub._handle(self, head=True)

            def do_GET(self):
                hub._handle(self, head=False)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # --- request handling ---
    def _handle(self, h: BaseHTTPRequestHandler, head: bool) -> None:
        path = unquote(urlsplit(h.path).path)
        self.log.append(("HEAD" if head else "GET", path, h.headers.get("Range")))
        if path.startswith("/api/models/"):
            return self._api(h, path[len("/api/models/"):])
        if "/resolve/" in path:
            repo, rest = path.lstrip("/").split("/resolve/", 1)
            rev, _, filename = rest.partition("/")
            return self._resolve(h, repo, rev, filename, head)
        self._error(h, 404, "RepoNotFound")

    def _redirect(self, h: BaseHTTPRequestHandler, location: str) -> None:
        h.send_response(307)
        h.send_header("Location", location)  # relative, as the Hub's rename redirects
        h.send_header("Content-Length", "0")
        h.end_headers()

    def _error(self, h: BaseHTTPRequestHandler, status: int, code: str, commit: str | None = None) -> None:
        body = json.dumps({"error": code}).encode()
        h.send_response(status)
        h.send_header("X-Error-Code", code)
        h.send_header("X-Error-Message", code)
        if commit:
            h.send_header("X-Repo-Commit", commit)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(body)

    def _json(self, h: BaseHTTPRequestHandler, data) -> None:
        body = json.dumps(data).encode()
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def _api(self, h: BaseHTTPRequestHandler, rest: str) -> None:
        for marker in ("/revision/", "/tree/"):
            if marker in rest:
                repo, tail = rest.split(marker, 1)
                break
        else:
            repo, marker, tail = rest.rstrip("/"), "/revision/", "main"
        if repo in self.aliases:
            return self._redirect(h, f"/api/models/{self.aliases[repo]}{marker}{quote(tail)}")
        if repo not in self.commits:
            return self._error(h, 404, "RepoNotFound")
        if marker == "/tree/":
            return self._json(h, [])
        found = self._lookup(repo, tail)
        if found is None:
            return self._error(h, 404, "RevisionNotFound")
        sha, files = found
        self._json(h, {"id": repo, "modelId": repo, "sha": sha, "private": False,
                       "siblings": [{"rfilename": f} for f in sorted(files)]})

    def _resolve(self, h: BaseHTTPRequestHandler, repo: str, rev: str, filename: str, head: bool) -> None:
        if repo in self.aliases:
            return self._redirect(h, f"/{self.aliases[repo]}/resolve/{quote(rev, safe='')}/{quote(filename)}")
        if repo not in self.commits:
            return self._error(h, 404, "RepoNotFound")
        found = self._lookup(repo, rev)
        if found is None:
            return self._error(h, 404, "RevisionNotFound")
        sha, files = found
        if filename not in files:
            return self._error(h, 404, "EntryNotFound", commit=sha)
        data = files[filename]
        start, status = 0, 200
        rng = h.headers.get("Range")
        if rng and rng.startswith("bytes=") and not head:
            start = int(rng[len("bytes="):].split("-")[0] or 0)
            status = 206
        h.send_response(status)
        h.send_header("X-Repo-Commit", sha)
        h.send_header("ETag", '"' + hashlib.sha256(data).hexdigest() + '"')
        h.send_header("Accept-Ranges", "bytes")
        h.send_header("Content-Length", str(len(data) - start))
        if status == 206:
            h.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        h.end_headers()
        if head:
            return
        body = data[start:]
        if self.cut_off.get(filename, 0) > 0:
            self.cut_off[filename] -= 1
            h.wfile.write(body[: len(body) // 2])
            h.wfile.flush()
            h.close_connection = True
            h.connection.shutdown(2)  # drop the connection mid-body
            return
        h.wfile.write(body)
