"""Rendering: Jinja templates (StrictUndefined, autoescape) fed by a per-page view of the model."""

from __future__ import annotations

import functools
import itertools
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
from markupsafe import Markup, _escape_inner
from markupsafe import escape as _escape_any

from .abbr import Acronym, acronyms_of, mark_acronyms
from .dates import PartialDate, format_month, format_partial_date
from .errors import ContentError
from .feeds import feed_paths
from .markup import MarkdownRenderer
from .metadata import hreflang_alternates, json_ld, script_hash, script_tag, serialize, words
from .model import Agreement, Entry, Event, Label, Model, Person
from .output import write_new
from .parallel import each_chunk, map_in_chunks
from .plan import Page
from .search import search_digest
from .strings import MissingString, Strings
from .templates import settings
from .timeline import Facet, Mark, facet_summary, group_events, lay_out_overview, timeline_facets
from .trace import Memo, Read, Recorder, TrackedModel, TrackedStrings
from .urls import Urls

_markup_of = str.__new__

_FILTER_SEPARATOR = "\x1e"
"""Between the items of a kept list of filters (see View._filter_list)."""


def escape(value: object, /) -> Markup:
    """Return `value` escaped for HTML as markupsafe.escape does, without the steps a str or Markup skips."""
    # Every {{ }} of a template calls this: 245 calls a page, 6 million in a build of 10,000 entries.
    # markupsafe's own wraps its C escaping (`_escape_inner`, a private name: markupsafe is pinned in
    # requirements.txt) in a Python call and makes the result through Markup's Python constructor,
    # which looks for __html__ again: 0.4-0.8 µs more a call here, about 3 s of such a build's
    # processor time. The same bytes: a test holds it to markupsafe's.
    kind = type(value)
    if kind is str:
        return _markup_of(Markup, _escape_inner(value))
    if kind is Markup:
        return value
    if kind is int or kind is float:
        return _markup_of(Markup, str(value))  # digits, signs, points: nothing to escape (the overview's places)
    return _escape_any(value)


class _Template(jinja2.Template):
    """A compiled template whose output is escaped by `escape` above rather than markupsafe's."""

    @classmethod
    def _from_namespace(cls, environment, namespace, globals):  # noqa: A002 - Jinja's own parameter name
        # The template's module imported markupsafe's escape from jinja2.runtime when it ran; its
        # functions (the page, its blocks and macros) look the name up in this namespace at each call.
        namespace["escape"] = escape
        return super()._from_namespace(environment, namespace, globals)


class _Context(jinja2.runtime.Context):
    """Jinja's template context, calling the view's methods and macros at once.

    Jinja looks at every callable a template calls for a wish to be given the context (three attribute
    lookups): a tenth of a large site's rendering, for the 100 calls of each page. Neither these
    methods nor macros have that wish.
    """

    def call(__self, __obj, *args, **kwargs):  # noqa: N805 - Jinja's own signature
        """Call `__obj` with the arguments a template gives it (see jinja2.runtime.Context.call)."""
        if (type(__obj) is types.MethodType and __obj.__func__ in _VIEW_METHODS) or type(__obj) is jinja2.runtime.Macro:
            kwargs.pop("_block_vars", None)
            kwargs.pop("_loop_vars", None)
            try:
                return __obj(*args, **kwargs)
            except StopIteration:
                return __self.environment.undefined(
                    "value was undefined because a callable raised a StopIteration exception"
                )
        return super().call(__obj, *args, **kwargs)


class _Environment(jinja2.Environment):
    """A Jinja environment that records every template a page uses (extends, imports and includes too)."""

    recorder: Recorder | None = None
    context_class = _Context
    template_class = _Template

    def _load_template(self, name, globals):  # noqa: A002 - Jinja's own parameter name
        # Every route to a template (get_template, select_template, extends, import) passes here.
        if self.recorder is not None and isinstance(name, str):
            self.recorder.add(("template", name))
        return super()._load_template(name, globals)


