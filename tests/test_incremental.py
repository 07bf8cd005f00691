"""An incremental rebuild must give byte for byte what a clean build of the same input gives.

Each case builds a copy of the real site (so the cache and the page manifest are warm), makes one
kind of edit, rebuilds, and compares the output folder with a clean build, without any cache, of the
edited copy. It also checks that entry edits re-render only a part of the site: a test that passed
because everything was re-rendered every time would prove nothing.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import explainer.search
from explainer import pipeline, render
from explainer.cache import Cache
from explainer.content import Project
from explainer.errors import BuildFailed
from explainer.pipeline import build
from tests.conftest import REPO, tree_digest


def copy_real_site(root: Path) -> Project:
    """Copy the real site's content, layouts and seeds into `root` and return its project."""
    for name in ("content", "layouts", "seeds"):
        shutil.copytree(REPO / name, root / name)
    return project_in(root)


def project_in(root: Path) -> Project:
    """Return the project whose content, layouts and output live in `root`."""
    return Project(root=root, content=root / "content", layouts=root / "layouts", output=root / "site")


def clean_build_of(project: Project, root: Path, search: bool = False) -> Path:
    """Copy a project's inputs (not its output or cache) to `root`, build it without a cache; return the output."""
    shutil.copytree(project.root, root, ignore=shutil.ignore_patterns("site", ".cache"))
    clean = project_in(root)
    build(clean, search=search, cache=Cache(None))
    return clean.output


def assert_same_files(output: Path, expected: Path) -> None:
    """Fail unless two output folders hold the same files with the same bytes."""
    incremental, fresh = tree_digest(output), tree_digest(expected)
    assert sorted(incremental) == sorted(fresh)
    assert [name for name in fresh if incremental[name] != fresh[name]] == []


