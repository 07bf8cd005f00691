"""The development server as an editor uses it, and as an attacker on the same machine would probe it."""

from __future__ import annotations

import contextlib
import http.client
import json
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import FIXTURE, REPO

TALKS = "content/events/talks.yml"


@dataclass
class Server:
    """A running `build.py serve` on a scratch copy of the fixture project."""

    root: Path
    process: subprocess.Popen
    port: int
    out: list[str] = field(default_factory=list)
    err: list[str] = field(default_factory=list)

    def get(self, path: str) -> tuple[int, str]:
        """Request a raw path (not normalized by any client library)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        connection.putrequest("GET", path, skip_accept_encoding=True)
        connection.endheaders()
        response = connection.getresponse()
        body = response.read().decode("utf-8", "replace")
        connection.close()
        return response.status, body

    def count(self, prefix: str) -> int:
        """How many lines of output start with this."""
        return sum(1 for line in self.out + self.err if line.startswith(prefix))


def _collect(stream, lines: list[str]) -> None:
    for line in stream:
        lines.append(line.rstrip("\n"))


def wait_for(condition: Callable[[], bool], seconds: float = 15) -> None:
    """Poll until the condition holds; fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    root = tmp_path / "project"
    shutil.copytree(FIXTURE, root)
    shutil.copytree(REPO / "layouts", root / "layouts")
    command = [sys.executable, "-u", str(REPO / "build.py"), "--root", str(root), "serve", "--port", "0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = [], []
    for stream, lines in ((process.stdout, out), (process.stderr, err)):
        threading.Thread(target=_collect, args=(stream, lines), daemon=True).start()
    wait_for(lambda: any(line.startswith("serving ") for line in out) or process.poll() is not None)
    assert process.poll() is None, "\n".join(err)
    url = next(line for line in out if line.startswith("serving ")).split(" at ")[1].split()[0]
    assert url.startswith("http://127.0.0.1:"), "binds to loopback by default"
    port = int(url.split(":")[2].split("/")[0])
    yield Server(root, process, port, out, err)
    process.terminate()
    process.wait(timeout=10)


def _other_address() -> str | None:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing interface
            address = probe.getsockname()[0]
    except OSError:
        return None
    return None if address.startswith("127.") else address


def test_a_port_in_use_is_reported_in_one_line_before_building(tmp_path: Path):
    root = tmp_path / "project"
    shutil.copytree(FIXTURE, root)
    shutil.copytree(REPO / "layouts", root / "layouts")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        command = [sys.executable, str(REPO / "build.py"), "--root", str(root), "serve", "--port", str(port)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"serve: cannot listen on 127.0.0.1:{port}: Address already in use (is another `serve` running? "
        "choose another port with --port)"
    ]
    assert not (root / "site").exists()


def test_listens_on_loopback_only_by_default(server: Server):
    status, _ = server.get("/")
    assert status == 200
    other = _other_address()
    if other is None:
        pytest.skip("this machine has no non-loopback address to try")
    with pytest.raises(OSError), socket.create_connection((other, server.port), timeout=2):
        pass


@pytest.mark.parametrize(
    "path",
    [
        "/../../../../etc/passwd",
        "/es/../../../../etc/passwd",
        "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/%2E%2E%2F%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
        "/es/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/..%5c..%5c..%5cetc%5cpasswd",
        "/%252e%252e/%252e%252e/etc/passwd",
        "//etc/passwd",
        "/es/%00/../../etc/passwd",
        "/outside/passwd",
        "/passwd-link",
    ],
)
def test_no_path_leaves_the_site_folder(server: Server, path: str):
    # Symbolic links inside site/ that point out of it are refused too.
    (server.root / "site" / "outside").symlink_to("/etc")
    (server.root / "site" / "passwd-link").symlink_to("/etc/passwd")
    status, body = server.get(path)
    assert status in (400, 403, 404)
    assert "root:" not in body


def test_two_thousand_requests_over_twenty_connections_all_succeed(server: Server):
    paths = ["/", "/es/", "/en/timeline/", "/es/personas/ana-nunez/", "/assets/style.css", "/en/glossary/"]
    failures: list[str] = []
    done = [0]

    def client(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        for n in range(100):
            path = paths[(index + n) % len(paths)]
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    failures.append(f"{path}: {response.status}")
            except OSError as err:
                failures.append(f"{path}: {err}")
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            done[0] += 1
        connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert done[0] == 2000
    assert failures == []


def test_a_storm_of_saves_makes_a_few_rebuilds_and_ends_on_the_last_version(server: Server):
    path = server.root / TALKS
    original = path.read_text("utf-8")
    before = server.count("rebuilt in")
    started = time.monotonic()
    for n in range(100):
        path.write_text(original.replace("en: Talks}", f"en: Talks {n}}}"), "utf-8")
        time.sleep(max(0.0, started + (n + 1) * 0.02 - time.monotonic()))
    assert time.monotonic() - started < 3
    wait_for(lambda: "<h1>Talks 99</h1>" in server.get("/en/timeline/talks/")[1])
    time.sleep(0.5)
    rebuilds = server.count("rebuilt in") - before
    assert 1 <= rebuilds <= 5, f"{rebuilds} rebuilds for 100 saves"


def test_saves_handed_in_while_a_rebuild_runs_make_one_more_rebuild_together():
    # A save that ends a burst while a rebuild runs must not queue a rebuild of its own behind it: on a
    # large site each takes most of a second, and a run of saves would leave the server seconds behind.
    import asyncio

    from tornado import ioloop

    from explainer.serve import Rebuilder

    runs: list[tuple[str, ...]] = []
    noticed_at: list[float] = []
    afterwards: list[int] = []

    def rebuild(saved: set[Path], noticed: float) -> None:
        runs.append(tuple(sorted(path.name for path in saved)))
        noticed_at.append(noticed)
        time.sleep(0.4)

    async def save_ten_times() -> None:
        rebuilds = Rebuilder(ioloop.IOLoop.current(), rebuild)
        for n in range(10):
            rebuilds.saved({Path(f"/project/content/events/e{n}.yml")}, float(n))
            if n == 4:
                rebuilds.then(lambda: afterwards.append(len(runs)))
            await asyncio.sleep(0.02)
        for _ in range(100):
            if len(runs) >= 2:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.6)
        rebuilds.close()

    _in_thread(lambda: asyncio.run(save_ten_times()))
    assert runs == [("e0.yml",), tuple(f"e{n}.yml" for n in range(1, 10))]
    assert afterwards == [1], "work handed in after a save runs once the rebuild under way has ended"
    assert noticed_at == [0.0, 1.0], "a rebuild is timed from the first of its saves"


def test_every_save_of_a_template_shows_its_latest_version(server: Server):
    # serve keeps one Jinja environment between rebuilds; it must never serve a template's older self.
    path = server.root / "layouts" / "templates" / "event.html"
    original = path.read_text("utf-8")
    for mark in ("first", "second"):
        path.write_text(original.replace("<h1>{{", f"<h1 data-mark={mark}>{{{{"), "utf-8")
        wait_for(lambda mark=mark: f"<h1 data-mark={mark}>Talks</h1>" in server.get("/en/timeline/talks/")[1])
    path.write_text(original, "utf-8")
    wait_for(lambda: "<h1>Talks</h1>" in server.get("/en/timeline/talks/")[1])


def test_errors_show_in_the_browser_over_the_last_good_pages_until_fixed(server: Server):
    path = server.root / TALKS
    original = path.read_text("utf-8")
    path.write_text(original.replace("status: announced", "status: maybe"), "utf-8")
    wait_for(lambda: server.count("rebuild failed") == 1)
    status, body = server.get("/en/timeline/talks/")
    assert status == 200
    assert "content/events/talks.yml:2:9: status: expected one of: happened, announced" in body
    assert "<h1>Talks</h1>" in body
    path.write_text(original.replace("en: Talks}", "en: Talks again}"), "utf-8")
    wait_for(lambda: "<h1>Talks again</h1>" in server.get("/en/timeline/talks/")[1])
    assert "status: expected one of" not in server.get("/en/timeline/talks/")[1]
    assert server.process.poll() is None


def test_a_save_made_with_one_that_broke_the_settings_is_built_once_they_are_fixed(server: Server):
    # A rebuild that failed before looking at the files (the settings are read first) must not make
    # the next one, told only of the file that fixed them, miss the other saves.
    settings, talks = server.root / "content/site.yml", server.root / TALKS
    good = settings.read_text("utf-8")
    failures = server.count("rebuild failed")
    settings.write_text(good.replace("default_language: es", "default_language: fr"), "utf-8")
    talks.write_text(talks.read_text("utf-8").replace("en: Talks}", "en: Talks meanwhile}"), "utf-8")
    wait_for(lambda: server.count("rebuild failed") > failures)
    assert "<h1>Talks</h1>" in server.get("/en/timeline/talks/")[1]
    settings.write_text(good, "utf-8")
    wait_for(lambda: "<h1>Talks meanwhile</h1>" in server.get("/en/timeline/talks/")[1])


async def _browser(port: int, url: str):
    """Connect to the reload socket as livereload.js does from a page at `url`."""
    from tornado.websocket import websocket_connect

    socket_ = await websocket_connect(f"ws://127.0.0.1:{port}/livereload")
    await socket_.write_message(json.dumps({"command": "hello", "protocols": []}))
    assert json.loads(await socket_.read_message())["command"] == "hello"
    await socket_.write_message(json.dumps({"command": "info", "url": f"http://127.0.0.1:{port}{url}"}))
    return socket_


def _in_thread(work: Callable[[], object]) -> object:
    # In its own thread: Playwright's session may already run an event loop in this one.
    results: list[object] = []
    thread = threading.Thread(target=lambda: results.append(work()))
    thread.start()
    thread.join(timeout=60)
    assert results, "the browsers' side did not finish"
    return results[0]


def test_a_save_tells_the_browsers_showing_a_changed_page_to_reload(server: Server):
    import asyncio

    async def listen() -> dict:
        socket_ = await _browser(server.port, "/en/timeline/talks/")
        await asyncio.sleep(0.2)
        path = server.root / TALKS
        path.write_text(path.read_text("utf-8").replace("en: Talks}", "en: Talks reloaded}"), "utf-8")
        message = await asyncio.wait_for(socket_.read_message(), timeout=15)
        socket_.close()
        return json.loads(message)

    received = _in_thread(lambda: asyncio.run(listen()))
    assert received["command"] == "reload"
    assert "<h1>Talks reloaded</h1>" in server.get("/en/timeline/talks/")[1]
    assert not [line for line in server.err if "Traceback" in line or "Error" in line]


def test_the_edited_entrys_page_comes_first_and_only_browsers_whose_page_changed_reload(server: Server):
    import asyncio

    async def listen() -> tuple[dict, list]:
        edited = await _browser(server.port, "/en/timeline/meeting/")
        elsewhere = await _browser(server.port, "/en/404.html")
        await asyncio.sleep(0.2)
        rebuilds = server.count("rebuilt in")
        path = server.root / "content/events/meeting.yml"
        path.write_text(path.read_text("utf-8").replace("bo-lee]] met.", "bo-lee]] met in person."), "utf-8")
        message = json.loads(await asyncio.wait_for(edited.read_message(), timeout=15))
        while server.count("rebuilt in") == rebuilds:
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.3)
        # A browser whose page did not change is left alone: no message has come for it.
        other: list = []
        with contextlib.suppress(TimeoutError):
            other.append(await asyncio.wait_for(elsewhere.read_message(), timeout=0.5))
        edited.close()
        elsewhere.close()
        return message, other

    message, other = _in_thread(lambda: asyncio.run(listen()))
    assert message["command"] == "reload"
    assert other == []
    assert "met in person" in server.get("/en/timeline/meeting/")[1]
    first = next(i for i, line in enumerate(server.out) if line.startswith("edited entries' pages written"))
    rebuilt = [i for i, line in enumerate(server.out) if line.startswith("rebuilt in")]
    assert rebuilt[-2] < first < rebuilt[-1], "the edited entry's page was written before the full rebuild"
    # Each says how long it took, and how long since the save: what an editor timing a change reads.
    timings = [re.match(r"^.* in (\d+) ms \((\d+) ms from the save\): ", server.out[i]) for i in (first, rebuilt[-1])]
    assert all(timings), [server.out[first], server.out[rebuilt[-1]]]
    (own, page), (whole_own, whole) = [(int(m.group(1)), int(m.group(2))) for m in timings]
    assert own <= page <= whole and whole_own <= whole


