"""Hostile and broken input: every case exits 1 with compiler-style lines, no traceback, and site/ untouched."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest

import build as cli
from tests.conftest import FIXTURE, REPO, tree_digest
from tests.hostile.cases import CASES, Case, Symlink
from tests.hostile.expected import EXPECTED

LINE = re.compile(r"^[^:\n]+:\d+:\d+: [^:\n]*: .+$|^[^:\n]+:\d+:\d+: .+$")


def _apply(root: Path, case: Case) -> None:
    for relative, content in case.files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if content is None:
            path.unlink()
        elif isinstance(content, Symlink):
            path.symlink_to(content.target)
        elif callable(content):
            path.write_text(content(path.read_text("utf-8")), "utf-8")
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, "utf-8")


@pytest.fixture
def built(tmp_path: Path) -> Path:
    """A copy of the fixture project, with its own layouts, built once."""
    root = tmp_path / "project"
    shutil.copytree(FIXTURE, root)
    shutil.copytree(REPO / "layouts", root / "layouts")
    assert cli.main(["--root", str(root), "build"]) == 0
    return root


def test_there_are_at_least_forty_cases():
    assert len(CASES) >= 40
    assert len({case.name for case in CASES}) == len(CASES)
    assert set(EXPECTED) == {case.name for case in CASES}


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_hostile_input_is_refused_clearly_and_leaves_the_site_alone(built: Path, case: Case, capsys):
    before = tree_digest(built / "site")
    _apply(built, case)
    capsys.readouterr()
    started = time.perf_counter()
    code = cli.main(["--root", str(built), "build"])
    elapsed = time.perf_counter() - started
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert code == 1, out + err
    assert "Traceback" not in err
    assert lines and lines[-1].startswith("build failed: "), err
    problems = lines[:-1]
    assert problems and all(LINE.match(line) for line in problems), err
    assert tuple(problems) == EXPECTED[case.name]
    assert tree_digest(built / "site") == before
    assert elapsed < 10, f"{case.name} took {elapsed:.1f} s"
