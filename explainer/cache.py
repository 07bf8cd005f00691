"""The build cache in <project>/.cache/: parsed entries, Markdown checks, and what each written page read.

Everything in it is keyed by content (file bytes, text, code version), never by time, so a stale or
missing cache only costs speed: a build with an empty cache does all the work and gives the same bytes.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import os
import pickle
import re
import sys
import time
import zlib
from pathlib import Path

FOLDER = ".cache"
FORMAT = 2

SHARDED = ("entries", "fragments", "indexed")
"""Large tables saved in SHARDS files, of which a build rewrites only those whose records changed."""
SHARDS = 64
HEADER = "(header)"
"""The key of a sharded table saved in its index file, not in a shard (what its records are read against)."""

_PACKAGE = Path(__file__).resolve().parent
_LIBRARIES = ("jinja2", "markdown", "nh3", "babel", "pyyaml", "jsonschema", "fastjsonschema", "markupsafe")


def code_version() -> str:
    """Return a digest of this package's code and schemas and of the libraries that shape the output."""
    hashed = hashlib.blake2b(digest_size=16)
    hashed.update(str(FORMAT).encode())
    for path in sorted([*_PACKAGE.glob("*.py"), *_PACKAGE.glob("schemas/*.json")]):
        hashed.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    versions = _installed_versions()
    for name in _LIBRARIES:
        hashed.update(f"{name}={versions.get(_normalized(name), 'none')}\0".encode())
    return hashed.hexdigest()


def _installed_versions() -> dict[str, str]:
    # The version of each installed distribution, from its metadata folder's name (`name-1.2.dist-info`,
    # PEP 427), first found along the import path as importlib.metadata would: importing that module
    # was a tenth of an edit's imports (email, zipfile, csv), for the eight versions read here.
    versions: dict[str, str] = {}
    for folder in sys.path:
        try:
            names = os.listdir(folder or ".")
        except OSError:
            continue
        for name in names:
            stem = name.removesuffix(".dist-info").removesuffix(".egg-info")
            if stem != name and "-" in stem:
                project, version = stem.split("-")[:2]
                versions.setdefault(_normalized(project), version)
    return versions


def _named(output: Path) -> str:
    # An output folder's name in the cache's file names.
    return hashlib.blake2b(str(output).encode(), digest_size=8).hexdigest()


def _normalized(project: str) -> str:
    return re.sub(r"[-_.]+", "_", project).lower()


