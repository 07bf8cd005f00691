"""Structured data for search engines and link previews: JSON-LD per page kind, safe inside <script>."""

from __future__ import annotations

import base64
import hashlib
import json

from markupsafe import Markup

from .markup import to_plain
from .model import Agreement, Event, Model, Organization, Person
from .plan import Page
from .urls import Urls


def _text(value, lang: str) -> str:
    if value is None or isinstance(value, str):
        return value or ""
    return value.get(lang) or next(iter(value.values()))


def words(model: Model, value, lang: str) -> str:
    """Return a text in a language as plain words: Markdown references by their names, quotes marked."""
    return to_plain(
        _text(value, lang),
        lang,
        lambda target: _text(model.entries[target].label(), lang) if target in model.entries else target,
    )


def json_ld(page: Page, model: Model, urls: Urls) -> dict | None:
    """Return the schema.org description of a page, or None for pages that have none (404s)."""
    lang = page.fallback or page.lang or model.site.default_language
    if page.template.endswith("404.html") or page.lang is None:
        return None
    base = {"@context": "https://schema.org", "url": urls.absolute(page.path), "inLanguage": page.lang}
    translations = [
        {"@type": "WebPage", "url": urls.absolute(path), "inLanguage": other}
        for other, path in page.alternates.items()
        if other != page.lang
    ]
    if translations:
        base["workTranslation" if page.lang == model.site.default_language else "translationOfWork"] = translations
    entry = page.entry
    if isinstance(entry, Event):
        data = {
            "@type": "Event",
            "name": _text(entry.title, lang),
            "startDate": entry.date.iso,
            "description": words(model, entry.summary, lang),
            "eventAttendanceMode": "https://schema.org/OfflineEventAttendanceMode",
        }
        if entry.status == "announced":
            data["eventStatus"] = "https://schema.org/EventScheduled"
        if entry.people:
            data["performer"] = [{"@type": "Person", "name": model.get(p).name} for p in entry.people]
        return base | data
    if isinstance(entry, Person):
        data = {"@type": "Person", "name": entry.name, "description": words(model, entry.summary, lang)}
        titles = [_text(role.title, lang) for role in entry.roles]
        if titles:
            data["jobTitle"] = titles
        affiliations = [_text(model.get(r.organization).name, lang) for r in entry.roles if r.organization]
        if affiliations:
            data["affiliation"] = [{"@type": "Organization", "name": name} for name in dict.fromkeys(affiliations)]
        return base | data
    if isinstance(entry, Agreement):
        data = {
            "@type": "Legislation",
            "name": _text(entry.name, lang),
            "description": words(model, entry.summary, lang),
        }
        if entry.short_name:
            data["alternateName"] = _text(entry.short_name, lang)
        if entry.date:
            data["legislationDate"] = entry.date.iso
        return base | data
    if isinstance(entry, Organization):
        data = {
            "@type": "Organization",
            "name": _text(entry.name, lang),
            "description": words(model, entry.summary, lang),
        }
        if entry.abbr:
            data["alternateName"] = _text(entry.abbr, lang)
        return base | data
    section = page.key[0]
    if section == "timeline":
        # A filtered timeline lists only its own events.
        events = model.events
        if len(page.key) == 3:
            kind, value = page.key[1], page.key[2]
            field = {"person": "people", "agreement": "agreements", "tag": "tags"}[kind]
            events = tuple(event for event in model.events if value in getattr(event, field))
        return base | {
            "@type": "ItemList",
            "name": _text(model.site.title, lang),
            "itemListOrder": "https://schema.org/ItemListOrderAscending",
            "itemListElement": [
                {
                    "@type": "ListItem",
                    "position": n,
                    "url": urls.absolute(urls.entry(event, page.lang)),
                    "name": _text(event.title, lang),
                }
                for n, event in enumerate(events, 1)
            ],
        }
    if section == "glossary":
        return base | {
            "@type": "DefinedTermSet",
            "name": _text(model.site.title, lang),
            "hasDefinedTerm": [
                {
                    "@type": "DefinedTerm",
                    "@id": urls.absolute(urls.entry(term, page.lang)),
                    "name": _text(term.term, lang),
                    "description": words(model, term.definition, lang),
                    **({"termCode": _text(term.abbr, lang)} if term.abbr else {}),
                }
                for term in model.terms
            ],
        }
    if section == "home":
        return base | {
            "@type": "WebSite",
            "name": _text(model.site.title, lang),
            "description": words(model, model.site.description, lang),
        }
    return base | {"@type": "WebPage", "name": _text(model.site.title, lang)}


def _serialize(data: dict) -> str:
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    # In HTML, "</script" ends the element whatever JSON thinks; escaping <, > and & rules that out.
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def script_tag(data: dict | None) -> Markup:
    """Return a JSON-LD <script> element whose content cannot close the element or open markup."""
    if data is None:
        return Markup("")
    return Markup('<script type="application/ld+json">{}</script>').format(Markup(_serialize(data)))


def script_hash(data: dict | None) -> Markup:
    """Return the Content-Security-Policy hash source of a JSON-LD block, or an empty string."""
    if data is None:
        return Markup("")
    digest = hashlib.sha256(_serialize(data).encode("utf-8")).digest()
    return Markup(f" 'sha256-{base64.b64encode(digest).decode('ascii')}'")