def replace_in(path: Path, old: str, new: str, count: int = 1) -> None:
    """Replace text in a file, failing if it is not there (an edit that did nothing tests nothing)."""
    text = path.read_text("utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, count), "utf-8")


def edit_entry_text(root: Path) -> None:
    replace_in(root / "content/events/confirmacion-johnson-embajador.yml", "Coronel retirado", "Coronel en retiro")


def move_event_date(root: Path) -> None:
    # From 2008 to the middle of January 2026: the timeline's order, groups and overview all change.
    replace_in(root / "content/events/iniciativa-merida-2008.yml", 'date: "2008"', 'date: "2026-01-14"')


def add_entry(root: Path) -> None:
    source = (root / "content/events/confirmacion-johnson-embajador.yml").read_text("utf-8")
    source = source.replace("Ronald Johnson como embajador", "Ronald Johnson como embajador (copia)")
    source = source.replace("as ambassador to Mexico", "as ambassador to Mexico (copy)")
    source = source.replace(
        "tags: [nombramientos]", "tags: [nombramientos, diplomacia]\nagreements: [iniciativa-merida]"
    )
    (root / "content/events/confirmacion-johnson-copia.yml").write_text(source, "utf-8")


def delete_entry(root: Path) -> None:
    (root / "content/events/confirmacion-johnson-embajador.yml").unlink()


def rename_entry(root: Path) -> None:
    old, new = "incursion-venezuela-arresto-maduro", "incursion-en-venezuela"
    (root / f"content/events/{old}.yml").rename(root / f"content/events/{new}.yml")
    for path in (root / "content").rglob("*.yml"):
        text = path.read_text("utf-8")
        if f"event:{old}" in text:
            path.write_text(text.replace(f"event:{old}", f"event:{new}"), "utf-8")


def rename_person(root: Path) -> None:
    # A label shown on many pages: the filters of every timeline page, event pages, JSON-LD.
    replace_in(root / "content/people/marco-rubio.yml", "short_name: Marco Rubio", "short_name: Marco A. Rubio")


def edit_template(root: Path) -> None:
    replace_in(root / "layouts/templates/person.html", "<article", '<article data-edited="yes"')


def edit_macro(root: Path) -> None:
    replace_in(root / "layouts/templates/_macros.html", '<ul class="inline-list"{%', '<ul class="inline-list links"{%')


def edit_string(root: Path) -> None:
    replace_in(root / "layouts/strings/es.yml", "field.people: Personas", "field.people: Personas mencionadas")


def edit_path_string(root: Path) -> None:
    replace_in(root / "layouts/strings/es.yml", "path.people: personas", "path.people: gente")


def relabel_tag(root: Path) -> None:
    replace_in(root / "content/site.yml", "en: Appointments", "en: Nominations")


def edit_acronym(root: Path) -> None:
    replace_in(root / "content/terms/siglas-sre.yml", 'abbr: {es: "SRE", en: "SRE"}', 'abbr: {es: "SRE", en: "MFA"}')


def edit_home(root: Path) -> None:
    replace_in(
        root / "content/home.yml",
        "heading: {es: Qué pasó, en: What happened}",
        "heading: {es: Qué ocurrió, en: What happened}",
    )


def edit_source_text(root: Path) -> None:
    # Not under content/: the build must still notice that a cited paragraph of the article changed.
    seed = next((root / "seeds").iterdir())
    replace_in(seed, "con más de cuatro décadas de servicio", "con más de cuarenta años de servicio")


EDITS: dict[str, Callable[[Path], None]] = {
    "source text": edit_source_text,
    "entry text": edit_entry_text,
    "date that moves an event": move_event_date,
    "new entry": add_entry,
    "deleted entry": delete_entry,
    "renamed id": rename_entry,
    "person's name": rename_person,
    "template": edit_template,
    "macro": edit_macro,
    "string table": edit_string,
    "URL segment in the string table": edit_path_string,
    "tag in site.yml": relabel_tag,
    "acronym": edit_acronym,
    "home page": edit_home,
}

ENTRY_EDITS = {"entry text", "date that moves an event", "new entry", "deleted entry", "renamed id", "template"}
"""Edits that must not re-render the whole site."""


@pytest.mark.parametrize("kind", sorted(EDITS))
def test_incremental_rebuild_equals_clean_build(tmp_path: Path, kind: str):
    project = copy_real_site(tmp_path / "incremental")
    first = build(project, search=False)
    assert first.rendered > 100

    EDITS[kind](project.root)
    again = build(project, search=False)
    assert again.report is not None and again.report.written, "the edit changed nothing in the output"

    incremental, fresh = tree_digest(project.output), tree_digest(clean_build_of(project, tmp_path / "clean"))
    assert sorted(incremental) == sorted(fresh)
    differing = [name for name in fresh if incremental[name] != fresh[name]]
    assert differing == [], f"incremental rebuild differs from a clean build in {differing[:5]}"
    if kind in ENTRY_EDITS:
        assert again.rendered < first.rendered / 2, f"{again.rendered} of {first.rendered} pages re-rendered"


def test_noop_rebuild_renders_nothing_and_a_new_process_reuses_the_cache(tmp_path: Path):
    project = copy_real_site(tmp_path / "site")
    build(project, search=False)
    # A new Cache object reads what the first build saved on disk, as a new process would.
    again = build(project, search=False, cache=Cache.at(project.root))
    assert again.rendered == 0
    assert again.report is not None and again.report.written == ()


def test_the_lists_of_filters_are_kept_between_builds_until_a_filter_changes(tmp_path: Path, monkeypatch):
    # A large site's lists of filters hold 6,000 names and links, made again on every edit before they
    # were kept with what they read (the facets' summary).
    project = copy_real_site(tmp_path / "site")
    build(project, search=False)
    lists, items = [], []
    filter_items, filter_item = render.View.filter_items, render.View._filter_item
    monkeypatch.setattr(render.View, "filter_items", lambda view, kind: lists.append(kind) or filter_items(view, kind))
    monkeypatch.setattr(
        render.View, "_filter_item", lambda view, facet: items.append(facet) or filter_item(view, facet)
    )
    move_event_date(project.root)  # the event's timelines are rendered again; its filters keep their names
    build(project, search=False, cache=Cache.at(project.root))
    assert lists, "no timeline page was rendered again"
    assert items == []
    rename_person(project.root)
    build(project, search=False, cache=Cache.at(project.root))
    assert "marco-rubio" in [facet.value for facet in items]
    assert tree_digest(project.output) == tree_digest(clean_build_of(project, tmp_path / "clean"))


ALTERED_BUILD = """
import os, sys
from pathlib import Path
from explainer import parallel, pipeline, records
from explainer.pipeline import build, project_at
looked_in = Path(sys.argv[2])
def altered_rows(table):
    looked_in.write_text(str(os.getpid()))
    return records.altered_rows(table)
pipeline.altered_rows = altered_rows
if sys.argv[3] == "apart":
    pipeline.FEEDS_APART_FROM = 1  # as on a site of 2,000 pages
    assert parallel.workers() == 2
result = build(project_at(Path(sys.argv[1])), search=False)
print(os.getpid(), result.rendered)
"""


@pytest.mark.parametrize("where", ["in the build's process", "in a process of its own"])
def test_a_page_altered_on_disk_is_rendered_again(tmp_path: Path, where: str):
    # On a large site the pages' files are looked at by a forked process while the model is read (in a
    # new process here: forking is refused while another thread runs, as one may in the test's).
    looked_in = tmp_path / "looked-in"
    project = copy_real_site(tmp_path / "site")
    build(project, search=False)
    page, touched = project.output / "es" / "index.html", project.output / "en" / "people" / "index.html"
    original = page.read_bytes()
    page.write_bytes(b"tampered")
    (project.output / "en" / "index.html").unlink()
    os.utime(touched, ns=(touched.stat().st_atime_ns, touched.stat().st_mtime_ns + 1))  # its bytes as they were
    apart = "apart" if where == "in a process of its own" else "here"
    command = [sys.executable, "-c", ALTERED_BUILD, str(project.root), str(looked_in), apart]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=True)
    pid, rendered = done.stdout.split()
    assert rendered == "3"
    assert page.read_bytes() == original
    assert (project.output / "en" / "index.html").is_file()
    assert (looked_in.read_text() != pid) == (apart == "apart")


