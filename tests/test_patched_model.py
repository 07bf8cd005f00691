"""A build that patches the model kept by the last one must give what a full read of the content gives.

On a large site the process that makes the feeds also keeps the model in the cache; the next build
(a new process) reads only the entry files that changed and patches them into it. Here the threshold
is lowered so that the real site takes that path, and every kind of edit is compared with a clean build.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from explainer import pipeline, timeline
from explainer.cache import Cache
from explainer.pipeline import build
from explainer.trace import derived_digest
from tests.conftest import tree_digest
from tests.test_incremental import EDITS, _errors_of, clean_build_of, copy_real_site, project_in, replace_in

PATCHED = {
    "entry text",
    "date that moves an event",
    "person's name",
    "acronym",
    "template",
    "macro",
    "string table",
    "URL segment in the string table",
}
"""Edits after which the kept model is used: edits of existing entries (not sources), and of layouts."""

KEPT_PLAN = PATCHED - {"URL segment in the string table"}
"""Edits after which the kept model's page plan is used too: none changes a URL, an entry's languages,
the entries or the timeline's filters (on a site this small, a moved date changes no page)."""


def _calls_of(monkeypatch, name: str) -> list:
    """Return a list that gets an item each time the pipeline calls its function `name`."""
    calls = []
    real = getattr(pipeline, name)

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, name, counted)
    return calls


@pytest.fixture
def apart(monkeypatch):
    """Feeds made by a process of their own, which keeps the model, and a record of full reads."""
    monkeypatch.setenv("EXPLAINER_WORKERS", "2")
    monkeypatch.setattr(pipeline, "FEEDS_APART_FROM", 1)
    # Apart whenever a part is to be computed; a build with none to compute makes them itself.
    monkeypatch.setattr(pipeline, "PARTS_APART_FROM", 1)
    return _calls_of(monkeypatch, "read_entries")


@pytest.fixture
def plans(monkeypatch):
    """A record of the page plans made (rather than taken from the cache)."""
    return _calls_of(monkeypatch, "plan_pages")


def _build_in_new_process(project):
    # A new Cache object reads what the last build saved, as a new process does.
    return build(project, search=False, cache=Cache.at(project.root))


@pytest.mark.parametrize("kind", sorted(EDITS))
def test_a_build_from_the_kept_model_equals_a_clean_build(tmp_path: Path, apart, plans, kind: str):
    project = copy_real_site(tmp_path / "incremental")
    _build_in_new_process(project)
    assert (project.root / ".cache/explainer/model.pickle").is_file()
    EDITS[kind](project.root)
    apart.clear()
    plans.clear()
    _build_in_new_process(project)
    full_reads, plans_made = list(apart), list(plans)  # before the clean build adds its own
    assert tree_digest(project.output) == tree_digest(clean_build_of(project, tmp_path / "clean"))
    assert (full_reads == []) == (kind in PATCHED), f"{kind}: full reads {full_reads}"
    assert (plans_made == []) == (kind in KEPT_PLAN), f"{kind}: plans made {plans_made}"


@pytest.mark.parametrize(
    ("edit", "year_pages_from"),
    [
        # The only event tagged "venezuela" loses the tag: its filter, and the filter's pages, go.
        (("events/incursion-venezuela-arresto-maduro.yml", "tags: [venezuela, seguridad]", "tags: [seguridad]"), None),
        # With a page per year, the only event of 2008 moves to 2026: the year's page goes.
        (("events/iniciativa-merida-2008.yml", 'date: "2008"', 'date: "2026-01-14"'), 5),
    ],
)
def test_an_edit_that_changes_the_timelines_filters_plans_the_pages_again(
    tmp_path: Path, apart, plans, monkeypatch, edit, year_pages_from
):
    if year_pages_from is not None:
        monkeypatch.setattr(timeline, "YEAR_PAGES_FROM", year_pages_from)
    project = copy_real_site(tmp_path / "incremental")
    _build_in_new_process(project)
    replace_in(project.content / edit[0], edit[1], edit[2])
    apart.clear()
    plans.clear()
    _build_in_new_process(project)
    full_reads, plans_made = list(apart), list(plans)
    assert tree_digest(project.output) == tree_digest(clean_build_of(project, tmp_path / "clean"))
    assert full_reads == [] and plans_made == [1]


@pytest.mark.parametrize("year_pages_from", [None, 3])
@pytest.mark.parametrize(("kind", "summary_kept"), [("entry text", True), ("acronym", True), ("person's name", False)])
def test_a_patched_model_takes_the_kept_facets_and_their_summary_when_the_edit_leaves_them(
    tmp_path: Path, apart, monkeypatch, kind: str, summary_kept: bool, year_pages_from: int | None
):
    # An event's text or a term leaves the timeline's filters and their names as kept; a person's new
    # name leaves the filters but not their summary, which names them. With a page per year (and per
    # year of a large filter), the edited event is in those facets too.
    if year_pages_from is not None:
        monkeypatch.setattr(timeline, "YEAR_PAGES_FROM", year_pages_from)
    project = copy_real_site(tmp_path / "incremental")
    _build_in_new_process(project)
    EDITS[kind](project.root)
    computed = []
    real = timeline._facets_of
    monkeypatch.setattr(timeline, "_facets_of", lambda model: computed.append(1) or real(model))
    site, strings = pipeline.read_settings(project, None)
    model, _, pages, _, known = pipeline.read_model(project, site, strings, False, Cache.at(project.root))
    assert pages is not None and timeline.timeline_facets(model) == real(model) and computed == []
    if summary_kept:
        assert known == {("derived", "facets"): derived_digest(timeline.facet_summary(model))}
    else:
        assert known == {}


