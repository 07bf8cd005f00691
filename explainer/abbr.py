"""Acronyms in running text: the first use on a page gets <abbr title> in the page's language, and a link."""

from __future__ import annotations

import functools
import html
import re
from dataclasses import dataclass

from .model import Model, Organization, Term
from .urls import Urls

# Text inside these elements is left alone: links cannot nest, headings and titles stay plain, and
# code, scripts and the overview chart are not running text.
_SKIP = {"a", "abbr", "h1", "h2", "h3", "h4", "h5", "h6", "title", "script", "style", "code", "pre", "svg", "q"}
_SKIP_TAG = re.compile(r"<(/?)(" + "|".join(sorted(_SKIP)) + r")\b[^>]*?(/?)>", re.I)


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

    The input is our own rendered HTML (attributes escaped: no `>` inside a tag), so a use of the
    letters is inside a tag exactly when a `<` comes after the last `>` before it.
    """
    if not acronyms:
        return page_html
    start = page_html.find("<main")
    end = page_html.find("</main>")
    if start < 0 or end < 0:
        return page_html
    pattern, by_letters = _pattern_of(acronyms)
    used: set[str] = set()
    pieces = []
    position, scanned = 0, start
    skipping: dict[str, int] = {}  # elements open around the text that are left alone (see _SKIP), by name
    # Only the uses of the letters are visited, and the tags of skipped elements before each (every
    # tag of a page was walked, and each piece of text between searched: 0.58 ms a page of the real
    # site, against 0.24 ms).
    match = pattern.search(page_html, start, end)
    while match is not None:
        letters, at = match.group(1), match.start()
        before = page_html[at - 1]
        # Not inside a longer word or after a dot, nor in a tag's attributes (a look-behind in the
        # pattern would cost the search its quick skip to the letters' first characters).
        if before.isalnum() or before in "_." or page_html.rfind("<", scanned, at) > page_html.rfind(">", scanned, at):
            match = pattern.search(page_html, at + 1, end)
            continue
        if letters in used:
            match = pattern.search(page_html, match.end(), end)
            continue
        for tag in _SKIP_TAG.finditer(page_html, scanned, at):
            if not tag.group(3):  # <x/> opens nothing
                name = tag.group(2).lower()
                skipping[name] = skipping.get(name, 0) + 1 if not tag.group(1) else max(skipping.get(name, 0) - 1, 0)
        scanned = at
        if any(skipping.values()):
            match = pattern.search(page_html, at + 1, end)
            continue
        used.add(letters)
        pieces += (page_html[position:at], _marked(by_letters[letters], letters, own_path))
        position = match.end()
        if len(used) == len(by_letters):
            break
        match = pattern.search(page_html, position, end)
    if not pieces:
        return page_html
    pieces.append(page_html[position:])
    return "".join(pieces)


@functools.lru_cache(maxsize=16)
def _pattern_of(acronyms: tuple[Acronym, ...]) -> tuple[re.Pattern, dict[str, Acronym]]:
    # The letters of every acronym (as they appear escaped in a page), not inside a longer word.
    by_letters = {html.escape(a.letters, quote=False): a for a in acronyms}
    return re.compile("(" + "|".join(map(re.escape, by_letters)) + r")(?!\w)"), by_letters


def _marked(acronym: Acronym, letters: str, own_path: str) -> str:
    abbr = f'<abbr title="{html.escape(acronym.expansion)}">{letters}</abbr>'
    if acronym.href and acronym.href.split("#")[0] != own_path:
        return f'<a href="{html.escape(acronym.href)}">{abbr}</a>'
    return abbr
