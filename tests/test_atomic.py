"""Output you can trust: a build killed at any moment leaves every file whole (old or new) and no temporary file."""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench.corpus import write_corpus
from explainer import output, search
from explainer.output import MARKER, MARKER_TEXT, remove_left_over, write_site
from tests.conftest import REPO, tree_digest

KILLS = int(os.environ.get("EXPLAINER_KILLS", "6"))


def _build(root: Path, output: Path) -> subprocess.Popen:
    command = [sys.executable, str(REPO / "build.py"), "--root", str(root), "build", "--output", str(output)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _edit_every_entry(root: Path) -> None:
    for path in sorted((root / "content").rglob("*.yml")):
        text = path.read_text("utf-8")
        path.write_text(text.replace("Hecho ", "Suceso ").replace("Event ", "Happening "), "utf-8")


def _wait_until_written(path: Path, digest: str, process: subprocess.Popen) -> float:
    """Poll until `path` holds the new bytes (the build has started writing); return when that was."""
    while process.poll() is None:
        if path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == digest:
            break
        time.sleep(0.002)
    return time.perf_counter()


def test_killing_a_build_never_leaves_a_truncated_or_temporary_file(tmp_path: Path):
    root = tmp_path / "project"
    write_corpus(300, root)
    (root / "layouts").symlink_to(REPO / "layouts")
    site, old_site, new_site = root / "site", tmp_path / "old-site", tmp_path / "new-site"
    assert _build(root, old_site).wait() == 0
    old = tree_digest(old_site)
    _edit_every_entry(root)
    assert _build(root, new_site).wait() == 0
    new = tree_digest(new_site)
    changed = sorted(path for path in new if old.get(path) != new[path])
    assert len(changed) > 1000, "the edit must rewrite most files for the kills to land mid-write"

    # How long the writing of pages lasts: from the first changed file to the last (they are written in
    # sorted order; the search bundle comes after them).
    pages = [path for path in changed if not path.startswith("pagefind/")]
    shutil.copytree(old_site, site)
    process = _build(root, site)
    began = _wait_until_written(site / pages[0], new[pages[0]], process)
    ended = _wait_until_written(site / pages[-1], new[pages[-1]], process)
    assert process.wait() == 0
    writing = ended - began

    rng = random.Random(20260115)
    mid_write = 0
    killed = []
    left_beside: set[str] = set()
    for _ in range(KILLS):
        shutil.rmtree(site)
        shutil.copytree(old_site, site)
        process = _build(root, site)
        _wait_until_written(site / changed[0], new[changed[0]], process)
        time.sleep(rng.uniform(0.0, 0.9) * writing)
        process.send_signal(signal.SIGKILL)
        process.wait()
        killed.append(process.pid)
        now = tree_digest(site)
        torn = sorted(path for path, digest in now.items() if digest not in (old.get(path), new.get(path)))
        assert torn == [], f"files neither old nor new after a kill: {torn[:5]}"
        strays = [path for path in now if path not in old and path not in new]
        assert strays == [], f"temporary files left in the output: {strays[:5]}"
        written = sum(1 for path in changed if now.get(path) == new[path])
        mid_write += 0 < written < len(changed)
        left_beside |= {path.name for path in root.glob(".site.staging*")}
    assert mid_write >= KILLS // 2, f"only {mid_write} of {KILLS} kills landed while files were being written"
    # A build after a kill finishes the job.
    assert _build(root, site).wait() == 0
    final = tree_digest(site)
    assert final == new, sorted(p for p in set(final) | set(new) if final.get(p) != new.get(p))[:10]
    # Nor is anything left of the killed builds' scratch folders in memory (removed by the next build).
    left = [path.name for path in search.MEMORY.glob("explainer-search-*") if int(path.name.split("-")[2]) in killed]
    assert left == []
    # Nor beside the site (where a build stages what it writes): each build removes those it finds.
    assert left_beside, "the kills should have left scratch folders beside the site"
    assert sorted(path.name for path in root.glob(".site.staging*")) == []


def test_scratch_folders_of_processes_that_ended_are_removed_and_others_kept(tmp_path: Path):
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    site = tmp_path / "my site"
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    names = [
        f".my site.staging-{ended.pid}-1",
        f".my site.staging-{os.getpid()}.0badc0de-5",  # this process's, before serve restarted itself
        f".my site.stagingfeeds-{ended.pid}.12345678-2",
        f".my site.staging-{running.pid}.12345678-3",  # a build still running
        f".other.staging-{ended.pid}-4",  # beside another site
        ".my site.staging-notes",
    ]
    try:
        for name in names:
            (tmp_path / name / "tree").mkdir(parents=True)
        with output._staging(site, "search") as own:  # this run's (serve's indexer, say)
            assert own.name.startswith(f".my site.stagingsearch-{os.getpid()}.")
            assert remove_left_over(site) == sorted(names[:3])
            assert sorted(path.name for path in tmp_path.iterdir()) == sorted([*names[3:], own.name])
    finally:
        running.kill()
        running.wait()


def test_two_writers_into_one_folder_do_not_collide(tmp_path: Path):
    # serve's search indexer writes its bundle while the next rebuild writes pages into the same folder.
    site = tmp_path / "site"
    write_site({"index.html": b"first"}, site)
    pages = {f"page-{n}/index.html": f"page {n}".encode() for n in range(1000)}
    bundle = {f"pagefind/part-{n}.pf": f"part {n}".encode() for n in range(1000)}
    failures: list[BaseException] = []

    def write(files, within, keep):
        try:
            write_site(files, site, within=within, keep=keep, kept=["index.html"])
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            failures.append(error)

    threads = [
        threading.Thread(target=write, args=(pages, "", "pagefind/")),
        threading.Thread(target=write, args=(bundle, "pagefind", None)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    written = {path.relative_to(site).as_posix() for path in site.rglob("*") if path.is_file()}
    assert written == {*pages, *bundle, "index.html", MARKER}
    assert [path.name for path in tmp_path.iterdir()] == ["site"], "no staging folder is left beside the site"


def test_a_first_build_appears_whole(tmp_path: Path):
    site = tmp_path / "deep" / "site"
    files = {"index.html": b"home", "es/index.html": b"inicio", "en/a/b/index.html": b"deep"}
    report = write_site(files, site)
    assert report.written == tuple(sorted(files))
    assert {p.relative_to(site).as_posix(): p.read_bytes() for p in site.rglob("*") if p.is_file()} == {
        **files,
        MARKER: MARKER_TEXT,
    }
    assert [path.name for path in site.parent.iterdir()] == ["site"]
