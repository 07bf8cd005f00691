"""Check every cross-reference and citation, then assemble the model with its back-references."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from .dates import PartialDate
from .errors import ContentError, format_field
from .markup import MarkdownRenderer
from .model import (
    TYPE_BY_KIND,
    Agreement,
    Citation,
    Entry,
    Event,
    Home,
    Model,
    Organization,
    Person,
    SiteConfig,
    Source,
    Term,
)
from .parallel import map_shares_in_order
from .trace import digest

PARALLEL_FROM = 400
"""Fewer new texts than this are checked in this process: starting workers would cost more."""

REFERENCE = re.compile(r"\[\[([^\]|:]*):([^\]|]*)(?:\|([^\]]*))?\]\]")
"""An inline reference in Markdown: [[kind:id]] or [[kind:id|label]]."""


def build_model(
    site: SiteConfig,
    entries: list[Entry],
    root: Path,
    unreadable: frozenset[str] = frozenset(),
    home: Home | None = None,
    checked: dict[str, tuple[str, ...]] | None = None,
    checks: dict | None = None,
    digests: Mapping[str, str] | None = None,
) -> tuple[Model | None, list[ContentError]]:
    """Resolve references and citations across all entries and the home page; return the model, or every problem.

    References to `unreadable` ids (files that exist but failed to load) are not reported again.
    `checked` holds the Markdown problems of texts checked before (by digest); it is updated to
    hold exactly this build's texts. `checks` holds each entry's reference and citation problems by
    its file's digest (from `digests`), valid while the ids, kinds, sources and their texts are the same.
    """
    errors: list[ContentError] = []
    by_id: dict[str, Entry] = {}
    for entry in entries:
        if entry.id in by_id:
            other = by_id[entry.id]
            errors.append(ContentError(entry.file, 1, 1, "id", f"duplicate id '{entry.id}': {other.file} has it too"))
        else:
            by_id[entry.id] = entry
    paragraphs, paragraph_errors = _read_source_texts(by_id, root)
    errors += paragraph_errors
    everyone = [*by_id.values(), *([home] if home else [])]
    texts = [(entry, path, text, digest(text)) for entry in everyone for path, text in _markdown_fields(entry)]
    # Rendering is the costly part of checking a text, and a text's problems depend on it alone: each
    # new text is checked once, across the cores, and the answers are kept for the next build.
    known = dict(checked or {})
    unknown = sorted({key: text for _, _, text, key in texts if key not in known}.items())
    problems_of = dict(zip([key for key, _ in unknown], find_problems_of([text for _, text in unknown]), strict=True))
    problems_of.update((key, known[key]) for _, _, _, key in texts if key in known)
    keys_of = defaultdict(list)
    for entry, path, _, key in texts:
        keys_of[id(entry)].append((path, key))
    # An entry's checks read the entry, which ids exist with which kind, and the sources and their
    # texts: while those are the same, an entry whose file is unchanged has the same problems.
    universe = digest(
        repr(sorted((entry_id, entry.kind) for entry_id, entry in by_id.items())),
        repr(sorted(repr(entry) for entry in by_id.values() if isinstance(entry, Source))),
        repr(sorted(paragraphs.items())),
        repr(sorted(unreadable)),
        site.default_language,
    )
    before = checks.get("entries", {}) if checks is not None and checks.get("universe") == universe else {}
    after: dict[tuple, list[ContentError]] = {}
    duplicated = {entry.id for entry in entries if by_id[entry.id] is not entry}
    for entry in everyone:
        key = None
        if digests and entry.id in by_id and entry.id not in duplicated and digests.get(entry.id):
            key = (entry.file, digests[entry.id])
        found = before.get(key) if key else None
        if found is None:
            found = _check_entry(entry, by_id, paragraphs, unreadable, site.default_language)
        if key:
            after[key] = found
        errors += found
        errors += _check_tags(entry, site)
        errors += [_error(entry, path, problem) for path, key in keys_of[id(entry)] for problem in problems_of[key]]
    if checked is not None:
        checked.clear()
        checked.update(problems_of)
    if checks is not None:
        checks.clear()
        checks.update(universe=universe, entries=after)
    errors += _check_cycles(by_id, Agreement, "replaces")
    errors += _check_cycles(by_id, Organization, "parent")
    errors += _check_cycles(by_id, Source, "via")
    if errors:
        return None, errors
    return replace(_assemble(site, by_id, paragraphs), home=home), []


def patch_model(model: Model, entries: list[Entry]) -> tuple[Model | None, list[ContentError]]:
    """Return `model` with new versions of some of its entries (same ids and kinds), or their problems.

    What a full build would make of the same files, for `serve`'s first answer to a save: the new
    versions are checked as `build_model` checks every entry (references, citations, quotes, tags,
    Markdown, cycles), against the entries and source texts of `model`.
    """
    by_id = dict(model.entries)
    for entry in entries:
        if type(by_id.get(entry.id)) is not type(entry) or isinstance(entry, Source):
            # A source's text file may change what every citation of it means: only a full build can tell.
            raise ValueError(f"'{entry.id}' is not an entry of this kind in the model, or is a source")
        by_id[entry.id] = entry
    errors: list[ContentError] = []
    for entry in entries:
        errors += _check_entry(entry, by_id, model.paragraphs, frozenset(), model.site.default_language)
        errors += _check_tags(entry, model.site)
        fields = list(_markdown_fields(entry))
        for (path, _), problems in zip(fields, find_problems_of([text for _, text in fields]), strict=True):
            errors += [_error(entry, path, problem) for problem in problems]
    errors += _check_cycles(by_id, Agreement, "replaces")
    errors += _check_cycles(by_id, Organization, "parent")
    if errors:
        return None, errors
    language = model.site.default_language
    if any(_place(entry, language) != _place(model.entries[entry.id], language) for entry in entries):
        return replace(_assemble(model.site, by_id, model.paragraphs), home=model.home), []
    # The usual edit (a text) leaves every list's order and every back-reference as they were.
    new = {entry.id: entry for entry in entries}
    lists = {
        name: tuple(new.get(entry.id, entry) for entry in getattr(model, name))
        for name in ("events", "people", "agreements", "terms", "organizations", "sources")
    }
    return replace(model, entries={key: new.get(key, entry) for key, entry in model.entries.items()}, **lists), []


def _place(entry: Entry, default_language: str) -> tuple:
    # What `_assemble` sorts an entry by and the back-references it makes from it.
    return (
        _display_order(entry, default_language),
        tuple(getattr(entry, name, None) for name in ("people", "agreements", "organizations", "replaces", "parent")),
        tuple(role.organization for role in getattr(entry, "roles", ())),
        tuple(citation.source for _, citation in all_citations(entry)),
    )


def _check_tags(entry: Entry, site: SiteConfig) -> list[ContentError]:
    if not isinstance(entry, Event):
        return []
    return [
        _error(entry, ("tags", index), f"unknown tag '{tag}' (tags are listed under 'tags' in content/site.yml)")
        for index, tag in enumerate(entry.tags)
        if tag not in site.tags
    ]


def find_problems_of(texts: list[str]) -> list[tuple[str, ...]]:
    """Return the refused links and images of each Markdown text, checking them across the cores."""

    def check(share: list[str]) -> list[tuple[str, ...]]:
        renderer = MarkdownRenderer()
        return [tuple(renderer.find_problems(text)) for text in share]

    return map_shares_in_order(check, texts, PARALLEL_FROM)


def _assemble(site: SiteConfig, by_id: dict[str, Entry], paragraphs) -> Model:
    def of(cls):
        return [e for e in by_id.values() if isinstance(e, cls)]

    def order(entry: Entry) -> tuple:
        return _display_order(entry, site.default_language)

    events = tuple(sorted(of(Event), key=order))
    events_of: dict[str, list[str]] = defaultdict(list)
    for event in events:
        for target in (*event.people, *event.agreements, *event.organizations):
            events_of[target].append(event.id)
    people_of: dict[str, list[str]] = defaultdict(list)
    people = tuple(sorted(of(Person), key=order))
    for person in people:
        for org in dict.fromkeys(role.organization for role in person.roles if role.organization):
            people_of[org].append(person.id)
    replaced_by: dict[str, list[str]] = defaultdict(list)
    for agreement in sorted(of(Agreement), key=lambda a: a.id):
        for old in agreement.replaces:
            replaced_by[old].append(agreement.id)
    units_of: dict[str, list[str]] = defaultdict(list)
    for org in sorted(of(Organization), key=lambda o: o.id):
        if org.parent:
            units_of[org.parent].append(org.id)
    citers_of: dict[str, list[str]] = defaultdict(list)
    for entry in sorted(by_id.values(), key=lambda e: (e.kind, e.id)):
        for source_id in dict.fromkeys(c.source for _, c in all_citations(entry)):
            citers_of[source_id].append(entry.id)
    return Model(
        site=site,
        entries=dict(sorted(by_id.items())),
        events=events,
        people=people,
        agreements=tuple(sorted(of(Agreement), key=order)),
        terms=tuple(sorted(of(Term), key=order)),
        organizations=tuple(sorted(of(Organization), key=order)),
        sources=tuple(sorted(of(Source), key=order)),
        paragraphs=paragraphs,
        events_of=_freeze(events_of),
        people_of=_freeze(people_of),
        replaced_by=_freeze(replaced_by),
        units_of=_freeze(units_of),
        citers_of=_freeze(citers_of),
    )


_NO_DATE = PartialDate(0)


def _display_order(entry: Entry, default_language: str) -> tuple:
    # The order of each kind's list on the site.
    if isinstance(entry, Event):
        # Same-day events keep the order the source tells, when it does; then their ids.
        return (entry.date, entry.order or 1_000_000, entry.id)
    if isinstance(entry, Person):
        return (sort_key(entry.sort_name), entry.id)
    if isinstance(entry, Agreement):
        # Dated agreements in time order, then those the source gives no date for.
        return (entry.date is None, entry.date or _NO_DATE, entry.id)
    if isinstance(entry, Term):
        return (sort_key(entry.term.get(default_language, entry.id)), entry.id)
    return (entry.id,)


def _freeze(table: dict[str, list[str]]) -> dict[str, tuple[str, ...]]:
    return {key: tuple(values) for key, values in sorted(table.items())}


def sort_key(text: str) -> str:
    """Return a key that sorts names as a reader expects: accents and case ignored."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def all_citations(entry: Entry) -> list[tuple[tuple, Citation]]:
    """Return every citation of an entry with its field path."""
    found = [(("sources", i), c) for i, c in enumerate(entry.sources)]
    if isinstance(entry, Person):
        for r, role in enumerate(entry.roles):
            found += [(("roles", r, "sources", i), c) for i, c in enumerate(role.sources)]
    if isinstance(entry, Source) and entry.via:
        found.append((("via",), entry.via))
    if isinstance(entry, Home):
        for s, section in enumerate(entry.sections):
            found += [(("sections", s, "sources", i), c) for i, c in enumerate(section.sources)]
    return found