def test_a_serve_started_without_a_cache_keeps_its_model_for_the_saves_to_patch(server: Server):
    # Builds that save their cache keep the model for the next to patch; serve's builds do not save
    # (they answer first), so serve keeps it once the browsers are told. Without it, a serve started on
    # a fresh clone read every entry again on each save (2.2-2.9 s at 10,000 entries, against 0.8 s).
    from explainer.cache import Cache

    def kept() -> set[str]:
        model = Cache.at(server.root).part("model").get("model")
        return {entry.title.get("en") for entry in model.entries.values() if entry.kind == "event"} if model else set()

    wait_for(lambda: "Talks" in kept())
    path = server.root / TALKS
    path.write_text(path.read_text("utf-8").replace("en: Talks}", "en: Negotiations}"), "utf-8")
    wait_for(lambda: "<h1>Negotiations</h1>" in server.get("/en/timeline/talks/")[1])
    wait_for(lambda: server.count("rebuilt in") >= 2)


def test_the_search_index_follows_a_save_after_the_page_is_shown(server: Server):
    wait_for(lambda: server.count("search index updated") >= 1)
    bundle = server.root / "site" / "pagefind" / "0"
    before = {p.name for p in (bundle / "fragment").iterdir()}
    path = server.root / TALKS
    path.write_text(path.read_text("utf-8").replace("en: Talks}", "en: Negotiations}"), "utf-8")
    wait_for(lambda: "<h1>Negotiations</h1>" in server.get("/en/timeline/talks/")[1])
    wait_for(lambda: server.count("search index updated") >= 2)
    after = {p.name for p in (bundle / "fragment").iterdir()}
    assert after != before, "the changed page has a new fragment in the index"
    stamp = json.loads((bundle.parent / "explainer-shards.json").read_text("ascii"))
    assert [len(value) for value in stamp["shards"].values()] == [64]


