"""Full-text search: Pagefind indexes the rendered pages into bundles under pagefind/, one per shard.

A large site's pages are split into shards (at most SHARD_PAGES pages each on average; a page and its
translation together), each a Pagefind bundle of its own that the search page merges in the browser.
An edit then re-indexes only the shards whose pages changed, and no Pagefind process holds the whole
site at once. A site of up to SHARD_PAGES indexed pages, such as the real one, has a single bundle.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import functools
import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import ContentError
from .output import running

BUNDLE = "pagefind"
STAMP = f"{BUNDLE}/explainer-shards.json"
"""Which pages each shard was indexed from: a shard whose pages have not changed is not indexed again."""
SHARD_PAGES = int(os.environ.get("EXPLAINER_SEARCH_SHARD_PAGES", "500"))
"""At most how many pages one bundle indexes on average (settable, to test many bundles on a small site)."""
# Pagefind's ready-made interfaces are not used: the search page has its own small script.
_UNUSED = ("pagefind-ui.", "pagefind-modular-ui.", "pagefind-component-ui.", "pagefind-highlight.")

Plan = Mapping[str, str]
"""The pages to index: output file -> digest of what Pagefind reads of it (`search_digest`)."""

_IGNORED = re.compile(rb'<([a-z]+)\b[^>]*\sdata-pagefind-ignore="all"[^>]*>.*?</\1>', re.S)


def search_digest(html: bytes) -> str:
    """Return the digest of a page as the search index sees it: without its data-pagefind-ignore="all" parts.

    Lists of what links to a page (a person's events, a source's citers) are left out of the index, so
    that retitling an event does not re-index every bundle holding a page that lists it. Should the
    match end early (an element nested in one of the same name), more is kept: never less is digested
    than Pagefind reads.
    """
    if b' data-pagefind-ignore="all"' in html:
        html = _IGNORED.sub(b"", html)
    return hashlib.blake2b(html, digest_size=16).hexdigest()


def shard_count(pages: int) -> int:
    """Return how many bundles the search index of this many pages is split into: a power of two.

    Changing the count moves most pages to another shard (all are indexed again), so it changes only
    when the site doubles or halves, never with one entry more or less.
    """
    return 1 << max(0, math.ceil(math.log2(max(pages, 1) / SHARD_PAGES)))


def shard_of(file: str, count: int) -> int:
    """Return the shard of a page: by its folder's name, so that a page and its translation go together."""
    parts = file.split("/")
    return _hash_of(parts[-2] if len(parts) > 1 else "") % count


@functools.lru_cache(maxsize=65536)
def _hash_of(name: str) -> int:
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest(), "big")


def bundle_path(shard: int) -> str:
    """Return the site path of a shard's bundle folder, with its trailing slash."""
    return f"{BUNDLE}/{shard}/"


def shards_of(plan: Plan) -> dict[int, dict[str, str]]:
    """Return the pages of each shard (every shard, even an empty one)."""
    count = shard_count(len(plan))
    shards: dict[int, dict[str, str]] = {shard: {} for shard in range(count)}
    for file in sorted(plan):
        shards[shard_of(file, count)][file] = plan[file]
    return shards


@dataclass(frozen=True)
class Sharded:
    """The pages to index grouped by shard (see `shards_of`), and the stamp of an index made of them."""

    shards: dict[int, dict[str, str]]
    stamp: bytes


def sharded(plan: Plan) -> Sharded:
    """Return the pages to index by shard, with their stamp: made once, for the stamp and the indexer."""
    shards = shards_of(plan)
    return Sharded(shards, _stamp_of(shards))


def search_stamp(plan: Plan) -> bytes:
    """Return the stamp of an index made from these pages: each shard's digest of its pages."""
    return _stamp_of(shards_of(plan))


def resharded(previous: Sharded, changes: Mapping[str, str]) -> Sharded:
    """Return `previous` with new digests for some of the pages it holds (none added or removed): what
    `sharded` gives for the plan so changed, with only the shards of changed pages made again."""
    # An edit changes a page or two of a large site's 12,000: grouping them all again, and the stamp
    # of every shard, was 0.08 s of its path to the indexer.
    count = len(previous.shards)
    shards = dict(previous.shards)
    touched: set[int] = set()
    for file, value in changes.items():
        shard = shard_of(file, count)
        if shards[shard][file] == value:  # a KeyError if the page is not one of the shard's
            continue
        if shard not in touched:
            touched.add(shard)
            shards[shard] = dict(shards[shard])
        shards[shard][file] = value
    if not touched:
        return previous
    digests = json.loads(previous.stamp)["shards"]
    digests.update((str(shard), _shard_digest(shards[shard])) for shard in touched)
    return Sharded(shards, _stamp_text(digests))


def _stamp_of(shards: Mapping[int, Mapping[str, str]]) -> bytes:
    return _stamp_text({str(shard): _shard_digest(pages) for shard, pages in shards.items()})


