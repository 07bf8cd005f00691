"""The built site as independent checkers see it: the W3C Nu Html Checker, and every link resolving."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from tests.conftest import BuiltSite, build_real_site
from tests.support import read_links, require_java_and_vnu, serve_folder, site_files


def _vnu_messages(command: list[str], documents: list[str], mode: str) -> list[str]:
    """Check files or URLs (a file's Content-Security-Policy 'self' only means something over HTTP)."""
    if not documents:
        return []
    result = subprocess.run(
        [*command, "--format", "json", "--exit-zero-always", mode, *documents],
        capture_output=True,
        text=True,
        check=True,
    )
    messages = json.loads(result.stderr or result.stdout)["messages"]
    return [
        f"{urlsplit(m.get('url', '')).path}:{m.get('lastLine', 0)}: {m['type']}: {m['message']}"
        for m in messages
        if m["type"] in ("error", "non-document-error") or m.get("subType") == "warning"
    ]


@pytest.mark.parametrize(("suffix", "mode"), [(".html", "--html"), (".css", "--css"), (".svg", "--svg")])
def test_nu_html_checker_finds_nothing(real_site: BuiltSite, suffix: str, mode: str):
    command = require_java_and_vnu()
    files = site_files(real_site.folder, suffix)
    if suffix != ".svg":
        assert files, f"the site has no {suffix} files"
    if suffix != ".html":
        # Only HTML needs HTTP (for its Content-Security-Policy); the checker reads CSS and SVG files as they are.
        assert _vnu_messages(command, [str(file) for file in files], mode) == []
        return
    with serve_folder(real_site.folder) as origin:
        urls = [origin + "/" + file.relative_to(real_site.folder).as_posix() for file in files]
        assert _vnu_messages(command, urls, mode) == []


def test_nu_html_checker_does_report_errors(tmp_path: Path):
    # Guards the test above against a checker that silently checks nothing.
    command = require_java_and_vnu()
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><html><title>x</title><p><div></p>", "utf-8")
    with serve_folder(tmp_path) as origin:
        messages = _vnu_messages(command, [origin + "/bad.html"], "--html")
    assert any(m.startswith("/bad.html:1: error: ") for m in messages), messages
    assert any(m.startswith("/bad.html:1: info: ") for m in messages), messages  # warnings count too


def _resolve(site_folder: Path, page: Path, base_path: str, link: str) -> tuple[Path | None, str]:
    """Return the file a site link points to (None if it leaves the site) and its fragment."""
    parts = urlsplit(link)
    if parts.scheme or parts.netloc:
        return None, ""
    if not parts.path:
        return page, parts.fragment
    if parts.path.startswith("/"):
        assert parts.path.startswith(base_path), f"{link} is outside the base path {base_path}"
        target = site_folder / unquote(parts.path[len(base_path) :])
    else:
        target = page.parent / unquote(parts.path)
    if parts.path.endswith("/"):
        target = target / "index.html"
    return target, parts.fragment


@pytest.mark.parametrize("base_url", ["/", "/explainers/security/"])
def test_every_internal_link_and_anchor_resolves(tmp_path: Path, base_url: str):
    site = build_real_site(tmp_path / "site", base_url=base_url)
    ids_by_file: dict[Path, set[str]] = {}
    problems = []
    checked = 0
    for page in site_files(site.folder, ".html"):
        links = read_links(page)
        ids_by_file[page.resolve()] = links.ids
    for page in site_files(site.folder, ".html"):
        links = read_links(page)
        for tag, link in links.links:
            if urlsplit(link).scheme in ("http", "https", "mailto"):
                continue
            target, fragment = _resolve(site.folder, page, base_url, link)
            checked += 1
            shown = page.relative_to(site.folder).as_posix()
            if target is None or not target.resolve().is_file():
                problems.append(f"{shown}: <{tag}> {link}: no such file")
            elif fragment and fragment not in ids_by_file.get(target.resolve(), set()):
                problems.append(f"{shown}: <{tag}> {link}: no element with id '{fragment}'")
    assert problems == []
    assert checked > 100


def test_every_hreflang_alternate_exists_and_points_back(real_site: BuiltSite):
    origin = real_site.model.site.base_url
    problems = []
    pages = site_files(real_site.folder, ".html")
    for page in pages:
        alternates = read_links(page).alternates
        shown = page.relative_to(real_site.folder).as_posix()
        for lang, href in alternates.items():
            path = urlsplit(href).path
            target = real_site.folder / path.removeprefix(urlsplit(origin).path or "/")
            target = target / "index.html" if path.endswith("/") else target
            if not target.is_file():
                problems.append(f"{shown}: hreflang {lang} -> {href}: no such page")
                continue
            back = read_links(target).alternates
            if lang != "x-default" and set(back.values()) != set(alternates.values()):
                problems.append(f"{shown}: hreflang {lang} -> {href} does not list the same alternates")
    assert problems == []


def test_output_paths_are_lowercase_ascii_and_unique_ignoring_case(real_site: BuiltSite):
    """Any static host serves them the same way: letters a-z, digits, '-', '/' and '.' only.

    Pagefind's bundle is the exception: its own file names carry '_' and are fixed by the tool.
    """
    paths = [p.relative_to(real_site.folder).as_posix() for p in real_site.folder.rglob("*") if p.is_file()]
    ours = [p for p in paths if not p.startswith("pagefind/")]
    assert ours and [p for p in ours if not re.fullmatch(r"[a-z0-9./-]+", p)] == []
    assert len({p.lower() for p in paths}) == len(paths)


def test_feeds_calendars_exports_and_json_ld_of_the_real_site_parse(real_site: BuiltSite):
    import xml.etree.ElementTree as etree

    import feedparser
    import icalendar

    for lang in real_site.model.site.languages:
        feed = feedparser.parse((real_site.folder / lang / "feed.xml").read_bytes())
        assert feed.bozo == 0 and len(feed.entries) == len(real_site.model.events)
        calendar = icalendar.Calendar.from_ical((real_site.folder / lang / "events.ics").read_bytes())
        dated = [e for e in real_site.model.events if e.date.precision != "year"]
        assert len(list(calendar.walk("VEVENT"))) == len(dated)
        data = json.loads((real_site.folder / lang / "data.json").read_bytes())
        assert len(data["entries"]) == len(real_site.model.entries)
    for path in site_files(real_site.folder, ".xml"):
        etree.fromstring(path.read_bytes())
    blocks = 0
    for page in site_files(real_site.folder, ".html"):
        for block in re.findall(rb'<script type="application/ld\+json">(.*?)</script>', page.read_bytes(), re.S):
            assert json.loads(block)["@context"] == "https://schema.org"
            blocks += 1
    assert blocks > 50
