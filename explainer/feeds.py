"""Machine-readable outputs: an Atom feed, an ICS calendar and a JSON export per language; sitemap and robots.

Pure functions from the model to bytes. Nothing depends on the clock: every date comes from the content.
"""

from __future__ import annotations

import datetime
import json
import uuid
import xml.etree.ElementTree as etree

import icalendar

from .dates import PartialDate, format_partial_date
from .links import all_citations
from .metadata import words
from .model import Agreement, Entry, Event, Model, Organization, Person, Source, Term
from .plan import Page
from .strings import Strings
from .urls import Urls

ATOM = "http://www.w3.org/2005/Atom"
SITEMAP = "http://www.sitemaps.org/schemas/sitemap/0.9"
XHTML = "http://www.w3.org/1999/xhtml"


def feed_paths(lang: str) -> dict[str, str]:
    """Return the site paths of a language's feed, calendar and data export."""
    return {"atom": f"{lang}/feed.xml", "ics": f"{lang}/events.ics", "json": f"{lang}/data.json"}


def _text(value, lang: str, default: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return value.get(lang) or value.get(default) or next(iter(value.values()))


def _instant(date: PartialDate) -> str:
    return f"{date.first_day().isoformat()}T00:00:00Z"


def atom_feed(model: Model, urls: Urls, strings: Strings, lang: str) -> bytes:
    """Return the Atom feed of the timeline in one language, newest first."""
    etree.register_namespace("", ATOM)
    default = model.site.default_language
    feed = etree.Element(f"{{{ATOM}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": lang})
    _child(feed, "title", f"{_text(model.site.title, lang, default)} · {strings.get(lang, 'timeline.title')}")
    _child(feed, "subtitle", _text(model.site.description, lang, default))
    _child(feed, "id", _urn(model, f"feed:{lang}"))
    events = sorted(model.events, key=lambda e: (e.date, e.order, e.id), reverse=True)
    _child(feed, "updated", _instant(events[0].date) if events else "1970-01-01T00:00:00Z")
    etree.SubElement(feed, f"{{{ATOM}}}link", {"rel": "self", "href": urls.absolute(feed_paths(lang)["atom"])})
    etree.SubElement(
        feed,
        f"{{{ATOM}}}link",
        {"rel": "alternate", "type": "text/html", "href": urls.absolute(urls.section(lang, "timeline"))},
    )
    author = etree.SubElement(feed, f"{{{ATOM}}}author")
    _child(author, "name", _text(model.site.title, lang, default))
    for event in events:
        entry = etree.SubElement(feed, f"{{{ATOM}}}entry")
        _child(entry, "title", _text(event.title, lang, default))
        _child(entry, "id", _urn(model, f"event:{event.id}:{lang}"))
        _child(entry, "updated", _instant(event.date))
        _child(entry, "published", _instant(event.date))
        etree.SubElement(
            entry,
            f"{{{ATOM}}}link",
            {"rel": "alternate", "type": "text/html", "href": urls.absolute(urls.entry(event, lang))},
        )
        status = strings.get(lang, f"status.{event.status}")
        summary = f"{format_partial_date(event.date, lang)} ({status}). {words(model, event.summary, lang)}"
        _child(entry, "summary", summary)
    etree.indent(feed)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + etree.tostring(feed, encoding="utf-8") + b"\n"


def _child(parent: etree.Element, name: str, text: str) -> etree.Element:
    element = etree.SubElement(parent, f"{{{ATOM}}}{name}")
    element.text = text
    return element


def _urn(model: Model, name: str) -> str:
    # Stable across builds and hosts: derived from the site's default title and the thing named.
    site = _text(model.site.title, model.site.default_language, model.site.default_language)
    return uuid.uuid5(uuid.NAMESPACE_URL, f"explainer:{site}:{name}").urn


def calendar(model: Model, urls: Urls, strings: Strings, lang: str) -> bytes:
    """Return an ICS calendar of the events, each an all-day event over its day, month or year."""
    default = model.site.default_language
    cal = icalendar.Calendar()
    cal.add("prodid", "-//explainer//static site generator//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", _text(model.site.title, lang, default))
    for event in model.events:
        start, end = _span(event.date)
        item = icalendar.Event()
        item.add("uid", f"{event.id}.{lang}@explainer")
        # DTSTAMP must exist; the event's own date keeps the file the same on every build.
        item.add("dtstamp", datetime.datetime.combine(start, datetime.time(), tzinfo=datetime.UTC))
        item.add("dtstart", start)
        item.add("dtend", end)
        item.add("summary", _text(event.title, lang, default))
        precision = strings.get(lang, f"precision.{event.date.precision}")
        item.add("description", f"{words(model, event.summary, lang)}\n\n{precision}")
        item.add("status", "CONFIRMED" if event.status == "happened" else "TENTATIVE")
        link = urls.absolute(urls.entry(event, lang))
        if "://" in link:
            item.add("url", link)
        cal.add_component(item)
    return cal.to_ical()


