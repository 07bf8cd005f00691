"""Regenerate the golden output of the fixture site: python -m tests.golden (or make golden)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from explainer.pipeline import build
from tests.conftest import FIXTURE, REPO, fixture_project

GOLDEN = REPO / "tests" / "golden" / "basic"


def build_fixture_outputs() -> dict[str, bytes]:
    """Build the fixture project in a scratch folder and return its files, Pagefind's bundle aside.

    The bundle is a third-party tool's binary output: its determinism is tested, not its bytes.
    """
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "project"
        shutil.copytree(FIXTURE, root)
        outputs = build(fixture_project(root), write=False).outputs
    return {path: data for path, data in outputs.items() if not path.startswith("pagefind/")}


def main() -> None:
    """Replace tests/golden/basic with a fresh build of the fixture."""
    outputs = build_fixture_outputs()
    if GOLDEN.exists():
        shutil.rmtree(GOLDEN)
    for name, data in outputs.items():
        path = GOLDEN / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    print(f"wrote {len(outputs)} files to {GOLDEN.relative_to(REPO)}")


if __name__ == "__main__":
    main()