def _shard_digest(pages: Mapping[str, str]) -> str:
    hashed = hashlib.sha256()
    for name, value in pages.items():
        hashed.update(f"{name}\0{value}\0".encode())
    return hashed.hexdigest()


def _stamp_text(digests: Mapping[str, str]) -> bytes:
    return (json.dumps({"shards": digests}, sort_keys=True, indent=1) + "\n").encode("ascii")


def stale_shards(made: bytes, stamp: bytes | None) -> list[int]:
    """Return the shards whose pages differ between the stamp of an index to make (`search_stamp` of its
    pages) and that of the index in place."""
    try:
        before = json.loads(stamp or b"{}").get("shards", {})
    except (ValueError, AttributeError):
        before = {}
    now = json.loads(made)["shards"]
    if len(before) != len(now):
        return [int(shard) for shard in now]
    return [int(shard) for shard, value in now.items() if before.get(shard) != value]


@contextlib.contextmanager
def indexed_shards(
    site: Path,
    plan: Plan | Sharded,
    shards: list[int],
    fresh: Mapping[str, bytes] | None = None,
    pages_in: Path | None = None,
) -> Iterator[tuple[dict[int, Path], list[ContentError]]]:
    """Run Pagefind over the pages of some shards of a built folder; give each shard's bundle folder.

    The folders are removed when the context ends. A new bundle's folder is beside `site` (on its file
    system, so that it can be moved into it whole). Pagefind reads each page's <html lang> and indexes
    only elements marked data-pagefind-body. `fresh` holds pages (by file) as they are about to be
    written in `site`: those are indexed from here rather than from the folder. The pages are read from
    `pages_in` if given (a first build's tree, before it is moved into place as `site`).
    """
    pages = plan.shards if isinstance(plan, Sharded) else shards_of(plan)
    fresh = fresh or {}
    with (
        tempfile.TemporaryDirectory(prefix=".explainer-search-", dir=site.parent) as beside,
        _in_memory() as memory,
    ):
        bundles: dict[int, Path] = {}

        def index(shard: int) -> list[ContentError]:
            # Pagefind is given a folder of the shard's pages, made in memory where the system has a
            # file system there: linking them beside the site, on a disk, took 0.2 s per bundle and
            # Pagefind writing its 300 files there another 0.15 s, against 0.02 s and none in memory.
            folder = Path(memory or beside) / f"shard-{shard}"
            names, link = list(pages[shard]), memory is None  # names sorted; linked beside the site
            try:
                _shard_folder(pages_in or site, folder, names, fresh, link=link)
            except OSError:
                if pages_in is None:
                    raise
                # The first build's tree was moved into place meanwhile (whole, at once): its pages
                # are in the site now.
                shutil.rmtree(folder, ignore_errors=True)
                _shard_folder(site, folder, names, fresh, link=link)
            # A bundle that replaces one is written into the site file by file (only the files that
            # changed); a new one is moved in whole, so it is made beside the site.
            replaces = (site / bundle_path(shard)).exists()
            bundles[shard] = Path(memory if memory and replaces else beside) / f"bundle-{shard}"
            try:
                return _run_pagefind(folder, bundles[shard])
            finally:
                shutil.rmtree(folder, ignore_errors=True)

        # Two Pagefind processes at a time keep both cores busy (one alone waits on its own reading).
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            errors = [error for found in pool.map(index, shards) for error in found]
        yield ({} if errors else bundles), errors


MEMORY = Path(os.environ.get("EXPLAINER_MEMORY_FOLDER", "/dev/shm"))
"""A file system in memory for Pagefind's scratch folders (Linux's); the site's own disk where there is none."""


@contextlib.contextmanager
def _in_memory() -> Iterator[str | None]:
    # A scratch folder in memory, if there is one with room to spare (a few MB per bundle at a time).
    try:
        usable = MEMORY.is_dir() and os.access(MEMORY, os.W_OK) and shutil.disk_usage(MEMORY).free > 256 << 20
    except OSError:
        usable = False
    if not usable:
        yield None
        return
    _remove_left_over(MEMORY)
    with tempfile.TemporaryDirectory(prefix=f"explainer-search-{os.getpid()}-", dir=MEMORY) as folder:
        yield folder


def _remove_left_over(memory: Path) -> None:
    # A build killed while indexing leaves its folder in memory (until the machine restarts): those of
    # processes that no longer run are removed.
    for path in memory.glob("explainer-search-*-*"):
        pid = path.name.split("-")[2]
        if pid.isdigit() and not running(int(pid)):
            shutil.rmtree(path, ignore_errors=True)


def index_shards(site: Path, plan: Plan, shards: list[int]) -> tuple[dict[str, bytes], list[ContentError]]:
    """Run Pagefind over the pages of some shards of a built folder; return their bundles by output path."""
    with indexed_shards(site, plan, shards) as (folders, errors):
        return {
            bundle_path(shard) + name: (folder / name).read_bytes()
            for shard, folder in folders.items()
            for name in bundle_files(folder)
        }, errors


