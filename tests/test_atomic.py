"""Output you can trust: a build killed at any moment leaves every file whole (old or new) and no temporary file."""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench.corpus import write_corpus
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
    for _ in range(KILLS):
        shutil.rmtree(site)
        shutil.copytree(old_site, site)
        process = _build(root, site)
        _wait_until_written(site / changed[0], new[changed[0]], process)
        time.sleep(rng.uniform(0.0, 0.9) * writing)
        process.send_signal(signal.SIGKILL)
        process.wait()
        now = tree_digest(site)
        torn = sorted(path for path, digest in now.items() if digest not in (old.get(path), new.get(path)))
        assert torn == [], f"files neither old nor new after a kill: {torn[:5]}"
        strays = [path for path in now if path not in old and path not in new]
        assert strays == [], f"temporary files left in the output: {strays[:5]}"
        written = sum(1 for path in changed if now.get(path) == new[path])
        mid_write += 0 < written < len(changed)
    assert mid_write >= KILLS // 2, f"only {mid_write} of {KILLS} kills landed while files were being written"
    # A build after a kill finishes the job.
    assert _build(root, site).wait() == 0
    assert tree_digest(site) == new