@pytest.mark.parametrize("seed", range(4))
def test_a_sequence_of_builds_each_patching_the_last_equals_clean_builds(tmp_path: Path, apart, seed: int):
    chooser = random.Random(seed)
    project = copy_real_site(tmp_path / "incremental")
    _build_in_new_process(project)
    kinds = chooser.sample(sorted(PATCHED), 3) + chooser.sample(sorted(EDITS), 2)
    for step, kind in enumerate(kinds):
        try:
            EDITS[kind](project.root)
        except (AssertionError, FileNotFoundError, FileExistsError):
            continue  # an earlier edit of the sequence already changed what this one edits
        _build_in_new_process(project)
        clean = clean_build_of(project, tmp_path / f"clean-{step}")
        assert tree_digest(project.output) == tree_digest(clean), f"after {kind!r} (step {step})"


def test_an_edit_with_errors_reports_what_a_full_read_reports(tmp_path: Path, apart):
    project = copy_real_site(tmp_path / "incremental")
    _build_in_new_process(project)
    before = tree_digest(project.output)
    event = project.content / "events/confirmacion-johnson-embajador.yml"
    replace_in(event, "people: [ronald-johnson", "people: [nadie, ronald-johnson")
    errors = _errors_of(project, Cache.at(project.root))
    assert any("unknown person 'nadie'" in error for error in errors)
    shutil.copytree(project.root, tmp_path / "clean", ignore=shutil.ignore_patterns("site", ".cache"))
    assert errors == _errors_of(project_in(tmp_path / "clean"), Cache(None))
    assert tree_digest(project.output) == before


def test_a_kept_model_whose_files_were_saved_by_another_build_is_not_used(tmp_path: Path, apart):
    # The model and what it was read from are two files: a save cut short between them leaves a pair
    # that does not belong together, which must never be used.
    project = copy_real_site(tmp_path / "incremental")
    _build_in_new_process(project)
    cache = Cache.at(project.root)
    cache.part("model")["token"] = "another build's"
    cache.changed("model")
    cache.save()
    replace_in(project.content / "events/confirmacion-johnson-embajador.yml", "Coronel retirado", "Coronel en retiro")
    apart.clear()
    _build_in_new_process(project)
    assert apart == [1]
    assert tree_digest(project.output) == tree_digest(clean_build_of(project, tmp_path / "clean"))


def test_many_edited_entries_are_read_in_full(tmp_path: Path, apart, monkeypatch):
    monkeypatch.setattr(pipeline, "PATCHED_AT_MOST", 1)
    project = copy_real_site(tmp_path / "incremental")
    _build_in_new_process(project)
    EDITS["entry text"](project.root)
    EDITS["person's name"](project.root)
    apart.clear()
    _build_in_new_process(project)
    assert apart == [1]
    assert tree_digest(project.output) == tree_digest(clean_build_of(project, tmp_path / "clean"))


def test_an_edit_that_leaves_a_language_untranslated_plans_the_pages_again(tmp_path: Path, apart, plans):
    # Built with --allow-missing, an event whose English title goes is shown in English from its
    # Spanish text: its English page becomes a fallback, and every page's alternates change.
    project = copy_real_site(tmp_path / "incremental")
    build(project, search=False, allow_missing=True, cache=Cache.at(project.root))
    event = project.content / "events/confirmacion-johnson-embajador.yml"
    replace_in(event, "  en: The Senate confirms Ronald Johnson as ambassador to Mexico\n", "")
    apart.clear()
    plans.clear()
    build(project, search=False, allow_missing=True, cache=Cache.at(project.root))
    full_reads, plans_made = list(apart), list(plans)
    shutil.copytree(project.root, tmp_path / "clean", ignore=shutil.ignore_patterns("site", ".cache"))
    clean = project_in(tmp_path / "clean")
    build(clean, search=False, allow_missing=True, cache=Cache(None))
    assert tree_digest(project.output) == tree_digest(clean.output)
    assert full_reads == [] and plans_made == [1]


def test_the_kept_model_is_saved_again_once_it_is_some_edits_behind(tmp_path: Path, apart, monkeypatch):
    # Saving 10,000 entries after every edit costs more than patching a few more into the kept model.
    monkeypatch.setattr(pipeline, "KEPT_BEHIND_AT_MOST", 2)
    project = copy_real_site(tmp_path / "incremental")
    _build_in_new_process(project)
    kept = project.root / ".cache/explainer/model.pickle"
    saved = []
    for step, kind in enumerate(["entry text", "acronym", "person's name"]):
        before = kept.read_bytes()
        EDITS[kind](project.root)
        apart.clear()
        _build_in_new_process(project)
        full_reads = list(apart)
        saved.append(kept.read_bytes() != before)
        assert full_reads == [], f"{kind}: the kept model was patched"
        assert tree_digest(project.output) == tree_digest(clean_build_of(project, tmp_path / f"clean-{step}"))
    # One edit behind: kept as it was; two: saved again; one behind the new one: kept.
    assert saved == [False, True, False]
