"""Files made of many parts (feeds, calendars, exports, the sitemap), remade after an edit by splicing.

Each part (an event's Atom entry, an entry's JSON record, a page's sitemap element) is a function of
what it reads of the model and the UI words, recorded as it is computed (see trace.Recorder). A build
keeps, for each such file it writes, where each part lies in it and what each read. The next build
computes again only the parts whose reads changed, and copies the others from the file as written,
provided the file still has the size and time it was written with.

A large site's feeds are 60 MB made of 70,000 parts. Keeping the parts' bytes in the cache cost more
to load, and to hand from process to process, than an edit changes in them; a step per part, however
small, costs a tenth of a second. Here an edit that keeps the parts in their order costs a step per
changed part, plus copying the bytes between them.
"""

from __future__ import annotations

import bisect
import itertools
import os
from array import array
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .model import Model
from .strings import Strings
from .trace import Inputs, Read, Recorder, TrackedModel, TrackedStrings

Compute = Callable[[TrackedModel, TrackedStrings], bytes]
"""How to compute a part from the model and the UI words (what it reads of them is recorded)."""
Job = tuple[object, Compute]
"""A part's name (unique across files) and how to compute it."""


@dataclass(frozen=True)
class Layout:
    """The parts of a file in order: their names, where they lie, and what each read."""

    names: tuple
    lengths: array
    """Each part's length in bytes."""
    counts: array
    """How many reads each part made: its reads are the next that many of `reads`."""
    reads: array
    """The numbers of the parts' reads (see `Parts.reads`), part after part."""
    first: int
    """Where the first part begins, after the file's head."""
    step: int
    """How many bytes separate two parts."""

    def starts(self) -> list[int]:
        """Return where each part begins."""
        if not self.lengths:
            return []
        step = self.step
        return list(itertools.accumulate((length + step for length in self.lengths[:-1]), initial=self.first))

    def part_reads(self, index: int, ends: list[int]) -> array:
        """Return the reads of one part, given `ends` (the running sum of `counts`)."""
        return self.reads[ends[index] - self.counts[index] : ends[index]]


@dataclass(frozen=True)
class Written:
    """A file as a build wrote it: its size and time then, and its layout."""

    size: int
    mtime_ns: int
    layout: Layout