def bundle_files(folder: Path) -> list[str]:
    """Return the files of a bundle folder, by path within it."""
    start = len(str(folder)) + 1
    return sorted(
        os.path.join(directory, name)[start:].replace(os.sep, "/")
        for directory, _, names in os.walk(folder)
        for name in names
    )


_CONTENT_NAMED = re.compile(r"_[0-9a-f]{7,}\.pf_[a-z]+$")
"""Pagefind's index chunks, fragments, filters and metadata are named by a digest of their bytes."""


def holds_already(new: Path, old: Path) -> bool:
    """Return whether the bundle file `old` (in the site) is the file Pagefind just made as `new`, known
    without reading them: their name is a digest of their bytes, and they have the same size."""
    # An edit's bundle of 300 pages is 240 files, nearly all of them as they were: reading each twice
    # to compare them waited on the interpreter's lock beside the build's own writing.
    if not _CONTENT_NAMED.search(new.name):
        return False
    try:
        return os.stat(new).st_size == os.stat(old).st_size
    except OSError:
        return False


def index_pages(outputs: Mapping[str, bytes], plan: Plan) -> tuple[dict[str, bytes], list[ContentError]]:
    """Index every shard of pages held in memory; return the bundles by output path, or why it failed."""
    with tempfile.TemporaryDirectory(prefix="explainer-search-") as scratch:
        site = Path(scratch) / "site"
        for path in plan:
            target = site / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(outputs[path])
        return index_shards(site, plan, list(shards_of(plan)))


# Pagefind's index depends on the order in which it finds the pages, which on some file systems (tmpfs,
# btrfs) is the order their files were made in: they are always made in the order of their names, so
# that the same pages give the same bundle however they came (rendered now, or as written before).


def _shard_folder(source: Path, folder: Path, names: list[str], fresh: Mapping[str, bytes], *, link: bool) -> None:
    # The pages of a shard, in order, in `folder`: from `fresh`, or copied (or linked) from `source`.
    rendered = [name for name in names if name in fresh]
    if not rendered or (not link and all((source / name).is_file() for name in rendered)):
        _copied(source, folder, names, link=link)
        for name in rendered:
            (folder / name).write_bytes(fresh[name])  # in place of its copy, in its order
    else:
        _gathered(source, folder, names, fresh, link=link)


def _copied(site: Path, folder: Path, names: list[str], *, link: bool) -> None:
    # Copied (or linked) in order by one `cp` (GNU's, as on any Linux): the same loop in Python, run in
    # a thread beside the build's, waits for the interpreter's lock at each of its 800 system calls
    # (0.1 s for one bundle of a large site's edit, against 8 ms alone). Elsewhere Python does it.
    if names:
        folder.mkdir(parents=True, exist_ok=True)
        command = ["cp", *(["--link"] if link else []), "--parents", "--no-dereference", "--target-directory"]
        try:
            subprocess.run(
                [*command, str(folder), "--", *names], cwd=site, capture_output=True, check=True, timeout=600
            )
            return
        except (OSError, subprocess.SubprocessError):
            shutil.rmtree(folder, ignore_errors=True)
    _gathered(site, folder, names, {}, link=link)


def _gathered(site: Path, folder: Path, names: list[str], fresh: Mapping[str, bytes], *, link: bool) -> None:
    # In order, by hand: each page from `fresh`, or linked (on the site's file system) or copied.
    for name in names:
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if name in fresh:
            target.write_bytes(fresh[name])
            continue
        if link:
            with contextlib.suppress(OSError):
                os.link(site / name, target)
                continue
        shutil.copyfile(site / name, target)


@functools.cache
def _pagefind() -> list[str]:
    # The binary of the pagefind[bin] wheel, run directly: its Python launcher costs a second
    # interpreter start for each bundle (about 70 ms each, 64 of them on a site of 10,000 entries).
    try:
        from pagefind_bin import get_executable

        return [str(get_executable())]
    except (ImportError, OSError):
        return [sys.executable, "-m", "pagefind"]


def _run_pagefind(site: Path, bundle: Path) -> list[ContentError]:
    command = [*_pagefind(), "--site", str(site), "--output-path", str(bundle), "--silent"]
    command += ["--glob", "**/*.html"]
    if site.is_dir():
        try:
            subprocess.run(command, capture_output=True, text=True, check=True, timeout=600)
        except (OSError, subprocess.SubprocessError) as err:
            detail = getattr(err, "stderr", None) or str(err)
            return [ContentError("pagefind", 0, 0, "(search)", f"search indexing failed: {detail.strip()}")]
    else:
        # A shard with no pages (a tiny site split by hand): an empty bundle would not load.
        bundle.mkdir(parents=True)
    for path in bundle.rglob("*"):
        if path.is_file() and path.name.startswith(_UNUSED):
            path.unlink()
    entry = bundle / "pagefind-entry.json"
    if entry.is_file():
        # Pagefind lists the languages in hash-map order; sort them so that builds are byte-identical.
        entry.write_bytes(
            json.dumps(json.loads(entry.read_bytes()), sort_keys=True, ensure_ascii=False).encode("utf-8")
        )
    return []
