"""Writing the site: only files whose bytes changed, each atomically, and stale files removed."""

from __future__ import annotations

import contextlib
import glob
import os
import secrets
import shutil
import stat
import threading
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

MARKER = ".explainer-output"
"""Marks a folder as ours, so that removing stale files never touches a folder someone else owns."""
MARKER_TEXT = b"Built by explainer; files here are replaced on every build.\n"


class OutputRefused(Exception):
    """The output folder is not one this tool made."""


Copy = tuple[int, int]
"""A run of a file's bytes: where it starts and how long it is."""
New = tuple[bytes, int, int]
"""New bytes, with the run of the file they take the place of (where it starts, how long it is)."""


@dataclass(frozen=True)
class Spliced:
    """A file made anew from the file in its place: runs of it kept as they are, new bytes between them.

    Written with the kept runs copied by the kernel (os.copy_file_range), never read into memory: an
    edit of a large site remakes 57 MB of feeds that differ from the files in place by a few parts.
    `size` and `mtime_ns` are those of the file it is made from, checked before it is read.
    """

    source: Path
    size: int
    mtime_ns: int
    pieces: tuple[Copy | New, ...]

    def __len__(self) -> int:
        return sum(piece[1] if len(piece) == 2 else len(piece[0]) for piece in self.pieces)

    def __bytes__(self) -> bytes:
        with self._opened() as source:
            return b"".join(_read_at(source, *piece) if len(piece) == 2 else piece[0] for piece in self.pieces)

    def same_as_source(self) -> bool:
        """Return whether the new bytes are those they replace (the file would be written as it is)."""
        with self._opened() as source:
            return all(
                len(piece) == 2 or (len(piece[0]) == piece[2] and _read_at(source, piece[1], piece[2]) == piece[0])
                for piece in self.pieces
            )

    def write_to(self, target: int) -> None:
        """Write the file's bytes to the open file descriptor `target`, from its current position."""
        with self._opened() as source:
            for piece in self.pieces:
                if len(piece) == 3:
                    _write_all(target, piece[0])
                    continue
                start, length = piece
                while length:
                    try:
                        done = os.copy_file_range(source, target, length, start)
                    except (AttributeError, OSError):
                        done = 0  # not on this system or between these file systems: copied by hand
                    if not done:
                        done = _write_all(target, _read_at(source, start, min(length, 1 << 24)))
                    start, length = start + done, length - done

    @contextlib.contextmanager
    def _opened(self) -> Iterator[int]:
        source = os.open(self.source, os.O_RDONLY)
        try:
            status = os.fstat(source)
            if (status.st_size, status.st_mtime_ns) != (self.size, self.mtime_ns):
                raise OSError(f"{self.source} was changed while the site was built; build again")
            yield source
        finally:
            os.close(source)


def _read_at(source: int, start: int, length: int) -> bytes:
    data = os.pread(source, length, start)
    if len(data) != length:
        raise OSError("a file was shortened while the site was built; build again")
    return data


def _write_all(target: int, data: bytes) -> int:
    view = memoryview(data)
    while view:
        view = view[os.write(target, view) :]
    return len(data)


def _put(handle, data: bytes | Spliced) -> None:
    if isinstance(data, Spliced):
        handle.flush()
        data.write_to(handle.fileno())
    else:
        handle.write(data)