class Parts:
    """The parts of this build's files: copied from the last build's files where still right, else computed.

    `table` is what the last build kept (see `kept`), or None; `key` is what every part depends on
    besides its reads (code, site settings); `output` is where the last build wrote its files (None:
    compute every part).
    """

    def __init__(self, table: Mapping | None, key: str, inputs: Inputs, output: Path | None):
        usable = table is not None and table.get("key") == key
        self.key = key
        self.inputs = inputs
        self.reads: list[Read] = list(table["reads"]) if usable else []
        """Every read any part made, numbered once: the layouts name reads by their number here."""
        self._numbers = {read: number for number, read in enumerate(self.reads)}
        was = table["digests"] if usable else []
        self.digests = [inputs.digest_of(read) for read in self.reads]
        self.changed = {number for number, (now, then) in enumerate(zip(self.digests, was, strict=True)) if now != then}
        self._written: dict[str, Written] = dict(table["files"]) if usable and output is not None else {}
        self._output = output
        self._checked: dict[str, tuple[bytes, Layout] | None] = {}
        self._stale: dict[int, list[int]] = {}
        self.layouts: dict[str, Layout] = {}
        """The layout of each file made in this build."""
        self.computed: dict[object, tuple[frozenset[Read], bytes]] = {}
        """Parts computed ahead (across the cores, see `adopt`), by name."""

    def written(self, file: str) -> tuple[bytes, Layout] | None:
        """Return the bytes and layout of `file` as the last build wrote it, if it is still so."""
        if file not in self._checked:
            found = self._written.get(file)
            data = None
            if found is not None and self._output is not None:
                try:
                    status = os.stat(self._output / file)
                    if (status.st_size, status.st_mtime_ns) == (found.size, found.mtime_ns):
                        data = (self._output / file).read_bytes()
                except OSError:
                    data = None
            self._checked[file] = (data, found.layout) if data is not None and len(data) == found.size else None
        return self._checked[file]

    def stale(self, file: str) -> int | None:
        """Return how many parts of `file` as written read something changed since; None if it is not as written."""
        written = self.written(file)
        if written is None:
            return None
        return len(self._stale_indexes(written[1]))

    def _stale_indexes(self, layout: Layout) -> list[int]:
        # Asked for each file by the build's estimate of the work, then by its making.
        found = self._stale.get(id(layout))
        if found is None:
            changed = self.changed
            ends = list(itertools.accumulate(layout.counts))
            positions = [position for position, read in enumerate(layout.reads) if read in changed] if changed else []
            found = self._stale[id(layout)] = sorted({bisect.bisect_right(ends, position) for position in positions})
        return found

    def joined(
        self, file: str, head: bytes, names: list, job: Callable[[int], Job], tail: bytes, separator: bytes = b""
    ) -> bytes:
        """Return `file` made of `head`, the parts named `names` (`job(i)` computes the i-th) and `tail`."""
        names = tuple(names)
        step = len(separator)
        written = self.written(file)
        if written is not None and written[1].names == names and written[1].step == step:
            body, layout = self._spliced(written[0], written[1], job)
        else:
            body, layout = self._assembled(names, job, separator, written)
        self.layouts[file] = Layout(names, layout.lengths, layout.counts, layout.reads, len(head), step)
        return b"".join([head, *body, tail])

    def _spliced(self, data: bytes, layout: Layout, job: Callable[[int], Job]) -> tuple[list, Layout]:
        # The same parts in the same order: those whose reads changed are computed and put in place
        # of their old bytes and reads; the bytes and reads between them are copied in runs.
        starts, ends = layout.starts(), list(itertools.accumulate(layout.counts))
        lengths, counts = array("Q", layout.lengths), array("I", layout.counts)
        view = memoryview(data)
        body: list = []
        reads = array("I")
        copied = layout.first  # where the bytes not yet copied begin
        read = 0  # and the reads
        for index in self._stale_indexes(layout):
            value, numbers = self._part(job(index))
            start = ends[index] - layout.counts[index]
            body += [view[copied : starts[index]], value]
            reads += layout.reads[read:start]
            reads += numbers
            copied, read = starts[index] + lengths[index], ends[index]
            lengths[index], counts[index] = len(value), len(numbers)
        if lengths:
            body.append(view[copied : starts[-1] + layout.lengths[-1]])
        reads += layout.reads[read:]
        return body, Layout(layout.names, lengths, counts, reads, 0, 0)

    def _assembled(
        self, names: tuple, job: Callable[[int], Job], separator: bytes, written: tuple[bytes, Layout] | None
    ) -> tuple[list, Layout]:
        # Another set or order of parts (an event moved, an entry added): each part is found by name in
        # the file as written, if it is and what the part read is unchanged, else computed.
        kept: dict[object, int] = {}  # the row in the file as written of each part that stays as it was
        if written is not None:
            data, layout = written
            stale = set(self._stale_indexes(layout))
            kept = {name: index for index, name in enumerate(layout.names) if index not in stale}
            starts, ends = layout.starts(), list(itertools.accumulate(layout.counts))
        values, lengths, counts, reads = [], array("Q"), array("I"), array("I")
        for index, name in enumerate(names):
            was = kept.get(name)
            if was is None:
                value, numbers = self._part(job(index))
            else:
                value = data[starts[was] : starts[was] + layout.lengths[was]]
                numbers = layout.part_reads(was, ends)
            values.append(value)
            lengths.append(len(value))
            counts.append(len(numbers))
            reads += numbers
        return [separator.join(values)], Layout(names, lengths, counts, reads, 0, 0)

    def _part(self, job: Job) -> tuple[bytes, array]:
        # A part computed ahead by a worker, or now; with the numbers of what it read.
        name, compute = job
        found = self.computed.pop(name, None)
        if found is None:
            found = compute_part(self.inputs.model, self.inputs.strings, compute)
        reads, value = found
        return value, array("I", sorted(self._number(read) for read in reads))

    def _number(self, read: Read) -> int:
        number = self._numbers.get(read)
        if number is None:
            number = self._numbers[read] = len(self.reads)
            self.reads.append(read)
            self.digests.append(self.inputs.digest_of(read))
        return number

    def adopt(self, computed: Mapping[object, tuple[frozenset[Read], bytes]]) -> None:
        """Take in parts computed ahead (by worker processes), used when their files are made."""
        self.computed.update(computed)

    def made(self) -> Made:
        """Return where the parts lie in the files made in this build, and what they read."""
        return Made(self.key, self.reads, self.digests, self.layouts)


@dataclass(frozen=True)
class Made:
    """Where the parts lie in the files a build made and what each read: what the next build's `Parts`
    needs (see `kept`), sent by the process that made the files to the one that writes them."""

    key: str
    reads: list[Read]
    digests: list[str]
    layouts: dict[str, Layout]

    def kept(self, output: Path) -> dict:
        """Return the table to keep for the next build, once the files are written into `output`."""
        written = {}
        for file, layout in sorted(self.layouts.items()):
            status = os.stat(output / file)
            written[file] = Written(status.st_size, status.st_mtime_ns, layout)
        return {"key": self.key, "reads": self.reads, "digests": self.digests, "files": written}


def compute_part(model: Model, strings: Strings, compute: Compute) -> tuple[frozenset[Read], bytes]:
    """Return what a part read, and its bytes."""
    recorder = Recorder()
    value = compute(TrackedModel(model, recorder), TrackedStrings(strings, recorder))
    return frozenset(recorder.reads), value
