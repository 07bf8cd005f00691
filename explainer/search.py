"""Full-text search: Pagefind indexes the rendered pages, one index per language, into pagefind/."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from .errors import ContentError

BUNDLE = "pagefind"
# Pagefind's ready-made interfaces are not used: the search page has its own small script.
_UNUSED = ("pagefind-ui.", "pagefind-modular-ui.", "pagefind-component-ui.", "pagefind-highlight.")


def index_pages(outputs: dict[str, bytes]) -> tuple[dict[str, bytes], list[ContentError]]:
    """Run Pagefind over rendered pages held in memory; return its bundle by output path, or why it failed."""
    with tempfile.TemporaryDirectory(prefix="explainer-search-") as scratch:
        site = Path(scratch) / "site"
        for path, data in outputs.items():
            if path.endswith(".html"):
                target = site / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
        return index_folder(site)


def index_folder(site: Path) -> tuple[dict[str, bytes], list[ContentError]]:
    """Run Pagefind over the pages of a built folder; return its bundle by output path, or why it failed.

    Pagefind reads each page's <html lang> and indexes only elements marked data-pagefind-body.
    """
    with tempfile.TemporaryDirectory(prefix="explainer-search-") as scratch:
        bundle = Path(scratch) / "bundle"
        command = [sys.executable, "-m", "pagefind", "--site", str(site), "--output-path", str(bundle), "--silent"]
        command += ["--glob", "**/*.html"]
        try:
            subprocess.run(command, capture_output=True, text=True, check=True, timeout=600)
        except (OSError, subprocess.SubprocessError) as err:
            detail = getattr(err, "stderr", None) or str(err)
            return {}, [ContentError("pagefind", 0, 0, "(search)", f"search indexing failed: {detail.strip()}")]
        files = {
            f"{BUNDLE}/{path.relative_to(bundle).as_posix()}": path.read_bytes()
            for path in sorted(bundle.rglob("*"))
            if path.is_file() and not path.name.startswith(_UNUSED)
        }
    entry = f"{BUNDLE}/pagefind-entry.json"
    if entry in files:
        # Pagefind lists the languages in hash-map order; sort them so that builds are byte-identical.
        files[entry] = json.dumps(json.loads(files[entry]), sort_keys=True, ensure_ascii=False).encode("utf-8")
    return files, []
