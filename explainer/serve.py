"""`build.py serve`: build, serve site/ on 127.0.0.1, rebuild on every save and reload the browser.

The only module that imports livereload (for its browser script and websocket) and watchfiles (which
tells of saves). A burst of saves makes one rebuild; the pages of edited entries are written first
(quick.py), and each browser reloads when the page it shows was rewritten. Rebuilds run one at a time
on a thread of their own, so that pages are served while one runs. A failed rebuild keeps the last good
pages on disk and shows the errors above every page until the content is fixed.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import gc
import html
import json
import mimetypes
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import watchfiles
from livereload.handlers import LiveReloadHandler, LiveReloadJSHandler
from tornado import httpserver, ioloop, netutil, web

from .cache import Cache
from .content import Project
from .errors import BuildFailed
from .ignored import ignored_name
from .model import SiteConfig
from .output import OutputRefused, WriteReport
from .pipeline import BuildResult, build, environment_for, keep_model, update_search_index
from .quick import write_edited_pages
from .search import Plan

CODE_DIR = Path(__file__).resolve().parent
ERRORS_CSS = CODE_DIR / "serve_assets" / "errors.css"
SERVE_PREFIX = "/__serve__/"


@dataclass
class ServeState:
    """What the server knows of the last build: its errors, if it failed."""

    errors: list[str] = field(default_factory=list)


PAGE_ASSETS = (".css", ".js", ".mjs", ".svg", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".woff2", ".ico")
"""Files that pages load: a change to one reloads every browser (a feed or an export changes no page)."""
SETTLE_SECONDS = 0.04
"""How long the folders must be quiet after a save before rebuilding: a burst of saves makes one rebuild."""
LONGEST_WAIT_SECONDS = 1.5
"""Saves that never stop (a tool rewriting files in a loop) still get a rebuild this often."""


def _watch_filter(folders: list[Path]) -> Callable[[watchfiles.Change, str], bool]:
    # Editors leave swap files, backups and auto-save files; they are not content, nor is anything in a
    # hidden folder under a watched one (wherever the project itself lives). Of the code, only modules count.
    roots = [f"{folder}{os.sep}" for folder in folders]

    def watched(change: watchfiles.Change, path: str) -> bool:
        root = next((root for root in roots if path.startswith(root)), None)
        below = path[len(root) :] if root else os.path.basename(path)
        if any(ignored_name(part) for part in below.split(os.sep)):
            return False
        return not path.startswith(f"{CODE_DIR}{os.sep}") or path.endswith(".py")

    return watched


def watch_saves(folders: list[Path], report: Callable[[set[Path]], None], stop: threading.Event) -> threading.Thread:
    """Start a thread that calls `report` with the files saved, added or removed under `folders`.

    The operating system tells of each change (inotify, FSEvents, ...; through watchfiles), so a save
    is seen within milliseconds at any size of site and watching costs nothing between saves.
    """
    existing = [folder for folder in folders if folder.is_dir()]

    def watch(force_polling: bool | None) -> None:
        changes = watchfiles.watch(
            *existing,
            watch_filter=_watch_filter(existing),
            # watchfiles groups changes over `step` ms, but a file saved twice counts once and does not
            # extend the group: waiting for quiet is done by the caller (see serve's on_saves).
            step=10,
            stop_event=stop,
            raise_interrupt=False,
            ignore_permission_denied=True,
            force_polling=force_polling,
        )
        for batch in changes:
            report({Path(path) for _, path in batch})

    def run() -> None:
        try:
            watch(None)
        except (OSError, RuntimeError) as err:
            # No notifications here (the inotify watch limit reached, a file system that gives none):
            # looking at the files every 300 ms still notices every save.
            print(f"the system cannot tell of saves ({err}); looking for them every 300 ms", file=sys.stderr)
            # A save made before the looking starts would not be told: the folders are reported as
            # saved, so that the next rebuild looks at every file (see stamp.inputs_stamp).
            report({Path(folder) for folder in existing})
            watch(True)

    thread = threading.Thread(target=run, daemon=True, name="watch-saves")
    thread.start()
    return thread


class BrowserSocket(LiveReloadHandler):
    """livereload's websocket, which also remembers the page each browser shows (from its 'info')."""

    shown: str | None = None

    def on_message(self, message: str) -> None:
        """Answer the browser's handshake; note the page it shows."""
        super().on_message(message)
        try:
            data = json.loads(message)
        except ValueError:
            return
        if isinstance(data, dict) and data.get("command") == "info" and isinstance(data.get("url"), str):
            self.shown = urlsplit(data["url"]).path


