"""Machine-readable outputs: an Atom feed, an ICS calendar and a JSON export per language; sitemap and robots.

Pure functions from the model to bytes. Nothing depends on the clock: every date comes from the content.
"""

from __future__ import annotations

import datetime
import functools
import json
import uuid
import xml.etree.ElementTree as etree
from collections.abc import Callable
from urllib.parse import urlsplit

from .dates import PartialDate, format_partial_date
from .links import all_citations
from .metadata import hreflang_alternates, text_in, words
from .model import Agreement, Entry, Event, Model, Organization, Person, Source, Term
from .output import Spliced
from .parallel import map_in_chunks
from .parts import Job, Parts, compute_part
from .plan import Page
from .strings import Strings
from .urls import Urls

ATOM = "http://www.w3.org/2005/Atom"
SITEMAP = "http://www.sitemaps.org/schemas/sitemap/0.9"
XHTML = "http://www.w3.org/1999/xhtml"


PARALLEL_FROM = 2000
"""Below this many parts to compute, starting worker processes costs more than it saves."""
CHUNK = 1000
"""Parts handed to a worker at a time, when a first build computes them across the cores."""


def feed_paths(lang: str) -> dict[str, str]:
    """Return the site paths of a language's feed, calendar and data export."""
    return {"atom": f"{lang}/feed.xml", "ics": f"{lang}/events.ics", "json": f"{lang}/data.json"}


def _instant(date: PartialDate) -> str:
    return f"{date.first_day().isoformat()}T00:00:00Z"


def atom_feed(model: Model, urls: Urls, strings: Strings, lang: str, parts: Parts) -> bytes | Spliced:
    """Return the Atom feed of the timeline in one language, newest first."""
    feed = etree.Element("feed", {"xmlns": ATOM, "xml:lang": lang})
    _child(feed, "title", f"{text_in(model, model.site.title, lang)} · {strings.get(lang, 'timeline.title')}")
    _child(feed, "subtitle", text_in(model, model.site.description, lang))
    _child(feed, "id", _urn(model, f"feed:{lang}"))
    events = _newest_first(model)
    _child(feed, "updated", _instant(events[0].date) if events else "1970-01-01T00:00:00Z")
    etree.SubElement(feed, "link", {"rel": "self", "href": urls.absolute(feed_paths(lang)["atom"])})
    etree.SubElement(
        feed, "link", {"rel": "alternate", "type": "text/html", "href": urls.absolute(urls.section(lang, "timeline"))}
    )
    author = etree.SubElement(feed, "author")
    _child(author, "name", text_in(model, model.site.title, lang))
    etree.indent(feed)
    head = '<?xml version="1.0" encoding="utf-8"?>\n' + etree.tostring(feed, encoding="unicode").removesuffix("</feed>")
    # Each entry's XML is kept between builds; an edit redoes only the entries it touches.
    names = [("atom", event.id, lang) for event in events]

    def job(index: int) -> Job:
        return _atom_job(events[index], urls, lang)

    return parts.joined(feed_paths(lang)["atom"], head.encode(), names, job, b"</feed>\n")


def _of_the_last_model(function: Callable[[Model], list[Event]]) -> Callable[[Model], list[Event]]:
    # The answer for the model last asked about, again: each language's feed asks (and the estimate
    # of the work), and sorting or sifting a large site's 6,000 events took 4-8 ms each time.
    last: list = [None, []]

    @functools.wraps(function)
    def remembered(model: Model) -> list[Event]:
        if last[0] is not model:
            last[:] = [model, function(model)]
        return last[1]

    return remembered


@_of_the_last_model
def _newest_first(model: Model) -> list[Event]:
    return sorted(model.events, key=lambda e: (e.date, e.order, e.id), reverse=True)


def _atom_entry(event: Event, model: Model, urls: Urls, strings: Strings, lang: str) -> bytes:
    entry = etree.Element("entry")
    _child(entry, "title", text_in(model, event.title, lang))
    _child(entry, "id", _urn(model, f"event:{event.id}:{lang}"))
    _child(entry, "updated", _instant(event.date))
    _child(entry, "published", _instant(event.date))
    etree.SubElement(
        entry, "link", {"rel": "alternate", "type": "text/html", "href": urls.absolute(urls.entry(event, lang))}
    )
    status = strings.get(lang, f"status.{event.status}")
    summary = f"{format_partial_date(event.date, lang)} ({status}). {words(model, event.summary, lang)}"
    _child(entry, "summary", summary)
    etree.indent(entry, level=1)
    return ("  " + etree.tostring(entry, encoding="unicode") + "\n").encode()


