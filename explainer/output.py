"""Writing the site: only files whose bytes changed, each atomically, and stale files removed."""

from __future__ import annotations

import os
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


def write_site(outputs: dict[str, bytes], out_dir: Path) -> WriteReport:
    """Make out_dir hold exactly `outputs` (relative path -> bytes), touching only what differs."""
    if out_dir.exists() and any(out_dir.iterdir()) and not (out_dir / MARKER).exists():
        raise OutputRefused(f"{out_dir} is not empty and was not made by this tool; refusing to write into it")
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_if_changed(out_dir / MARKER, b"Built by explainer; files here are replaced on every build.\n")
    written, unchanged = [], 0
    for name in sorted(outputs):
        _check_name(name)
        if _write_if_changed(out_dir / name, outputs[name]):
            written.append(name)
        else:
            unchanged += 1
    removed = _remove_stale(out_dir, {*outputs, MARKER})
    return WriteReport(tuple(written), tuple(removed), unchanged)


def _write_if_changed(target: Path, data: bytes) -> bool:
    if target.is_file() and not target.is_symlink() and target.read_bytes() == data:
        return False
    _write_atomically(target, data)
    return True


def _check_name(name: str) -> None:
    parts = name.split("/")
    if name.startswith("/") or any(part in ("", ".", "..") for part in parts):
        raise ValueError(f"refusing to write outside the output folder: {name!r}")


def _write_atomically(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_dir() and not target.is_symlink():
        _remove_tree(target)
    temporary = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, target)


def _remove_stale(out_dir: Path, wanted: set[str]) -> list[str]:
    removed = []
    for directory, subdirs, files in os.walk(out_dir, topdown=False):
        base = Path(directory)
        for name in files:
            relative = (base / name).relative_to(out_dir).as_posix()
            if relative not in wanted:
                (base / name).unlink()
                removed.append(relative)
        for name in subdirs:
            path = base / name
            if path.is_symlink():
                path.unlink()
            elif not any(path.iterdir()):
                path.rmdir()
    return sorted(removed)


def _remove_tree(path: Path) -> None:
    for child in path.iterdir():
        if child.is_dir() and not child.is_symlink():
            _remove_tree(child)
        else:
            child.unlink()
    path.rmdir()
