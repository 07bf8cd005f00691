"""The page plan: a pure function from the model to every page the site has, each at one URL."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from .errors import ContentError
from .model import Agreement, Entry, Event, Model, Organization, Person
from .search import bundle_path, shard_count, shard_of
from .timeline import timeline_facets
from .trace import digest
from .urls import SECTIONS, Urls, output_file

SEARCHABLE = ("home", "glossary", "sources")
"""The pages besides entries' own that the search index holds."""

ENTRY_TEMPLATES = {
    Event: "event.html",
    Person: "person.html",
    Agreement: "agreement.html",
    Organization: "organization.html",
}


@dataclass(frozen=True)
class Page:
    """One output page: its site path, language, template and what it shows."""

    path: str
    lang: str | None
    template: str
    key: tuple[str, ...]
    entry: Entry | None = None
    fallback: str | None = None
    alternates: Mapping[str, str] = field(default_factory=dict)
    translations: Mapping[str, str] = field(default_factory=dict)
    search_bundles: tuple[str, ...] = ()
    """On the search page: the site paths of the search index's bundles, merged in the browser."""

    @functools.cached_property
    def file(self) -> str:
        """Return the output file that serves this page."""
        # Kept: a build asks each page for its file a dozen times.
        return output_file(self.path)

    @functools.cached_property
    def plan_digest(self) -> str:
        """Return a digest of what the page is planned as: a page whose plan changed is made again."""
        # Kept with the page when a large site's plan is kept between builds (see pipeline.keep_model).
        return digest(
            (
                self.path,
                self.lang,
                self.template,
                self.key,
                self.entry.id if self.entry else None,
                self.fallback,
                sorted(self.alternates.items()),
                sorted(self.translations.items()),
                self.search_bundles,
            )
        )

    @property
    def searchable(self) -> bool:
        """Return whether the search index holds this page: entries, home, glossary and sources do."""
        return self.entry is not None or self.key[0] in SEARCHABLE


def plan_pages(model: Model, urls: Urls) -> tuple[list[Page], list[ContentError]]:
    """Return every page of the site, with its language alternates; refuse two pages at one URL."""
    languages = model.site.languages
    drafts: list[Page] = [
        Page("", None, "root.html", ("root",)),
        Page("404.html", None, "root-404.html", ("root-404",)),
    ]
    facets = timeline_facets(model)
    for lang in languages:
        drafts.append(Page(urls.home(lang), lang, "home.html", ("home",)))
        drafts.append(Page(f"{lang}/404.html", lang, "404.html", ("404",)))
        for name in SECTIONS:
            drafts.append(Page(urls.section(lang, name), lang, f"{name}.html", (name,)))
        for facet in facets:
            path = urls.facet(lang, facet.kind, facet.value, facet.year)
            drafts.append(Page(path, lang, "timeline.html", facet.key))
        for entry in model.entries.values():
            template = ENTRY_TEMPLATES.get(type(entry))
            if template is None:
                continue
            fallback = None
            if lang in entry.untranslated:
                fallback = next((other for other in languages if other not in entry.untranslated), None)
            drafts.append(Page(urls.entry(entry, lang), lang, template, (entry.kind, entry.id), entry, fallback))
    return _with_search_bundles(_with_alternates(drafts)), _duplicates(drafts)


def _with_search_bundles(pages: list[Page]) -> list[Page]:
    # Known from the plan alone: which pages are indexed decides which shards have pages.
    searchable = [page.file for page in pages if page.searchable]
    count = shard_count(len(searchable))
    bundles = tuple(bundle_path(shard) for shard in sorted({shard_of(file, count) for file in searchable}))
    return [replace(page, search_bundles=bundles) if page.key == ("search",) else page for page in pages]


def _with_alternates(drafts: list[Page]) -> list[Page]:
    # hreflang names only real translations; the language switcher also reaches fallback pages.
    alternates: dict[tuple, dict[str, str]] = {}
    translations: dict[tuple, dict[str, str]] = {}
    for page in drafts:
        if page.lang:
            translations.setdefault(page.key, {})[page.lang] = page.path
            if page.fallback is None:
                alternates.setdefault(page.key, {})[page.lang] = page.path
    # Made anew rather than with dataclasses.replace, which costs three times as much per page.
    return [
        Page(
            page.path,
            page.lang,
            page.template,
            page.key,
            page.entry,
            page.fallback,
            alternates.get(page.key, {}) if page.lang and not page.fallback else {},
            translations.get(page.key, {}) if page.lang else {},
            page.search_bundles,
        )
        for page in drafts
    ]


def _duplicates(pages: list[Page]) -> list[ContentError]:
    seen: dict[str, Page] = {}
    errors = []
    for page in pages:
        # Case-insensitive hosts would serve two such pages as one.
        folded = page.file.lower()
        if folded in seen:
            first = seen[folded]
            where = page.entry.file if page.entry else "layouts/strings"
            other = first.entry.file if first.entry else first.template
            errors.append(ContentError(where, 0, 0, "(url)", f"page /{page.path} is also made by {other}"))
        else:
            seen[folded] = page
    return errors
