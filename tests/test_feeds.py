"""Feeds, calendar, data export, sitemap, robots.txt and JSON-LD, read back by real parsers."""

from __future__ import annotations

import datetime
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as etree

import feedparser
import icalendar
import pytest

from explainer.pipeline import build
from tests.conftest import REPO, Project, write
from tests.support import PageLinks
from tests.test_incremental import replace_in
from tests.test_injection import inject

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
XHTML = "{http://www.w3.org/1999/xhtml}"


@pytest.fixture
def outputs(project: Project) -> dict[str, bytes]:
    return build(project, write=False, search=False).outputs


def test_atom_feeds_parse_and_link_to_built_pages(outputs):
    for lang, count in (("es", 2), ("en", 2)):
        feed = feedparser.parse(outputs[f"{lang}/feed.xml"])
        assert feed.bozo == 0, feed.get("bozo_exception")
        assert feed.feed.language == lang
        assert len(feed.entries) == count
        assert [e.published[:10] for e in feed.entries] == ["2024-06-01", "2024-03-02"]
        for entry in feed.entries:
            path = entry.link.removeprefix("https://example.org/")
            assert path + "index.html" in outputs
    assert feedparser.parse(outputs["en/feed.xml"]).entries[0].title == "Talks"


def test_calendars_parse_with_spans_at_each_precision_and_statuses(outputs):
    for lang in ("es", "en"):
        calendar = icalendar.Calendar.from_ical(outputs[f"{lang}/events.ics"])
        events = {str(e["uid"]): e for e in calendar.walk("VEVENT")}
        # The same event has the same UID in each language's calendar.
        assert set(events) == {"meeting@example.org", "talks@example.org"}
    meeting, talks = events["meeting@example.org"], events["talks@example.org"]
    assert (str(meeting["dtstart"].to_ical(), "ascii"), str(meeting["dtend"].to_ical(), "ascii")) == (
        "20240302",
        "20240303",
    )
    assert (str(talks["dtstart"].to_ical(), "ascii"), str(talks["dtend"].to_ical(), "ascii")) == (
        "20240601",
        "20240701",
    )
    assert str(meeting["dtstamp"].to_ical(), "ascii") == "20240302T000000Z"
    assert (str(meeting["status"]), str(talks["status"])) == ("CONFIRMED", "TENTATIVE")
    assert (str(meeting["summary"]), str(talks["url"])) == ("Ministers meet", "https://example.org/en/timeline/talks/")


def test_calendar_leaves_out_events_known_only_to_the_year(project):
    write(
        project,
        "content/events/long-ago.yml",
        'date: "2008"\nstatus: happened\ntitle: {es: Hace mucho, en: Long ago}\n'
        "summary: {es: Antes., en: Before.}\nsources: [{source: report, paragraphs: [1]}]\n",
    )
    outputs = build(project, write=False, search=False).outputs
    calendar = icalendar.Calendar.from_ical(outputs["en/events.ics"])
    assert sorted(str(e["uid"]) for e in calendar.walk("VEVENT")) == ["meeting@example.org", "talks@example.org"]
    feed = feedparser.parse(outputs["en/feed.xml"])
    assert feed.entries[-1].title == "Long ago" and feed.entries[-1].published.startswith("2008-01-01")
    assert "long-ago" in {entry["id"] for entry in json.loads(outputs["en/data.json"])["entries"]}


def test_calendar_uids_without_a_host_and_no_relative_urls(project):
    outputs = build(project, base_url="/sub/", write=False, search=False).outputs
    calendar = icalendar.Calendar.from_ical(outputs["es/events.ics"])
    events = list(calendar.walk("VEVENT"))
    assert sorted(str(e["uid"]) for e in events) == [
        "meeting.sitio-de-prueba@explainer",
        "talks.sitio-de-prueba@explainer",
    ]
    assert not any("url" in e for e in events)


def test_feed_ids_stay_when_the_site_is_retitled_and_follow_its_id(project):
    def ids() -> list[str]:
        feed = etree.fromstring(build(project, write=False, search=False).outputs["en/feed.xml"])
        return [element.text for element in feed.iter("{http://www.w3.org/2005/Atom}id")]

    first = ids()
    assert len(first) == 3 and len(set(first)) == 3  # the feed's and its two entries'
    replace_in(project.root / "content/site.yml", "en: Test site", "en: A test site renamed")
    assert ids() == first
    replace_in(project.root / "content/site.yml", "id: sitio-de-prueba", "id: otro-sitio")
    assert not set(ids()) & set(first)