def make_environment(templates: Path, compiled: Path | None = None) -> jinja2.Environment:
    """Return the Jinja environment for a layouts/templates folder, keeping compiled templates in `compiled`."""
    return _Environment(
        loader=jinja2.FileSystemLoader(templates),
        # Compiling the templates is most of a small rebuild's time; Jinja keys each by its source's hash.
        bytecode_cache=jinja2.FileSystemBytecodeCache(str(compiled)) if compiled else None,
        **settings(),
    )


class View:
    """What a template may ask of the model, in the page's language: texts, links, dates, UI words."""

    def __init__(
        self,
        model: Model,
        strings: Strings,
        urls: Urls,
        page: Page,
        markdown: MarkdownRenderer,
        cache: dict,
        recorder: Recorder | None = None,
        env: jinja2.Environment | None = None,
        memo: Memo | None = None,
    ):
        # Templates reach the model and the strings only through these proxies, which record what
        # the page read; `raw` is for work whose inputs are recorded by hand (see `derived`).
        self.recorder = recorder or Recorder()
        self.raw = model
        self.raw_strings = strings
        self.model = TrackedModel(model, self.recorder)
        self.strings = TrackedStrings(strings, self.recorder)
        self.env = env
        self.fragments = memo
        self.urls = urls
        if page.entry is not None:
            self.recorder.add(("entry", page.entry.id))
        self.page = page
        self.lang = page.fallback or page.lang or model.site.default_language
        self.page_lang = page.lang or model.site.default_language
        self.markdown = markdown
        self.cache = cache
        self._timeline: dict | None = None

    # UI words and site paths

    def ui(self, key: str, lang: str | None = None) -> str:
        """Return a UI string in the page's language."""
        return self.strings.get(lang or self.page_lang, key)

    def href(self, path: str) -> str:
        """Return the link to a site path."""
        return self.urls.href(path)

    def section(self, name: str, lang: str | None = None) -> str:
        """Return the link to a section index (timeline, people, ...)."""
        return self.urls.href(self.urls.section(lang or self.page_lang, name))

    def home(self, lang: str | None = None) -> str:
        """Return the link to a language's home page."""
        return self.urls.href(self.urls.home(lang or self.page_lang))

    def asset(self, name: str) -> str:
        """Return the link to a static asset."""
        return self.urls.href(f"assets/{name}")

    def absolute(self, path: str) -> str:
        """Return the absolute URL of a site path."""
        return self.urls.absolute(path)

    # Texts

    def pick(self, value: Label) -> tuple[str, str | None]:
        """Return a text in the page's language, or its fallback and the fallback's language."""
        if isinstance(value, str):
            return value, None
        for lang in (self.lang, *self.model.site.languages):
            if lang in value:
                return value[lang], (None if lang == self.page_lang else lang)
        raise KeyError("empty text")

    def plain(self, value: Label) -> str:
        """Return a text for an attribute: no markup."""
        return self.pick(value)[0]

    def words(self, value: Label) -> str:
        """Return a Markdown text as plain words, for attributes and metadata."""
        return words(self.model, value, self.pick(value)[1] or self.page_lang)

    def memo(self, key: tuple, compute):
        """Return a result shared by the pages this process renders, recording on each page what it read."""
        if self.recorder.is_paused:
            # What it reads would not be recorded, so it must not be reused by a page that records.
            return compute()
        hit = self.cache.get(key)
        if hit is None:
            with self.recorder.capture() as reads:
                value = compute()
            hit = self.cache[key] = (value, frozenset(reads))
        else:
            self.recorder.merge(hit[1])
        return hit[0]

    @functools.cached_property
    def _structured_data(self) -> str | None:
        # Serialized once: the element and its hash in the page's policy need the same text.
        listed = ()
        if self.page.key[0] == "timeline":
            timeline = self.timeline()
            active = timeline["active"]
            if active is not None:
                listed = () if timeline["parts"] else active.events
            else:
                listed = () if timeline["years"] else self.model.events
        return serialize(json_ld(self.page, self.model, self.urls, self.strings, listed))

    def json_ld(self) -> Markup:
        """Return the page's JSON-LD <script> element (empty for pages without structured data)."""
        return script_tag(self._structured_data)

    def script_hashes(self) -> Markup:
        """Return the CSP source that allows exactly this page's JSON-LD block, or nothing.

        Browsers never run a data block nor check it against the policy, but the Nu Html Checker warns
        about any inline script the policy does not allow.
        """
        return script_hash(self._structured_data)

    def hreflangs(self) -> dict[str, str]:
        """Return the absolute URL of each language version of this page, x-default included."""
        return {
            lang: self.urls.absolute(path)
            for lang, path in hreflang_alternates(self.page, self.model, self.urls).items()
        }

    def feeds(self) -> dict[str, str]:
        """Return the links to this language's feed, calendar and data export."""
        return {kind: self.urls.href(path) for kind, path in feed_paths(self.page_lang).items()}

    def text(self, value: Label) -> Markup:
        """Return a text, marked with its language when it is not the page's."""
        text, lang = self.pick(value)
        return _in_lang(escape(text), lang)

    def md(self, value: Label) -> Markup:
        """Return a Markdown text rendered as blocks."""
        return self._markdown(value, inline=False)

    def inline(self, value: Label) -> Markup:
        """Return a one-line Markdown text rendered without its paragraph."""
        return self._markdown(value, inline=True)

    def _markdown(self, value: Label, *, inline: bool) -> Markup:
        text, lang = self.pick(value)
        render = self.markdown.render_inline if inline else self.markdown.render
        html = self.memo(
            ("markdown", text, lang or self.page_lang, self.page_lang, inline),
            lambda: render(
                text,
                lambda kind, target, label: self._resolve(target, label, lang or self.page_lang),
                lambda original: self._label_quote(original, lang or self.page_lang),
            ),
        )
        return _in_lang(html, lang, block=not inline)

    def _resolve(self, target: str, label: str | None, lang: str) -> tuple[str, str]:
        entry = self.model.get(target)
        return self.urls.href(self.urls.entry(entry, self.page_lang)), label or _pick_plain(entry.label(), lang)

    def _label_quote(self, original: str, lang: str) -> tuple[str, str]:
        original_lang = self.memo(
            ("quote-language", original),
            lambda: next(
                (
                    source.language or self.model.site.default_language
                    for source in self.model.sources
                    if any(original in p for p in self.model.paragraphs.get(source.id, ()))
                ),
                self.model.site.default_language,
            ),
        )
        return original_lang, self.ui(f"quote.in.{original_lang}", lang)

    # Entries

    def get(self, entry_id: str) -> Entry:
        """Return the entry with this id."""
        return self.model.get(entry_id)

    def url(self, entry: Entry | str, lang: str | None = None) -> str:
        """Return the link to an entry's page in the page's language."""
        entry = self.model.get(entry) if isinstance(entry, str) else entry
        return self.urls.href(self.urls.entry(entry, lang or self.page_lang))

    def link(self, entry: Entry | str) -> Markup:
        """Return a link to an entry, named by its label."""
        entry = self.model.get(entry) if isinstance(entry, str) else entry
        # escape() and an f-string rather than Markup.format: the same text, several times faster
        # (a sources page links every entry that cites its sources).
        return Markup(f'<a href="{escape(self.url(entry))}">{escape(self.text(entry.label()))}</a>')

    def links(self, ids: Sequence[str]) -> Markup:
        """Return links to entries, separated by commas.

        A source on a large site is cited by thousands of entries, all linked on the sources page: the
        links are made in runs kept between builds (with what they read), so that retitling one entry
        makes only its own run again.
        """
        runs = [self._links_run(tuple(ids[start : start + LINK_RUN])) for start in range(0, len(ids), LINK_RUN)]
        return Markup(", ".join(runs))

    def _links_run(self, run: tuple[str, ...]) -> Markup:
        def compute(recorder: Recorder) -> Markup:
            view = self._recorded_by(recorder)
            return Markup(", ".join([view.link(entry_id) for entry_id in run]))

        # Named by its first entry as well: kept while that entry exists (see Memo.kept_records).
        return self._kept(("links", run[0], self.page_lang, run), compute)

    def date(self, value: PartialDate) -> Markup:
        """Return a date at its precision in a <time> element."""
        return Markup(
            f'<time datetime="{escape(value.iso)}">{escape(format_partial_date(value, self.page_lang))}</time>'
        )

    def date_text(self, value: PartialDate) -> str:
        """Return a date at its precision as plain text."""
        return format_partial_date(value, self.page_lang)

    def month(self, year: int, month: int, width: str = "MMMM") -> str:
        """Return a month's name with its year, or the year alone for month 0: 'enero de 2026', 'ene 2026'."""
        if not month:
            return str(year)
        return format_month(year, month, self.page_lang, width)

    # The timeline

    def timeline(self) -> dict:
        """Return what the timeline page shows: its events grouped, the filters, the active one, the overview."""
        if self._timeline is not None:
            return self._timeline
        known = self.cache.get(("timeline", "facets"))
        if known is None:
            # Every filter's events, from the whole model; each page records only what it shows of it.
            facets = timeline_facets(self.raw)
            by_key = {facet.key: facet for facet in facets}
            parts: dict[tuple, list[Facet]] = {}
            for facet in facets:
                if facet.year:
                    parts.setdefault(facet.key[:3], []).append(facet)
            years = tuple(facet for facet in facets if facet.kind == "year")
            known = self.cache[("timeline", "facets")] = (facets, by_key, years, parts)
        facets, by_key, years, parts = known
        active = by_key.get(self.page.key)
        filter_in_years = active is not None and active.in_years
        if (active is None and years) or filter_in_years:
            # A large site's whole timeline lists its years, and so does a filter with many events,
            # known from the facets' summary alone, so that editing an event does not rewrite them.
            self.recorder.add(("derived", "facets"))
            groups = ()
        elif active is None:
            groups = group_events(self.model.events)
        else:
            self.recorder.add(("derived", "facets"))
            for event in active.events:
                self.recorder.add(("entry", event.id))
            groups = group_events(active.events)
        self._timeline = {
            "groups": groups,
            "overview": lay_out_overview(groups),
            "facets": facets,
            "active": active,
            "years": active is None and bool(years),
            # How many events the listed years hold: the filter's, or the whole timeline's.
            "count": len(active.events) if filter_in_years else sum(len(facet.events) for facet in years),
            # A filter's years, when its page lists them; the filter itself, on the page of one of its years.
            "parts": tuple(parts.get(active.key, ())) if filter_in_years else (),
            "parent": by_key[active.key[:3]] if active is not None and active.year else None,
        }
        return self._timeline

    def timeline_items(self, events: Iterable[Event], level: int) -> Markup:
        """Return events of a timeline as list items, one a line (indented as the template's list).

        A timeline may list thousands of events: each item is kept between builds (with what it read),
        so that an edit re-renders only its own event's items. They are joined here rather than in a
        template loop: a loop's call and escaping per item was a fifth of a filtered timeline's time.
        """
        # str.replace: Markup's own would escape the arguments it is given, once per item of every page.
        slot, number = _SLOTS["level"], str(level)
        return Markup("\n      ".join([str.replace(self._item(event), slot, number) for event in events]))

    def overview_marks(self, marks: Iterable[Mark]) -> Markup:
        """Return the events' marks on the timeline's overview chart, one a line; kept between builds as items are."""
        # The places are numbers (see timeline.Mark), written as they are: nothing in them to escape.
        x, y = _SLOTS["x"], _SLOTS["y"]
        return Markup(
            "\n      ".join(
                [str.replace(str.replace(self._mark(mark.event), x, str(mark.x)), y, str(mark.y)) for mark in marks]
            )
        )

    def _item(self, event: Event) -> Markup:
        # Rendered once for every heading level it is shown at (a month's, or a year's on a filtered page).
        name = ("timeline-item", event.id, self.page_lang)
        return self._partial(name, "_timeline_item.html", "event", event, level=_SLOTS["level"])

    def _mark(self, event: Event) -> Markup:
        # Rendered once wherever the mark stands: each filtered timeline places it elsewhere.
        name = ("overview-mark", event.id, self.page_lang)
        return self._partial(name, "_overview_mark.html", "event", event, x=_SLOTS["x"], y=_SLOTS["y"])

    def glossary_entry(self, entry: Entry) -> Markup:
        """Return an agreement's or a term's entry on the glossary, kept between builds as timeline items are.

        A large site's glossary lists 2,000 of them with their Markdown: editing one term made the whole
        page again (0.3-0.4 s a language at 10,000 entries), now its own entry.
        """
        template = "_glossary_agreement.html" if isinstance(entry, Agreement) else "_glossary_term.html"
        return self._partial(("glossary-entry", entry.id, self.page_lang), template, "entry", entry)

    def people_entry(self, person: Person) -> Markup:
        """Return a person's entry on the people page, kept between builds as the glossary's entries are
        (2,000 people with their summaries at 10,000 entries: about half a second a language to make them all)."""
        return self._partial(("people-entry", person.id, self.page_lang), "_people_entry.html", "entry", person)

    def _partial(self, name: tuple, template: str, variable: str, entry: Entry, **context) -> Markup:
        # `entry` is given to the template as `variable`, read through the part's own recording view.
        def compute(recorder: Recorder) -> Markup:
            view = self._recorded_by(recorder)
            template_recorder, self.env.recorder = self.env.recorder, recorder
            try:
                shown = {variable: view.model.get(entry.id)}
                html = self.env.get_template(template).render(**shown, v=view, **context)
            finally:
                self.env.recorder = template_recorder
            return Markup(html.strip())

        return self._kept(name, compute)

    def _recorded_by(self, recorder: Recorder) -> View:
        # The same page's view, whose reads go to `recorder`: for a part kept apart from the page.
        return View(self.raw, self.raw_strings, self.urls, self.page, self.markdown, self.cache, recorder, self.env)

    def _kept(self, name: tuple, compute: Callable[[Recorder], Markup]) -> Markup:
        # A part kept between builds with what it read (see Memo.traced), which this page then read too.
        if self.fragments is None:
            html, reads = compute(recorder := Recorder()), frozenset(recorder.reads)
        else:
            html, reads = self.fragments.traced(name, compute)
        self.recorder.merge(reads)
        return html

    def filter_items(self, kind: str) -> Markup:
        """Return the filter links of one kind as list items, the current page's marked.

        The whole timeline lists every filter (built once per language); a filtered timeline lists
        every tag, and the people and frameworks its own events have: with thousands of filters,
        repeating them all on each filtered page would make the site grow with their square.
        """
        # The list shows facets' names and counts: what the "facets" summary holds.
        self.recorder.add(("derived", "facets"))
        active = self.timeline()["active"]
        key = ("filter-items", self.page_lang, kind)
        if key not in self.cache:
            facets = [facet for facet in self.timeline()["facets"] if facet.kind == kind and not facet.year]
            items = self._filter_list(kind, facets)
            values = [facet.value for facet in facets]
            self.cache[key] = (list(zip(values, items, strict=True)), {value: n for n, value in enumerate(values)})
        items, position = self.cache[key]
        if active is not None and kind in ("person", "agreement"):
            # A filtered page's few people or frameworks, in the whole list's order.
            field = {"person": "people", "agreement": "agreements"}[kind]
            shown = {value for event in active.events for value in getattr(event, field)}
            items = [items[index] for index in sorted(position[value] for value in shown if value in position)]
        html = "\n".join(html for _, html in items)
        if active is not None and active.kind == kind and not active.year:
            marker = f'data-filter="{active.kind}:{active.value}"'
            html = html.replace(marker, marker + ' aria-current="page"', 1)
        return Markup(html)

    def _filter_list(self, kind: str, facets: list[Facet]) -> list[str]:
        # A list of thousands of filters on a large site (6,000 names and links made again on each edit):
        # kept between builds while the facets' summary (their names and counts) is unchanged. What
        # else it is made of (the URLs' words, the tags' names) is in the memo's key.
        def compute(recorder: Recorder) -> Markup:
            recorder.add(("derived", "facets"))
            with self.recorder.paused():
                return Markup(_FILTER_SEPARATOR.join(self._filter_item(facet) for facet in facets))

        # No name holds the separator: the content's files may not make control characters (yamlfile).
        text = str(self._kept(("filter-items", self.page_lang, kind), compute))
        return text.split(_FILTER_SEPARATOR) if text else []

    def _filter_item(self, facet: Facet) -> str:
        # One filter's link in the list of filters, with the number of its events.
        href, label = escape(self.facet_url(facet)), escape(self.facet_label(facet))
        filter_value = escape(f"{facet.kind}:{facet.value}")
        return (
            f'<li><a href="{href}" data-filter="{filter_value}">{label} '
            f'<span class="count">{len(facet.events)}</span></a></li>'
        )

    def facet_url(self, facet: Facet | None) -> str:
        """Return the link to the timeline filtered by a facet, or to the whole timeline."""
        if facet is None:
            return self.section("timeline")
        return self.urls.href(self.urls.facet(self.page_lang, facet.kind, facet.value, facet.year))

    def facet_label(self, facet: Facet) -> Markup:
        """Return the name of what a facet filters by, with its year for a year of a filter."""
        if facet.kind == "year":
            label = Markup(escape(facet.value))
        elif facet.kind == "tag":
            label = self.text(self.model.site.tags[facet.value])
        else:
            label = self.text(self.model.get(facet.value).label())
        return label + ", " + facet.year if facet.year else label

    # Relations

    def related(self, person: Person) -> dict[str, tuple[str, ...]]:
        """Return the organizations and agreements linked to a person, through roles and events, in order."""
        events = [self.model.get(e) for e in self.model.events_of.get(person.id, ())]
        organizations = [r.organization for r in person.roles if r.organization]
        organizations += [o for e in events for o in e.organizations]
        agreements = [a for e in events for a in e.agreements]
        return {
            "organizations": tuple(dict.fromkeys(organizations)),
            "agreements": tuple(dict.fromkeys(agreements)),
        }

    def lineage(self, agreement: Agreement) -> tuple[str, ...]:
        """Return the chain of agreements this one belongs to, oldest first (itself alone if none)."""
        chain = [agreement.id]
        current = agreement
        while current.replaces:
            current = self.model.get(current.replaces[0])
            chain.insert(0, current.id)
        current_id = agreement.id
        while self.model.replaced_by.get(current_id):
            current_id = self.model.replaced_by[current_id][0]
            chain.append(current_id)
        return tuple(chain)

    def paragraphs(self, source_id: str) -> tuple[str, ...]:
        """Return the paragraphs of a source's text."""
        return self.model.paragraphs.get(source_id, ())


