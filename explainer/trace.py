"""What each page read while it rendered, so that a rebuild re-renders only the pages whose inputs changed.

A page is a deterministic function of its page plan, the site configuration, the code and whatever
it reads of the model, the UI strings and the templates. Rendering goes through proxies that record
those reads; the next build re-renders a page only if one of them now has a different digest (the
"verifying trace" of build systems such as Shake or Salsa). A read that is not recorded would make
an incremental build wrong, so the model and the strings are only ever handed to templates through
these proxies, and tests compare incremental rebuilds with clean builds after every kind of edit.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from markupsafe import Markup

from .model import Entry, Model
from .strings import Strings

Read = tuple[str, str]
"""One thing a page read: ('entry', id), ('kind', kind), ('table', name), ('key', 'table:key'),
('string', 'lang:key'), ('template', name) or ('derived', name)."""

KIND_LISTS = {
    "events": "event",
    "people": "person",
    "agreements": "agreement",
    "terms": "term",
    "organizations": "organization",
    "sources": "source",
    "home": "home",
}
"""Model attributes that hold every entry of one kind."""

TABLE_KINDS = {
    "events_of": ("event",),
    "people_of": ("person",),
    "replaced_by": ("agreement",),
    "units_of": ("organization",),
    "citers_of": None,
    "paragraphs": ("source",),
    "entries": None,
}
"""Back-reference tables, and the kinds of entry each is computed from (None: every kind)."""


_INTERNED: dict[Read, Read] = {}


class Recorder:
    """Collects reads into every capture that is open, the page's own and any nested one."""

    def __init__(self) -> None:
        self.captures: list[set[Read]] = [set()]
        self._paused = 0

    @property
    def reads(self) -> set[Read]:
        """Return what the page has read so far."""
        return self.captures[0]

    def add(self, read: Read) -> None:
        """Record one read."""
        if self._paused:
            return
        # One object per distinct read: a large site's pages make a million reads of some ten thousand
        # things, and shared objects are pickled once when a worker hands its pages back.
        read = _INTERNED.setdefault(read, read)
        for capture in self.captures:
            capture.add(read)

    def merge(self, reads: frozenset[Read]) -> None:
        """Record reads made earlier by a computation whose result is reused."""
        for capture in self.captures:
            capture |= reads

    @property
    def is_paused(self) -> bool:
        """Return whether reads are being ignored."""
        return self._paused > 0

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Record nothing inside the block: for work whose inputs the caller records as a summary."""
        self._paused += 1
        try:
            yield
        finally:
            self._paused -= 1

    @contextmanager
    def capture(self) -> Iterator[set[Read]]:
        """Collect, besides the page's reads, the reads made inside the block (for memoized results)."""
        reads: set[Read] = set()
        self.captures.append(reads)
        try:
            yield reads
        finally:
            self.captures.pop()


class TrackedModel:
    """The model as templates see it: every entry, list and table they reach is recorded."""

    def __init__(self, model: Model, recorder: Recorder):
        self._model = model
        self._recorder = recorder

    @property
    def site(self):
        """Return the site configuration (part of every page's key, so not recorded)."""
        return self._model.site

    def get(self, entry_id: str) -> Entry:
        """Return the entry with this id."""
        self._recorder.add(("entry", entry_id))
        return self._model.entries[entry_id]

    def __getattr__(self, name: str):
        value = getattr(self._model, name)
        if name in KIND_LISTS:
            self._recorder.add(("kind", KIND_LISTS[name]))
            return value
        if name in TABLE_KINDS:
            return TrackedTable(name, value, self._recorder)
        raise AttributeError(f"the model has no tracked attribute {name!r}")


