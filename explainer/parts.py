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
import contextlib
import itertools
import os
from array import array
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .model import Model
from .output import Copy, New, Spliced, Staged
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
        self._numbers = dict(zip(self.reads, range(len(self.reads)), strict=True))
        was = table["digests"] if usable else []
        self.digests, self.changed = inputs.digests_for(self.reads, was)
        self._written: dict[str, Written] = dict(table["files"]) if usable and output is not None else {}
        self._output = output
        self._checked: dict[str, tuple[bytes, Layout] | None] = {}
        self._stale: dict[int, list[int]] = {}
        self.layouts: dict[str, Layout] = {}
        """The layout of each file made in this build."""
        self.computed: dict[object, tuple[frozenset[Read], bytes]] = {}
        """Parts computed ahead (across the cores, see `adopt`), by name."""

    def written(self, file: str) -> Written | None:
        """Return the size, time and layout of `file` as the last build wrote it, if it still has them."""
        if file not in self._checked:
            found = self._written.get(file)
            if found is not None and self._output is not None:
                try:
                    status = os.stat(self._output / file)
                except OSError:
                    found = None
                else:
                    if (status.st_size, status.st_mtime_ns) != (found.size, found.mtime_ns):
                        found = None
            self._checked[file] = found
        return self._checked[file]

    def _bytes_of(self, file: str, written: Written) -> bytes | None:
        # Read only when parts are to be found by name (an event moved, an entry added).
        assert self._output is not None
        try:
            data = (self._output / file).read_bytes()
        except OSError:
            return None
        return data if len(data) == written.size else None

    def stale(self, file: str) -> int | None:
        """Return how many parts of `file` as written read something changed since; None if it is not as written."""
        written = self.written(file)
        if written is None:
            return None
        return len(self._stale_indexes(written.layout))

    def _stale_indexes(self, layout: Layout) -> list[int]:
        # Asked for each file by the build's estimate of the work, then by its making.
        found = self._stale.get(id(layout))
        if found is None:
            changed = self.changed
            ends = list(itertools.accumulate(layout.counts))
            positions = _positions_of(layout.reads, changed)
            found = self._stale[id(layout)] = sorted({bisect.bisect_right(ends, position) for position in positions})
        return found

    def joined(
        self, file: str, head: bytes, names: list, job: Callable[[int], Job], tail: bytes, separator: bytes = b""
    ) -> bytes | Spliced:
        """Return `file` made of `head`, the parts named `names` (`job(i)` computes the i-th) and `tail`:
        as the file in place spliced with new parts, when it has the same parts in the same order."""
        names = tuple(names)
        step = len(separator)
        written = self.written(file)
        if written is not None and written.layout.names == names and written.layout.step == step:
            assert self._output is not None
            body, layout, end = self._spliced(written.layout, job)
            self.layouts[file] = Layout(names, layout.lengths, layout.counts, layout.reads, len(head), step)
            pieces = ((head, 0, written.layout.first), *body, (tail, end, written.size - end))
            return Spliced(self._output / file, written.size, written.mtime_ns, pieces)
        data = self._bytes_of(file, written) if written is not None else None
        found = (data, written.layout) if data is not None and written is not None else None
        parts, layout = self._assembled(names, job, separator, found)
        self.layouts[file] = Layout(names, layout.lengths, layout.counts, layout.reads, len(head), step)
        return b"".join([head, *parts, tail])

    def _spliced(self, layout: Layout, job: Callable[[int], Job]) -> tuple[list[Copy | New], Layout, int]:
        # The same parts in the same order: those whose reads changed are computed and put in place
        # of their old bytes and reads; the bytes and reads between them are kept in runs. Returns the
        # pieces, the new layout and where the old parts end.
        starts, ends = layout.starts(), list(itertools.accumulate(layout.counts))
        lengths, counts = array("Q", layout.lengths), array("I", layout.counts)
        body: list[Copy | New] = []
        reads = array("I")
        copied = layout.first  # where the bytes not yet kept begin
        read = 0  # and the reads
        for index in self._stale_indexes(layout):
            value, numbers = self._part(job(index))
            start = ends[index] - layout.counts[index]
            if starts[index] > copied:
                body.append((copied, starts[index] - copied))
            body.append((value, starts[index], layout.lengths[index]))
            reads += layout.reads[read:start]
            reads += numbers
            copied, read = starts[index] + lengths[index], ends[index]
            lengths[index], counts[index] = len(value), len(numbers)
        end = starts[-1] + layout.lengths[-1] if layout.lengths else layout.first
        if end > copied:
            body.append((copied, end - copied))
        reads += layout.reads[read:]
        return body, Layout(layout.names, lengths, counts, reads, 0, 0), end

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

    def kept(self, output: Path, staged: Mapping[str, object] | None = None) -> dict:
        """Return the table to keep for the next build, once the files are written into `output` (or
        staged to be moved there: a file's move keeps its size and time)."""
        written = {}
        for file, layout in sorted(self.layouts.items()):
            found = (staged or {}).get(file)
            if isinstance(found, Staged):
                written[file] = Written(found.size, found.mtime_ns, layout)
            else:
                status = os.stat(output / file)
                written[file] = Written(status.st_size, status.st_mtime_ns, layout)
        return {"key": self.key, "reads": self.reads, "digests": self.digests, "files": written}


FEW_CHANGED = 32
"""Up to this many changed reads, each is looked for through a file's reads (at C speed) rather than
every read looked up among them: an edit's few, against 100,000 reads of a large site's data export."""


def _positions_of(reads: array, changed: set[int]) -> list[int]:
    # Where in `reads` the numbers in `changed` are.
    if len(changed) > FEW_CHANGED:
        return [position for position, read in enumerate(reads) if read in changed]
    positions = []
    for number in changed:
        position = -1
        with contextlib.suppress(ValueError):
            while True:
                position = reads.index(number, position + 1)
                positions.append(position)
    return positions


def compute_part(model: Model, strings: Strings, compute: Compute) -> tuple[frozenset[Read], bytes]:
    """Return what a part read, and its bytes."""
    recorder = Recorder()
    value = compute(TrackedModel(model, recorder), TrackedStrings(strings, recorder))
    return frozenset(recorder.reads), value
