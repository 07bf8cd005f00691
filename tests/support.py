"""What the browser and validator tests share: external tools, a built copy of the real site, a local server."""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from tests.conftest import REPO

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VNU_JAR = REPO / ".tools" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
SCREENSHOTS = REPO / "tests" / "output" / "screenshots"


def require(available: bool, what: str) -> None:
    """Skip when a tool is missing on a developer's machine; fail in CI, where it must be there."""
    if available:
        return
    message = f"{what} is missing: run `make tools` (scripts/install-test-tools)"
    if os.environ.get("CI"):
        pytest.fail(message + " (CI is set, so this fails instead of skipping)")
    pytest.skip(message)


def require_java_and_vnu() -> list[str]:
    """Return the command that runs the Nu Html Checker, or skip/fail when it is missing."""
    require(shutil.which("java") is not None, "java (default-jre-headless)")
    require(VNU_JAR.is_file(), f"the Nu Html Checker ({VNU_JAR.relative_to(REPO)})")
    # The checker refuses loopback URLs unless told they are allowed (vnu 25.12+); the tests serve on 127.0.0.1.
    return ["java", "-Xss8m", "-Dnu.validator.servlet.allow-forbidden-hosts=true", "-jar", str(VNU_JAR)]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    prefix = "/"

    def translate_path(self, path: str) -> str:
        # Serve the site under its base path only, as a static host deployed at a sub-path would.
        parsed = unquote(urlsplit(path).path)
        if not parsed.startswith(self.prefix):
            return str(Path(self.directory) / "__outside_the_base_path__")
        return super().translate_path("/" + parsed[len(self.prefix) :])

    def log_message(self, format, *args):  # noqa: A002 (the standard library's name)
        pass


@contextlib.contextmanager
def serve_folder(folder: Path, prefix: str = "/") -> Iterator[str]:
    """Serve a folder on 127.0.0.1 at a free port under `prefix`; yield the server's origin."""
    handler = functools.partial(type("Handler", (_QuietHandler,), {"prefix": prefix}), directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class PageLinks(HTMLParser):
    """The ids, links and language alternates of one HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[tuple[str, str]] = []
        self.alternates: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"])
        for name in ("href", "src"):
            if values.get(name) is not None:
                self.links.append((tag, values[name]))
        if tag == "link" and values.get("rel") == "alternate" and values.get("hreflang"):
            self.alternates[values["hreflang"]] = values["href"]


def read_links(path: Path) -> PageLinks:
    """Parse one HTML file's ids and links."""
    parser = PageLinks()
    parser.feed(path.read_text("utf-8"))
    return parser


def site_files(folder: Path, suffix: str) -> list[Path]:
    """Return every file of the built site with this suffix, sorted."""
    return sorted(path for path in folder.rglob(f"*{suffix}") if path.is_file())
