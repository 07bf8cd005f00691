"""serve's first answer to a save: the edited entries' pages, exactly as the full rebuild writes them.

Each case builds a copy of the real site, makes one edit, lets `write_edited_pages` write what it
takes on, and compares every file it wrote with a clean build of the edited copy; the model it
patched must equal the one a full build reads. Edits it cannot get exactly right must write nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from explainer.cache import Cache
from explainer.links import patch_model
from explainer.pipeline import build, environment_for
from explainer.quick import write_edited_pages
from tests.conftest import tree_digest
from tests.test_incremental import EDITS, clean_build_of, copy_real_site, replace_in

EVENT = "content/events/confirmacion-johnson-embajador.yml"


def retitle_event(root: Path) -> None:
    replace_in(root / EVENT, "Ronald Johnson como embajador", "Ronald Johnson, embajador")


def add_person_to_event(root: Path) -> None:
    # A new back-reference: the person's page lists the event; the event's own page is what is written.
    replace_in(root / EVENT, "people: [", "people: [claudia-sheinbaum, ")


def rename_person(root: Path) -> None:
    # The name the person's page shows and the one the list of people sorts by (so the list's order changes).
    person = root / "content/people/marco-rubio.yml"
    replace_in(person, "name: Marco Antonio Rubio García", "name: Marco A. Rubio García")
    replace_in(person, "sort_name: Rubio García, Marco Antonio", "sort_name: Aaa Rubio, Marco")


def edit_term_text(root: Path) -> None:
    # Terms have no pages of their own: the glossary shows them.
    replace_in(root / "content/terms/siglas-sre.yml", "Mexico's foreign ministry.", "the foreign ministry of Mexico.")


QUICK = {
    "entry text": (EDITS["entry text"], [EVENT]),
    "entry text, its folder reported too": (EDITS["entry text"], [EVENT, "content/events"]),
    "entry text, saved through a temporary file": (EDITS["entry text"], [EVENT, f"{EVENT}___jb_tmp___"]),
    "date that moves an event": (EDITS["date that moves an event"], ["content/events/iniciativa-merida-2008.yml"]),
    "person's name": (rename_person, ["content/people/marco-rubio.yml"]),
    "acronym": (EDITS["acronym"], ["content/terms/siglas-sre.yml"]),
    "event title": (retitle_event, [EVENT]),
    "new reference": (add_person_to_event, [EVENT]),
    "term text": (edit_term_text, ["content/terms/siglas-sre.yml"]),
}


def write_first(project, last, saved: list[Path]) -> list[str]:
    """Write what the quick path takes on of the saved files, with the project's own templates."""
    return write_edited_pages(project, last, environment_for(project, Cache(None)), saved, allow_missing=False)


def built_then_edited(tmp_path: Path, case: tuple) -> tuple:
    """Build a copy of the real site, then make a case's edit; return the project, what the build was
    made from, the output's digests before the edit, and the files the case saved."""
    project = copy_real_site(tmp_path / "site")
    last = build(project, search=False).snapshot
    before = tree_digest(project.output)
    edit, saved = case
    edit(project.root)
    return project, last, before, saved


@pytest.mark.parametrize("kind", sorted(QUICK))
def test_the_edited_entries_pages_are_written_as_the_full_rebuild_writes_them(tmp_path: Path, kind: str):
    project, last, before, saved = built_then_edited(tmp_path, QUICK[kind])

    written = write_first(project, last, [project.root / name for name in saved])

    assert written, "the edit was not taken on"
    after = tree_digest(project.output)
    assert sorted(name for name in after if after[name] != before.get(name)) == sorted(written)
    fresh = tree_digest(clean_build_of(project, tmp_path / "clean"))
    assert [name for name in written if after[name] != fresh[name]] == []
    # Only pages of the saved entries (and the glossary, for terms) are written.
    ids = [Path(name).stem for name in saved if name.endswith(".yml")]
    assert all(any(f"/{entry_id}/" in name for entry_id in ids) or "glos" in name for name in written), written


@pytest.mark.parametrize("kind", sorted(QUICK))
def test_the_patched_model_is_the_model_a_full_build_reads(tmp_path: Path, kind: str):
    project = copy_real_site(tmp_path / "site")
    model = build(project, search=False, write=False, cache=Cache(None)).model
    edit, saved = QUICK[kind]
    edit(project.root)
    full = build(project, search=False, write=False, cache=Cache(None)).model

    patched, errors = patch_model(model, [full.entries[Path(name).stem] for name in saved if name.endswith(".yml")])

    assert errors == []
    assert patched == full
    for name in ("events", "people", "agreements", "terms", "organizations", "sources"):
        assert [entry.id for entry in getattr(patched, name)] == [entry.id for entry in getattr(full, name)]


def unknown_reference(root: Path) -> None:
    replace_in(root / EVENT, "people: [", "people: [nadie-conocido, ")


def broken_yaml(root: Path) -> None:
    replace_in(root / EVENT, "people: [", "people: [[")


def edit_source_entry(root: Path) -> None:
    replace_in(root / "content/sources/declaracion-sre.yml", "title:", "title: ", 1)
    (root / "content/sources/declaracion-sre.yml").write_text(
        (root / "content/sources/declaracion-sre.yml").read_text("utf-8") + "\n", "utf-8"
    )


REFUSED = {
    "new entry": (EDITS["new entry"], ["content/events/confirmacion-johnson-copia.yml"]),
    "deleted entry": (EDITS["deleted entry"], [EVENT]),
    "renamed id": (EDITS["renamed id"], ["content/events/incursion-en-venezuela.yml"]),
    "template": (EDITS["template"], ["layouts/templates/person.html"]),
    "string table": (EDITS["string table"], ["layouts/strings/es.yml"]),
    "tag in site.yml": (EDITS["tag in site.yml"], ["content/site.yml"]),
    "home page": (EDITS["home page"], ["content/home.yml"]),
    "source text": (EDITS["source text"], ["seeds/*"]),
    "source entry": (edit_source_entry, ["content/sources/declaracion-sre.yml"]),
    "unknown reference": (unknown_reference, [EVENT]),
    "broken YAML": (broken_yaml, [EVENT]),
    "an entry and a template together": (EDITS["template"], [EVENT, "layouts/templates/person.html"]),
}


@pytest.mark.parametrize("kind", sorted(REFUSED))
def test_saves_it_cannot_answer_exactly_write_nothing(tmp_path: Path, kind: str):
    project, last, before, saved = built_then_edited(tmp_path, REFUSED[kind])
    if kind == "an entry and a template together":
        retitle_event(project.root)

    written = write_first(project, last, [path for name in saved for path in sorted(project.root.glob(name))])

    assert written == []
    assert tree_digest(project.output) == before