class TrackedTable(Mapping):
    """A back-reference table whose lookups are recorded one key at a time."""

    def __init__(self, name: str, table: Mapping, recorder: Recorder):
        self._name = name
        self._table = table
        self._recorder = recorder

    def _key(self, key: str) -> None:
        self._recorder.add(("entry", key) if self._name == "entries" else ("key", f"{self._name}:{key}"))

    def __getitem__(self, key: str):
        self._key(key)
        return self._table[key]

    def __contains__(self, key: object) -> bool:
        self._key(str(key))
        return key in self._table

    def get(self, key: str, default=None):
        """Return the value at key, or default."""
        self._key(key)
        return self._table.get(key, default)

    def __iter__(self):
        self._recorder.add(("table", self._name))
        return iter(self._table)

    def __len__(self) -> int:
        self._recorder.add(("table", self._name))
        return len(self._table)


class TrackedStrings:
    """The UI strings as templates see them: every key asked for is recorded."""

    def __init__(self, strings: Strings, recorder: Recorder):
        self._strings = strings
        self._recorder = recorder

    def get(self, lang: str, key: str) -> str:
        """Return the UI string `key` in `lang`."""
        self._recorder.add(("string", f"{lang}:{key}"))
        return self._strings.get(lang, key)


def digest(*parts: object) -> str:
    """Return a short stable digest of some strings or bytes."""
    hashed = hashlib.blake2b(digest_size=16)
    for part in parts:
        hashed.update(part if isinstance(part, bytes) else str(part).encode("utf-8", "surrogatepass"))
        hashed.update(b"\0")
    return hashed.hexdigest()


def derived_digest(value: object) -> str:
    """Return the digest of a summary many pages read as a whole (see render.derived_inputs)."""
    return digest(repr(value))