def test_serve_looks_for_pages_altered_by_hand_only_after_another_build_wrote_the_site(tmp_path: Path):
    # serve's rebuilds (sole writers of the site) spare looking at every page's file (24,000 at 10,000
    # entries: 0.11-0.15 s of each save); its first build looks, and so does any build after another
    # process wrote the site, which an editor may run beside serve with other settings.
    project = copy_real_site(tmp_path / "site")
    serving = Cache.at(project.root)
    build(project, search=False, cache=serving, save=False)
    page = project.output / "es" / "index.html"
    original = page.read_bytes()
    page.write_bytes(b"altered by hand")
    edit_entry_text(project.root)
    assert build(project, search=False, cache=serving, save=False, sole_writer=True).rendered > 0
    assert page.read_bytes() == b"altered by hand", "serve's own rebuild does not look"
    serving.save()
    # The record keeps the size and time the page was written with: the next build that looks mends it.
    build(project, search=False, cache=Cache.at(project.root))
    assert page.read_bytes() == original
    # That build wrote the site after serve did: serve's next rebuild looks again.
    page.write_bytes(b"altered again")
    build(project, search=False, cache=serving, save=False, sole_writer=True)
    assert page.read_bytes() == original
    serving.save()
    assert tree_digest(project.output) == tree_digest(clean_build_of(project, tmp_path / "clean"))


def test_a_damaged_cache_is_ignored(tmp_path: Path):
    project = copy_real_site(tmp_path / "site")
    build(project, search=False)
    before = tree_digest(project.output)
    for path in (project.root / ".cache").rglob("*.pickle"):
        path.write_bytes(b"not a pickle")
    again = build(project, search=False)
    assert again.rendered == first_page_count(project)
    assert tree_digest(project.output) == before