class Cache:
    """The cache of one project, loaded from disk on first use and saved after a successful build.

    `serve` keeps one instance for its whole run, so a rebuild never reads it from disk again.
    """

    def __init__(self, folder: Path | None):
        self.folder = folder
        self.code = code_version()
        self._parts: dict[str, dict] = {}
        self._changed: set[str] = set()
        # Of each sharded table: each shard's records as last loaded or saved, its generation, and
        # the shard of each key seen (hashing a key's text once per process).
        self._saved_shards: dict[str, list[dict]] = {}
        self._generations: dict[str, list[int]] = {}
        self._shard_of: dict[object, int] = {}
        self.memory: dict[object, object] = {}
        """Objects worth keeping from one build to the next in the same process; never saved."""
        self._writing: set[Path] = set()
        # Written beside the marker of each output this instance writes: another process that writes
        # it after this one replaces it with its own (see `wrote_last`).
        self._writer = f"{os.getpid()}-{id(self)}-{time.time_ns()}"

    @classmethod
    def at(cls, root: Path) -> Cache:
        """Return the cache of the project at `root`."""
        return cls(root / FOLDER / "explainer")

    def part(self, name: str) -> dict:
        """Return one table of the cache (loading it if needed), to read from and add to."""
        table = self._parts.get(name)
        if table is None:
            table = self._parts[name] = self._load(name)
        return table

    def peek(self, name: str) -> dict | None:
        """Return a table if this process has it in memory already, without loading it."""
        return self._parts.get(name)

    def folder_for(self, name: str) -> Path | None:
        """Return a folder of the cache for a library's own files (made if needed), or None without a cache."""
        if self.folder is None:
            return None
        folder = self.folder / name
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            return None
        return folder

    def begin_writing(self, output: Path) -> None:
        """Mark on disk that `output` is being written, until a save records what it then holds."""
        if self.folder is None or output in self._writing:
            return
        with contextlib.suppress(OSError):
            self.folder.mkdir(parents=True, exist_ok=True)
            self._marker(output).touch()
            self._writing.add(output)
            if not self.wrote_last(output):
                self._writer_file(output).write_text(self._writer, "ascii")

    def wrote_last(self, output: Path) -> bool:
        """Return True if this instance is the last to have begun writing `output` (no process has since)."""
        if self.folder is None:
            return False
        try:
            return self._writer_file(output).read_text("ascii") == self._writer
        except (OSError, ValueError):
            return False

    def written_since_saved(self, output: Path) -> bool:
        """Return True if another process began writing `output` and did not save what it wrote.

        The record of the last build into `output` may then miss files that process wrote.
        """
        return self.folder is not None and output not in self._writing and self._marker(output).exists()

    def _marker(self, output: Path) -> Path:
        assert self.folder is not None
        return self.folder / f"writing-{_named(output)}"

    def _writer_file(self, output: Path) -> Path:
        assert self.folder is not None
        return self.folder / f"writer-{_named(output)}"

    def changed(self, name: str) -> None:
        """Mark a table as changed, so that it is saved."""
        self._changed.add(name)

    def _load(self, name: str) -> dict:
        if self.folder is None:
            return {}
        if name in SHARDED:
            return self._load_sharded(name)
        table = self._read(self._file(name))
        return table if isinstance(table, dict) else {}

    def _load_sharded(self, name: str) -> dict:
        # The index names each shard's generation: a shard of another generation (its save was
        # interrupted before the index was) is left out, so records never meet a header not theirs.
        self._saved_shards[name] = [{} for _ in range(SHARDS)]
        self._generations[name] = [0] * SHARDS
        index = self._read(self._file(name))
        if not isinstance(index, tuple) or len(index) != 2 or len(index[0]) != SHARDS:
            return {}
        generations, header = index
        table: dict = {} if header is None else {HEADER: header}
        for shard, generation in enumerate(generations):
            stored = self._read(self._file(name, shard))
            if not isinstance(stored, tuple) or stored[0] != generation:
                continue
            records = stored[1]
            table.update(records)
            self._saved_shards[name][shard] = records
            self._generations[name][shard] = generation
            self._shard_of.update(dict.fromkeys(records, shard))
        return table

    def _file(self, name: str, shard: int | None = None) -> Path:
        assert self.folder is not None
        return self.folder / (f"{name}.pickle" if shard is None else f"{name}/{shard}.pickle")

    def _read(self, path: Path) -> object:
        # Unpickling makes millions of objects and no garbage: the collector would walk them in vain,
        # while unpickling and after. Once loaded, they are moved out of its sight for good (gc.freeze:
        # at 10,000 entries, its first passes after the model was loaded took 0.15 s of an edit).
        collecting = gc.isenabled()
        gc.disable()
        try:
            with open(path, "rb") as handle:
                code, stored = pickle.load(handle)
        except Exception:  # noqa: BLE001 - a missing, old or damaged cache is an empty one
            return None
        finally:
            gc.freeze()
            if collecting:
                gc.enable()
        return stored if code == self.code else None

    def save(self, only: tuple[str, ...] | None = None, leaving: tuple[str, ...] = ()) -> None:
        """Write the changed tables: all of them, or those named in `only` (for a process that made only
        those), but not those in `leaving` (saved later). A cache that cannot be written is only a slower
        next build."""
        if self.folder is None:
            return
        names = (self._changed if only is None else self._changed & set(only)) - set(leaving)
        for name in sorted(names):
            try:
                if name in SHARDED:
                    self._save_sharded(name)
                else:
                    self._write(self._file(name), self._parts[name])
            except OSError:
                self._writing.clear()  # kept on disk: the saved record may be behind the output
                continue
        self._changed -= names
        if only is not None or leaving:
            return
        # Everything is saved: what the outputs being written now hold is recorded.
        for output in sorted(self._writing):
            with contextlib.suppress(OSError):
                self._marker(output).unlink()
        self._writing.clear()

    def _save_sharded(self, name: str) -> None:
        # An edit changes the records of a few entries; a record's shard follows its entry (the
        # second part of a tuple key), so an edit rewrites a shard or two, not the whole table.
        table = self._parts[name]
        saved = self._saved_shards.setdefault(name, [{} for _ in range(SHARDS)])
        generations = self._generations.setdefault(name, [0] * SHARDS)
        generation = max(generations) + 1
        # The records not saved as they are, and those gone, found in one pass over the table (70,000
        # records on a large site): only their shards are grouped and written.
        before: dict = {}
        for records in saved:
            before.update(records)
        differ = [key for key, value in table.items() if before.get(key, before) is not value and key != HEADER]
        groups: dict[int, dict] = {self._shard(key): {} for key in (*differ, *(before.keys() - table.keys()))}
        if groups:
            shard_of = self._shard_of
            for key, value in table.items():
                if key != HEADER:
                    shard = shard_of.get(key)
                    group = groups.get(self._shard(key) if shard is None else shard)
                    if group is not None:
                        group[key] = value
        for shard, records in sorted(groups.items()):
            self._write(self._file(name, shard), (generation, records))
            saved[shard], generations[shard] = records, generation
        # Last: the shards written above count only once the index names their generation.
        self._write(self._file(name), (list(generations), table.get(HEADER)))

    def _shard(self, key: object) -> int:
        shard = self._shard_of.get(key)
        if shard is None:
            grouped = key[1] if isinstance(key, tuple) and len(key) > 1 else key
            shard = self._shard_of[key] = zlib.crc32(repr(grouped).encode("utf-8")) % SHARDS
        return shard

    def _write(self, path: Path, stored: object) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.parent / f".{path.name}.{os.getpid()}.tmp"
        with open(temporary, "wb") as handle:
            pickle.dump((self.code, stored), handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, path)