@dataclass
class Inputs:
    """The current digest of anything a page may have read, computed on demand and remembered."""

    model: Model
    entry_digests: Mapping[str, str]
    strings: Strings
    templates: Callable[[str], str]
    derived: Mapping[str, Callable[[], object]]
    known: Mapping[Read, str] = field(default_factory=dict)
    """Digests known without computing them (a kept model's summaries, see pipeline.read_model)."""
    previous: Inputs | None = None
    """The last build's inputs in this process (serve's), if it kept them: see `digests_for`."""

    def __post_init__(self) -> None:
        self._known: dict[Read, str] = dict(self.known)
        self._others: dict[Read, str] = dict(self.known)
        """The digests of reads other than entries' (see _changed_since)."""
        self._digested: dict[int, list[str]] = {}
        self._places: dict[int, tuple[list[Read], dict[Read, int]]] = {}
        self._changed: set[Read] | None = None

    def digest_of(self, read: Read) -> str:
        """Return the digest of one read as the inputs are now."""
        known = self._known.get(read)
        if known is None:
            known = self._known[read] = self._compute(read)
            if read[0] != "entry":
                self._others[read] = known
        return known

    def digests_for(self, reads: list[Read], was: list[str]) -> tuple[list[str], set[int]]:
        """Return the digest of each read as the inputs are now, and the places where it is not the one
        in `was` (their digests in the same order, as some build found them).

        Inside serve, `was` is usually a list these inputs' `previous` made: then only the reads whose
        digest changed since are looked for among `reads` (an edit's few), rather than every read looked
        up: four such lists of 9,000-14,000 reads each were 0.1-0.15 s of each rebuild at 10,000 entries.
        The list returned is marked as made by these inputs, for the next build's to do the same.
        """
        if len(reads) != len(was):
            raise ValueError(f"{len(reads)} reads with {len(was)} digests")
        previous = self.previous
        if previous is not None and previous._digested.get(id(was)) is was:
            now = list(was)
            changed = set()
            since = self._changed_since(previous)
            if since:
                places = self._places_in(reads)
                for read in since:
                    place = places.get(read)
                    if place is not None and (found := self.digest_of(read)) != was[place]:
                        now[place] = found
                        changed.add(place)
        else:
            now = [self.digest_of(read) for read in reads]
            changed = {number for number, (found, then) in enumerate(zip(now, was, strict=True)) if found != then}
        self._digested[id(now)] = now
        return now, changed

    def _places_in(self, reads: list[Read]) -> dict[Read, int]:
        # Each read's place in a list (made at C speed, and once for the two calls a manifest makes).
        kept = self._places.get(id(reads))
        if kept is None or kept[0] is not reads or len(kept[1]) != len(reads):
            kept = self._places[id(reads)] = (reads, dict(zip(reads, range(len(reads)), strict=True)))
        return kept[1]

    def _changed_since(self, previous: Inputs) -> set[Read]:
        # The reads `previous` found a digest for that now have another: every read of a list it made.
        # An entry's digest is its file's (see _compute): those of entries that changed are found by
        # comparing the two tables of them at C speed; the other reads (about 4,000 back-references at
        # 10,000 entries) are digested again.
        if self._changed is None:
            before, now = previous.entry_digests, self.entry_digests
            entries = {("entry", key) for key, _ in before.items() ^ now.items()}
            others = {read for read, was in previous._others.items() if self.digest_of(read) != was}
            self._changed = entries | others
        return self._changed

    def forget_previous(self) -> None:
        """Let go of the previous build's inputs and of what comparing with them needed (kept only until
        this build's are complete: these inputs stay in serve's memory until the next build)."""
        self.previous = None
        self._places.clear()

    def _compute(self, read: Read) -> str:
        what, key = read
        if what == "entry":
            return self.entry_digests.get(key, "absent")
        if what == "kind":
            return self._kinds((key,))
        if what == "table":
            if key == "paragraphs":
                return digest(repr(sorted(self.model.paragraphs.items())))
            return self._kinds(TABLE_KINDS[key])
        if what == "key":
            table, _, name = key.partition(":")
            return _key_digest(getattr(self.model, table), table, name)
        if what == "string":
            lang, _, name = key.partition(":")
            return digest(repr(self.strings.tables.get(lang, {}).get(name)))
        if what == "template":
            return self.templates(key)
        if what == "derived":
            function = self.derived.get(key)
            return derived_digest(function()) if function else "absent"
        return "unknown"

    def _kinds(self, kinds: tuple[str, ...] | None) -> str:
        # Every entry's (id, digest) of these kinds (of all, for None), sorted. Taken from the model's
        # list of each kind: a pass over every entry to find their kinds was 16 ms of a large site's
        # edit, which reads the home page's alone.
        digests = self.entry_digests
        if kinds is None:
            return digest(repr(sorted(digests.items())))
        ids = [entry_id for kind in kinds for entry_id in self._ids_of(kind)]
        return digest(repr(sorted((entry_id, digests[entry_id]) for entry_id in ids if entry_id in digests)))

    def _ids_of(self, kind: str) -> list[str]:
        if kind == "home":
            return ["(home)"]
        return [entry.id for entry in getattr(self.model, _LIST_OF_KIND[kind])]


_KEY_DIGESTS: dict[str, tuple[Mapping, dict[str, tuple[object, str]]]] = {}
"""Of each back-reference table last asked about: the digest of each value asked for, with the value."""


def _key_digest(table: Mapping, name: str, key: str) -> str:
    # The digest of one value of a back-reference table (a tuple of ids). A model patched with an edit
    # (serve's next build) holds the same tables and values: their 12,000 digests at 10,000 entries
    # are taken again rather than computed (0.02-0.03 s of each rebuild). Values are tuples, which
    # cannot change: the same object has the same digest.
    memo = _KEY_DIGESTS.get(name)
    if memo is None or memo[0] is not table:
        memo = _KEY_DIGESTS[name] = (table, {})
    value = table.get(key)
    known = memo[1].get(key)
    if known is not None and known[0] is value:
        return known[1]
    found = digest(repr(value))
    memo[1][key] = (value, found)
    return found


_LIST_OF_KIND = {kind: name for name, kind in KIND_LISTS.items() if kind != "home"}
"""The model attribute listing the entries of each kind (the home page is one entry, not a list)."""


Fragment = tuple[array, str]
"""A memoized piece of HTML and the numbers of what computing it read.

A plain tuple holding a plain string: a large site keeps 24,000 of them, and unpickling them as
objects of a class of their own holding Markup took 0.064 s of every edit, as tuples 0.026 s.
"""


