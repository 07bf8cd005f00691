"""`build.py serve`: build, serve site/ on 127.0.0.1, rebuild on every save and reload the browser.

The only module that imports livereload (for its browser script and websocket). Saves are noticed by
polling every 50 ms; a burst of saves makes one rebuild. A failed rebuild keeps the last good pages on
disk and shows the errors above every page until the content is fixed.
"""

from __future__ import annotations

import html
import mimetypes
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from livereload.handlers import LiveReloadHandler, LiveReloadJSHandler
from tornado import httpserver, ioloop, netutil, web

from .cache import Cache
from .content import Project
from .errors import BuildFailed
from .output import OutputRefused
from .pipeline import build, update_search_index
from .search import Plan

CODE_DIR = Path(__file__).resolve().parent
ERRORS_CSS = CODE_DIR / "serve_assets" / "errors.css"
SERVE_PREFIX = "/__serve__/"


@dataclass
class ServeState:
    """What the server knows of the last build: its errors, if it failed."""

    errors: list[str] = field(default_factory=list)


POLL_SECONDS = 0.02
"""How often the watched folders are checked for saves, at least; large folders are checked less often."""
POLL_SHARE = 0.2
"""The largest share of one core that checking for saves may take."""


class FolderWatcher:
    """Notices files added, changed or removed under some folders, by comparing their stat between polls."""

    def __init__(self, folders: list[Path], suffix: str | None = None):
        self.folders = folders
        self.suffix = suffix
        self.snapshot = self._scan()

    def poll(self) -> bool:
        """Return whether anything changed since the last poll."""
        current = self._scan()
        changed = current != self.snapshot
        self.snapshot = current
        return changed

    def _scan(self) -> dict[str, tuple[int, int]]:
        found: dict[str, tuple[int, int]] = {}
        stack = [str(folder) for folder in self.folders if folder.is_dir()]
        while stack:
            try:
                entries = list(os.scandir(stack.pop()))
            except OSError:
                continue  # a folder removed while we looked
            for entry in entries:
                # Editors leave hidden swap files and backups; they are not content.
                if entry.name.startswith(".") or entry.name.endswith("~"):
                    continue
                try:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
                    elif self.suffix is None or entry.name.endswith(self.suffix):
                        info = entry.stat()
                        found[entry.path] = (info.st_mtime_ns, info.st_size)
                except OSError:
                    continue
        return found


def serve(
    project: Project, *, host: str, port: int, base_url: str | None, allow_missing: bool, search: bool = True
) -> int:
    """Build, then serve and rebuild on every save until interrupted; return the exit code."""
    state = ServeState()
    base_path = ["/"]
    # One cache for the whole run: a rebuild never reads it from disk again.
    cache = Cache.at(project.root)

    def rebuild() -> None:
        started = time.perf_counter()
        try:
            result = build(
                project,
                base_url=base_url,
                allow_missing=allow_missing,
                search=search,
                index_now=False,
                cache=cache,
                save=False,
            )
        except (BuildFailed, OutputRefused) as failed:
            state.errors = [str(error) for error in getattr(failed, "errors", [failed])]
            print("\n".join(state.errors), file=sys.stderr, flush=True)
            print(
                f"rebuild failed: {len(state.errors)} error(s); serving the last good pages",
                file=sys.stderr,
                flush=True,
            )
            return
        state.errors = []
        elapsed = (time.perf_counter() - started) * 1000
        report = result.report
        print(f"rebuilt in {elapsed:.0f} ms: {len(report.written)} written, {len(report.removed)} removed", flush=True)
        base_path[0] = urlsplit(result.site.base_url).path or "/"
        indexer.plan = result.search_plan

    # Watch from before the first build: a save made while it runs must not go unnoticed.
    content = FolderWatcher([project.content, project.layouts, project.root / "seeds"])
    code = FolderWatcher([CODE_DIR], suffix=".py")
    indexer = SearchIndexer(project.output)
    rebuild()
    cache.save()
    if search and not state.errors:
        indexer.request()
    sockets = netutil.bind_sockets(port, address=host)
    actual_port = sockets[0].getsockname()[1]
    site = dict(root=project.output.resolve(), state=state, base_path=base_path, port=actual_port)
    application = web.Application(
        [
            (r"/livereload", LiveReloadHandler),
            (r"/livereload.js", LiveReloadJSHandler),
            (r"/.*", SiteHandler, site),
        ]
    )
    httpserver.HTTPServer(application).add_sockets(sockets)

    last_change = [None]
    looking = [0.0]

    def tick() -> None:
        check()
        # Looking at 10,000 files takes ~40 ms: poll so that watching never takes more than POLL_SHARE of a
        # core; but once a save is seen, look again soon, so that its rebuild waits only for a quiet moment.
        pause = POLL_SECONDS if last_change[0] is not None else max(POLL_SECONDS, looking[0] / POLL_SHARE)
        loop.call_later(pause, tick)

    def check() -> None:
        started = time.perf_counter()
        if code.poll():
            # New code cannot be imported into a running process reliably: start afresh.
            print("code changed: restarting the server", flush=True)
            os.execv(sys.executable, [sys.executable, *_same_port(sys.argv, actual_port)])
        now = time.monotonic()
        changed = content.poll()
        looking[0] = time.perf_counter() - started
        if changed:
            # Wait for one quiet poll, so that a burst of saves makes one rebuild of the last version.
            last_change[0] = now
            return
        if last_change[0] is not None:
            last_change[0] = None
            rebuild()
            _reload_browsers()
            # Saved once the browsers are told, so that the next `build` in a new process starts warm.
            cache.save()
            if search and not state.errors:
                indexer.request()

    loop = ioloop.IOLoop.current()
    loop.call_later(POLL_SECONDS, tick)
    print(
        f"serving {project.shown(project.output)}/ at http://{host}:{actual_port}{base_path[0]} (Ctrl+C stops)",
        flush=True,
    )
    try:
        ioloop.IOLoop.current().start()
    except KeyboardInterrupt:
        print("stopped", flush=True)
    return 0