def serve(
    project: Project, *, host: str, port: int, base_url: str | None, allow_missing: bool, search: bool = True
) -> int:
    """Build, then serve and rebuild on every save until interrupted; return the exit code."""
    state = ServeState()
    base_path = ["/"]
    # One cache for the whole run: a rebuild never reads it from disk again.
    cache = Cache.at(project.root)
    last: list[BuildResult] = []

    # Whether the last rebuild succeeded: the next looks only at the files saved since (the watcher tells
    # of every save), not at all 10,000 of a large site's. After a failure, it looks at them all.
    trusted = [False]

    def rebuild(saved: set[Path] | None = None, noticed: float | None = None) -> None:
        # Build; the browsers whose pages changed are told as soon as the files are written, before the
        # build records what it wrote.
        started = time.perf_counter()
        saved_since = [str(path) for path in saved] if saved is not None and trusted[0] else None
        trusted[0] = False
        failed_before = bool(state.errors)
        told: list[bool] = []
        # The cyclic garbage collector waits until the site's files are written: at 10,000 entries, its
        # passes over what a rebuild makes took 0.04-0.09 s of the time from a save to the files written.
        # It collects once the browsers are told, while the rebuild records what it wrote.
        collecting = gc.isenabled()
        gc.disable()

        def written(site: SiteConfig, report: WriteReport) -> None:
            if collecting:
                gc.enable()
            told.append(True)
            state.errors = []
            elapsed = (time.perf_counter() - started) * 1000
            print(
                f"rebuilt in {elapsed:.0f} ms{_from_the_save(noticed)}: "
                f"{len(report.written)} written, {len(report.removed)} removed",
                flush=True,
            )
            base_path[0] = urlsplit(site.base_url).path or "/"
            # Every page shows the errors, or stops showing them: all browsers reload then.
            changed = None if failed_before else [*report.written, *report.removed]
            loop.add_callback(_reload_browsers, base_path[0], changed)

        try:
            result = build(
                project,
                base_url=base_url,
                allow_missing=allow_missing,
                search=search,
                index_now=False,
                cache=cache,
                save=False,
                # The first build looks for pages altered by hand in site/; then only serve writes it.
                sole_writer=bool(last),
                on_written=written,
                saved=saved_since,
            )
        except (BuildFailed, OutputRefused) as failed:
            state.errors = [str(error) for error in getattr(failed, "errors", [failed])]
            print("\n".join(state.errors), file=sys.stderr, flush=True)
            print(
                f"rebuild failed: {len(state.errors)} error(s); serving the last good pages",
                file=sys.stderr,
                flush=True,
            )
            loop.add_callback(_reload_browsers, base_path[0], None)
            return
        finally:
            if collecting:
                gc.enable()
        if not told:
            written(result.site, result.report)  # nothing had changed: nothing was written
        indexer.plan = result.search_plan
        last[:] = [result]
        trusted[0] = True

    def write_first(saved: set[Path], noticed: float) -> None:
        # The pages of the entries just edited, before the full rebuild: what the editor looks at.
        if state.errors or not last:
            return
        started = time.perf_counter()
        try:
            written = write_edited_pages(
                project, last[0].snapshot, environment_for(project, cache), saved, allow_missing=allow_missing
            )
        except (BuildFailed, OSError, ValueError):
            return  # the full rebuild that follows tells what went wrong
        except Exception as err:  # noqa: BLE001 (a fault here must not keep the full rebuild from running)
            print(f"the edited entries' pages were not written first ({err!r}); rebuilding", file=sys.stderr)
            return
        if written:
            elapsed = (time.perf_counter() - started) * 1000
            print(
                f"edited entries' pages written in {elapsed:.0f} ms{_from_the_save(noticed)}: {len(written)} written",
                flush=True,
            )
            loop.add_callback(_reload_browsers, base_path[0], written)

    def after_saves(saved: set[Path], noticed: float) -> None:
        # On the rebuilds' thread: the edited entries' pages, the whole rebuild, then its bookkeeping.
        write_first(saved, noticed)
        rebuild(saved, noticed)
        keep_and_save()
        if search and not state.errors:
            indexer.request()

    def restart() -> None:
        # New code cannot be imported into a running process reliably: start afresh (once the build
        # under way has ended, so that it leaves nothing half-written behind).
        print("code changed: restarting the server", flush=True)
        os.execv(sys.executable, [sys.executable, *_same_port(sys.argv, actual_port)])

    pending: set[Path] = set()
    first_save = [0.0]
    noticed = [0.0]
    timer = [None]

    def on_saves(paths: set[Path]) -> None:
        # On the server's thread (see watch_saves): rebuild once the saves have stopped for a moment.
        if any(CODE_DIR in path.parents for path in paths):
            rebuilds.then(restart)
            return
        now = loop.time()
        if not pending:
            first_save[0] = now
            noticed[0] = time.monotonic()
        pending.update(paths)
        if timer[0] is not None:
            loop.remove_timeout(timer[0])
        timer[0] = loop.call_at(min(now + SETTLE_SECONDS, first_save[0] + LONGEST_WAIT_SECONDS), flush)

    def flush() -> None:
        # The burst is over: rebuild for it (or with the next, if a rebuild runs).
        timer[0] = None
        rebuilds.saved(pending, noticed[0])
        pending.clear()

    def keep_and_save() -> None:
        # Once the browsers are told: the model and its plan kept in memory for the next rebuild to
        # patch (a serve started without them, or 50 edits on, would otherwise read every entry again
        # on each save: 2.2-2.9 s at 10,000 entries), then the cache saved, so that the next `build`
        # in a new process starts warm. A build that saves its cache keeps them itself; serve's wait.
        if last and not state.errors:
            with contextlib.suppress(BuildFailed, OSError):
                keep_model(cache, project, last[0].snapshot, allow_missing)
        cache.save()

    # The address first: if it is taken (another `serve`, say), say so before building anything.
    try:
        sockets = netutil.bind_sockets(port, address=host)
    except OSError as err:
        print(
            f"serve: cannot listen on {host}:{port}: {err.strerror or err} (is another `serve` running? "
            "choose another port with --port)",
            file=sys.stderr,
            flush=True,
        )
        return 1
    # Watch from before the first build: a save made while it runs must not go unnoticed.
    loop = ioloop.IOLoop.current()
    stop = threading.Event()
    watch_saves(
        [project.content, project.layouts, project.root / "seeds", CODE_DIR],
        lambda paths: loop.add_callback(on_saves, paths),
        stop,
    )
    indexer = SearchIndexer(project.output)
    rebuilds = Rebuilder(loop, after_saves)
    rebuild()
    cache.save()
    if search and not state.errors:
        indexer.request()
    actual_port = sockets[0].getsockname()[1]
    site = dict(root=project.output.resolve(), state=state, base_path=base_path, port=actual_port)
    application = web.Application(
        [
            (r"/livereload", BrowserSocket),
            (r"/livereload.js", LiveReloadJSHandler),
            (r"/.*", SiteHandler, site),
        ]
    )
    httpserver.HTTPServer(application).add_sockets(sockets)
    # The model kept for the first save (a first build that found nothing to do read nothing: the model
    # is read now, so that the first save gets its quick answer too).
    rebuilds.then(keep_and_save)
    print(
        f"serving {project.shown(project.output)}/ at http://{host}:{actual_port}{base_path[0]} (Ctrl+C stops)",
        flush=True,
    )
    try:
        loop.start()
    except KeyboardInterrupt:
        print("stopped", flush=True)
    finally:
        stop.set()
        rebuilds.close()
    return 0