@pytest.mark.parametrize("added", ["an event", "an event and a text edit"])
def test_files_of_a_build_whose_cache_was_not_saved_are_removed_when_no_longer_wanted(tmp_path: Path, added: str):
    # Stale files are found from the last build's saved record; a build cut short before saving it
    # (killed, or serve stopped) may have written files that record does not list.
    project = copy_real_site(tmp_path / "site")
    build(project, search=False, cache=Cache.at(project.root))
    add_entry(project.root)
    if added != "an event":
        edit_entry_text(project.root)
    build(project, search=False, cache=Cache.at(project.root), save=False)
    assert (project.output / "es/cronologia/confirmacion-johnson-copia/index.html").is_file()
    # The new entry is gone again; with only the text edit left, no build is a no-op either.
    (project.root / "content/events/confirmacion-johnson-copia.yml").unlink()
    build(project, search=False, cache=Cache.at(project.root))
    assert not (project.output / "es/cronologia/confirmacion-johnson-copia").exists()
    assert tree_digest(project.output) == tree_digest(clean_build_of(project, tmp_path / "clean"))
    # That build's record is saved: the next one finds stale files from it again.
    assert not Cache.at(project.root).written_since_saved(project.output)


def test_a_build_after_one_that_wrote_without_saving_is_not_a_noop(tmp_path: Path):
    project = copy_real_site(tmp_path / "site")
    build(project, search=False, cache=Cache.at(project.root))
    expected = tree_digest(project.output)
    # A process began writing, wrote a file the saved record does not list, and stopped.
    Cache.at(project.root).begin_writing(project.output)
    (project.output / "es/cronologia/left-behind.html").write_text("left behind", "utf-8")
    build(project, search=False, cache=Cache.at(project.root))
    assert tree_digest(project.output) == expected


def first_page_count(project: Project) -> int:
    """Return how many pages a clean build of the project renders."""
    return build(project, write=False, search=False, cache=Cache(None)).rendered


@pytest.mark.parametrize("first", [False, True], ids=["after a build", "during a first build"])
def test_a_save_during_a_build_is_built_by_the_next_one(tmp_path: Path, monkeypatch, first: bool):
    # A first build finds the source texts it cites only once it has read the entries: they join the
    # stamp then, but the entries' files are stamped as they were before anything was read.
    project = copy_real_site(tmp_path / "site")
    if not first:
        build(project, search=False)
    event = project.content / "events/confirmacion-johnson-embajador.yml"
    real_read_model = pipeline.read_model

    def read_then_save(*args, **kwargs):
        # The editor saves right after the build has read the entries.
        result = real_read_model(*args, **kwargs)
        replace_in(event, "Coronel retirado", "Coronel en retiro")
        return result

    replace_in(event, "Ronald Johnson como embajador", "Ronald Johnson, embajador")
    monkeypatch.setattr(pipeline, "read_model", read_then_save)
    build(project, search=False)
    monkeypatch.setattr(pipeline, "read_model", real_read_model)
    again = build(project, search=False)
    assert again.rendered > 0
    page = (project.output / "es/cronologia/confirmacion-johnson-embajador/index.html").read_text("utf-8")
    assert "Coronel en retiro" in page


@pytest.mark.parametrize("seed", range(8))
def test_a_sequence_of_edits_rebuilt_incrementally_equals_clean_builds(tmp_path: Path, seed: int):
    # Edits interact (a renamed entry then a template change, a new entry then a moved date...):
    # after each edit of a random sequence, the incremental output must equal a clean build's.
    chooser = random.Random(seed)
    project = copy_real_site(tmp_path / "incremental")
    build(project, search=False)
    for step, kind in enumerate(chooser.sample(sorted(EDITS), 4)):
        try:
            EDITS[kind](project.root)
        except (AssertionError, FileNotFoundError, FileExistsError):
            continue  # an earlier edit of the sequence already changed what this one edits
        build(project, search=False)
        clean = clean_build_of(project, tmp_path / f"clean-{step}")
        assert tree_digest(project.output) == tree_digest(clean), f"after {kind!r} (step {step})"


def inputs_now(root: Path) -> dict[str, bytes]:
    """Return the bytes of every input file (content, layouts, seeds) by path."""
    return {
        str(item): item.read_bytes()
        for folder in ("content", "layouts", "seeds")
        for item in (root / folder).rglob("*")
        if item.is_file()
    }