def _span(date: PartialDate) -> tuple[datetime.date, datetime.date]:
    start = date.first_day()
    if date.day:
        return start, start + datetime.timedelta(days=1)
    if date.month:
        return start, (start.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return start, start.replace(year=start.year + 1)


def data_export(model: Model, urls: Urls, lang: str) -> bytes:
    """Return every entry in one language as JSON, with ids, links, citations and back-references."""
    default = model.site.default_language
    entries = [_export(entry, model, urls, lang, default) for entry in model.entries.values()]
    document = {
        "site": _text(model.site.title, lang, default),
        "language": lang,
        "licence": "facts from the cited sources; reuse with attribution to this site and to those sources",
        "entries": entries,
    }
    return (json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


def _export(entry: Entry, model: Model, urls: Urls, lang: str, default: str) -> dict:
    record: dict = {"id": entry.id, "kind": entry.kind, "url": urls.absolute(urls.entry(entry, lang))}
    record["citations"] = [
        {"source": c.source, "paragraphs": list(c.paragraphs), **({"quote": c.quote} if c.quote else {})}
        for _, c in all_citations(entry)
    ]
    texts = {
        Event: ("title", "summary", "body"),
        Person: ("summary", "bio", "name_note"),
        Agreement: ("name", "short_name", "summary", "body"),
        Term: ("term", "abbr", "definition"),
        Organization: ("name", "abbr", "summary", "body"),
        Source: ("title", "date_note", "note"),
    }[type(entry)]
    for name in texts:
        value = getattr(entry, name)
        if value:
            record[name] = words(model, value, lang)
    if isinstance(entry, Event):
        record.update(
            date=entry.date.iso,
            precision=entry.date.precision,
            status=entry.status,
            people=list(entry.people),
            organizations=list(entry.organizations),
            agreements=list(entry.agreements),
            tags=list(entry.tags),
        )
    elif isinstance(entry, Person):
        record.update(
            name=entry.name,
            country=entry.country,
            mentioned=entry.mentioned,
            roles=[
                {
                    "title": _text(role.title, lang, default),
                    **({"organization": role.organization} if role.organization else {}),
                    **({"start": role.start.iso} if role.start else {}),
                    **({"end": role.end.iso} if role.end else {}),
                }
                for role in entry.roles
            ],
            events=list(model.events_of.get(entry.id, ())),
        )
    elif isinstance(entry, Agreement):
        record.update(
            category=entry.category,
            parties=list(entry.parties),
            pillars=[_text(p, lang, default) for p in entry.pillars],
            replaces=list(entry.replaces),
            replaced_by=list(model.replaced_by.get(entry.id, ())),
            events=list(model.events_of.get(entry.id, ())),
            **({"date": entry.date.iso} if entry.date else {}),
        )
    elif isinstance(entry, Term) and entry.refers_to:
        record["refers_to"] = entry.refers_to
    elif isinstance(entry, Organization):
        record.update(
            {k: v for k, v in (("country", entry.country), ("parent", entry.parent)) if v},
            people=list(model.people_of.get(entry.id, ())),
            events=list(model.events_of.get(entry.id, ())),
        )
    elif isinstance(entry, Source):
        record.update(
            {
                k: v
                for k, v in (
                    ("category", entry.category),
                    ("publisher", entry.publisher),
                    ("author", entry.author),
                    ("date", entry.date.iso if entry.date else None),
                    ("language", entry.language),
                    ("link", entry.url),
                    ("via", entry.via.source if entry.via else None),
                )
                if v
            }
        )
    return record


def sitemap(pages: list[Page], urls: Urls, default_language: str) -> bytes | None:
    """Return sitemap.xml with every page and its language alternates; None when URLs cannot be absolute."""
    if "://" not in urls.base_url:
        return None
    etree.register_namespace("", SITEMAP)
    etree.register_namespace("xhtml", XHTML)
    root = etree.Element(f"{{{SITEMAP}}}urlset")
    for page in pages:
        if page.template.endswith("404.html") or page.fallback:
            continue
        url = etree.SubElement(root, f"{{{SITEMAP}}}url")
        etree.SubElement(url, f"{{{SITEMAP}}}loc").text = urls.absolute(page.path)
        alternates = dict(page.alternates)
        if page.key == ("home",):
            alternates["x-default"] = ""
        elif alternates and default_language in alternates:
            alternates["x-default"] = alternates[default_language]
        for lang, path in alternates.items():
            attributes = {"rel": "alternate", "hreflang": lang, "href": urls.absolute(path)}
            etree.SubElement(url, f"{{{XHTML}}}link", attributes)
    etree.indent(root)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + etree.tostring(root, encoding="utf-8") + b"\n"


def robots(urls: Urls, has_sitemap: bool) -> bytes:
    """Return robots.txt: everything may be crawled; the sitemap's address when there is one."""
    lines = ["User-agent: *", "Allow: /"]
    if has_sitemap:
        lines.append(f"Sitemap: {urls.absolute('sitemap.xml')}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def machine_outputs(model: Model, urls: Urls, strings: Strings, pages: list[Page]) -> dict[str, bytes]:
    """Return the feeds, calendars, exports, sitemap and robots.txt by output path."""
    outputs: dict[str, bytes] = {}
    for lang in model.site.languages:
        paths = feed_paths(lang)
        outputs[paths["atom"]] = atom_feed(model, urls, strings, lang)
        outputs[paths["ics"]] = calendar(model, urls, strings, lang)
        outputs[paths["json"]] = data_export(model, urls, lang)
    site_map = sitemap(pages, urls, model.site.default_language)
    if site_map is not None:
        outputs["sitemap.xml"] = site_map
    outputs["robots.txt"] = robots(urls, site_map is not None)
    return outputs