@dataclass(frozen=True)
class Staged:
    """A file written whole beside the site (by the process that made it, while another rendered the
    pages), moved into its place when the site is written.

    `size` and `mtime_ns` are the staged file's (kept by the move). `was` is the size and time of the file
    in its place when this one was made (None: there was none); a file changed since is not replaced.
    """

    path: str
    size: int
    mtime_ns: int
    was: tuple[int, int] | None

    def __len__(self) -> int:
        return self.size

    def move_to(self, path: str) -> None:
        """Put the staged file at `path`, if the file there is still the one it was made beside."""
        try:
            status = os.stat(path, follow_symlinks=False)
        except FileNotFoundError:
            now = None
        else:
            now = (status.st_size, status.st_mtime_ns)
        if self.was is not None and now != self.was:
            raise OSError(f"{path} was changed while the site was built; build again")
        try:
            os.replace(self.path, path)
        except OSError:
            # The staging folder on another file system than the site's: copied beside the file, then
            # renamed over it (so that it is never seen half written), and removed from the folder.
            beside = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.tmp-{os.getpid()}")
            with open(self.path, "rb") as source, open(beside, "wb") as target:
                shutil.copyfileobj(source, target, 1 << 20)
            os.replace(beside, path)
            os.unlink(self.path)


Output = bytes | Spliced | Staged
"""What a file of the site is to hold: its bytes, a splice of the file in its place, or a staged file."""


def stage_outputs(outputs: Mapping[str, bytes | Spliced], out_dir: Path, folder: Path) -> dict[str, Output]:
    """Write into `folder` each output that differs from the file in its place in out_dir; return the
    outputs with those written replaced by where they wait (see Staged), to be moved by `write_site`."""
    staged: dict[str, Output] = {}
    for number, name in enumerate(sorted(outputs)):
        _check_name(name)
        data = outputs[name]
        target = out_dir / name
        try:
            status = os.stat(target, follow_symlinks=False)
        except FileNotFoundError:
            status = None
        if _holds(target, status, data):
            staged[name] = data  # compared again when written (a few reads): left as it is
            continue
        path = f"{folder}/{number}"
        with open(path, "wb") as handle:
            _put(handle, data)
            handle.flush()
            written = os.fstat(handle.fileno())
        was = (status.st_size, status.st_mtime_ns) if status is not None else None
        staged[name] = Staged(path, written.st_size, written.st_mtime_ns, was)
    return staged


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
    outputs: Mapping[str, Output],
    out_dir: Path,
    *,
    within: str = "",
    keep: str | None = None,
    kept: Collection[str] = (),
    tree: Path | None = None,
    in_tree: Collection[str] = (),
    previous: Collection[str] | None = None,
) -> WriteReport:
    """Make out_dir hold exactly `outputs` (relative path -> bytes, or a file spliced from the one in its
    place) and `kept`, touching only what differs.

    `kept` names files of the site that are already written and up to date. Only files under the
    `within` prefix are considered stale; files under `keep` are left alone. `tree`, from `new_tree`,
    is a first build's folder already holding the files `in_tree`. `previous`, when known, names every
    file the last write left in out_dir: only those are looked at to find stale ones.
    """
    if out_dir.exists() and any(out_dir.iterdir()) and not (out_dir / MARKER).exists():
        raise OutputRefused(f"{out_dir} is not empty and was not made by this tool; refusing to write into it")
    for name in outputs:
        _check_name(name)
    if tree is not None:
        # A first build whose pages were written in `tree` as they were rendered: the rest joins them.
        return _rename_into_place(tree, out_dir, outputs, in_tree)
    with _staging(out_dir) as staging:
        if not out_dir.exists() and not kept:
            return _rename_into_place(staging / "tree", out_dir, outputs)
        # Otherwise each file is written in the staging folder, then renamed into place: a build killed
        # at any moment leaves every file in out_dir whole (old or new) and no temporary file in it.
        out_dir.mkdir(parents=True, exist_ok=True)
        _write_if_changed(out_dir / MARKER, MARKER_TEXT, staging)
        written, unchanged = [], 0
        made: set[str] = set()
        for name in sorted(outputs):
            if _write_if_changed(out_dir / name, outputs[name], staging, made):
                written.append(name)
            else:
                unchanged += 1
        wanted = {*outputs, *kept, MARKER}
        if previous is None:
            removed = _remove_stale(out_dir / within, out_dir, wanted, keep)
        else:
            # Listing every folder of a large site costs more than the rest of a small rebuild.
            removed = _remove_listed(out_dir, within, [name for name in previous if name not in wanted], keep)
    return WriteReport(tuple(written), tuple(removed), unchanged + len(kept))