@pytest.mark.parametrize("seed", range(8))
def test_a_sequence_of_edits_rebuilt_as_serve_does_equals_clean_builds(tmp_path: Path, seed: int):
    # serve keeps one cache in memory for the whole run, with the last build's inputs (whose recorded
    # digests the next build compares by the reads that changed, see trace.Inputs.digests_for), its
    # model and plan; it is told which files were saved.
    chooser = random.Random(seed)
    project = copy_real_site(tmp_path / "serving")
    serving = Cache.at(project.root)
    result = build(project, search=False, cache=serving, save=False)
    for step, kind in enumerate(chooser.sample(sorted(EDITS), 5)):
        pipeline.keep_model(serving, project, result.snapshot, False)
        serving.save()
        before = inputs_now(project.root)
        try:
            EDITS[kind](project.root)
        except (AssertionError, FileNotFoundError, FileExistsError):
            continue  # an earlier edit of the sequence already changed what this one edits
        after = inputs_now(project.root)
        saved = sorted(path for path in before.keys() | after.keys() if before.get(path) != after.get(path))
        result = build(project, search=False, cache=serving, save=False, sole_writer=True, saved=saved)
        clean = clean_build_of(project, tmp_path / f"clean-{step}")
        assert tree_digest(project.output) == tree_digest(clean), f"after {kind!r} (step {step})"
    assert serving.memory[pipeline.Inputs].previous is None  # no chain of every build's inputs


@pytest.mark.parametrize("kind", ["entry text", "new entry", "deleted entry", "template"])
def test_a_split_search_index_reindexes_only_the_bundles_an_edit_touches(tmp_path: Path, monkeypatch, kind: str):
    monkeypatch.setattr(explainer.search, "SHARD_PAGES", 12)
    project = copy_real_site(tmp_path / "incremental")
    first = build(project)
    bundles = {name.split("/")[1] for name in first.outputs if name.startswith("pagefind/") and name.count("/") > 1}
    assert len(bundles) >= 5, bundles

    EDITS[kind](project.root)
    again = build(project)
    reindexed = {name.split("/")[1] for name in again.report.written if name.count("/") > 1 and name[:9] == "pagefind/"}
    changed_pages = {name for name in again.report.written + again.report.removed if name.endswith(".html")}
    count = explainer.search.shard_count(len(again.search_plan))
    searchable = set(again.search_plan) | set(first.search_plan)
    touched = {str(explainer.search.shard_of(name, count)) for name in changed_pages if name in searchable}
    # A template edit that adds an attribute changes pages but not what Pagefind makes of them.
    assert reindexed or kind == "template", "the edit changed indexed pages"
    if kind == "entry text":
        assert len(reindexed) < len(bundles) / 2, f"{sorted(reindexed)} of {len(bundles)} re-indexed"
    assert reindexed <= touched | {str(n) for n in range(count)} - bundles, "only bundles with changed pages"

    # The index in place is the one a clean build makes (Pagefind's output is deterministic).
    assert_same_files(project.output, clean_build_of(project, tmp_path / "clean", search=True))


def test_retitling_an_event_reindexes_its_own_bundle_only(tmp_path: Path, monkeypatch):
    # The event's title also shows on the pages that list it (its people's and organizations', the
    # sources page); those lists are left out of the index, so their bundles are not made again.
    monkeypatch.setattr(explainer.search, "SHARD_PAGES", 12)
    project = copy_real_site(tmp_path / "incremental")
    build(project)
    replace_in(
        project.content / "events/confirmacion-johnson-embajador.yml",
        "El Senado confirma a Ronald Johnson",
        "El Senado estadounidense confirma a Ronald Johnson",
    )
    again = build(project)
    listing = [
        "es/personas/ronald-johnson/index.html",
        "es/organizaciones/senado-eeuu/index.html",
        "es/fuentes/index.html",
    ]
    assert set(listing) <= set(again.report.written), "the pages that list the event show its new title"
    count = explainer.search.shard_count(len(again.search_plan))
    own = str(explainer.search.shard_of("es/cronologia/confirmacion-johnson-embajador/index.html", count))
    assert {str(explainer.search.shard_of(name, count)) for name in listing} - {own}, "a listing page elsewhere"
    reindexed = {name.split("/")[1] for name in again.report.written if name.count("/") > 1 and name[:9] == "pagefind/"}
    assert reindexed == {own}
    assert_same_files(project.output, clean_build_of(project, tmp_path / "clean", search=True))