def test_data_export_holds_every_entry_with_relations(project):
    result = build(project, write=False, search=False)
    outputs = result.outputs
    data = json.loads(outputs["es/data.json"])
    assert [entry["id"] for entry in data["entries"]] == list(result.model.entries)
    assert data["language"] == "es"
    by_id = {entry["id"]: entry for entry in data["entries"]}
    assert set(by_id) >= {
        "meeting",
        "talks",
        "ana-nunez",
        "bo-lee",
        "new-pact",
        "old-pact",
        "border",
        "ministry",
        "report",
    }
    assert by_id["meeting"]["people"] == ["ana-nunez", "bo-lee"]
    assert by_id["new-pact"]["replaces"] == ["old-pact"] and by_id["old-pact"]["replaced_by"] == ["new-pact"]
    assert {"source": "report", "paragraphs": [2], "quote": "We will work together on the border."} in by_id[
        "ana-nunez"
    ]["citations"]
    assert by_id["report"]["cited_by"][:2] == ["new-pact", "old-pact"] and by_id["statement"]["cited_by"] == ["border"]
    assert by_id["bo-lee"]["events"] == ["meeting"] and by_id["ministry"]["people"] == ["ana-nunez"]
    assert (
        by_id["talks"]["url"] == "https://example.org/es/cronologia/talks/" and by_id["talks"]["precision"] == "month"
    )
    assert by_id["meeting"]["title"] == "Reunión de ministros" and data["licence"].startswith("Los hechos")
    assert "[[" not in json.dumps(data), "Markdown references are flattened to names"
    english = json.loads(outputs["en/data.json"])
    assert [e["id"] for e in english["entries"]] == [e["id"] for e in data["entries"]]
    assert {e["id"]: e["title"] for e in english["entries"] if e["kind"] == "event"} == {
        "meeting": "Ministers meet",
        "talks": "Talks",
    }


def test_sitemap_lists_every_page_with_its_alternates(outputs):
    root = etree.fromstring(outputs["sitemap.xml"])
    urls = root.findall(f"{SITEMAP}url")
    locations = [u.find(f"{SITEMAP}loc").text for u in urls]
    for location in locations:
        path = location.removeprefix("https://example.org/")
        assert (path + "index.html" if path.endswith("/") or not path else path) in outputs
    assert not any("404" in location for location in locations)
    talks = next(u for u in urls if u.find(f"{SITEMAP}loc").text.endswith("/en/timeline/talks/"))
    alternates = {link.get("hreflang"): link.get("href") for link in talks.findall(f"{XHTML}link")}
    assert alternates == {
        "es": "https://example.org/es/cronologia/talks/",
        "en": "https://example.org/en/timeline/talks/",
        "x-default": "https://example.org/es/cronologia/talks/",
    }
    assert outputs["robots.txt"].decode() == "User-agent: *\nAllow: /\nSitemap: https://example.org/sitemap.xml\n"


def test_sitemap_has_every_page_but_not_found_ones_with_the_alternates_each_page_names(outputs):
    root = etree.fromstring(outputs["sitemap.xml"])
    in_sitemap = {}
    for url in root.findall(f"{SITEMAP}url"):
        links = {link.get("hreflang"): link.get("href") for link in url.findall(f"{XHTML}link")}
        in_sitemap[url.find(f"{SITEMAP}loc").text.removeprefix("https://example.org/")] = links
    pages = {path.removesuffix("index.html"): html for path, html in outputs.items() if path.endswith(".html")}
    assert set(in_sitemap) == {path for path in pages if not path.endswith("404.html")}
    assert "" in in_sitemap, "the root chooser is listed"
    for path, links in in_sitemap.items():
        own = PageLinks()
        own.feed(pages[path].decode())
        assert links == own.alternates, path


def test_no_sitemap_without_a_host_but_robots_all_the_same(project):
    outputs = build(project, base_url="/sub/", write=False, search=False).outputs
    assert "sitemap.xml" not in outputs
    assert outputs["robots.txt"] == b"User-agent: *\nAllow: /\n"
    page = outputs["en/timeline/meeting/index.html"].decode()
    assert 'property="og:url"' not in page and 'property="og:title"' in page
    assert '<link rel="alternate" type="application/atom+xml" href="/sub/en/feed.xml"' in page


