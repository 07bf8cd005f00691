"""Shared fixtures: a scratch copy of the small bilingual fixture project, built with the real layouts."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from explainer.content import Project
from explainer.errors import BuildFailed
from explainer.model import Model
from explainer.pipeline import build, project_at
from explainer.strings import read_strings
from explainer.urls import Urls

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "tests" / "fixtures" / "basic"


def fixture_project(root: Path) -> Project:
    """Return a Project for a copy of the fixture at `root`, using the repository's layouts."""
    return Project(root=root, content=root / "content", layouts=REPO / "layouts", output=root / "site")


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """A fresh copy of the fixture project in a temporary folder."""
    root = tmp_path / "project"
    shutil.copytree(FIXTURE, root)
    return fixture_project(root)


def write(project: Project, relative: str, text: str) -> Path:
    """Write a file into a project, creating folders."""
    path = project.root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def errors_of(project: Project, **options) -> list[str]:
    """Build and return the error lines; fail if the build succeeds."""
    with pytest.raises(BuildFailed) as failed:
        build(project, **options)
    return [str(error) for error in failed.value.errors]


def tree_digest(folder: Path) -> dict[str, str]:
    """Return a hash of every file under a folder, by relative path."""
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@dataclass(frozen=True)
class BuiltSite:
    """The real project built into a scratch folder, with what tests need to find its pages."""

    folder: Path
    model: Model
    urls: Urls

    def url_of(self, entry_id: str, lang: str) -> str:
        """Return the site path of an entry's page in a language."""
        return self.urls.href(self.urls.entry(self.model.get(entry_id), lang))


def build_real_site(output: Path, base_url: str | None = None) -> BuiltSite:
    """Build the repository's own content into `output`."""
    project = project_at(REPO, output=output)
    result = build(project, base_url=base_url)
    strings, _ = read_strings(project.layouts / "strings", result.model.site.languages, project.shown)
    return BuiltSite(output, result.model, Urls(result.model.site.base_url, strings))


@pytest.fixture(scope="session")
def real_site(tmp_path_factory) -> BuiltSite:
    """The real site, built once per test session at the domain root."""
    return build_real_site(tmp_path_factory.mktemp("real-site") / "site")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the whole session (the browser tests and serve's)."""
    from tests.support import CHROMIUM, CHROMIUM_FLAGS, require

    require(CHROMIUM.exists(), f"Chromium ({CHROMIUM}, apt package chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield browser
        browser.close()