class SearchIndexer:
    """Brings the search index up to date in a background thread, after the pages are written and shown.

    Requests made while it works are folded into one more run; it never indexes two builds at once.
    """

    def __init__(self, output: Path):
        self.output = output
        self.plan: Plan | None = None
        """The pages of the last build and their digests (read from the output folder when unknown)."""
        self.lock = threading.Lock()
        self.wanted = False
        self.running = False

    def request(self) -> None:
        """Ask for the index to match the pages now on disk."""
        with self.lock:
            self.wanted = True
            if self.running:
                return
            self.running = True
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while True:
            with self.lock:
                if not self.wanted:
                    self.running = False
                    return
                self.wanted = False
                plan = self.plan
            started = time.perf_counter()
            try:
                _, report, _ = update_search_index(self.output, plan)
            except (BuildFailed, OSError) as err:
                print(f"search index not updated: {err}", file=sys.stderr, flush=True)
                continue
            elapsed = (time.perf_counter() - started) * 1000
            print(f"search index updated in {elapsed:.0f} ms: {len(report.written)} written", flush=True)


def _same_port(argv: list[str], port: int) -> list[str]:
    # A restart keeps the port it was given (even --port 0), so that open pages reconnect to it.
    argv = list(argv)
    if "--port" in argv and argv.index("--port") + 1 < len(argv):
        argv[argv.index("--port") + 1] = str(port)
    else:
        argv += ["--port", str(port)]
    return argv


def _reload_browsers() -> None:
    # livereload's own reload_waiters() expects its file watcher, which we do not use.
    message = {"command": "reload", "path": "*", "liveCSS": False, "liveImg": False}
    for waiter in list(LiveReloadHandler.waiters):
        try:
            waiter.write_message(message)
        except Exception:  # noqa: BLE001 (a closed browser tab must not stop the server)
            LiveReloadHandler.waiters.discard(waiter)


class SiteHandler(web.RequestHandler):
    """Serves files from site/ only: no path leaves it, directories serve index.html, misses serve 404.html."""

    def initialize(self, root: Path, state: ServeState, base_path: list[str], port: int) -> None:
        self.root = root
        self.state = state
        self.base_path = base_path[0]
        self.port = port

    def head(self) -> None:
        self.get(include_body=False)

    def get(self, include_body: bool = True) -> None:
        raw_path = self.request.path
        if raw_path == SERVE_PREFIX + "errors.css":
            return self._send(200, ERRORS_CSS.read_bytes(), "text/css", include_body)
        target = self._resolve(raw_path)
        if target is not None and target.is_dir():
            if not raw_path.endswith("/"):
                return self.redirect(raw_path + "/", permanent=False)
            target = target / "index.html"
        if target is None or not target.is_file():
            return self._send(404, self._not_found_page(raw_path), "text/html", include_body)
        content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        data = target.read_bytes()
        if content_type == "text/html":
            data = self._decorate(data)
        return self._send(200, data, content_type, include_body)

    def _resolve(self, raw_path: str) -> Path | None:
        if not raw_path.startswith(self.base_path):
            return None
        relative = unquote(raw_path[len(self.base_path) :])
        parts = relative.split("/")
        if "\x00" in relative or "\\" in relative or any(part in (".", "..") for part in parts):
            return None
        target = (self.root / relative).resolve()
        if target != self.root and self.root not in target.parents:
            return None
        return target

    def _not_found_page(self, raw_path: str) -> bytes:
        first = raw_path[len(self.base_path) :].split("/", 1)[0] if raw_path.startswith(self.base_path) else ""
        for candidate in (self.root / first / "404.html" if first else None, self.root / "404.html"):
            if candidate is not None and candidate.is_file() and self.root in candidate.resolve().parents:
                return self._decorate(candidate.read_bytes())
        return self._decorate(b"<!DOCTYPE html><html><head><title>404</title></head><body><h1>404</h1></body></html>")

    def _decorate(self, data: bytes) -> bytes:
        script = f'<script src="/livereload.js?port={self.port}" defer></script>'.encode()
        data = data.replace(b"</head>", script + b"</head>", 1)
        if self.state.errors:
            items = "".join(f"<li>{html.escape(line)}</li>" for line in self.state.errors)
            banner = (
                f'<link rel="stylesheet" href="{SERVE_PREFIX}errors.css">'
                f'<section class="explainer-build-errors" role="alert"><h2>Build failed: {len(self.state.errors)} error(s). '
                f"These are the last good pages.</h2><ol>{items}</ol></section>"
            ).encode()
            start = data.find(b"<body")
            end = data.find(b">", start) + 1 if start >= 0 else 0
            data = data[:end] + banner + data[end:]
        return data

    def _send(self, status: int, data: bytes, content_type: str, include_body: bool) -> None:
        self.set_status(status)
        self.set_header("Content-Type", content_type + ("; charset=utf-8" if content_type.startswith("text/") else ""))
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Content-Type-Options", "nosniff")
        if include_body:
            self.write(data)
        self.finish()
