"""The build cache in <project>/.cache/: parsed entries, Markdown checks, and what each written page read.

Everything in it is keyed by content (file bytes, text, code version), never by time, so a stale or
missing cache only costs speed: a build with an empty cache does all the work and gives the same bytes.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from importlib import metadata
from pathlib import Path

FOLDER = ".cache"
FORMAT = 1

_PACKAGE = Path(__file__).resolve().parent
_LIBRARIES = ("jinja2", "markdown", "nh3", "babel", "pyyaml", "jsonschema", "markupsafe")


def code_version() -> str:
    """Return a digest of this package's code and schemas and of the libraries that shape the output."""
    hashed = hashlib.blake2b(digest_size=16)
    hashed.update(str(FORMAT).encode())
    for path in sorted([*_PACKAGE.glob("*.py"), *_PACKAGE.glob("schemas/*.json")]):
        hashed.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    for name in _LIBRARIES:
        try:
            hashed.update(f"{name}={metadata.version(name)}\0".encode())
        except metadata.PackageNotFoundError:
            hashed.update(f"{name}=none\0".encode())
    return hashed.hexdigest()


class Cache:
    """The cache of one project, loaded from disk on first use and saved after a successful build.

    `serve` keeps one instance for its whole run, so a rebuild never reads it from disk again.
    """

    def __init__(self, folder: Path | None):
        self.folder = folder
        self.code = code_version()
        self._parts: dict[str, dict] = {}
        self._changed: set[str] = set()
        self.memory: dict[object, object] = {}
        """Objects worth keeping from one build to the next in the same process; never saved."""

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

    def changed(self, name: str) -> None:
        """Mark a table as changed, so that it is saved."""
        self._changed.add(name)

    def _load(self, name: str) -> dict:
        if self.folder is None:
            return {}
        try:
            with open(self.folder / f"{name}.pickle", "rb") as handle:
                code, table = pickle.load(handle)
        except Exception:  # noqa: BLE001 - a missing, old or damaged cache is an empty one
            return {}
        return table if code == self.code else {}

    def save(self) -> None:
        """Write the changed tables; a cache that cannot be written is only a slower next build."""
        if self.folder is None:
            return
        for name in sorted(self._changed):
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
                temporary = self.folder / f".{name}.{os.getpid()}.tmp"
                with open(temporary, "wb") as handle:
                    pickle.dump((self.code, self._parts[name]), handle, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(temporary, self.folder / f"{name}.pickle")
            except OSError:
                continue
        self._changed.clear()