class Rebuilder:
    """Rebuilds for the saves handed to it on the server's thread, on a thread of its own, one at a time:
    the server goes on answering meanwhile (the browsers told to reload, while the rebuild records what
    it wrote). Saves handed in while a rebuild runs make one more rebuild together once it ends, never
    a queue of rebuilds of states already gone."""

    def __init__(self, loop: ioloop.IOLoop, rebuild: Callable[[set[Path], float], None]):
        self._loop = loop
        self._rebuild = rebuild
        self._thread = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="rebuild")
        self._waiting: set[Path] = set()
        self._noticed = 0.0
        self._busy = False

    def saved(self, paths: Collection[Path], noticed: float) -> None:
        """Rebuild for these saves now, or once the rebuild under way has ended (on the server's thread);
        `noticed` is when the first of them was (`time.monotonic()`)."""
        self._noticed = min(self._noticed, noticed) if self._waiting else noticed
        self._waiting.update(paths)
        if not self._busy:
            self._start()

    def then(self, work: Callable[[], None]) -> None:
        """Run `work` on the rebuilds' thread once what was handed to it before has run."""
        self._thread.submit(work).add_done_callback(_told_of_faults)

    def close(self) -> None:
        """Start nothing more (a rebuild under way ends)."""
        self._thread.shutdown(wait=False, cancel_futures=True)

    def _start(self) -> None:
        saved = set(self._waiting)
        self._waiting.clear()
        self._busy = True
        running = self._thread.submit(self._rebuild, saved, self._noticed)
        running.add_done_callback(lambda done: self._loop.add_callback(self._ended, done))

    def _ended(self, done: concurrent.futures.Future) -> None:
        _told_of_faults(done)
        self._busy = False
        if self._waiting:
            self._start()


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
                report = update_search_index(self.output, plan).report
            except (BuildFailed, OSError) as err:
                print(f"search index not updated: {err}", file=sys.stderr, flush=True)
                continue
            elapsed = (time.perf_counter() - started) * 1000
            print(f"search index updated in {elapsed:.0f} ms: {len(report.written)} written", flush=True)


