"""The record of the pages written is a table of columns (explainer/records.py): property tests that it
finds exactly the pages that read something changed, and that a build's new table keeps each page's row."""

from __future__ import annotations

import os
import types
from array import array

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explainer.cache import Cache
from explainer.pipeline import project_at, read_model, read_settings
from explainer.records import PageTable, recorded
from explainer.trace import TABLE_KINDS, Inputs, Manifest, digest
from tests.conftest import REPO

EXAMPLES = int(os.environ.get("EXPLAINER_FUZZ", "1000"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Numbers past 255 have a zero byte and others, so that a changed number's bytes also appear across
# two neighbouring reads (768 then 1024 hold the bytes of 3, one byte off).
NUMBERS = 1100
rows = st.lists(st.lists(st.integers(0, NUMBERS), max_size=12).map(lambda r: sorted(set(r))), max_size=30)


class Digests(Inputs):
    """Inputs whose every read has the digest of its name."""

    def __init__(self) -> None:
        super().__init__(None, {}, None, str, {})

    def _compute(self, read) -> str:
        return f"now {read}"


def _table(rows: list[list[int]]) -> PageTable:
    reads = [("entry", str(number)) for number in range(NUMBERS + 1)]
    table = PageTable(Manifest("key", reads, [f"now {read}" for read in reads]), "site")
    for index, numbers in enumerate(rows):
        table.files.append(f"page-{index}.html")
        table.plans.append(f"plan {index}")
        table.searched.append(f"searched {index}")
        table.sizes.append(index)
        table.mtimes.append(1000 + index)
        table.reads.extend(numbers)
        table.ends.append(len(table.reads))
    return table


def _row_reads(table: PageTable, row: int) -> list[int]:
    return list(table.reads[table.ends[row - 1] if row else 0 : table.ends[row]])


@SETTINGS
@given(rows, st.lists(st.integers(0, NUMBERS), max_size=6))
def test_the_rows_reading_changed_numbers_are_exactly_those_found(rows, changed):
    table = _table(rows)
    expected = {row for row, numbers in enumerate(rows) if set(numbers) & set(changed)}
    assert table.rows_reading(set(changed)) == expected


class Page:
    """What `recorded` reads of a page."""

    def __init__(self, file: str):
        self.file = file
        self.plan_digest = f"new plan of {file}"


@SETTINGS
@given(rows, st.data())
def test_a_new_table_keeps_the_rows_not_rendered_and_records_those_rendered(tmp_path_factory, rows, data):
    output = tmp_path_factory.mktemp("site")
    table = _table(rows)
    files = table.files + [f"new-{index}.html" for index in range(data.draw(st.integers(0, 3)))]
    if data.draw(st.booleans()):
        # The same pages in the same order (an edit's): rows are copied by place, not looked up.
        kept = list(table.files)
    else:
        kept = data.draw(st.permutations(files))
        kept = kept[: data.draw(st.integers(0, len(kept)))]
    new = [file for file in kept if file.startswith("new-")]
    rendered = set(new) | set(data.draw(st.lists(st.sampled_from(kept), max_size=5)) if kept else [])
    reads = {
        file: {("entry", str(number)) for number in data.draw(st.lists(st.integers(0, 9), max_size=4))}
        for file in rendered
    }
    for file in rendered:
        (output / file).write_bytes(b"x" * len(file))
    searched = {file: f"digest of {file}" for file in kept}

    made = recorded(table, [Page(file) for file in kept], reads, Digests(), str(output), list(searched.values()))
    assert made.files == kept and made.searched == [searched[file] for file in kept]
    for row, file in enumerate(made.files):
        if file in rendered:
            expected = sorted(int(name) for _, name in reads[file])
            assert (made.sizes[row], made.plans[row]) == (len(file), f"new plan of {file}")
            assert (made.mtimes[row], _row_reads(made, row)) == ((output / file).stat().st_mtime_ns, expected)
        else:
            old = table.row(file)
            assert (made.sizes[row], made.mtimes[row]) == (table.sizes[old], table.mtimes[old])
            assert _row_reads(made, row) == _row_reads(table, old)
    assert made.row(kept[-1]) == len(kept) - 1 if kept else made.row("page-0.html") is None
    assert isinstance(made.reads, array) and len(made.ends) == len(kept)
    for path in output.iterdir():
        path.unlink()


def test_a_kind_of_entry_changes_its_digest_with_any_entry_of_that_kind_and_no_other():
    # What a page that lists every entry of a kind (or reads a table made from them) depends on.
    project = project_at(REPO)
    site, strings = read_settings(project, None)
    model, digests, _, _, _ = read_model(project, site, strings, False, Cache(None))
    reads = [("kind", kind) for kind in ("event", "person", "agreement", "term", "organization", "source", "home")]
    # (The paragraphs table is the digest of the source texts themselves, not of entries.)
    reads += [("table", name) for name in TABLE_KINDS if name != "paragraphs"]

    def digests_with(changed: dict[str, str]) -> dict:
        inputs = Inputs(model, {**digests, **changed}, strings, str, {})
        return {read: inputs.digest_of(read) for read in reads}

    before = digests_with({})
    for entry in [*model.entries.values(), model.home]:
        entry_id = entry.id if entry is not model.home else "(home)"
        after = digests_with({entry_id: "edited"})
        changed = {read for read in reads if after[read] != before[read]}
        kinds = {(what, key) for what, key in reads if what == "kind" and key == entry.kind}
        tables = {read for read in reads if read[0] == "table" and TABLE_KINDS[read[1]] in (None, (entry.kind,))}
        assert changed == kinds | tables, entry_id


def test_a_back_reference_is_digested_anew_unless_it_is_the_same_value_of_the_same_table():
    # serve's next build patches the model, keeping its tables and their values: their digests are
    # taken again. Anything else (another table, another value, even an equal one) is digested anew.
    def digest_in(table: dict, key: str = "ana") -> str:
        return Inputs(types.SimpleNamespace(events_of=table), {}, None, str, {}).digest_of(("key", f"events_of:{key}"))

    table = {"ana": ("e1", "e2"), "bo": ("e3",)}
    first = digest_in(table)
    assert first == digest(repr(("e1", "e2"))) and digest_in(table) == first
    assert digest_in(table, "zed") == digest(repr(None))
    other = dict(table, ana=("e1",))
    assert digest_in(other) == digest(repr(("e1",))) != first
    assert digest_in(dict(table, ana=("e1", "e2"))) == first
    assert digest_in(other, "bo") == digest(repr(("e3",))) and digest_in(table) == first
    table["ana"] = ("e9",)  # the build never changes a table in place; were it done, it would be seen
    assert digest_in(table) == digest(repr(("e9",)))


entry_digests = st.dictionaries(st.sampled_from([f"e{n}" for n in range(40)]), st.sampled_from("abc"), max_size=40)
template_digests = st.dictionaries(st.sampled_from([f"t{n}" for n in range(6)]), st.sampled_from("xy"), max_size=6)
some_reads = st.lists(
    st.sampled_from([*(("entry", f"e{n}") for n in range(45)), *(("template", f"t{n}") for n in range(6))]),
    unique=True,
    max_size=51,
)


@SETTINGS
@given(
    builds=st.lists(st.tuples(entry_digests, template_digests), min_size=3, max_size=3),
    reads=some_reads,
    more=st.lists(st.sampled_from([("entry", f"e{n}") for n in range(45, 60)]), unique=True, max_size=15),
)
def test_digests_compared_by_the_reads_changed_since_the_last_inputs_are_those_compared_one_by_one(builds, reads, more):
    # serve's builds: each one's inputs compare the digests the last one recorded by the reads whose digest
    # changed between the two (Inputs.digests_for), not read by read; the answer is the same, along a chain
    # of builds whose records gain reads (numbered anew, as a page that reads something new).
    def inputs(build: int, previous: Inputs | None = None) -> Inputs:
        entries, templates = builds[build]
        return Inputs(None, entries, None, lambda name: templates.get(name, "none"), {}, previous=previous)

    def plain(inputs: Inputs, reads: list, was: list) -> tuple[list, set]:
        now = [inputs.digest_of(read) for read in reads]
        return now, {place for place, (found, then) in enumerate(zip(now, was, strict=True)) if found != then}

    one = inputs(0)
    recorded, _ = one.digests_for(reads, ["?"] * len(reads))
    two = inputs(1, previous=one)
    assert two.digests_for(reads, recorded) == plain(two, reads, recorded)
    successor, _ = two.digests_for(reads, recorded)
    grown = [*reads, *more]
    successor.extend(two.digest_of(read) for read in more)  # as Manifest.number adds them
    two.forget_previous()
    three = inputs(2, previous=two)
    assert three.digests_for(grown, successor) == plain(three, grown, successor)
    # A list the last inputs did not make (an equal copy, one loaded from disk) is compared read by read.
    copy = list(successor)
    assert three.digests_for(grown, copy) == plain(three, grown, copy)