def _read_source_texts(by_id: dict[str, Entry], root: Path) -> tuple[dict[str, tuple[str, ...]], list[ContentError]]:
    paragraphs, errors = {}, []
    for entry in by_id.values():
        if isinstance(entry, Source) and entry.text_file:
            path = root / entry.text_file
            if not path.is_file():
                errors.append(_error(entry, ("file",), f"no such file: {entry.text_file}"))
                continue
            try:
                text = path.read_text("utf-8")
            except UnicodeDecodeError:
                errors.append(_error(entry, ("file",), f"{entry.text_file} is not UTF-8 text"))
                continue
            paragraphs[entry.id] = tuple(line.strip() for line in text.splitlines() if line.strip())
    return paragraphs, errors


def _check_entry(entry: Entry, by_id, paragraphs, unreadable, default_language: str) -> list[ContentError]:
    errors = []

    def expect(path: tuple, target: str, *kinds: str) -> None:
        found = by_id.get(target)
        wanted = " or ".join(kinds) if len(kinds) < 3 else ", ".join(kinds[:-1]) + " or " + kinds[-1]
        article = "an" if wanted[0] in "aeiou" else "a"
        if found is None:
            if target not in unreadable:
                errors.append(_error(entry, path, f"unknown {wanted} '{target}'"))
        elif found.kind not in kinds:
            errors.append(_error(entry, path, f"'{target}' is {_a(found.kind)}, expected {article} {wanted}"))
        elif found is entry:
            errors.append(_error(entry, path, "an entry cannot refer to itself"))

    if isinstance(entry, Event):
        for field, kind in (("people", "person"), ("organizations", "organization"), ("agreements", "agreement")):
            for index, target in enumerate(getattr(entry, field)):
                expect((field, index), target, kind)
    if isinstance(entry, Person):
        for index, role in enumerate(entry.roles):
            if role.organization:
                expect(("roles", index, "organization"), role.organization, "organization")
            if role.start and role.end and role.end < role.start:
                errors.append(_error(entry, ("roles", index, "end"), "ends before it starts"))
    if isinstance(entry, Agreement):
        for index, target in enumerate(entry.replaces):
            expect(("replaces", index), target, "agreement")
    if isinstance(entry, Organization) and entry.parent:
        expect(("parent",), entry.parent, "organization")
    if isinstance(entry, Term) and entry.refers_to:
        expect(("refers_to",), entry.refers_to, "organization", "agreement", "person")
    for path, citation in all_citations(entry):
        before = len(errors)
        expect(path + ("source",), citation.source, "source")
        if len(errors) == before:
            errors += _check_citation(entry, path, citation, by_id, paragraphs)
    for path, text in _markdown_fields(entry):
        errors += _check_inline_references(entry, path, text, by_id, unreadable)
        errors += _check_quotes(entry, path, text, by_id, paragraphs, default_language)
    return errors