def _from_the_save(noticed: float | None) -> str:
    # How long since the first save of the batch was noticed, for an editor timing a change.
    return "" if noticed is None else f" ({(time.monotonic() - noticed) * 1000:.0f} ms from the save)"


def _told_of_faults(done: concurrent.futures.Future) -> None:
    # A fault in a rebuild (a bug) is shown as it would be on the server's thread; serving goes on.
    if not done.cancelled() and done.exception() is not None:
        error = done.exception()
        traceback.print_exception(type(error), error, error.__traceback__, file=sys.stderr)


def _same_port(argv: list[str], port: int) -> list[str]:
    # A restart keeps the port it was given (even --port 0), so that open pages reconnect to it.
    argv = list(argv)
    if "--port" in argv and argv.index("--port") + 1 < len(argv):
        argv[argv.index("--port") + 1] = str(port)
    else:
        argv += ["--port", str(port)]
    return argv


def _reload_browsers(base_path: str, files: Collection[str] | None) -> None:
    """Tell the browsers showing one of `files` to reload: all of them when None or when a page's asset changed."""
    # livereload's own reload_waiters() expects its file watcher, which we do not use.
    every = files is None or any(name.endswith(PAGE_ASSETS) for name in files)
    wanted = set(files or ())
    message = {"command": "reload", "path": "*", "liveCSS": False, "liveImg": False}
    for waiter in list(LiveReloadHandler.waiters):
        shown = _file_shown(getattr(waiter, "shown", None), base_path)
        if not every and shown is not None and shown not in wanted:
            continue
        try:
            waiter.write_message(message)
        except Exception:  # noqa: BLE001 (a closed browser tab must not stop the server)
            LiveReloadHandler.waiters.discard(waiter)


def _file_shown(url_path: str | None, base_path: str) -> str | None:
    # The file of site/ a browser shows, from the path of its address; None when unknown.
    if url_path is None or not url_path.startswith(base_path):
        return None
    name = unquote(url_path[len(base_path) :])
    return name + "index.html" if name == "" or name.endswith("/") else name


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