# The view's methods: none asks for the template's context (see _Context).
_VIEW_METHODS = frozenset(
    method
    for method in vars(View).values()
    if isinstance(method, types.FunctionType) and not hasattr(method, "jinja_pass_arg")
)


def _pick_plain(value: Label, lang: str) -> str:
    if isinstance(value, str):
        return value
    return value.get(lang) or next(iter(value.values()))


def _in_lang(content: Markup, lang: str | None, *, block: bool = False) -> Markup:
    if lang is None:
        return content
    element = "div" if block else "span"
    return Markup(f'<{element} lang="{escape(lang)}">{escape(content)}</{element}>')


_SLOTS = {name: f"\x02{name}\x03" for name in ("level", "x", "y")}
"""Stand-ins for the values a memoized fragment is shown with, filled in after: no content holds control
characters (the YAML reader refuses them), so a stand-in cannot collide with a text."""

PARALLEL_FROM = 100
"""Below this many pages, starting worker processes costs more than it saves (about 20 ms, against
4 ms a page of the real site)."""
CHUNK = 64
"""Pages handed to a worker at a time, at most: small enough that no worker waits long for the last one.
Fewer pages make eight chunks (a share of a small site's 130 pages is 17)."""
ITEM_CHUNK = 500
"""Timeline items (and their overview marks) handed to a worker at a time."""
LINK_RUN = 100
"""How many links `View.links` makes and keeps together."""