def _unreadable_text(source: Entry, by_id, paragraphs) -> bool:
    """Whether a source's text (or the text it is reported through) failed to load: reported once, on 'file'."""
    owner = (
        by_id.get(source.via.source) if isinstance(source, Source) and source.via and not source.text_file else source
    )
    return isinstance(owner, Source) and bool(owner.text_file) and owner.id not in paragraphs


def _check_citation(entry, path, citation: Citation, by_id, paragraphs) -> list[ContentError]:
    source = by_id[citation.source]
    if _unreadable_text(source, by_id, paragraphs):
        return []
    text_owner = source.id if source.id in paragraphs else (source.via.source if source.via else None)
    text = paragraphs.get(text_owner) if text_owner else None
    if text is None:
        if citation.paragraphs or citation.quote:
            return [
                _error(
                    entry,
                    path + ("paragraphs",),
                    f"source '{source.id}' has no text in seeds/ to cite paragraphs or quotes from",
                )
            ]
        return []
    if not citation.paragraphs:
        return [_error(entry, path + ("paragraphs",), f"cite the paragraphs of '{text_owner}' this comes from")]
    errors = []
    for index, number in enumerate(citation.paragraphs):
        if number > len(text):
            errors.append(
                _error(
                    entry,
                    path + ("paragraphs", index),
                    f"paragraph {number} does not exist: '{text_owner}' has {len(text)}",
                )
            )
    if citation.quote and not errors:
        cited = [text[n - 1] for n in citation.paragraphs]
        if not any(citation.quote in p for p in cited) and citation.quote not in " ".join(cited):
            errors.append(
                _error(
                    entry,
                    path + ("quote",),
                    f"quote is not verbatim in paragraph(s) {', '.join(map(str, citation.paragraphs))} of '{text_owner}'",
                )
            )
    return errors