def _rename_into_place(
    tree: Path, out_dir: Path, outputs: Mapping[str, Output], in_tree: Collection[str] = ()
) -> WriteReport:
    # A first build: the whole tree is written beside out_dir, then renamed into place at once.
    _write_tree(tree, {**outputs, MARKER: MARKER_TEXT})
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tree, out_dir)
    return WriteReport(tuple(sorted([*outputs, *in_tree])), (), 0)


def write_file(out_dir: Path, name: str, data: bytes) -> WriteReport:
    """Write one file of the site atomically, if its bytes changed."""
    _check_name(name)
    with _staging(out_dir) as staging:
        changed = _write_if_changed(out_dir / name, data, staging)
    return WriteReport((name,), (), 0) if changed else WriteReport((), (), 1)


@contextlib.contextmanager
def new_tree(out_dir: Path) -> Iterator[Path | None]:
    """Give a folder beside out_dir to write a first build in (None if out_dir exists); removed if left there."""
    if out_dir.exists():
        yield None
        return
    with _staging(out_dir, "first") as staging:
        tree = staging / "tree"
        tree.mkdir()
        yield tree


@contextlib.contextmanager
def staging_folder(out_dir: Path, purpose: str) -> Iterator[Path]:
    """Give an empty folder beside out_dir, on its file system, for files to be moved into it; removed
    with what is left in it when the context ends."""
    with _staging(out_dir, purpose) as folder:
        yield folder


def remove_left_over(out_dir: Path) -> list[str]:
    """Remove the scratch folders beside out_dir of builds that were killed before they ended; return their names.

    Each is named by its process and run (see `_staging`): those of processes still running are left
    alone, but for this process's of an earlier run (before `serve` restarted itself).
    """
    removed = []
    for path in sorted(out_dir.parent.glob(f".{glob.escape(out_dir.name)}.staging*-*-*")):
        pid, _, run = path.name.rsplit("-", 2)[-2].partition(".")
        if not pid.isdigit():
            continue
        # This process's own, of an earlier program it ran (serve restarts itself by exec, keeping its
        # number), or another process's that has ended.
        ours = int(pid) == os.getpid()
        if (ours and run != _RUN) or (not ours and not running(int(pid))):
            _clear(path)
            removed.append(path.name)
    return removed


_RUN = secrets.token_hex(4)
"""This run of the program in its process, in the names of its scratch folders."""