def test_saves_are_noticed_by_looking_when_the_system_cannot_tell(tmp_path: Path, monkeypatch):
    import watchfiles

    from explainer import serve

    real_watch = watchfiles.watch

    def watch(*folders, force_polling=None, **options):
        if not force_polling:
            raise OSError("inotify watch limit reached")
        return real_watch(*folders, force_polling=True, poll_delay_ms=20, **options)

    monkeypatch.setattr(serve.watchfiles, "watch", watch)
    reported: list[set[Path]] = []
    stop = threading.Event()
    thread = serve.watch_saves([tmp_path], reported.append, stop)
    try:
        time.sleep(0.3)
        (tmp_path / "saved.yml").write_text("title: x\n", "utf-8")
        (tmp_path / ".saved.yml.swp").write_text("editor state", "utf-8")
        wait_for(lambda: any(tmp_path / "saved.yml" in paths for paths in reported), seconds=10)
    finally:
        stop.set()
        thread.join(timeout=5)
    # Saves made before the looking started are not told: the folder is reported first, which makes
    # the next rebuild look at every file.
    assert reported[0] == {tmp_path}
    # The folder itself may be reported too (its time changed); an editor's swap file is not.
    assert not [path for paths in reported for path in paths if path.name.startswith(".")], reported


def test_in_a_browser_the_edited_page_shows_the_save_and_other_pages_stay_as_they_are(server: Server, browser):
    shown, elsewhere = browser.new_page(), browser.new_page()
    try:
        shown.goto(f"http://127.0.0.1:{server.port}/en/timeline/meeting/")
        elsewhere.goto(f"http://127.0.0.1:{server.port}/en/people/")
        time.sleep(1.0)  # livereload.js connects once the page has loaded
        loads = {"shown": 0, "elsewhere": 0}
        shown.on("load", lambda: loads.update(shown=loads["shown"] + 1))
        elsewhere.on("load", lambda: loads.update(elsewhere=loads["elsewhere"] + 1))
        rebuilds = server.count("rebuilt in")
        path = server.root / "content/events/meeting.yml"
        path.write_text(path.read_text("utf-8").replace("bo-lee]] met.", "bo-lee]] met at last."), "utf-8")
        wait_for(lambda: "met at last" in shown.locator("main").inner_text())
        wait_for(lambda: server.count("rebuilt in") > rebuilds)
        # Playwright hands events to the handlers only while a call of its own waits (not time.sleep):
        # under load, the reload's "load" came after the new text was read, and was never counted.
        shown.wait_for_timeout(1000)
        assert loads == {"shown": 1, "elsewhere": 0}
    finally:
        shown.close()
        elsewhere.close()


def test_saves_are_noticed_in_a_project_inside_a_hidden_folder_but_not_in_hidden_folders_of_its_own(tmp_path: Path):
    from explainer import serve

    content = tmp_path / ".projects" / "site" / "content"
    (content / "events" / ".drafts").mkdir(parents=True)
    reported: list[set[Path]] = []
    stop = threading.Event()
    thread = serve.watch_saves([content], reported.append, stop)
    try:
        time.sleep(0.3)
        (content / "events" / ".drafts" / "draft.yml").write_text("title: x\n", "utf-8")
        (content / "events" / "saved.yml~").write_text("backup", "utf-8")
        (content / "events" / "#saved.yml#").write_text("auto-saved", "utf-8")
        (content / "events" / "saved.yml").write_text("title: x\n", "utf-8")
        wait_for(lambda: any(content / "events" / "saved.yml" in paths for paths in reported), seconds=10)
    finally:
        stop.set()
        thread.join(timeout=5)
    names = {path.name for paths in reported for path in paths}
    assert names & {"draft.yml", "saved.yml~", "#saved.yml#"} == set(), names
