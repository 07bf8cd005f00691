"""The real site's content: complete, sourced, in both languages, in order. Fails when an editor breaks that."""

from __future__ import annotations

import re

from explainer.links import all_citations
from explainer.model import Event
from tests.conftest import BuiltSite

SEED = "articulo-semilla"
NOT_FACTS = {7}  # paragraph 7 is the word "Publicidad": an advertisement slot, not part of the story


def test_every_entry_and_the_home_page_are_in_both_languages(real_site: BuiltSite):
    model = real_site.model
    assert [entry.id for entry in model.entries.values() if entry.untranslated] == []
    assert model.home is not None and not model.home.untranslated


def test_every_event_cites_paragraphs_of_the_article(real_site: BuiltSite):
    model = real_site.model
    uncited = []
    for event in model.events:
        cited = [c for _, c in all_citations(event) if c.paragraphs]
        if not any(c.source == SEED or model.get(c.source).via for c in cited):
            uncited.append(event.id)
    assert uncited == []


def test_every_paragraph_of_the_article_is_cited_somewhere(real_site: BuiltSite):
    """No fact of the article is lost: each of its paragraphs is cited by at least one entry."""
    model = real_site.model
    cited: set[int] = set()
    for entry in [*model.entries.values(), model.home]:
        for _, citation in all_citations(entry):
            source = model.get(citation.source)
            if citation.source == SEED or (source.via and source.via.source == SEED):
                cited.update(citation.paragraphs)
    every = set(range(1, len(model.paragraphs[SEED]) + 1))
    assert every - cited - NOT_FACTS == set()
    assert model.paragraphs[SEED][6] == "Publicidad"


def test_every_person_agreement_and_event_has_a_page_in_each_language(real_site: BuiltSite):
    model = real_site.model
    missing = []
    for entry in (*model.people, *model.agreements, *model.events, *model.organizations):
        for lang in model.site.languages:
            path = real_site.urls.entry(entry, lang)
            if not (real_site.folder / path / "index.html").is_file():
                missing.append(path)
    assert missing == []


def test_the_timeline_lists_every_event_in_date_order(real_site: BuiltSite):
    model = real_site.model
    for lang in model.site.languages:
        page = (real_site.folder / real_site.urls.section(lang, "timeline") / "index.html").read_text("utf-8")
        listed = re.findall(r'<li id="([^"]+)" class="timeline-item"', page)
        assert listed == [event.id for event in model.events]
        dates = re.findall(r'class="timeline-meta"><time datetime="([^"]+)"', page)
        assert dates == sorted(dates, key=lambda iso: (iso + "-00-00")[:10]) and len(dates) == len(listed)


def test_the_story_the_issue_names_is_all_there(real_site: BuiltSite):
    """The events, people and frameworks the article turns on, each with its date and status as of the article."""
    model = real_site.model
    dated = {(e.date.iso, e.status) for e in model.events if isinstance(e, Event)}
    for expected in [
        ("2008", "happened"),
        ("2021-10", "happened"),
        ("2024-10-01", "happened"),
        ("2025-01-20", "happened"),
        ("2025-04-09", "happened"),
        ("2026-01-03", "happened"),
        ("2026-01-13", "happened"),
        ("2026-01-15", "happened"),
        ("2026-01-23", "announced"),
        ("2026-02", "announced"),
    ]:
        assert expected in dated
    names = {p.name for p in model.people}
    assert {
        "Donald Trump",
        "Claudia Sheinbaum Pardo",
        "Marco Antonio Rubio García",
        "Juan Ramón de la Fuente Ramírez",
        "Ronald Douglas Johnson",
        "Tommy Pigott",
        "Nicolás Maduro Moros",
        "Ernesto Zedillo Ponce de León",
        "Andrés Manuel López Obrador",
    } <= names
    bicentennial = model.get("entendimiento-bicentenario")
    assert bicentennial.replaces == ("iniciativa-merida",) and len(bicentennial.pillars) == 3
    acronyms = {t.abbr["es"] for t in model.terms if t.abbr}
    assert {"DOS", "SRE", "CIA", "UNAM", "SSa", "ONU", "EE. UU."} <= acronyms


def test_the_spokesperson_keeps_the_departments_spelling_and_notes_the_articles(real_site: BuiltSite):
    pigott = real_site.model.get("tommy-pigott")
    assert pigott.name == "Tommy Pigott"
    assert all("Piggot" in note for note in pigott.name_note.values())
    assert any(c.source.startswith("sesion-informativa") for c in pigott.sources)


def test_schema_references_are_inlined_and_a_validating_keyword_beside_one_is_refused():
    import pytest

    from explainer.schema import _inlined

    documents = {
        "a.json": {"properties": {"x": {"$ref": "b.json#/$defs/id", "description": "an id"}}},
        "b.json": {"$defs": {"id": {"type": "string", "pattern": "^[a-z]+$"}}},
    }
    assert _inlined(documents["a.json"], "a.json", documents) == {
        "properties": {"x": {"type": "string", "pattern": "^[a-z]+$"}}
    }
    documents["a.json"]["properties"]["x"]["minLength"] = 2
    with pytest.raises(ValueError, match="minLength"):
        _inlined(documents["a.json"], "a.json", documents)
    circle = {"c.json": {"$defs": {"loop": {"$ref": "#/$defs/loop"}}, "properties": {"x": {"$ref": "#/$defs/loop"}}}}
    with pytest.raises(ValueError, match="circle"):
        _inlined(circle["c.json"], "c.json", circle)