def running(pid: int) -> bool:
    """Return whether a process of this number runs on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # another user's process
    return True


@contextlib.contextmanager
def _staging(out_dir: Path, purpose: str = "") -> Iterator[Path]:
    # One folder per process and thread: serve's search indexer writes while a rebuild may be writing.
    staging = out_dir.parent / f".{out_dir.name}.staging{purpose}-{os.getpid()}.{_RUN}-{threading.get_ident()}"
    _clear(staging)
    staging.mkdir(parents=True)
    try:
        yield staging
    finally:
        _clear(staging)


def _write_tree(root: Path, files: Mapping[str, Output]) -> None:
    made: set[str] = set()
    for name in sorted(files):
        write_new(root, name, files[name], made)


def write_new(tree: Path, name: str, data: Output, made: set[str]) -> None:
    """Write one file into a tree not yet in place (from `new_tree`); `made` holds the folders made so far."""
    path = f"{tree}/{name}"
    _made_folder(os.path.dirname(path), made)
    if isinstance(data, Staged):
        data.move_to(path)
        return
    with open(path, "wb") as handle:
        _put(handle, data)


def _holds(target: Path, info: os.stat_result | None, data: bytes | Spliced) -> bool:
    # Whether the file at `target` (its status `info`, None if there is none) holds these bytes already.
    # Comparing sizes first spares reading most files that did change.
    if info is None or not stat.S_ISREG(info.st_mode) or info.st_size != len(data):
        return False
    if isinstance(data, Spliced) and data.source == target:
        return data.same_as_source()
    with open(target, "rb") as handle:
        return handle.read() == bytes(data)


def _write_if_changed(target: Path, data: Output, staging: Path, made: set[str] | None = None) -> bool:
    path = str(target)
    if isinstance(data, Staged):
        _made_folder(os.path.dirname(path), made if made is not None else set())
        data.move_to(path)  # compared with the file in place when it was staged
        return True
    try:
        info = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        info = None
    if _holds(target, info, data):
        return False
    if info is not None and stat.S_ISDIR(info.st_mode):
        _remove_tree(target)
    _write_atomically(path, data, staging, made if made is not None else set())
    return True


def _check_name(name: str) -> None:
    parts = name.split("/")
    if name.startswith("/") or any(part in ("", ".", "..") for part in parts):
        raise ValueError(f"refusing to write outside the output folder: {name!r}")


def _made_folder(folder: str, made: set[str]) -> None:
    # Creating folders is a system call per page; each folder is made once per build.
    if folder not in made:
        os.makedirs(folder, exist_ok=True)
        made.add(folder)


def _write_atomically(path: str, data: bytes | Spliced, staging: Path, made: set[str]) -> None:
    folder = os.path.dirname(path)
    _made_folder(folder, made)
    temporary = f"{staging}/next"
    with open(temporary, "wb") as handle:
        _put(handle, data)
    try:
        os.replace(temporary, path)
    except OSError:
        # out_dir on another file system than its parent: stage beside the file instead.
        beside = os.path.join(folder, f".{os.path.basename(path)}.tmp-{os.getpid()}")
        with open(beside, "wb") as handle:
            _put(handle, data)
        os.replace(beside, path)
        os.unlink(temporary)


def _clear(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        _remove_tree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _remove_stale(start: Path, out_dir: Path, wanted: set[str], keep: str | None = None) -> list[str]:
    removed = []
    emptied: set[str] = set()
    # Plain strings rather than Paths: this looks at every file of the site on every build.
    root = str(out_dir) + os.sep
    for directory, subdirs, files in os.walk(start, topdown=False):
        prefix = (directory + os.sep)[len(root) :].replace(os.sep, "/") if directory != str(out_dir) else ""
        remaining = 0
        for name in files:
            relative = prefix + name
            if relative not in wanted and not (keep and relative.startswith(keep)):
                os.unlink(os.path.join(directory, name))
                removed.append(relative)
            else:
                remaining += 1
        for name in subdirs:
            path = os.path.join(directory, name)
            if os.path.islink(path):
                os.unlink(path)
            elif path not in emptied:
                remaining += 1
        # Known empty from the walk itself: listing every page's folder again would cost a call each.
        if not remaining and directory != str(start):
            os.rmdir(directory)
            emptied.add(directory)
    return sorted(removed)


def _remove_listed(out_dir: Path, within: str, names: Collection[str], keep: str | None) -> list[str]:
    removed = []
    folders: set[str] = set()
    for name in sorted(names):
        if not name.startswith(within) or (keep and name.startswith(keep)):
            continue
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{out_dir}/{name}")
            removed.append(name)
        folders.add(os.path.dirname(name))
    # Deepest first, so that a folder emptied by removing its only subfolder goes too.
    for folder in sorted(folders, key=lambda folder: (-folder.count("/"), folder)):
        while len(folder) > len(within.rstrip("/")):
            try:
                os.rmdir(f"{out_dir}/{folder}")
            except OSError:
                break  # not empty (or gone): neither are its parents, or they are checked on their own
            folder = os.path.dirname(folder)
    return removed


def _remove_tree(path: Path) -> None:
    for child in path.iterdir():
        if child.is_dir() and not child.is_symlink():
            _remove_tree(child)
        else:
            child.unlink()
    path.rmdir()