def _json_ld(page: bytes) -> dict:
    found = re.findall(rb'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert len(found) == 1
    return json.loads(found[0])


def test_json_ld_per_page_kind(outputs):
    expected = {
        "es/index.html": "WebSite",
        "en/timeline/index.html": "ItemList",
        "en/timeline/meeting/index.html": "Event",
        "es/personas/ana-nunez/index.html": "Person",
        "en/glossary/new-pact/index.html": "CreativeWork",
        "en/glossary/index.html": "DefinedTermSet",
        "en/organizations/ministry/index.html": "Organization",
    }
    for path, kind in expected.items():
        data = _json_ld(outputs[path])
        assert data["@type"] == kind and data["inLanguage"] == path[:2]
    event = _json_ld(outputs["en/timeline/meeting/index.html"])
    assert event["startDate"] == "2024-03-02" and "eventStatus" not in event
    assert event["sameAs"] == ["https://example.org/es/cronologia/meeting/"]
    talks = _json_ld(outputs["en/timeline/talks/index.html"])
    assert talks["startDate"] == "2024-06" and talks["eventStatus"] == "https://schema.org/EventScheduled"
    person = _json_ld(outputs["en/people/ana-nunez/index.html"])
    assert person["sameAs"] == ["https://example.org/es/personas/ana-nunez/"]
    pact = _json_ld(outputs["es/glosario/new-pact/index.html"])
    assert pact["datePublished"] == "2024-03" and pact["alternateName"] == "Nuevo"
    assert pact["workTranslation"] == [
        {"@type": "CreativeWork", "inLanguage": "en", "url": "https://example.org/en/glossary/new-pact/"}
    ]
    assert _json_ld(outputs["en/timeline/index.html"])["name"] == "Timeline · Test site"
    terms = _json_ld(outputs["es/glosario/index.html"])["hasDefinedTerm"]
    assert [t["name"] for t in terms] == ["Frontera"]


def test_open_graph_and_feed_links_in_every_page_head(outputs):
    page = outputs["en/timeline/meeting/index.html"].decode()
    assert '<meta property="og:title" content="Ministers meet · Test site">' in page
    assert '<meta property="og:locale" content="en_US">' in page
    assert '<meta property="og:locale:alternate" content="es_MX">' in page
    assert '<link rel="alternate" type="application/atom+xml" href="/en/feed.xml"' in page


def test_script_end_tags_in_content_cannot_escape_json_ld_and_feeds_escape_markup(project):
    inject(project, "</script><script>alert(1)</script>")
    outputs = build(project, write=False).outputs
    for path, data in outputs.items():
        if path.endswith(".html"):
            for block in re.findall(rb'<script type="application/ld\+json">(.*?)</script>', data, re.S):
                assert b"<" not in block and json.loads(block)
    feed = feedparser.parse(outputs["en/feed.xml"])
    assert feed.bozo == 0 and "</script><script>" in feed.entries[-1].title
    assert b"<script>" not in outputs["en/feed.xml"]
    assert b"<script>" not in outputs["sitemap.xml"]
    calendar = icalendar.Calendar.from_ical(outputs["en/events.ics"])
    assert any("</script>" in str(e["summary"]) for e in calendar.walk("VEVENT"))
    assert json.loads(outputs["en/data.json"])


MACHINE_OUTPUTS = ("es/feed.xml", "en/feed.xml", "es/events.ics", "en/events.ics", "es/data.json", "en/data.json")


def test_feeds_are_byte_identical_across_processes_hash_seeds_and_time_zones(project, tmp_path):
    first = build(project, search=False).outputs
    other = tmp_path / "other"
    env = {"PYTHONHASHSEED": "7", "TZ": "Pacific/Kiritimati", "LC_ALL": "C", "PATH": "/usr/bin:/bin"}
    script = (
        "import sys; from pathlib import Path; from dataclasses import replace; "
        "from tests.conftest import fixture_project; from explainer.pipeline import build; "
        "build(replace(fixture_project(Path(sys.argv[1])), output=Path(sys.argv[2])), search=False)"
    )
    subprocess.run([sys.executable, "-c", script, str(project.root), str(other)], cwd=REPO, env=env, check=True)
    for path in (*MACHINE_OUTPUTS, "sitemap.xml", "robots.txt", "en/timeline/talks/index.html"):
        assert (other / path).read_bytes() == first[path], path
    # Nothing comes from the clock: today's date appears in no output.
    today = datetime.date.today()
    for path in MACHINE_OUTPUTS:
        assert today.isoformat().encode() not in first[path] and today.strftime("%Y%m%d").encode() not in first[path]