def test_an_edit_regroups_only_its_pages_bundles_and_its_index_is_a_clean_builds(tmp_path: Path, monkeypatch):
    # The same pages indexed as the last build's: the edited pages' digests are changed in its grouping
    # (kept with the record of the pages) rather than every page grouped again; a new page groups all.
    monkeypatch.setattr(explainer.search, "SHARD_PAGES", 12)
    project = copy_real_site(tmp_path / "incremental")
    build(project)
    grouped, regrouped = [], []
    monkeypatch.setattr(pipeline, "sharded", lambda plan: grouped.append(plan) or explainer.search.sharded(plan))
    monkeypatch.setattr(
        pipeline,
        "resharded",
        lambda before, changes: regrouped.append(changes) or explainer.search.resharded(before, changes),
    )
    edit_entry_text(project.root)
    again = build(project)
    event = "cronologia/confirmacion-johnson-embajador/index.html", "timeline/confirmacion-johnson-embajador/index.html"
    assert grouped == [] and len(regrouped) == 1 and {f"es/{event[0]}", f"en/{event[1]}"} <= set(regrouped[0])
    assert any(name.startswith("pagefind/") for name in again.report.written)
    assert_same_files(project.output, clean_build_of(project, tmp_path / "clean", search=True))

    grouped.clear()
    regrouped.clear()
    add_entry(project.root)
    build(project)
    assert len(grouped) == 1 and regrouped == []
    assert_same_files(project.output, clean_build_of(project, tmp_path / "clean-2", search=True))


def test_bundle_files_named_by_their_bytes_are_left_in_place_unread_unless_altered(tmp_path: Path, monkeypatch):
    # Pagefind names its index chunks, fragments and metadata by a digest of their bytes: an edit's
    # bundle leaves those already in place without reading them, but mends one altered by hand.
    monkeypatch.setattr(explainer.search, "SHARD_PAGES", 12)
    project = copy_real_site(tmp_path / "incremental")
    build(project)
    read: list[str] = []
    real = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda path: read.append(path.name) or real(path))
    edit_entry_text(project.root)
    again = build(project)
    count = explainer.search.shard_count(len(again.search_plan))
    own = explainer.search.shard_of("es/cronologia/confirmacion-johnson-embajador/index.html", count)
    named = sorted(path for path in (project.output / f"pagefind/{own}").rglob("*.pf_*"))
    written = {name.rsplit("/", 1)[1] for name in again.report.written if name.startswith(f"pagefind/{own}/")}
    assert len(named) > 10 and written, "the event's bundle was indexed again"
    assert {path.name for path in named} & set(read) == {path.name for path in named} & written

    # A fragment the next edit leaves as it was, altered by hand (its name no longer its bytes).
    altered = next(path for path in named if path.suffix == ".pf_fragment" and path.name not in written)
    altered.write_bytes(real(altered)[:-1])
    replace_in(project.content / "events/confirmacion-johnson-embajador.yml", "Coronel en retiro", "Coronel (r)")
    build(project)
    assert_same_files(project.output, clean_build_of(project, tmp_path / "clean", search=True))


@pytest.mark.parametrize("stamp", ["as written", "written since"])
def test_a_rebuild_lists_only_the_bundles_it_indexes_again(tmp_path: Path, monkeypatch, stamp: str):
    # The files of every bundle, those indexed again included (the files they may leave over), come from
    # the last build's record, if the index is as it left it.
    monkeypatch.setattr(explainer.search, "SHARD_PAGES", 12)
    project = copy_real_site(tmp_path / "incremental")
    build(project, cache=Cache.at(project.root))
    if stamp != "as written":
        # Another process (serve's indexer) wrote a bundle since: the record no longer describes the index.
        written = project.output / "pagefind/explainer-shards.json"
        written.write_text(written.read_text("utf-8").replace('"0": "', '"0": "0', 1), "utf-8")
    listed = []
    real = pipeline._files_under

    def noted(output, folder):
        listed.append(folder)
        return real(output, folder)

    monkeypatch.setattr(pipeline, "_files_under", noted)
    edit_entry_text(project.root)
    again = build(project, cache=Cache.at(project.root))
    bundles = [folder for folder in listed if folder.startswith("pagefind/")]
    count = explainer.search.shard_count(len(again.search_plan))
    assert again.report is not None and any(name.startswith("pagefind/") for name in again.report.written)
    if stamp == "as written":
        assert bundles == []
    else:
        assert len(bundles) >= count
    on_disk = {str(path.relative_to(project.output)) for path in project.output.rglob("*") if path.is_file()}
    assert set(again.outputs) == on_disk - {".explainer-output"}
    assert_same_files(project.output, clean_build_of(project, tmp_path / "clean", search=True))