def _child(parent: etree.Element, name: str, text: str) -> etree.Element:
    element = etree.SubElement(parent, name)
    element.text = text
    return element


def _urn(model: Model, name: str) -> str:
    # Stable across builds, hosts and new titles: derived from the site's id and the thing named.
    return uuid.uuid5(uuid.NAMESPACE_URL, f"explainer:{model.site.id}:{name}").urn


def calendar(model: Model, urls: Urls, strings: Strings, lang: str, parts: Parts) -> bytes | Spliced:
    """Return an ICS calendar of the events known to the day or the month, each an all-day event.

    An event known only to its year is left out: a year-long entry would fill every day of a reader's
    calendar. The feed and the data export still have it.
    """
    head = calendar_head(f"{text_in(model, model.site.title, lang)} · {strings.get(lang, 'timeline.title')}")
    end = b"END:VCALENDAR\r\n"
    events = _in_calendar(model)
    names = [("ics", event.id, lang) for event in events]

    def job(index: int) -> Job:
        return _ics_job(events[index], urls, lang)

    return parts.joined(feed_paths(lang)["ics"], head, names, job, end)


def calendar_head(name: str) -> bytes:
    """Return the bytes icalendar writes for a calendar of this name up to its first event, written directly.

    Importing icalendar for these five lines was a tenth of the processor time of a large site's edit
    that makes its feeds; a property test holds them equal to its. The name is a TEXT value, RFC 5545's
    default for a non-standard property (its commas escaped, as icalendar escapes them when told so).
    """
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//explainer//static site generator//EN",
        "CALSCALE:GREGORIAN",
        "X-WR-CALNAME:" + _ics_text(name),
    ]
    return "".join(_folded(line) + "\r\n" for line in lines).encode()


@_of_the_last_model
def _in_calendar(model: Model) -> list[Event]:
    return [event for event in model.events if event.date.precision != "year"]


def calendar_event(event: Event, model: Model, urls: Urls, strings: Strings, lang: str) -> bytes:
    """Return an event as an all-day VEVENT."""
    start, end = _span(event.date)
    precision = strings.get(lang, f"precision.{event.date.precision}")
    link = urls.absolute(urls.entry(event, lang))
    # One UID per event in every language's calendar: they describe the same event. Without a host,
    # the site's id keeps apart two sites' events of the same id in a reader's calendar.
    host = urlsplit(urls.base_url).hostname
    return vevent(
        uid=f"{event.id}@{host}" if host else f"{event.id}.{model.site.id}@explainer",
        start=start,
        end=end,
        summary=text_in(model, event.title, lang),
        description=f"{words(model, event.summary, lang)}\n\n{precision}",
        status="CONFIRMED" if event.status == "happened" else "TENTATIVE",
        url=link if "://" in link else None,
    )


def vevent(
    *, uid: str, start: datetime.date, end: datetime.date, summary: str, description: str, status: str, url: str | None
) -> bytes:
    """Return the bytes icalendar writes for an all-day VEVENT of these properties, written directly.

    icalendar took 0.2 ms an event (2.4 s of processor time for a large site's two calendars) to build
    the component and write it; a property test holds these bytes equal to its, for any text.
    """
    # In the order icalendar writes a VEVENT's properties.
    lines = [
        "BEGIN:VEVENT",
        "SUMMARY:" + _ics_text(summary),
        f"DTSTART;VALUE=DATE:{_ics_date(start)}",
        f"DTEND;VALUE=DATE:{_ics_date(end)}",
        # DTSTAMP must exist; the event's own date keeps the file the same on every build.
        f"DTSTAMP:{_ics_date(start)}T000000Z",
        "UID:" + _ics_text(uid),
        "DESCRIPTION:" + _ics_text(description),
        "STATUS:" + _ics_text(status),
        *([f"URL:{url}"] if url is not None else []),
        "END:VEVENT",
    ]
    return "".join(_folded(line) + "\r\n" for line in lines).encode()