@dataclass
class Manifest:
    """Records (pages written, or memoized fragments) with the reads each made, under one site key.

    Reads are numbered once and shared by all records, with their digest as of the last build.
    """

    key: str
    reads: list[Read] = field(default_factory=list)
    read_digests: list[str] = field(default_factory=list)
    records: dict = field(default_factory=dict)

    def changed(self, inputs: Inputs) -> set[int]:
        """Return the numbers of the reads whose digest is no longer the recorded one."""
        return inputs.digests_for(self.reads, self.read_digests)[1]

    def successor(self, inputs: Inputs) -> Manifest:
        """Return an empty manifest for this build that keeps the numbering, with current digests."""
        return Manifest(self.key, list(self.reads), inputs.digests_for(self.reads, self.read_digests)[0])

    def number(self, read: Read, inputs: Inputs, known: dict[Read, int]) -> int:
        """Return the number of a read, adding it (with its current digest) if new."""
        number = known.get(read)
        if number is None:
            number = known[read] = len(self.reads)
            self.reads.append(read)
            self.read_digests.append(inputs.digest_of(read))
        return number

    def numbered(self, reads: Iterable[Read], inputs: Inputs, known: dict[Read, int]) -> array:
        """Return the numbers of distinct reads, numbering any new one, as a sorted array: 4 bytes each,
        and one object to pickle rather than thousands."""
        # Looked up all at once: a large site's pages make a million reads, nearly all numbered already.
        reads = list(reads)
        found = list(map(known.get, reads))
        if None in found:
            found = [self.number(read, inputs, known) if n is None else n for read, n in zip(reads, found, strict=True)]
        return array("I", sorted(found))

    def numbering(self) -> tuple[str, list[Read], list[str]]:
        """Return the key and numbered reads without the records, to be saved apart from them."""
        return (self.key, self.reads, self.read_digests)

    @classmethod
    def renumbered(cls, numbering: tuple[str, list[Read], list[str]], records: dict) -> Manifest:
        """Return the manifest of records saved apart from their `numbering`."""
        key, reads, read_digests = numbering
        return cls(key, reads, read_digests, records)

    def numbers(self) -> dict[Read, int]:
        """Return each read's number."""
        return dict(zip(self.reads, range(len(self.reads)), strict=True))


LASTING = frozenset({"filter-items"})
"""Kinds of memoized results not named after an entry, kept while what they read is unchanged."""


MEMO_TABLES = ("fragments", "indexed")
"""The cache tables of memoized results: the timelines' parts, and those of pages the search index holds."""

_INDEXED = frozenset({"links", "glossary-entry"})
"""The kinds of memoized results shown on pages the search index holds (the sources page, the glossary)."""


def table_of(name: object) -> str:
    """Return the table holding the memoized result named `name`.

    Pages the search index holds are rendered first, and Pagefind started on them (see pipeline.build):
    those that show memoized parts (the sources page's runs of links, the glossary's entries) load a
    table of their own, not the timelines' parts (17 MB at 10,000 entries, 0.13 s to load), which an
    edit that changes no timeline never loads.
    """
    return "indexed" if isinstance(name, tuple) and name[0] in _INDEXED else "fragments"


