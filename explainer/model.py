"""The content model: frozen entries of each kind, with references and back-references resolved."""

from __future__ import annotations

import pickle
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from .dates import PartialDate

Text = Mapping[str, str]
"""A translatable text: language code -> string."""

Label = Text | str
"""A translatable text, or a string that is the same in every language (a person's name)."""

Position = tuple[int, int]


class Positions(Mapping):
    """Where each field of an entry stands in its file (field path -> line and column), kept packed.

    Only error messages read it, and only of the entries they name; a large site's model holds
    230,000 of them (two tuples each, most of the objects the cache loads), so they are stored as one
    pickled string per entry and unpacked on first use.
    """

    __slots__ = ("_packed", "_table")

    def __init__(self, table: dict[tuple, Position] | None = None, packed: bytes | None = None):
        self._table = table if table is not None or packed is not None else {}
        self._packed = packed

    def _unpacked(self) -> dict[tuple, Position]:
        if self._table is None:
            self._table = pickle.loads(self._packed) if self._packed else {}
        return self._table

    def __getitem__(self, path: tuple) -> Position:
        return self._unpacked()[path]

    def __iter__(self) -> Iterator[tuple]:
        return iter(self._unpacked())

    def __len__(self) -> int:
        return len(self._unpacked())

    def __reduce__(self):
        if self._packed is None:
            self._packed = pickle.dumps(self._table, protocol=pickle.HIGHEST_PROTOCOL)
        return (Positions, (None, self._packed))

    def __repr__(self) -> str:
        return f"Positions({self._unpacked()!r})"


@dataclass(frozen=True)
class Citation:
    """A pointer from an entry to paragraphs of a source, optionally with a verbatim quote."""

    source: str
    paragraphs: tuple[int, ...] = ()
    quote: str | None = None


@dataclass(frozen=True, kw_only=True)
class Entry:
    """What every entry has: its id, its file, what it cites, and where each field stands in the file."""

    kind: ClassVar[str] = ""
    folder: ClassVar[str] = ""
    id: str
    file: str
    sources: tuple[Citation, ...] = ()
    untranslated: frozenset[str] = frozenset()
    positions: Positions = field(default_factory=Positions, compare=False, repr=False)

    def position(self, path: tuple) -> Position:
        """Return the line and column of a field, or of the nearest enclosing one."""
        while path and path not in self.positions:
            path = path[:-1]
        return self.positions.get(path, (1, 1))

    def label(self) -> Label:
        """Return the text that names this entry in links."""
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class Event(Entry):
    """A dated entry of the timeline."""

    kind: ClassVar[str] = "event"
    folder: ClassVar[str] = "events"
    date: PartialDate
    status: str
    title: Text
    summary: Text
    body: Text | None = None
    people: tuple[str, ...] = ()
    organizations: tuple[str, ...] = ()
    agreements: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    order: int = 0

    def label(self) -> Label:
        """Return the event's title."""
        return self.title


@dataclass(frozen=True)
class Role:
    """A position a person held, with its dates where the source gives them."""

    title: Text
    organization: str | None = None
    start: PartialDate | None = None
    end: PartialDate | None = None
    sources: tuple[Citation, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Person(Entry):
    """A biography."""

    kind: ClassVar[str] = "person"
    folder: ClassVar[str] = "people"
    name: str
    short_name: str
    sort_name: str
    country: str
    summary: Text
    name_note: Text | None = None
    mentioned: bool = False
    roles: tuple[Role, ...] = ()
    bio: Text | None = None

    def label(self) -> Label:
        """Return the person's short name, the same in every language."""
        return self.short_name


@dataclass(frozen=True, kw_only=True)
class Agreement(Entry):
    """A security framework, bilateral mechanism or meeting format."""

    kind: ClassVar[str] = "agreement"
    folder: ClassVar[str] = "agreements"
    name: Text
    short_name: Text | None
    category: str
    summary: Text
    date: PartialDate | None = None
    parties: tuple[str, ...] = ()
    pillars: tuple[Text, ...] = ()
    replaces: tuple[str, ...] = ()
    body: Text | None = None

    def label(self) -> Label:
        """Return the agreement's short name, or its name."""
        return self.short_name or self.name


@dataclass(frozen=True, kw_only=True)
class Term(Entry):
    """A concept or acronym of the glossary."""

    kind: ClassVar[str] = "term"
    folder: ClassVar[str] = "terms"
    term: Text
    definition: Text
    abbr: Text | None = None
    refers_to: str | None = None

    def label(self) -> Label:
        """Return the term."""
        return self.term


@dataclass(frozen=True, kw_only=True)
class Organization(Entry):
    """A government body, institution or publication."""

    kind: ClassVar[str] = "organization"
    folder: ClassVar[str] = "organizations"
    name: Text
    summary: Text
    abbr: Text | None = None
    country: str | None = None
    parent: str | None = None
    body: Text | None = None

    def label(self) -> Label:
        """Return the organization's name."""
        return self.name


@dataclass(frozen=True, kw_only=True)
class Source(Entry):
    """A document that entries cite: a text in seeds/, or a statement reported through another source."""

    kind: ClassVar[str] = "source"
    folder: ClassVar[str] = "sources"
    title: Text
    category: str
    publisher: str | None = None
    author: str | None = None
    date: PartialDate | None = None
    date_note: Text | None = None
    language: str | None = None
    url: str | None = None
    text_file: str | None = None
    via: Citation | None = None
    note: Text | None = None

    def label(self) -> Label:
        """Return the source's title."""
        return self.title


@dataclass(frozen=True)
class HomeSection:
    """One part of the home page's story, with the sources it rests on."""

    heading: Text
    body: Text
    sources: tuple[Citation, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Home(Entry):
    """content/home.yml: the story in short sourced sections; not an entry others can link."""

    kind: ClassVar[str] = "home"
    title: Text
    lede: Text
    sections: tuple[HomeSection, ...] = ()

    def label(self) -> Label:
        """Return the home page's headline."""
        return self.title


ENTRY_TYPES: tuple[type[Entry], ...] = (Event, Person, Agreement, Term, Organization, Source)
KIND_BY_FOLDER = {cls.folder: cls for cls in ENTRY_TYPES}
TYPE_BY_KIND = {cls.kind: cls for cls in ENTRY_TYPES}


@dataclass(frozen=True)
class SiteConfig:
    """content/site.yml: languages, titles and where the site is deployed."""

    id: str
    languages: tuple[str, ...]
    default_language: str
    base_url: str
    title: Text
    description: Text
    tags: Mapping[str, Text] = field(default_factory=dict)


@dataclass(frozen=True)
class Model:
    """Every entry, sorted for display, with back-references computed once."""

    site: SiteConfig
    entries: Mapping[str, Entry]
    events: tuple[Event, ...]
    people: tuple[Person, ...]
    agreements: tuple[Agreement, ...]
    terms: tuple[Term, ...]
    organizations: tuple[Organization, ...]
    sources: tuple[Source, ...]
    paragraphs: Mapping[str, tuple[str, ...]]
    events_of: Mapping[str, tuple[str, ...]]
    people_of: Mapping[str, tuple[str, ...]]
    replaced_by: Mapping[str, tuple[str, ...]]
    units_of: Mapping[str, tuple[str, ...]]
    citers_of: Mapping[str, tuple[str, ...]]
    home: Home | None = None

    def get(self, entry_id: str) -> Entry:
        """Return the entry with this id."""
        return self.entries[entry_id]
