"""Structured data for search engines and link previews: hreflang alternates, JSON-LD per page kind."""

from __future__ import annotations

import base64
import hashlib
import json

from markupsafe import Markup

from .markup import to_plain
from .model import Agreement, Event, Label, Model, Organization, Person
from .plan import Page
from .strings import Strings
from .urls import Urls

# schema.org types that are CreativeWorks, and so may name their translations as such.
_WORKS = {"WebSite", "WebPage", "DefinedTermSet", "CreativeWork"}


def text_in(model: Model, value: Label | None, lang: str) -> str:
    """Return a text in a language, else in the first site language that has it; '' for no text."""
    if value is None or isinstance(value, str):
        return value or ""
    for candidate in (lang, *model.site.languages):
        if candidate in value:
            return value[candidate]
    return next(iter(value.values()))


def words(model: Model, value: Label | None, lang: str) -> str:
    """Return a text in a language as plain words: Markdown references by their names, quotes marked."""
    return to_plain(
        text_in(model, value, lang),
        lang,
        lambda target: text_in(model, model.entries[target].label(), lang) if target in model.entries else target,
    )


def hreflang_alternates(page: Page, model: Model, urls: Urls) -> dict[str, str]:
    """Return the site path of each language version of a page, x-default included; {} for none.

    The pages' <link rel="alternate" hreflang> and the sitemap both come from here, so they agree.
    """
    if page.key == ("root",):
        alternates = {lang: urls.home(lang) for lang in model.site.languages}
    else:
        alternates = dict(page.alternates)
    if not alternates:
        return {}
    default = model.site.default_language
    # The root chooser is where a reader with none of these languages should land.
    if page.key in (("root",), ("home",)):
        alternates["x-default"] = ""
    elif default in alternates:
        alternates["x-default"] = alternates[default]
    return alternates


def json_ld(page: Page, model: Model, urls: Urls, strings: Strings, listed: tuple[Event, ...] = ()) -> dict | None:
    """Return the schema.org description of a page, or None for pages that have none (404s, the root).

    `listed` is what a timeline page lists: every event, or a filter's (none when it lists years).
    """
    if page.template.endswith("404.html") or page.lang is None:
        return None
    lang = page.fallback or page.lang
    entry = page.entry
    if isinstance(entry, Event):
        data = _event(entry, model, urls, page.lang, lang)
    elif isinstance(entry, Person):
        data = _person(entry, model, lang)
    elif isinstance(entry, Agreement):
        data = _agreement(entry, model, lang)
    elif isinstance(entry, Organization):
        data = _organization(entry, model, lang)
    else:
        data = _section(page, model, urls, strings, lang, listed)
    return {"@context": "https://schema.org"} | data | _identity(page, model, urls, data["@type"])


def _identity(page: Page, model: Model, urls: Urls, kind: str) -> dict:
    # Works name their translations; people, events and lists name the same thing's other pages.
    data = {"url": urls.absolute(page.path), "inLanguage": page.fallback or page.lang}
    others = [(lang, path) for lang, path in page.alternates.items() if lang != page.lang]
    if not others:
        return data
    if kind not in _WORKS:
        return data | {"sameAs": [urls.absolute(path) for _, path in others]}
    name = "workTranslation" if page.lang == model.site.default_language else "translationOfWork"
    return data | {name: [{"@type": kind, "url": urls.absolute(path), "inLanguage": lang} for lang, path in others]}


def _event(event: Event, model: Model, urls: Urls, page_lang: str, lang: str) -> dict:
    data = {
        "@type": "Event",
        "name": text_in(model, event.title, lang),
        "startDate": event.date.iso,
        "description": words(model, event.summary, lang),
    }
    # Only what the source says: an announced event is planned; nothing is claimed of one that happened.
    if event.status == "announced":
        data["eventStatus"] = "https://schema.org/EventScheduled"
    if event.people:
        data["about"] = [
            {"@type": "Person", "name": model.get(p).name, "url": urls.absolute(urls.entry(model.get(p), page_lang))}
            for p in event.people
        ]
    return data


def _person(person: Person, model: Model, lang: str) -> dict:
    data = {"@type": "Person", "name": person.name, "description": words(model, person.summary, lang)}
    titles = [text_in(model, role.title, lang) for role in person.roles]
    if titles:
        data["jobTitle"] = titles
    affiliations = [text_in(model, model.get(r.organization).name, lang) for r in person.roles if r.organization]
    if affiliations:
        data["affiliation"] = [{"@type": "Organization", "name": name} for name in dict.fromkeys(affiliations)]
    return data


def _agreement(agreement: Agreement, model: Model, lang: str) -> dict:
    # A CreativeWork, not Legislation: frameworks, mechanisms and meeting formats are not laws.
    data = {
        "@type": "CreativeWork",
        "name": text_in(model, agreement.name, lang),
        "description": words(model, agreement.summary, lang),
    }
    if agreement.short_name:
        data["alternateName"] = text_in(model, agreement.short_name, lang)
    if agreement.date:
        data["datePublished"] = agreement.date.iso
    return data


def _organization(organization: Organization, model: Model, lang: str) -> dict:
    data = {
        "@type": "Organization",
        "name": text_in(model, organization.name, lang),
        "description": words(model, organization.summary, lang),
    }
    if organization.abbr:
        data["alternateName"] = text_in(model, organization.abbr, lang)
    return data


def _section(page: Page, model: Model, urls: Urls, strings: Strings, lang: str, listed: tuple[Event, ...]) -> dict:
    section = page.key[0]
    site = text_in(model, model.site.title, lang)
    if section == "home":
        return {"@type": "WebSite", "name": site, "description": words(model, model.site.description, lang)}
    name = f"{strings.get(lang, section + '.title')} · {site}"
    if section == "timeline" and listed:
        return {"@type": "ItemList", "name": name} | _event_list(page, model, urls, lang, listed)
    if section == "glossary":
        terms = [
            {
                "@type": "DefinedTerm",
                "@id": urls.absolute(urls.entry(term, page.lang)),
                "name": text_in(model, term.term, lang),
                "description": words(model, term.definition, lang),
                **({"termCode": text_in(model, term.abbr, lang)} if term.abbr else {}),
            }
            for term in model.terms
        ]
        return {"@type": "DefinedTermSet", "name": name, "hasDefinedTerm": terms}
    return {"@type": "WebPage", "name": name}


def _event_list(page: Page, model: Model, urls: Urls, lang: str, events: tuple[Event, ...]) -> dict:
    items = [
        {
            "@type": "ListItem",
            "position": n,
            "url": urls.absolute(urls.entry(event, page.lang)),
            "name": text_in(model, event.title, lang),
        }
        for n, event in enumerate(events, 1)
    ]
    return {"itemListOrder": "https://schema.org/ItemListOrderAscending", "itemListElement": items}


def serialize(data: dict | None) -> str | None:
    """Return a JSON-LD description as the text of its <script> element (None for no description)."""
    if data is None:
        return None
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    # In HTML, "</script" ends the element whatever JSON thinks; escaping <, > and & rules that out.
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def script_tag(text: str | None) -> Markup:
    """Return the JSON-LD <script> element of a serialized description, or nothing."""
    if text is None:
        return Markup("")
    return Markup(f'<script type="application/ld+json">{text}</script>')


def script_hash(text: str | None) -> Markup:
    """Return the Content-Security-Policy hash source of a serialized JSON-LD block, or an empty string."""
    if text is None:
        return Markup("")
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return Markup(f" 'sha256-{base64.b64encode(digest).decode('ascii')}'")
