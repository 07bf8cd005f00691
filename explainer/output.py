"""Writing the site: only files whose bytes changed, each atomically, and stale files removed."""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

MARKER = ".explainer-output"
"""Marks a folder as ours, so that removing stale files never touches a folder someone else owns."""


class OutputRefused(Exception):
    """The output folder is not one this tool made."""


@dataclass(frozen=True)
class WriteReport:
    """What a write changed."""

    written: tuple[str, ...]
    removed: tuple[str, ...]
    unchanged: int

    def merged(self, other: WriteReport) -> WriteReport:
        """Return the report of this write followed by another."""
        return WriteReport(
            tuple(sorted(self.written + other.written)),
            tuple(sorted(self.removed + other.removed)),
            self.unchanged + other.unchanged,
        )


def write_site(
    outputs: Mapping[str, bytes],
    out_dir: Path,
    *,
    within: str = "",
    keep: str | None = None,
    kept: Collection[str] = (),
) -> WriteReport:
    """Make out_dir hold exactly `outputs` (relative path -> bytes) and `kept`, touching only what differs.

    `kept` names files of the site that are already written and up to date. Only files under the
    `within` prefix are considered stale; files under `keep` are left alone.
    """
    if out_dir.exists() and any(out_dir.iterdir()) and not (out_dir / MARKER).exists():
        raise OutputRefused(f"{out_dir} is not empty and was not made by this tool; refusing to write into it")
    for name in outputs:
        _check_name(name)
    out_dir.mkdir(parents=True, exist_ok=True)
    # Each file is written in a staging folder beside out_dir, then renamed into place: a build killed
    # at any moment leaves every file in out_dir whole (old or new) and no temporary file in it.
    staging = out_dir.parent / f".{out_dir.name}.staging"
    _clear(staging)
    staging.mkdir()
    try:
        _write_if_changed(out_dir / MARKER, b"Built by explainer; files here are replaced on every build.\n", staging)
        written, unchanged = [], 0
        made: set[Path] = set()
        for name in sorted(outputs):
            if _write_if_changed(out_dir / name, outputs[name], staging, made):
                written.append(name)
            else:
                unchanged += 1
        removed = _remove_stale(out_dir / within, out_dir, {*outputs, *kept, MARKER}, keep)
    finally:
        _clear(staging)
    return WriteReport(tuple(written), tuple(removed), unchanged + len(kept))


def write_file(out_dir: Path, name: str, data: bytes) -> WriteReport:
    """Write one file of the site atomically, if its bytes changed."""
    _check_name(name)
    staging = out_dir.parent / f".{out_dir.name}.staging"
    _clear(staging)
    staging.mkdir()
    try:
        changed = _write_if_changed(out_dir / name, data, staging)
    finally:
        _clear(staging)
    return WriteReport((name,), (), 0) if changed else WriteReport((), (), 1)


def _write_if_changed(target: Path, data: bytes, staging: Path, made: set[Path] | None = None) -> bool:
    # Comparing sizes first spares reading most files that did change.
    unchanged = target.is_file() and not target.is_symlink() and target.stat().st_size == len(data)
    if unchanged and target.read_bytes() == data:
        return False
    _write_atomically(target, data, staging, made if made is not None else set())
    return True


def _check_name(name: str) -> None:
    parts = name.split("/")
    if name.startswith("/") or any(part in ("", ".", "..") for part in parts):
        raise ValueError(f"refusing to write outside the output folder: {name!r}")


def _write_atomically(target: Path, data: bytes, staging: Path, made: set[Path]) -> None:
    # Creating folders is a system call per page; each folder is made once per build.
    if target.parent not in made:
        target.parent.mkdir(parents=True, exist_ok=True)
        made.add(target.parent)
    if target.is_dir() and not target.is_symlink():
        _remove_tree(target)
    temporary = staging / "next"
    temporary.write_bytes(data)
    try:
        os.replace(temporary, target)
    except OSError:
        # out_dir on another file system than its parent: stage beside the file instead.
        beside = target.with_name(f".{target.name}.tmp-{os.getpid()}")
        beside.write_bytes(data)
        os.replace(beside, target)
        temporary.unlink(missing_ok=True)


def _clear(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        _remove_tree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _remove_stale(start: Path, out_dir: Path, wanted: set[str], keep: str | None = None) -> list[str]:
    removed = []
    emptied: set[str] = set()
    for directory, subdirs, files in os.walk(start, topdown=False):
        base = Path(directory)
        remaining = 0
        for name in files:
            relative = (base / name).relative_to(out_dir).as_posix()
            if relative not in wanted and not (keep and relative.startswith(keep)):
                (base / name).unlink()
                removed.append(relative)
            else:
                remaining += 1
        for name in subdirs:
            path = base / name
            if path.is_symlink():
                path.unlink()
            elif str(path) not in emptied:
                remaining += 1
        # Known empty from the walk itself: listing every page's folder again would cost a call each.
        if not remaining and base != start:
            base.rmdir()
            emptied.add(directory)
    return sorted(removed)


def _remove_tree(path: Path) -> None:
    for child in path.iterdir():
        if child.is_dir() and not child.is_symlink():
            _remove_tree(child)
        else:
            child.unlink()
    path.rmdir()