def test_when_the_search_index_is_split_anew_the_search_page_follows(tmp_path: Path, monkeypatch):
    # As when a site grows past a power of two of bundles: every page moves, the search page lists them all.
    project = copy_real_site(tmp_path / "incremental")
    build(project)
    monkeypatch.setattr(explainer.search, "SHARD_PAGES", 12)
    again = build(project)
    assert "es/buscar/index.html" in again.report.written
    assert_same_files(project.output, clean_build_of(project, tmp_path / "clean", search=True))


def _errors_of(project: Project, cache: Cache | None = None) -> list[str]:
    with pytest.raises(BuildFailed) as failed:
        build(project, search=False, cache=cache)
    return sorted(str(error) for error in failed.value.errors)


@pytest.mark.parametrize(
    "edit",
    [
        # What unchanged entries refer to goes away, changes kind, or loses the paragraph they cite.
        lambda root: (root / "content/people/ronald-johnson.yml").unlink(),
        lambda root: (root / "content/people/ronald-johnson.yml").rename(
            root / "content/organizations/ronald-johnson.yml"
        ),
        lambda root: replace_in(next((root / "seeds").glob("*.txt")), "Hoy reconocemos", "Hoy celebramos"),
    ],
    ids=["deleted", "changed kind", "source text"],
)
def test_unchanged_entries_are_checked_again_when_what_they_refer_to_changes(tmp_path: Path, edit):
    project = copy_real_site(tmp_path / "incremental")
    build(project, search=False)
    edit(project.root)
    errors = _errors_of(project)
    assert errors, "the edit breaks references or quotes in entries whose files did not change"
    shutil.copytree(project.root, tmp_path / "clean", ignore=shutil.ignore_patterns("site", ".cache"))
    assert errors == _errors_of(project_in(tmp_path / "clean"), Cache(None))


def test_retitling_a_citer_makes_only_its_own_run_of_the_sources_page_again(tmp_path: Path, monkeypatch):
    # A source of a large site is cited by thousands of entries, all linked on the sources page.
    monkeypatch.setattr(render, "LINK_RUN", 2)
    project = copy_real_site(tmp_path / "incremental")
    build(project, search=False)
    made = []
    real_link = render.View.link

    def link(view, entry):
        if view.page.key == ("sources",):
            made.append(entry)
        return real_link(view, entry)

    monkeypatch.setattr(render.View, "link", link)
    rename_person(project.root)
    again = build(project, search=False)
    assert "es/fuentes/index.html" in again.report.written
    # Of the citers' links (not those to the texts sources are reported through), one run of two per
    # language: the one holding the person.
    vias = {source.via.source for source in again.model.sources if source.via}
    in_runs = [entry for entry in made if entry not in vias]
    assert in_runs.count("marco-rubio") == 2 and len(in_runs) <= 4, in_runs
    assert_same_files(project.output, clean_build_of(project, tmp_path / "clean"))


