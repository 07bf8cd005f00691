"""Acronyms in running text: the first use on a page gets <abbr title> in the page's language, and a link."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from .model import Model, Organization, Term
from .urls import Urls

# Text inside these elements is left alone: links cannot nest, headings and titles stay plain, and
# code, scripts and the overview chart are not running text.
_SKIP = {"a", "abbr", "h1", "h2", "h3", "h4", "h5", "h6", "title", "script", "style", "code", "pre", "svg", "q"}
_TAG = re.compile(r"<(/?)([a-zA-Z0-9]+)[^>]*?(/?)>")
_VOID = {"br", "hr", "img", "input", "link", "meta", "source", "wbr", "circle", "line", "path"}


@dataclass(frozen=True)
class Acronym:
    """A known acronym in one language: its letters, what it stands for, and the page that explains it."""

    letters: str
    expansion: str
    href: str | None


def acronyms_of(model: Model, urls: Urls, lang: str) -> tuple[Acronym, ...]:
    """Return the acronyms of a language from the terms and organizations that declare one, longest first."""
    found: dict[str, Acronym] = {}
    for entry in (*model.terms, *model.organizations):
        if not isinstance(entry, Term | Organization) or not entry.abbr or lang not in entry.abbr:
            continue
        letters = entry.abbr[lang]
        if isinstance(entry, Term):
            expansion = entry.term.get(lang)
            target = model.get(entry.refers_to) if entry.refers_to else entry
        else:
            expansion = entry.name.get(lang)
            target = entry
        if expansion and letters not in found:
            found[letters] = Acronym(letters, expansion, urls.href(urls.entry(target, lang)))
    return tuple(sorted(found.values(), key=lambda a: (-len(a.letters), a.letters)))


def mark_acronyms(page_html: str, acronyms: tuple[Acronym, ...], own_path: str) -> str:
    """Wrap the first use of each acronym inside <main> in <abbr title>, linked unless it is this page.

    The input is our own rendered HTML (attributes escaped), so splitting on tags is exact.
    """
    if not acronyms:
        return page_html
    start = page_html.find("<main")
    end = page_html.find("</main>")
    if start < 0 or end < 0:
        return page_html
    pattern = re.compile(
        r"(?<![\w.])(" + "|".join(re.escape(html.escape(a.letters, quote=False)) for a in acronyms) + r")(?![\w])"
    )
    by_letters = {html.escape(a.letters, quote=False): a for a in acronyms}
    used: set[str] = set()
    skipping: list[str] = []
    pieces = []
    position = start
    for match in _TAG.finditer(page_html, start, end):
        pieces.append(_mark_text(page_html[position : match.start()], pattern, by_letters, used, own_path, skipping))
        pieces.append(match.group(0))
        closing, name, self_closing = match.group(1), match.group(2).lower(), match.group(3)
        if name in _SKIP and not self_closing and name not in _VOID:
            if closing:
                if name in skipping:
                    skipping.remove(name)
            else:
                skipping.append(name)
        position = match.end()
    pieces.append(_mark_text(page_html[position:end], pattern, by_letters, used, own_path, skipping))
    return page_html[:start] + "".join(pieces) + page_html[end:]


def _mark_text(text, pattern, by_letters, used, own_path, skipping) -> str:
    if skipping or not text.strip():
        return text

    def replace(match: re.Match) -> str:
        letters = match.group(1)
        if letters in used:
            return letters
        used.add(letters)
        acronym = by_letters[letters]
        abbr = f'<abbr title="{html.escape(acronym.expansion)}">{letters}</abbr>'
        if acronym.href and acronym.href.split("#")[0] != own_path:
            return f'<a href="{html.escape(acronym.href)}">{abbr}</a>'
        return abbr

    return pattern.sub(replace, text)