def _markdown_fields(entry: Entry):
    for name in ("body", "bio", "definition", "summary", "lede"):
        value = getattr(entry, name, None)
        if value:
            for lang, text in value.items():
                yield (name, lang), text
    if isinstance(entry, Home):
        for index, section in enumerate(entry.sections):
            for lang, text in section.body.items():
                yield ("sections", index, "body", lang), text


def _check_quotes(entry, path, text, by_id, paragraphs, default_language) -> list[ContentError]:
    """Check that each [[quote:...]] is verbatim in a paragraph its text cites, translated where it must be."""
    errors = []
    lang = path[-1]
    # A home page section's quotes must come from that section's own sources.
    scope = [c for p, c in all_citations(entry) if path[0] != "sections" or p[:2] == path[:2]]
    for match in REFERENCE.finditer(text):
        if match.group(1).strip() != "quote":
            continue
        original = " ".join(match.group(2).split())
        where = f"in [[quote:{original[:40]}{'…' if len(original) > 40 else ''}]]: "
        found = _find_quoted(original, scope, by_id, paragraphs)
        if found is None and any(_unreadable_text(by_id.get(c.source), by_id, paragraphs) for c in scope):
            continue
        if found is None:
            cited = ", ".join(sorted({c.source for c in scope})) or "nothing"
            errors.append(_error(entry, path, where + f"the words are not verbatim in the paragraphs cited ({cited})"))
            continue
        original_lang = found.language or default_language
        if match.group(3) is None and lang != original_lang:
            errors.append(
                _error(
                    entry,
                    path,
                    where + f"a quote in a '{lang}' text needs its translation: [[quote:original|translation]]",
                )
            )
        elif match.group(3) is not None and lang == original_lang:
            errors.append(_error(entry, path, where + f"a quote in its own language ('{lang}') takes no translation"))
    return errors