class Memo:
    """Results of computations over the model, reused by the next build while nothing they read changed.

    Used for the parts of pages that many pages repeat (an event's item on the timeline and its year's
    page): on a large site, redoing them all for every edit would cost more than the pages it touches.
    Each table of them (`MEMO_TABLES`) is loaded when a page first asks for one of its results.
    """

    def __init__(
        self, load: Callable[[str], Manifest | None], key: str, inputs: Inputs, model: Model, strings: Strings
    ):
        self._load = load
        self.key = key
        self.inputs = inputs
        self.model = model
        self.strings = strings
        self._tables: dict[str, _MemoTable] = {}

    def _table(self, name: object) -> _MemoTable:
        return self._loaded(table_of(name))

    def _loaded(self, table: str) -> _MemoTable:
        found = self._tables.get(table)
        if found is None:
            found = self._tables[table] = _MemoTable(self._load(table), self.key, self.inputs)
        return found

    def load_all(self) -> None:
        """Load every table now: processes forked to render pages then share them rather than each load them."""
        for table in MEMO_TABLES:
            self._loaded(table)

    def loaded(self) -> tuple[str, ...]:
        """Return the tables that were loaded: the others are as the last build left them, and still valid."""
        return tuple(sorted(self._tables))

    def kept_records(self, table: str) -> dict:
        """Return the records of a loaded table to keep for the next build: this build's, and the last
        build's that this one did not need but that are still valid and belong to an entry that still
        exists (or are one of the `LASTING` kinds, such as the lists of filters).

        A large site's edit shows few of the parts (one year of the timeline, say): dropping the others
        would have the next edit elsewhere compute them again.
        """
        part = self._tables[table]
        kept = {
            name: record
            for name, record in part.previous.records.items()
            if name not in part.next.records
            and isinstance(name, tuple)
            and len(name) > 1
            and (name[1] in self.model.entries or name[0] in LASTING)
            and part.changed.isdisjoint(record[0])
        }
        return {**kept, **part.next.records}

    def numbering(self, table: str) -> tuple[str, list[Read], list[str]]:
        """Return a loaded table's numbered reads, to be saved with its records (see Manifest.numbering)."""
        return self._tables[table].next.numbering()

    def lacks(self, name: object) -> bool:
        """Return whether the result named `name` would have to be computed."""
        part = self._table(name)
        if name in part.next.records:
            return False
        record = part.previous.records.get(name)
        return record is None or not part.changed.isdisjoint(record[0])

    def traced(self, name: object, compute: Callable[[Recorder], Markup]) -> tuple[Markup, frozenset[Read]]:
        """Return the HTML named `name` and what it read; `compute` records its reads in the recorder given."""
        part = self._table(name)
        record = self._record(part, name, compute)
        # The set of reads is made once per fragment, not once per page that shows it.
        reads = part.read_sets.get(name)
        if reads is None:
            names = part.next.reads
            reads = part.read_sets[name] = frozenset(names[number] for number in record[0])
        return Markup(record[1]), reads

    def _record(self, part: _MemoTable, name: object, compute: Callable[[Recorder], Markup]) -> Fragment:
        record = part.next.records.get(name)
        if record is None:
            record = part.previous.records.get(name)
            if record is None or not part.changed.isdisjoint(record[0]):
                recorder = Recorder()
                value = compute(recorder)
                part.computed[name] = (frozenset(recorder.reads), value)
                reads = part.next.numbered(recorder.reads, self.inputs, part.numbers)
                record = (reads, str(value))
            part.next.records[name] = record
        return record

    def take_computed(self) -> dict:
        """Return the results computed since the last call, and forget them (a worker hands each back once)."""
        computed = {}
        for part in self._tables.values():
            computed.update(part.computed)
            part.computed = {}
        return computed

    def adopt(self, computed: dict) -> None:
        """Take in results computed by a worker process (which has its own copy of this memo)."""
        for name, (reads, value) in computed.items():
            part = self._table(name)
            if name not in part.next.records:
                numbers = part.next.numbered(reads, self.inputs, part.numbers)
                part.next.records[name] = (numbers, str(value))


class _MemoTable:
    """One table of a Memo: the last build's records, the reads changed since, and this build's records."""

    def __init__(self, previous: Manifest | None, key: str, inputs: Inputs):
        self.previous = previous if previous is not None and previous.key == key else Manifest(key)
        self.changed = self.previous.changed(inputs)
        self.next = self.previous.successor(inputs)
        self.numbers = self.next.numbers()
        self.computed: dict[object, tuple[frozenset[Read], Markup]] = {}
        self.read_sets: dict[object, frozenset[Read]] = {}
