"""A large site's timeline: a page per year, and a whole timeline that lists the years, not every event.

The real site is far below the size where this starts, so these tests lower it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import explainer.timeline
from explainer import pipeline
from explainer.cache import Cache
from explainer.pipeline import build
from explainer.timeline import timeline_facets
from tests.conftest import tree_digest
from tests.test_incremental import (
    add_entry,
    clean_build_of,
    copy_real_site,
    delete_entry,
    edit_entry_text,
    move_event_date,
    rename_entry,
    replace_in,
)


@pytest.fixture
def in_year_pages(monkeypatch):
    """Make every site with more than five events show its timeline a year per page."""
    monkeypatch.setattr(explainer.timeline, "YEAR_PAGES_FROM", 5)


def items_of(html: str) -> list[str]:
    """Return the ids of the timeline items on a page, in order."""
    return re.findall(r'<li id="([^"]+)" class="timeline-item"', html)


def test_small_sites_have_no_year_pages(tmp_path: Path):
    project = copy_real_site(tmp_path / "site")
    result = build(project, write=False, search=False, cache=Cache(None))
    assert not any("/anio/" in name or "/year/" in name for name in result.outputs)
    assert len(items_of(result.outputs["es/cronologia/index.html"].decode())) == len(result.model.events)


def test_a_large_sites_timeline_has_a_page_per_year_listing_its_events(tmp_path: Path, in_year_pages):
    project = copy_real_site(tmp_path / "site")
    result = build(project, write=False, search=False, cache=Cache(None))
    model = result.model
    years = sorted({event.date.year for event in model.events})
    assert len(years) > 2
    for lang, segment in (("es", "cronologia/anio"), ("en", "timeline/year")):
        whole = result.outputs[f"{lang}/{segment.split('/')[0]}/index.html"].decode()
        # The whole timeline lists no event, and links every year with its number of events.
        assert items_of(whole) == []
        assert "timeline.js" not in whole
        assert f">{len(model.events)} " in whole.replace("reúne ", ">").replace("holds ", ">")
        for year in years:
            events = [event.id for event in model.events if event.date.year == year]
            link = f'<a href="/{lang}/{segment}/{year}/" data-filter="year:{year}">{year} <span class="count">{len(events)}</span></a>'
            assert link in whole
            page = result.outputs[f"{lang}/{segment}/{year}/index.html"].decode()
            assert items_of(page) == events
            assert f"<h1>{'Cronología' if lang == 'es' else 'Timeline'}: {year}</h1>" in page
            # Each year page marks itself among the years, all of which it links.
            assert f'data-filter="year:{year}" aria-current="page"' in page
            assert all(f'data-filter="year:{other}"' in page for other in years)


def test_year_facets_come_first_in_date_order(tmp_path: Path, in_year_pages):
    project = copy_real_site(tmp_path / "site")
    model = build(project, write=False, search=False, cache=Cache(None)).model
    facets = timeline_facets(model)
    kinds = [facet.kind for facet in facets]
    assert kinds[: kinds.count("year")] == ["year"] * kinds.count("year")
    assert [int(facet.value) for facet in facets if facet.kind == "year"] == sorted(
        {event.date.year for event in model.events}
    )


@pytest.mark.parametrize(
    "edit", [edit_entry_text, move_event_date, add_entry, delete_entry, rename_entry], ids=lambda edit: edit.__name__
)
def test_incremental_rebuilds_in_year_pages_equal_clean_builds(tmp_path: Path, in_year_pages, edit):
    project = copy_real_site(tmp_path / "incremental")
    build(project, search=False)
    edit(project.root)
    build(project, search=False)
    assert tree_digest(project.output) == tree_digest(clean_build_of(project, tmp_path / "clean"))


def test_crossing_the_size_into_year_pages_and_back_equals_clean_builds(tmp_path: Path, monkeypatch):
    project = copy_real_site(tmp_path / "incremental")
    build(project, search=False)
    events = len(build(project, write=False, search=False, cache=Cache(None)).model.events)
    # One more event than the limit: the site now has year pages.
    monkeypatch.setattr(explainer.timeline, "YEAR_PAGES_FROM", events)
    add_entry(project.root)
    build(project, search=False)
    assert (project.output / "es/cronologia/anio").is_dir()
    assert tree_digest(project.output) == tree_digest(clean_build_of(project, tmp_path / "clean-up"))
    (project.root / "content/events/confirmacion-johnson-copia.yml").unlink()
    build(project, search=False)
    assert not (project.output / "es/cronologia/anio").exists()
    assert tree_digest(project.output) == tree_digest(clean_build_of(project, tmp_path / "clean-down"))


def pages_rendered_by_a_build(project, monkeypatch) -> list[str]:
    """Build `project` again; return the files of the pages that build found stale and rendered."""
    rendered: list[str] = []
    real_stale_pages = pipeline.stale_pages

    def recording(*args, **kwargs):
        stale = real_stale_pages(*args, **kwargs)
        rendered.extend(page.file for page in stale)
        return stale

    monkeypatch.setattr(pipeline, "stale_pages", recording)
    build(project, search=False)
    return rendered


def test_editing_an_event_renders_its_year_page_again_not_the_whole_timeline(
    tmp_path: Path, in_year_pages, monkeypatch
):
    project = copy_real_site(tmp_path / "site")
    build(project, search=False)
    edit_entry_text(project.root)  # an event of 2025
    rendered = pages_rendered_by_a_build(project, monkeypatch)
    assert "es/cronologia/anio/2025/index.html" in rendered
    assert "es/cronologia/index.html" not in rendered
    assert "en/timeline/index.html" not in rendered
    assert "es/cronologia/anio/2026/index.html" not in rendered


def test_a_filter_with_many_events_lists_its_years_each_a_page_of_its_events(tmp_path: Path, in_year_pages):
    project = copy_real_site(tmp_path / "site")
    result = build(project, write=False, search=False, cache=Cache(None))
    model = result.model
    by_tag = {tag: [event for event in model.events if tag in event.tags] for tag in model.site.tags}
    large = {tag: events for tag, events in by_tag.items() if len(events) > 5}
    small = {tag: events for tag, events in by_tag.items() if 0 < len(events) <= 5}
    assert large and small  # the real site has both
    for lang, segment in (("es", "cronologia/tema"), ("en", "timeline/topic")):
        for tag, events in large.items():
            page = result.outputs[f"{lang}/{segment}/{tag}/index.html"].decode()
            assert items_of(page) == []
            years = list(dict.fromkeys(str(event.date.year) for event in events))
            counts = [str(sum(1 for event in events if str(event.date.year) == year)) for year in years]
            link = rf'<a href="/{lang}/{segment}/{tag}/(\d+)/">\1 <span class="count">(\d+)</span></a>'
            assert re.findall(link, page) == list(zip(years, counts, strict=True))
            # The topics' filter list names each topic once, not its years.
            assert re.findall(r'data-filter="tag:([^"]+)"', page) == [name for name in model.site.tags if by_tag[name]]
            # Its people and frameworks (thousands, on a large site) are left to each year's page.
            assert 'data-filter="person:' not in page and 'data-filter="agreement:' not in page
            assert 'data-filter="person:' in result.outputs[f"{lang}/{segment}/{tag}/{years[-1]}/index.html"].decode()
            for year in years:
                part = result.outputs[f"{lang}/{segment}/{tag}/{year}/index.html"].decode()
                assert items_of(part) == [event.id for event in events if str(event.date.year) == year]
                # Back to the filter's every year; the filter list marks no page as this one.
                assert f'<p class="filter-note"><a href="/{lang}/{segment}/{tag}/">' in part
                assert 'aria-current="page"' not in part.split('class="filters"', 1)[1]
        for tag, events in small.items():
            page = result.outputs[f"{lang}/{segment}/{tag}/index.html"].decode()
            assert items_of(page) == [event.id for event in events]
            assert not any(
                name.startswith(f"{lang}/{segment}/{tag}/") and name.count("/") > 4 for name in result.outputs
            )


def test_editing_an_event_renders_its_year_of_a_large_filter_not_the_filters_page(
    tmp_path: Path, in_year_pages, monkeypatch
):
    project = copy_real_site(tmp_path / "site")
    build(project, search=False)
    # An event of 2026 on security, a topic of more than five events.
    replace_in(project.root / "content/events/declaracion-vocero-pigott.yml", "da a conocer", "hace pública")
    rendered = pages_rendered_by_a_build(project, monkeypatch)
    assert "es/cronologia/tema/seguridad/2026/index.html" in rendered
    assert "es/cronologia/tema/seguridad/index.html" not in rendered
    assert "es/cronologia/tema/seguridad/2008/index.html" not in rendered
    assert tree_digest(project.output) == tree_digest(clean_build_of(project, tmp_path / "clean"))


YEAR_MODE_PAGES = [
    "es/cronologia/",
    "es/cronologia/anio/2026/",
    "en/timeline/",
    "en/timeline/year/2025/",
    "es/cronologia/tema/seguridad/",
    "en/timeline/topic/seguridad/2026/",
]


def test_year_pages_pass_the_checker_and_axe_and_fit_a_phone(tmp_path: Path, in_year_pages, browser):
    from axe_playwright_python.sync_playwright import Axe

    from tests.support import require_java_and_vnu, serve_folder
    from tests.test_browser import AXE_TAGS
    from tests.test_validators import _vnu_messages

    command = require_java_and_vnu()
    project = copy_real_site(tmp_path / "site")
    build(project, cache=Cache(None))
    axe = Axe()
    with serve_folder(project.output) as origin:
        assert _vnu_messages(command, [f"{origin}/{path}index.html" for path in YEAR_MODE_PAGES], "--html") == []
        found = {}
        for width in (375, 1280):
            context = browser.new_context(viewport={"width": width, "height": 900})
            page = context.new_page()
            for path in YEAR_MODE_PAGES:
                page.goto(f"{origin}/{path}")
                overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
                assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at {width}px"
                results = axe.run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
                assert results.response["passes"], f"axe checked nothing on {path}"
                if results.response["violations"]:
                    found[f"{path} at {width}px"] = [v["id"] for v in results.response["violations"]]
            context.close()
    assert found == {}


def test_an_edit_keeps_the_memoized_parts_of_the_years_it_did_not_show(tmp_path: Path, in_year_pages):
    # An edit renders one year's page: the items and overview marks of the other years must stay in
    # the cache, or the next edit elsewhere would compute them all again.
    project = copy_real_site(tmp_path / "site")
    build(project, search=False, cache=Cache.at(project.root))
    before = set(Cache.at(project.root).part("fragments"))
    assert any(key[0] == "overview-mark" for key in before if isinstance(key, tuple))
    edit_entry_text(project.root)
    build(project, search=False, cache=Cache.at(project.root))
    assert set(Cache.at(project.root).part("fragments")) == before
    delete_entry(project.root)
    build(project, search=False, cache=Cache.at(project.root))
    after = set(Cache.at(project.root).part("fragments"))
    # A deleted entry's parts go with it, and so do the runs of links that listed it.
    deleted = "confirmacion-johnson-embajador"
    assert {key for key in before - after if isinstance(key, tuple)} == {
        key
        for key in before
        if isinstance(key, tuple) and (key[1] == deleted or (key[0] == "links" and deleted in key[3]))
    }