@dataclass(frozen=True)
class Rendered:
    """Pages rendered to bytes by output file, what each read, and the template errors met."""

    outputs: dict[str, bytes]
    reads: dict[str, frozenset[Read]]
    errors: list[ContentError]
    fragments: dict = field(default_factory=dict)
    written: dict[str, str] = field(default_factory=dict)
    """Pages written into a folder by the process that rendered them: file -> its search digest ("" if unindexed)."""

    def joined(self, other: Rendered) -> Rendered:
        """Return these pages and those of `other`, rendered after them (new mappings: these are unchanged)."""
        return Rendered(
            {**self.outputs, **other.outputs},
            {**self.reads, **other.reads},
            self.errors + other.errors,
            {**self.fragments, **other.fragments},
            {**self.written, **other.written},
        )


def render_pages(
    env: jinja2.Environment,
    model: Model,
    strings: Strings,
    urls: Urls,
    pages: list[Page],
    extra: Mapping[str, object],
    memo: Memo | None = None,
    into: Path | None = None,
    *,
    then: Callable[[Rendered], None] | None = None,
    after: Sequence[Page] = (),
) -> Rendered:
    """Render pages to bytes by output file, across the machine's cores; record their reads; collect errors.

    `memo` keeps the parts of pages that many pages repeat (timeline items) between builds. With
    `into` (a new output tree, not yet in place), each page is written there by the process that
    rendered it, and only its search digest comes back. The pages `after` are rendered by the same
    processes once `pages` are: `then` is called with those (all rendered) while they go on.
    """
    kept = _Kept()
    total = len(pages) + len(after)
    parallel = total >= PARALLEL_FROM
    if memo is not None and parallel:
        # Pages rendered in this process alone compute each item once, when the first of them shows
        # it: looking for the items lacking (24,000 at 10,000 entries) was 0.04-0.065 s of an edit.
        memo.load_all()
        _prepare_items(env, model, strings, urls, [*pages, *after], memo)
    size = min(CHUNK, -(-total // 8)) if parallel else max(total, 1)
    # Lists first: a large site's few slow pages (its glossary takes a second) are not left for last.
    groups = [sorted(group, key=lambda page: page.entry is not None) for group in (pages, after)]
    chunks = [group[start : start + size] for group in groups for start in range(0, len(group), size)]
    results = each_chunk(
        lambda chunk: _render(env, model, strings, urls, chunk, extra, memo, into, kept), chunks, parallel=parallel
    )
    first = _gathered(itertools.islice(results, len(range(0, len(groups[0]), size))), memo)
    if then is not None:
        then(first)
    rest = _gathered(results, memo)  # to the end, which ends the processes
    return first.joined(rest) if after else first


def _gathered(chunks: Iterable[Rendered], memo: Memo | None) -> Rendered:
    # The rendered chunks as one.
    outputs: dict[str, bytes] = {}
    reads: dict[str, frozenset[Read]] = {}
    errors: list[ContentError] = []
    written: dict[str, str] = {}
    fragments: dict = {}
    for chunk in chunks:
        outputs.update(chunk.outputs)
        reads.update(chunk.reads)
        errors += chunk.errors
        written.update(chunk.written)
        fragments.update(chunk.fragments)
        if memo is not None:
            # A worker's memo is its own copy: what it computed comes back with its pages.
            memo.adopt(chunk.fragments)
    return Rendered(outputs, reads, errors, fragments, written)


def _prepare_items(env: jinja2.Environment, model: Model, strings: Strings, urls: Urls, pages: list[Page], memo: Memo):
    # A large site's timeline items and overview marks, each computed once across the cores before
    # the pages are: the workers rendering the pages would otherwise each compute most of them, as
    # an event's items are shown on its year's page and on every filtered page of its people and
    # frameworks, whichever worker renders those.
    shown: dict[str, Page] = {}
    for page in pages:
        if page.key[0] == "timeline" and page.lang and not page.fallback:
            shown.setdefault(page.lang, page)
    jobs = [
        (page, event)
        for lang, page in shown.items()
        for event in model.events
        if memo.lacks(("timeline-item", event.id, lang)) or memo.lacks(("overview-mark", event.id, lang))
    ]
    if len(jobs) < PARALLEL_FROM:
        return  # an edit's few items are computed by the pages that show them
    kept = _Kept()

    def compute(chunk: list[tuple[Page, Event]]) -> dict:
        for page, event in chunk:
            view = View(model, strings, urls, page, kept.markdown, kept.shared, Recorder(), env, memo)
            view._item(event)
            view._mark(event)
        return memo.take_computed()

    for computed in map_in_chunks(compute, jobs, PARALLEL_FROM, ITEM_CHUNK):
        memo.adopt(computed)


def derived_inputs(model: Model, urls: Urls) -> dict[str, Callable[[], object]]:
    """Return the summaries pages depend on as wholes, by name: recomputed to tell whether they changed."""
    derived: dict[str, Callable[[], object]] = {"facets": lambda: facet_summary(model)}
    for lang in model.site.languages:
        derived[f"acronyms:{lang}"] = functools.partial(acronyms_of, model, urls, lang)
    return derived


@dataclass
class _Kept:
    """What a process rendering pages keeps from one chunk of them to the next."""

    markdown: MarkdownRenderer = field(default_factory=MarkdownRenderer)
    shared: dict = field(default_factory=dict)
    """Results shared by the pages of one process (see View.memo)."""
    acronyms: dict[str, tuple[Acronym, ...]] = field(default_factory=dict)
    folders: set[str] = field(default_factory=set)
    """The folders of the new tree made so far."""


def _render(
    env: jinja2.Environment,
    model: Model,
    strings: Strings,
    urls: Urls,
    pages: list[Page],
    extra: Mapping[str, object],
    memo: Memo | None,
    into: Path | None,
    kept: _Kept,
) -> Rendered:
    outputs: dict[str, bytes] = {}
    reads: dict[str, frozenset[Read]] = {}
    errors: list[ContentError] = []
    written: dict[str, str] = {}
    folders, markdown, cache, acronyms = kept.folders, kept.markdown, kept.shared, kept.acronyms
    for page in pages:
        recorder = Recorder()
        view = View(model, strings, urls, page, markdown, cache, recorder, env, memo)
        env.recorder = recorder
        try:
            html = env.get_template(page.template).render(page=page, v=view, model=view.model, site=model.site, **extra)
        except MissingString as err:
            errors.append(ContentError(f"layouts/templates/{page.template}", 0, 0, "(template)", str(err)))
            continue
        except jinja2.TemplateError as err:
            line = getattr(err, "lineno", 0) or 0
            name = getattr(err, "filename", None) or page.template
            errors.append(
                ContentError(f"layouts/templates/{Path(name).name}", line, 0, "(template)", f"template error: {err}")
            )
            continue
        finally:
            env.recorder = None
        if page.lang:
            if page.lang not in acronyms:
                acronyms[page.lang] = acronyms_of(model, urls, page.lang)
            recorder.add(("derived", f"acronyms:{page.lang}"))
            html = mark_acronyms(html, acronyms[page.lang], urls.href(page.path))
        data = html.encode("utf-8")
        reads[page.file] = frozenset(recorder.reads)
        if into is None:
            outputs[page.file] = data
            continue
        # Written here rather than handed back to the main process: a large site's pages would be
        # copied between processes and held in memory twice, and writing overlaps with rendering.
        write_new(into, page.file, data, folders)
        written[page.file] = search_digest(data) if page.searchable else ""
    return Rendered(outputs, reads, errors, memo.take_computed() if memo is not None else {}, written)