def test_a_build_failing_while_its_pages_are_indexed_leaves_the_site_and_its_index_as_they_were(
    tmp_path: Path, monkeypatch
):
    # Pagefind starts on an edit's pages before they are written; its bundles go in only once they are.
    project = copy_real_site(tmp_path / "incremental")
    build(project)
    before = tree_digest(project.output)
    replace_in(
        project.content / "events/confirmacion-johnson-embajador.yml",
        "El Senado confirma a Ronald Johnson",
        "El Senado estadounidense confirma a Ronald Johnson",
    )
    indexed = []
    real_index = explainer.search._run_pagefind

    def run_pagefind(*args):
        indexed.append(args)
        return real_index(*args)

    def make_feeds(*args):
        raise RuntimeError("the feeds failed")

    monkeypatch.setattr(explainer.search, "_run_pagefind", run_pagefind)
    monkeypatch.setattr(pipeline, "make_feeds", make_feeds)
    with pytest.raises(RuntimeError, match="the feeds failed"):
        build(project)
    assert indexed, "the edited page's bundle was being indexed when the build failed"
    assert tree_digest(project.output) == before
    assert not list(project.output.parent.glob(".explainer-search-*")), "no scratch folder left"


def test_pagefind_starts_before_the_timelines_parts_are_loaded_and_a_table_left_unloaded_stays_valid(
    tmp_path: Path, monkeypatch
):
    # Of the pages the search index holds (rendered first, then Pagefind started on them), only the
    # sources page and the glossary show memoized parts (runs of links, entries): kept in a table of
    # their own. The timelines' parts (17 MB at 10,000 entries) are loaded once Pagefind has started,
    # and by no build that needs none.
    project = copy_real_site(tmp_path / "incremental")
    build(project)
    steps: list[str] = []
    real_load, real_planned = Cache._load, pipeline._search_planned
    monkeypatch.setattr(Cache, "_load", lambda cache, name: steps.append(name) or real_load(cache, name))
    monkeypatch.setattr(pipeline, "_search_planned", lambda *a: steps.append("search planned") or real_planned(*a))
    event = project.content / "events/confirmacion-johnson-embajador.yml"
    # A title: on the event's pages, its person's, the sources page (a run of links) and the timelines.
    replace_in(event, "El Senado confirma a Ronald Johnson", "El Senado de EE. UU. confirma a Ronald Johnson")
    build(project, cache=Cache.at(project.root))
    assert steps.index("indexed") < steps.index("search planned") < steps.index("fragments"), steps
    # A term is on the glossary (and the sources page), not on the timelines: their table is not loaded, nor saved.
    steps.clear()
    term = project.content / "terms/intervencion-militar-extranjera.yml"
    replace_in(term, "El artículo no cita el texto", "El artículo no reproduce el texto")
    again = build(project, cache=Cache.at(project.root))
    assert again.rendered > 0 and "fragments" not in steps, steps
    # The table left as it was is still valid for the next build that loads it.
    replace_in(event, "El Senado de EE. UU. confirma", "El Senado estadounidense confirma")
    build(project, cache=Cache.at(project.root))
    assert_same_files(project.output, clean_build_of(project, tmp_path / "clean", search=True))


@pytest.mark.parametrize(
    ("page", "shown_by", "edited", "old", "new", "written"),
    [
        # 2,000 agreements and terms at 10,000 entries, with their Markdown.
        ("glossary", "md", "terms/intervencion-militar-extranjera.yml", "no cita el texto", "no reproduce el texto",
         "es/glosario/index.html"),
        # 2,000 people with their summaries.
        ("people", "inline", "people/marco-rubio.yml", "confirmado por el Senado", "ratificado por el Senado",
         "es/personas/index.html"),
    ],
)  # fmt: skip
def test_editing_an_entry_makes_only_its_own_part_of_a_list_page_again(
    tmp_path: Path, monkeypatch, page: str, shown_by: str, edited: str, old: str, new: str, written: str
):
    # The glossary's and the people page's entries are kept by entry, as timeline items are.
    project = copy_real_site(tmp_path / "incremental")
    build(project, search=False)
    rendered: list[str] = []
    real = getattr(render.View, shown_by)

    def shown(view, value):
        if view.page.key == (page,):
            rendered.append(value["es"])
        return real(view, value)

    monkeypatch.setattr(render.View, shown_by, shown)
    replace_in(project.content / edited, old, new)
    again = build(project, search=False)
    assert written in again.report.written
    # Once per language, the edited text alone.
    assert len(rendered) == 2 and all(new in text for text in rendered), rendered
    assert_same_files(project.output, clean_build_of(project, tmp_path / "clean"))
