"""The record of the pages written into an output folder: what each read, its plan and its file.

A table with a column per field and a row per page, rather than an object per page: a large site has
24,000 pages that read 1.2 million things between them, and an edit looks at every row. Loading and
comparing columns costs a few steps per column; an object per page cost a few per page, a tenth of a
second of every edit. Which pages read something that changed is found by searching the column of
reads for the changed ones, not by going through each page's reads.
"""

from __future__ import annotations

import bisect
import os
import sys
from array import array
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field

from .plan import Page
from .trace import Inputs, Manifest, Read


@dataclass
class PageTable:
    """One row per page written: its file, plan digest, size and time when written, what the search
    index reads of it (see search.search_digest) and what it read (numbers in `numbering`)."""

    numbering: Manifest
    """The reads, numbered once for all pages, with their digests as of the build that wrote them."""
    output: str
    """The folder the pages were written into."""
    files: list[str] = field(default_factory=list)
    plans: list[str] = field(default_factory=list)
    sizes: array = field(default_factory=lambda: array("q"))
    mtimes: array = field(default_factory=lambda: array("q"))
    searched: list[str] = field(default_factory=list)
    ends: array = field(default_factory=lambda: array("Q"))
    """Where each row's reads end in `reads` (they begin where the row before's end)."""
    reads: array = field(default_factory=lambda: array("I"))

    def __post_init__(self) -> None:
        self._rows: dict[str, int] | None = None

    def __getstate__(self) -> dict:
        return {name: value for name, value in self.__dict__.items() if name != "_rows"}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._rows = None

    @property
    def key(self) -> str:
        """Return the key the pages were built under (code, site settings, URL words)."""
        return self.numbering.key

    def row(self, file: str) -> int | None:
        """Return the row of a page's file, or None if no page was written there."""
        return self._index().get(file)

    def rows_of(self, files: list[str]) -> list[int | None]:
        """Return the row of each file (None for a file no page was written to)."""
        return list(map(self._index().get, files))

    def _index(self) -> dict[str, int]:
        if self._rows is None:
            self._rows = dict(zip(self.files, range(len(self.files)), strict=True))
        return self._rows

    def written(self) -> Iterator[tuple[str, tuple[int, int]]]:
        """Give each page's file with its size and time when written."""
        return zip(self.files, zip(self.sizes, self.mtimes, strict=True), strict=True)

    def rows_reading(self, numbers: Collection[int]) -> set[int]:
        """Return the rows whose reads include any of these numbers."""
        found: set[int] = set()
        if not numbers:
            return found
        data = self.reads.tobytes()
        ends = self.ends
        size = self.reads.itemsize
        for number in numbers:
            pattern = number.to_bytes(size, sys.byteorder)
            position = data.find(pattern)
            while position != -1:
                if position % size == 0:
                    found.add(bisect.bisect_right(ends, position // size))
                position = data.find(pattern, position + 1)
        return found


def altered_rows(table: PageTable) -> set[int]:
    """Return the rows whose file is gone or no longer has the size and time it was written with."""
    altered = set()
    # Plain strings rather than Paths: this looks at every page of the site on every build.
    prefix = table.output + "/"
    for row, (file, size, mtime_ns) in enumerate(zip(table.files, table.sizes, table.mtimes, strict=True)):
        try:
            status = os.stat(prefix + file)
        except OSError:
            altered.add(row)
            continue
        if status.st_size != size or status.st_mtime_ns != mtime_ns:
            altered.add(row)
    return altered


def stale_pages(table: PageTable, pages: list[Page], inputs: Inputs, altered: Collection[int]) -> list[Page]:
    """Return the pages to render: new ones, changed plans, changed inputs, and those whose files are
    among the `altered` rows (see `altered_rows`)."""
    reading = table.rows_reading(table.numbering.changed(inputs))
    rows = table.rows_of([page.file for page in pages])
    plans = table.plans
    return [
        page
        for page, row in zip(pages, rows, strict=True)
        if row is None or row in reading or row in altered or plans[row] != page.plan_digest
    ]


def recorded(
    table: PageTable,
    pages: list[Page],
    reads: Mapping[str, Collection[Read]],
    inputs: Inputs,
    output: str,
    searched: list[str],
) -> PageTable:
    """Return the table after a build: the rows of the pages rendered (`reads` holds what each read) made
    from their files as written, the others' rows as they were; `searched` holds each page's search
    digest, in the order of `pages`."""
    numbering = table.numbering.successor(inputs)
    numbers = numbering.numbers()
    made = PageTable(numbering, output)
    made.files = [page.file for page in pages]
    made.plans = [page.plan_digest for page in pages]
    made.searched = list(searched)
    sizes, mtimes, ends, flat = made.sizes, made.mtimes, made.ends, made.reads

    def record(file: str) -> None:
        status = os.stat(f"{output}/{file}")
        sizes.append(status.st_size)
        mtimes.append(status.st_mtime_ns)
        flat.extend(numbering.numbered(reads[file], inputs, numbers))
        ends.append(len(flat))

    rendered = table.rows_of(list(reads)) if made.files == table.files else [None]
    if None not in rendered:
        # The same pages in the same order (an edit's): the rendered rows are found by place, and the
        # runs between them copied, rather than each of 24,000 pages looked up.
        start = 0
        for row in sorted(rendered):
            if start < row:
                _copy_rows(table, (start, row), made)
            record(made.files[row])
            start = row + 1
        if start < len(made.files):
            _copy_rows(table, (start, len(made.files)), made)
        return made
    run: tuple[int, int] | None = None  # a run of rows kept as they were, copied at once
    for file in made.files:
        if file in reads:
            if run is not None:
                _copy_rows(table, run, made)
                run = None
            record(file)
            continue
        row = table.row(file)
        if row is None:
            raise KeyError(f"{file}: neither rendered nor recorded")
        if run is not None and run[1] == row:
            run = (run[0], row + 1)
        else:
            if run is not None:
                _copy_rows(table, run, made)
            run = (row, row + 1)
    if run is not None:
        _copy_rows(table, run, made)
    return made


def _copy_rows(table: PageTable, run: tuple[int, int], made: PageTable) -> None:
    # Rows first..last-1 of `table`, appended to `made` as they were (their reads offset to their place).
    first, last = run
    made.sizes.extend(table.sizes[first:last])
    made.mtimes.extend(table.mtimes[first:last])
    start = table.ends[first - 1] if first else 0
    shift = len(made.reads) - start
    made.reads.extend(table.reads[start : table.ends[last - 1]])
    made.ends.extend(end + shift for end in table.ends[first:last])
