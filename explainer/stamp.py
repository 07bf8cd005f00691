"""The stamp of a build's inputs: one digest of every file under content/ and layouts/ and of the source
texts, so that a build whose inputs are those of the last one knows it at once.

A file is read only when its size, times or inode differ from those recorded with its digest (`known`,
kept in the cache). Inside `serve`, where a watcher tells of every save, the files not saved since the
last stamp are not even looked at (see `inputs_stamp`'s `saved`).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Collection
from dataclasses import dataclass

from .content import Project, file_digest

SETTLED_AFTER_NS = 2_000_000_000
"""A file changed less than this long before a build looked at it may change again within the same
tick of the file system's clock, keeping its times: the next build reads it again."""

MISSING = b"\0missing"
MISSING_DIGEST = "missing"

Known = dict[str, tuple[tuple[int, int, int, int], str]]
"""Each file's size, times and inode when last read, with the digest of its bytes then."""


@dataclass(frozen=True)
class FilesSeen:
    """The files a stamp found under content/ and layouts/, in its order, with each one's share of it."""

    paths: tuple[str, ...]
    names: tuple[str, ...]
    """Each file's path relative to the project's root, as the stamp names it."""
    digests: tuple[str, ...]
    shares: tuple[bytes, ...]
    """Each file's name and digest, as the stamp hashes them."""
    content: int
    """How many of the files (the first ones) are content's."""
    folders: frozenset[str]
    """Every folder holding one of the files, up to content/ and layouts/."""


def inputs_stamp(
    project: Project,
    header: str,
    known: Known,
    read: dict[str, bytes] | None = None,
    digests: dict[str, str] | None = None,
    *,
    saved: Collection[str] | None = None,
    memory: dict | None = None,
):
    """Return a hash of `header` and every file under content/ and layouts/ by its bytes' digest, to
    complete with the source texts (`with_texts`).

    A file whose size, times and inode are those `known` records is not read again: its digest is the
    recorded one. The bytes of content files read are put in `read`, and the digests of all content
    files in `digests`, for listing the entries without reading them again. With `saved` (the paths a
    watcher reported since the last stamp kept in `memory`), only those files are looked at, unless
    one was added, removed or is a folder: then all are, as without.
    """
    key = (FilesSeen, str(project.root))
    seen = memory.get(key) if memory is not None and saved is not None else None
    settled = time.time_ns() - SETTLED_AFTER_NS
    seen = _seen_again(seen, saved, known, settled, read) if seen is not None else None
    if seen is None:
        seen = _seen(project, known, settled, read)
    if memory is not None:
        memory[key] = seen
    if digests is not None:
        digests.update(
            (path, found)
            for path, found in zip(seen.paths[: seen.content], seen.digests, strict=False)
            if found != MISSING_DIGEST
        )
    hashed = hashlib.blake2b(digest_size=16)
    hashed.update(header.encode())
    hashed.update(b"".join(seen.shares))
    return hashed


def with_texts(files_stamp, project: Project, texts: tuple[str, ...]) -> str:
    """Return the stamp of the inputs: the files' (left as it is) and the source texts the model cites."""
    hashed = files_stamp.copy()
    for text in texts:
        hashed.update(f"{text}\0".encode() + read_or_nothing(project.root / text) + b"\0")
    return hashed.hexdigest()


def read_or_nothing(path) -> bytes:
    """Return a file's bytes, or MISSING if it cannot be read."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return MISSING


def _seen(project: Project, known: Known, settled: int, read: dict[str, bytes] | None) -> FilesSeen:
    # Every file, looked at (and read if its record does not match).
    # Paths relative to the root by slicing: os.path.relpath costs as much as reading a small file.
    root = str(project.root) + os.sep
    paths: list[str] = []
    names: list[str] = []
    found_digests: list[str] = []
    content = 0
    for folder in (project.content, project.layouts):
        is_content = folder == project.content
        for path in _files_in(str(folder)):
            found = _digest_of_file(path, known, settled, read if is_content else None)
            paths.append(path)
            names.append(path[len(root) :] if path.startswith(root) else path)
            found_digests.append(found)
        if is_content:
            content = len(paths)
    for gone in known.keys() - set(paths):
        del known[gone]  # a file removed (or of another project folder): its record goes with it
    tops = (str(project.content), str(project.layouts))
    folders = set(tops)
    for path in paths:
        folder = os.path.dirname(path)
        while folder not in folders:
            folders.add(folder)
            folder = os.path.dirname(folder)
    shares = tuple(_share(name, found) for name, found in zip(names, found_digests, strict=True))
    return FilesSeen(tuple(paths), tuple(names), tuple(found_digests), shares, content, frozenset(folders))


def _seen_again(
    seen: FilesSeen, saved: Collection[str], known: Known, settled: int, read: dict[str, bytes] | None
) -> FilesSeen | None:
    # The files seen last, the saved ones looked at again; None when the saves added or removed a
    # file or a folder (or touched one), for all to be looked at.
    if not saved:
        return seen
    index = {path: number for number, path in enumerate(seen.paths)}
    shares, found_digests = list(seen.shares), list(seen.digests)
    for path in saved:
        number = index.get(path)
        if number is None:
            if path in seen.folders or os.path.lexists(path):
                return None  # a file or folder added, or a folder removed or renamed
            continue  # a file made and removed since (an editor's temporary file)
        if not os.path.isfile(path) or os.path.islink(path):
            return None
        found = _digest_of_file(path, known, settled, read if number < seen.content else None)
        shares[number] = _share(seen.names[number], found)
        found_digests[number] = found
    return FilesSeen(seen.paths, seen.names, tuple(found_digests), tuple(shares), seen.content, seen.folders)


def _share(name: str, found: str) -> bytes:
    # What one file adds to the stamp: its name and its digest.
    return f"{name}\0{found}\0".encode()


def _files_in(folder: str) -> list[str]:
    # Every file under a folder, in a stable order (a folder's files, then its subfolders').
    try:
        with os.scandir(folder) as listing:
            items = sorted((item.name, item.is_dir(follow_symlinks=False)) for item in listing)
    except OSError:
        return []
    files = [os.path.join(folder, name) for name, is_dir in items if not is_dir]
    for name, is_dir in items:
        if is_dir:
            files += _files_in(os.path.join(folder, name))
    return files


def _digest_of_file(path: str, known: Known, settled: int, read: dict[str, bytes] | None) -> str:
    # The digest of a file's bytes: the recorded one if its size, times and inode are as recorded.
    try:
        status = os.stat(path)
    except OSError:
        return MISSING_DIGEST
    # Times, size and inode: replacing a file (as editors do) or writing into it changes one of them.
    seen = (status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino)
    record = known.get(path)
    if record is not None and record[0] == seen:
        return record[1]
    data = read_or_nothing(path)
    if data is MISSING:
        return MISSING_DIGEST
    found = file_digest(data)
    if read is not None:
        read[path] = data
    if max(status.st_mtime_ns, status.st_ctime_ns) < settled:
        known[path] = (seen, found)
    else:
        known.pop(path, None)
    return found