def _ics_date(day: datetime.date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def _ics_text(text: str) -> str:
    # RFC 5545 TEXT, escaped as icalendar escapes it (its "\\N" is a line break too).
    return (
        text.replace("\\N", "\n")
        .replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def _folded(line: str, limit: int = 75) -> str:
    # Lines folded as icalendar folds them: before the character that would make a line's octets reach
    # `limit`, never right after a backslash or a caret (it would split an escape).
    if len(line) * 4 < limit or len(line.encode()) < limit:
        return line
    folded: list[str] = []
    current: list[str] = []
    size = 0
    for char in line:
        width = len(char.encode())
        if current and size + width >= limit:
            if len(current) > 1 and current[-1] in "\\^":
                carried = current.pop()
                folded.append("".join(current))
                current, size = [carried], len(carried.encode())
            else:
                folded.append("".join(current))
                current, size = [], 0
        current.append(char)
        size += width
    folded.append("".join(current))
    return "\r\n ".join(folded)


def _span(date: PartialDate) -> tuple[datetime.date, datetime.date]:
    # DTEND of an all-day event is the day after the last one.
    start = date.first_day()
    if date.day:
        return start, start + datetime.timedelta(days=1)
    return start, (start.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def data_export(model: Model, urls: Urls, strings: Strings, lang: str, parts: Parts) -> bytes | Spliced:
    """Return every entry in one language as JSON, with ids, links, citations and back-references."""
    entries = list(model.entries.values())
    # Laid out as json.dumps(indent=2, sort_keys=True) lays out the whole document, a record at a time.
    tail = (
        f'  "language": {_dumps(lang)},\n'
        f'  "licence": {_dumps(strings.get(lang, "data.licence"))},\n'
        f'  "site": {_dumps(text_in(model, model.site.title, lang))}\n}}\n'
    ).encode()
    if not entries:
        return b'{\n  "entries": [],\n' + tail
    names = [("json", entry.id, lang) for entry in entries]

    def job(index: int) -> Job:
        return _json_job(entries[index], urls, lang)

    head, tail = b'{\n  "entries": [\n    ', b"\n  ],\n" + tail
    return parts.joined(feed_paths(lang)["json"], head, names, job, tail, separator=b",\n    ")


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)


_SCALAR = json.JSONEncoder(ensure_ascii=False).encode


def indented_json(value: object, indent: str = "\n") -> str:
    """Return what json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True) returns, lines joined by `indent`.

    json's indenting encoder is written in Python (its C encoder writes only compact JSON): for a large
    site's exports, 0.05 ms a record in the encoder's machinery. This one walks the record and has the
    C encoder write each string and number; a property test holds it to json.dumps for any JSON value.
    """
    if isinstance(value, dict):
        if not value:
            return "{}"
        inner = indent + "  "
        items = [f"{inner}{_SCALAR(key)}: {indented_json(value[key], inner)}" for key in sorted(value)]
        return "{" + ",".join(items) + indent + "}"
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        inner = indent + "  "
        return "[" + ",".join(inner + indented_json(item, inner) for item in value) + indent + "]"
    return _SCALAR(value)


_TEXTS = {
    Event: ("title", "summary", "body"),
    Person: ("summary", "bio", "name_note"),
    Agreement: ("name", "short_name", "summary", "body"),
    Term: ("term", "abbr", "definition"),
    Organization: ("name", "abbr", "summary", "body"),
    Source: ("title", "date_note", "note"),
}


def _export(entry: Entry, model: Model, urls: Urls, lang: str) -> dict:
    record: dict = {"id": entry.id, "kind": entry.kind, "url": urls.absolute(urls.entry(entry, lang))}
    if lang in entry.untranslated:
        # Built with --allow-missing: the texts it lacks in `lang` are given in another site language.
        record["untranslated"] = True
    record["citations"] = [
        {"source": c.source, "paragraphs": list(c.paragraphs), **({"quote": c.quote} if c.quote else {})}
        for _, c in all_citations(entry)
    ]
    for name in _TEXTS[type(entry)]:
        value = getattr(entry, name)
        if value:
            record[name] = words(model, value, lang)
    fields = _FIELDS[type(entry)](entry, model, lang)
    # Absent facts are left out rather than written as null.
    return record | {name: value for name, value in fields.items() if value is not None}


def _event_fields(event: Event, model: Model, lang: str) -> dict:
    return {
        "date": event.date.iso,
        "precision": event.date.precision,
        "status": event.status,
        "people": list(event.people),
        "organizations": list(event.organizations),
        "agreements": list(event.agreements),
        "tags": list(event.tags),
    }


def _person_fields(person: Person, model: Model, lang: str) -> dict:
    roles = [
        {
            "title": text_in(model, role.title, lang),
            "organization": role.organization,
            "start": role.start.iso if role.start else None,
            "end": role.end.iso if role.end else None,
        }
        for role in person.roles
    ]
    return {
        "name": person.name,
        "country": person.country,
        "mentioned": person.mentioned,
        "roles": [{k: v for k, v in role.items() if v is not None} for role in roles],
        "events": list(model.events_of.get(person.id, ())),
    }


def _agreement_fields(agreement: Agreement, model: Model, lang: str) -> dict:
    return {
        "category": agreement.category,
        "date": agreement.date.iso if agreement.date else None,
        "parties": list(agreement.parties),
        "pillars": [text_in(model, pillar, lang) for pillar in agreement.pillars],
        "replaces": list(agreement.replaces),
        "replaced_by": list(model.replaced_by.get(agreement.id, ())),
        "events": list(model.events_of.get(agreement.id, ())),
    }


def _term_fields(term: Term, model: Model, lang: str) -> dict:
    return {"refers_to": term.refers_to}


def _organization_fields(organization: Organization, model: Model, lang: str) -> dict:
    return {
        "country": organization.country,
        "parent": organization.parent,
        "units": list(model.units_of.get(organization.id, ())),
        "people": list(model.people_of.get(organization.id, ())),
        "events": list(model.events_of.get(organization.id, ())),
    }


def _source_fields(source: Source, model: Model, lang: str) -> dict:
    return {
        "category": source.category,
        "publisher": source.publisher,
        "author": source.author,
        "date": source.date.iso if source.date else None,
        "language": source.language,
        "link": source.url,
        "via": source.via.source if source.via else None,
        "cited_by": list(model.citers_of.get(source.id, ())),
    }


_FIELDS = {
    Event: _event_fields,
    Person: _person_fields,
    Agreement: _agreement_fields,
    Term: _term_fields,
    Organization: _organization_fields,
    Source: _source_fields,
}


def sitemap(pages: list[Page], model: Model, urls: Urls, parts: Parts) -> bytes | Spliced | None:
    """Return sitemap.xml with every page and its language alternates; None when URLs cannot be absolute."""
    if not _has_sitemap(urls):
        return None
    # Each page's <url> element is kept between builds, as the feed's entries are.
    listed = _in_sitemap(pages)
    if not listed:
        return f'<?xml version="1.0" encoding="utf-8"?>\n<urlset xmlns="{SITEMAP}" />\n'.encode()
    # Language alternates are declared once, if a page has some (the first page has, unless the site
    # has one language and no root page).
    alternates = any(hreflang_alternates(page, model, urls) for page in listed)
    namespaces = f'xmlns="{SITEMAP}"' + (f' xmlns:xhtml="{XHTML}"' if alternates else "")
    head = f'<?xml version="1.0" encoding="utf-8"?>\n<urlset {namespaces}>\n'.encode()
    names = [_sitemap_name(page) for page in listed]

    def job(index: int) -> Job:
        return _sitemap_job(listed[index], urls)

    return parts.joined("sitemap.xml", head, names, job, b"</urlset>\n")


def _in_sitemap(pages: list[Page]) -> list[Page]:
    # Not-found pages are not content; untranslated stand-ins point to their original instead.
    return [page for page in pages if not (page.template.endswith("404.html") or page.fallback)]


def robots(urls: Urls, has_sitemap: bool) -> bytes:
    """Return robots.txt: everything may be crawled; the sitemap's address when there is one."""
    lines = ["User-agent: *", "Allow: /"]
    if has_sitemap:
        lines.append(f"Sitemap: {urls.absolute('sitemap.xml')}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def _atom_job(event: Event, urls: Urls, lang: str) -> Job:
    return ("atom", event.id, lang), lambda m, s: _atom_entry(m.get(event.id), m, urls, s, lang)


def _ics_job(event: Event, urls: Urls, lang: str) -> Job:
    return ("ics", event.id, lang), lambda m, s: calendar_event(m.get(event.id), m, urls, s, lang)


def _json_job(entry: Entry, urls: Urls, lang: str) -> Job:
    def compute(m, s):
        return indented_json(_export(m.get(entry.id), m, urls, lang), "\n    ").encode()

    return ("json", entry.id, lang), compute


def _sitemap_job(page: Page, urls: Urls) -> Job:
    def compute(m, s):
        url = etree.Element("url")
        _child(url, "loc", urls.absolute(page.path))
        for lang, path in hreflang_alternates(page, m, urls).items():
            # Prefixed by name: the document declares xmlns:xhtml once, on <urlset>.
            etree.SubElement(url, "xhtml:link", {"rel": "alternate", "hreflang": lang, "href": urls.absolute(path)})
        etree.indent(url, level=1)
        return ("  " + etree.tostring(url, encoding="unicode") + "\n").encode()

    return _sitemap_name(page), compute


def _sitemap_name(page: Page) -> tuple:
    # Named by the page's plan (its path, key, fallback and alternates among it), kept with the plan.
    return ("sitemap", page.file, page.plan_digest)


def _part_paths(model: Model, urls: Urls) -> list[str]:
    # The files made of parts (robots.txt is not).
    paths = [path for lang in model.site.languages for path in feed_paths(lang).values()]
    return [*paths, "sitemap.xml"] if _has_sitemap(urls) else paths


def _has_sitemap(urls: Urls) -> bool:
    # A sitemap lists absolute URLs only.
    return "://" in urls.base_url


def part_files(model: Model, urls: Urls, pages: list[Page]) -> dict[str, list[Job]]:
    """Return the jobs computing every part of the feeds, calendars, exports and sitemap, by file."""
    files: dict[str, list[Job]] = {}
    for lang in model.site.languages:
        paths = feed_paths(lang)
        files[paths["atom"]] = [_atom_job(event, urls, lang) for event in _newest_first(model)]
        files[paths["ics"]] = [_ics_job(event, urls, lang) for event in _in_calendar(model)]
        files[paths["json"]] = [_json_job(entry, urls, lang) for entry in model.entries.values()]
    if _has_sitemap(urls):
        files["sitemap.xml"] = [_sitemap_job(page, urls) for page in _in_sitemap(pages)]
    return files


def parts_lacking(model: Model, urls: Urls, pages: list[Page], parts: Parts) -> int:
    """Return how many parts of the feeds, calendars, exports and sitemap are to be computed, at most."""
    wanted: dict[str, Callable[[], int]] = {}
    for lang in model.site.languages:
        paths = feed_paths(lang)
        wanted[paths["atom"]] = lambda: len(model.events)
        wanted[paths["ics"]] = lambda: len(_in_calendar(model))
        wanted[paths["json"]] = lambda: len(model.entries)
    if _has_sitemap(urls):
        wanted["sitemap.xml"] = lambda: len(_in_sitemap(pages))
    lacking = 0
    for file, count in wanted.items():
        stale = parts.stale(file)
        # Counted only when the file is not as written (all its parts lacking): the sitemap's count is
        # a pass over 24,000 pages on a large site, for an edit that changes a few of its parts.
        lacking += count() if stale is None else stale
    return lacking


def prepare_parts(model: Model, urls: Urls, pages: list[Page], parts: Parts) -> int:
    """Compute across the cores the parts of files not as the last build wrote them; return how many.

    Only worth it when many are missing (a first build): otherwise they are computed as needed.
    """
    lost = [file for file in _part_paths(model, urls) if parts.written(file) is None]
    if not lost:
        return 0  # an edit: its few parts are computed as their files are made
    jobs = part_files(model, urls, pages)
    missing = [job for file in lost for job in jobs[file]]
    if len(missing) < PARALLEL_FROM:
        return 0

    def compute(chunk: list[Job]) -> dict:
        return {name: compute_part(model, strings, function) for name, function in chunk}

    strings = parts.inputs.strings
    for computed in map_in_chunks(compute, missing, PARALLEL_FROM, CHUNK):
        parts.adopt(computed)
    return len(missing)


def machine_outputs(
    model: Model, urls: Urls, strings: Strings, pages: list[Page], parts: Parts
) -> dict[str, bytes | Spliced]:
    """Return the feeds, calendars, exports, sitemap and robots.txt by output path (their layouts in `parts`):
    a file remade from the one in place as a `Spliced` file."""
    outputs: dict[str, bytes | Spliced] = {}
    for lang in model.site.languages:
        paths = feed_paths(lang)
        outputs[paths["atom"]] = atom_feed(model, urls, strings, lang, parts)
        outputs[paths["ics"]] = calendar(model, urls, strings, lang, parts)
        outputs[paths["json"]] = data_export(model, urls, strings, lang, parts)
    site_map = sitemap(pages, model, urls, parts)
    if site_map is not None:
        outputs["sitemap.xml"] = site_map
    outputs["robots.txt"] = robots(urls, site_map is not None)
    return outputs
