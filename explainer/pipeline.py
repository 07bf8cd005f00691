"""The build: read everything, check everything, render everything in memory, then write."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path

from .content import Project, read_entries, read_home, read_site_config
from .errors import BuildFailed, ContentError
from .feeds import machine_outputs
from .links import build_model
from .model import Model
from .output import WriteReport, write_file, write_site
from .plan import plan_pages
from .render import make_environment, render_pages
from .search import BUNDLE, index_folder, index_pages
from .strings import read_strings
from .urls import Urls


@dataclass(frozen=True)
class BuildResult:
    """What a build made: the model, the files by path, and what writing changed."""

    model: Model
    outputs: dict[str, bytes]
    report: WriteReport | None


def project_at(root: Path, output: Path | None = None) -> Project:
    """Return the project whose content/ and layouts/ live in `root`."""
    root = root.resolve()
    return Project(root=root, content=root / "content", layouts=root / "layouts", output=(output or root / "site"))


def build(
    project: Project,
    *,
    base_url: str | None = None,
    allow_missing: bool = False,
    write: bool = True,
    search: bool = True,
    index_now: bool = True,
) -> BuildResult:
    """Build the site of `project`; raise BuildFailed with every error, leaving the output untouched.

    With `index_now=False` the search index is left for `update_search_index`, run after the pages.
    """
    # Read the site configuration and the UI words of each language.
    site, errors = read_site_config(project)
    if site is None:
        raise BuildFailed(errors)
    if base_url is not None:
        site = replace(site, base_url=_normalize_base_url(base_url))
    strings, string_errors = read_strings(project.layouts / "strings", site.languages, project.shown)
    errors += string_errors

    # Read every entry, then resolve references and citations into the model.
    entries, unreadable, entry_errors = read_entries(project, site.languages, allow_missing=allow_missing)
    errors += entry_errors
    home, home_errors = read_home(project, site.languages, allow_missing=allow_missing)
    errors += home_errors
    model, model_errors = build_model(site, entries, project.root, frozenset(unreadable), home)
    errors += model_errors
    if errors or model is None or strings is None:
        raise BuildFailed(errors)

    # Plan the pages and render them all in memory.
    urls = Urls(site.base_url, strings)
    pages, errors = plan_pages(model, urls)
    outputs, render_errors = render_pages(
        make_environment(project.layouts / "templates"), model, strings, urls, pages, {}
    )
    errors += render_errors
    if errors:
        raise BuildFailed(errors)
    outputs.update(machine_outputs(model, urls, strings, pages))

    outputs.update(read_static(project.layouts / "static"))
    pages_digest = _digest_pages(outputs)
    if not write:
        if search:
            bundle, errors = index_pages(outputs)
            if errors:
                raise BuildFailed(errors)
            outputs.update(bundle)
            outputs[SEARCH_STAMP] = pages_digest
        return BuildResult(model, outputs, None)

    # Write only what changed; nothing was touched before this point. Search then indexes the written
    # pages (rather than a second copy of them) and its bundle is written under pagefind/.
    report = write_site(outputs, project.output, keep=f"{BUNDLE}/" if search else None)
    if search and index_now:
        bundle, index_report = update_search_index(project.output, pages_digest)
        outputs.update(bundle)
        report = report.merged(index_report)
        outputs[SEARCH_STAMP] = pages_digest
    return BuildResult(model, outputs, report)


SEARCH_STAMP = f"{BUNDLE}/explainer-pages.sha256"
"""Which pages the search index was built from: when they have not changed, indexing is skipped."""


def _digest_pages(outputs: dict[str, bytes]) -> bytes:
    digest = hashlib.sha256()
    for name in sorted(outputs):
        if name.endswith(".html"):
            digest.update(name.encode("utf-8") + b"\0" + outputs[name] + b"\0")
    return (digest.hexdigest() + "\n").encode("ascii")


def update_search_index(output: Path, pages_digest: bytes | None = None) -> tuple[dict[str, bytes], WriteReport]:
    """Index the pages in `output` unless the index already covers them; return the bundle and what changed.

    `serve` calls it after the pages are written and the browser reloaded, so that a save shows at once.
    """
    if pages_digest is None:
        pages = {p.relative_to(output).as_posix(): p.read_bytes() for p in sorted(output.rglob("*.html"))}
        pages_digest = _digest_pages(pages)
    stamp = output / SEARCH_STAMP
    if stamp.is_file() and stamp.read_bytes() == pages_digest:
        # The index already covers exactly these pages: it is kept as it is.
        kept = sum(1 for path in (output / BUNDLE).rglob("*") if path.is_file())
        return {}, WriteReport((), (), kept)
    bundle, errors = index_folder(output)
    if errors:
        raise BuildFailed(errors)
    report = write_site(bundle, output, within=f"{BUNDLE}/")
    # Written last: a build stopped before this point re-indexes next time.
    return bundle, report.merged(write_file(output, SEARCH_STAMP, pages_digest))


def read_static(directory: Path) -> dict[str, bytes]:
    """Return the static assets by their output path under assets/."""
    if not directory.is_dir():
        return {}
    return {
        "assets/" + path.relative_to(directory).as_posix(): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file() and not path.name.startswith(".")
    }


def _normalize_base_url(value: str) -> str:
    value = value.strip()
    if "://" not in value and not value.startswith("/"):
        value = "/" + value
    return value if value.endswith("/") else value + "/"


def coverage(model: Model) -> list[tuple[str, str, int, int, list[str]]]:
    """Return, per kind and language, how many entries are fully translated, and which are not."""
    rows = []
    kinds = sorted({entry.kind for entry in model.entries.values()})
    for kind in kinds:
        entries = [e for e in model.entries.values() if e.kind == kind]
        for lang in model.site.languages:
            missing = sorted(e.file for e in entries if lang in e.untranslated)
            rows.append((kind, lang, len(entries) - len(missing), len(entries), missing))
    return rows


__all__ = ["BuildFailed", "BuildResult", "ContentError", "build", "coverage", "project_at", "read_static"]