def _find_quoted(original: str, citations, by_id, paragraphs) -> Source | None:
    for citation in citations:
        source = by_id.get(citation.source)
        if not isinstance(source, Source):
            continue
        owner = by_id.get(source.via.source) if source.id not in paragraphs and source.via else source
        text = paragraphs.get(owner.id) if owner else None
        if text and any(original in text[n - 1] for n in citation.paragraphs if n <= len(text)):
            return owner
    return None


def _check_inline_references(entry, path, text, by_id, unreadable) -> list[ContentError]:
    errors = []
    for match in REFERENCE.finditer(text):
        kind, target = match.group(1).strip(), match.group(2).strip()
        if kind == "quote":
            continue
        where = f"in {match.group(0)}: "
        if kind not in TYPE_BY_KIND:
            errors.append(
                _error(
                    entry,
                    path,
                    where + f"unknown kind '{kind}' (expected one of: {', '.join(sorted([*TYPE_BY_KIND, 'quote']))})",
                )
            )
            continue
        found = by_id.get(target)
        if found is None:
            if target not in unreadable:
                errors.append(_error(entry, path, where + f"unknown {kind} '{target}'"))
        elif found.kind != kind:
            errors.append(_error(entry, path, where + f"'{target}' is {_a(found.kind)}, not {_a(kind)}"))
    return errors


def _check_cycles(by_id, cls, field) -> list[ContentError]:
    def targets(entry):
        value = getattr(entry, field)
        if value is None:
            return ()
        if isinstance(value, Citation):
            return (value.source,)
        return (value,) if isinstance(value, str) else value

    errors = []
    for start in sorted(e.id for e in by_id.values() if isinstance(e, cls)):
        seen, stack = set(), [start]
        while stack:
            current = stack.pop()
            for target in targets(by_id[current]) if isinstance(by_id.get(current), cls) else ():
                if target == start:
                    errors.append(_error(by_id[start], (field,), f"'{field}' makes a cycle through '{current}'"))
                    stack.clear()
                    break
                if target not in seen:
                    seen.add(target)
                    stack.append(target)
    return errors


def _a(noun: str) -> str:
    return ("an " if noun[0] in "aeiou" else "a ") + noun


def _error(entry: Entry, path: tuple, message: str) -> ContentError:
    line, column = entry.position(path)
    return ContentError(entry.file, line, column, format_field(path), message)
