"""The timeline's grouping, filters and overview layout."""

from explainer.dates import PartialDate
from explainer.model import Event
from explainer.pipeline import build
from explainer.timeline import DENSE, NARROW, WIDTH, group_events, lay_out_overview
from tests.conftest import errors_of


def event(iso: str, name: str) -> Event:
    year, month, day = ([int(p) for p in iso.split("-")] + [0, 0])[:3]
    text = {"es": name, "en": name}
    return Event(
        id=name, file=f"{name}.yml", date=PartialDate(year, month, day), status="happened", title=text, summary=text
    )


SPARSE_AND_DENSE = [
    event("2008", "merida"),
    event("2021-10", "bicentenario"),
    *[event(f"2026-01-{day:02d}", f"enero-{day}") for day in (3, 13, 13, 15, 15, 15, 23)],
    event("2026-02", "ministerial"),
]


def test_dense_years_are_split_by_month_and_sparse_ones_are_not():
    groups = group_events(SPARSE_AND_DENSE)
    assert [(g.year, g.by_month, [m.month for m in g.months]) for g in groups] == [
        (2008, False, [0]),
        (2021, False, [0]),
        (2026, True, [1, 2]),
    ]
    assert groups[2].count == 8 > DENSE


def test_overview_breaks_the_axis_between_distant_periods_and_keeps_marks_inside():
    overview = lay_out_overview(group_events(SPARSE_AND_DENSE))
    assert [(b.year, b.month, b.broken_before) for b in overview.bands] == [
        (2008, 0, False),
        (2021, 0, True),
        (2026, 1, True),
        (2026, 2, False),
    ]
    # A dense month gets more room than a year with one event.
    assert overview.bands[2].width > 3 * overview.bands[0].width
    assert len(overview.marks) == len(SPARSE_AND_DENSE)
    for mark in overview.marks:
        band = next(
            b for b in overview.bands if b.year == mark.event.date.year and b.month in (0, mark.event.date.month)
        )
        assert band.x <= mark.x <= band.x + band.width
        assert 0 < mark.y < overview.axis_y < overview.height
    # Three events on one day are stacked, not drawn on top of each other.
    same_day = [(m.x, m.y) for m in overview.marks if m.event.date == PartialDate(2026, 1, 15)]
    assert len(set(same_day)) == 3
    # Events in order run left to right.
    xs = [m.x for m in overview.marks]
    assert xs == sorted(xs)


def test_an_overview_of_one_or_two_periods_is_narrow_enough_for_a_phone_and_holds_its_marks():
    two_years = [event for event in SPARSE_AND_DENSE if event.date.year in (2008, 2021)]
    overview = lay_out_overview(group_events(two_years))
    assert len(overview.bands) == 2 and overview.narrow and overview.width <= NARROW
    assert all(0 < mark.x < overview.width for mark in overview.marks)
    assert overview.bands[-1].x + overview.bands[-1].width < overview.width
    # More periods than that are drawn across the column, and scroll on a phone.
    wide = lay_out_overview(group_events(SPARSE_AND_DENSE))
    assert not wide.narrow and wide.width == WIDTH


def test_filter_pages_exist_for_each_person_agreement_and_tag_in_every_language(project):
    outputs = build(project, write=False).outputs
    for page in (
        "es/cronologia/persona/ana-nunez/index.html",
        "en/timeline/person/ana-nunez/index.html",
        "es/cronologia/marco/new-pact/index.html",
        "en/timeline/framework/new-pact/index.html",
        "es/cronologia/tema/dialogo/index.html",
        "en/timeline/topic/dialogo/index.html",
    ):
        assert page in outputs
    filtered = outputs["en/timeline/topic/dialogo/index.html"].decode()
    assert 'id="meeting"' in filtered and 'id="talks"' not in filtered
    assert '<a href="/en/timeline/topic/dialogo/" data-filter="tag:dialogo" aria-current="page">' in filtered
    # The old pact has no event, so it gets no (empty) filter page.
    assert not any("old-pact" in path for path in outputs if "/framework/" in path or "/marco/" in path)


def test_an_overview_of_a_single_event_says_so_and_not_one_events(project):
    outputs = build(project, write=False, search=False).outputs
    single = outputs["en/timeline/topic/dialogo/index.html"].decode()
    assert single.count('class="timeline-item"') == 1
    assert "Overview of a single event (" in single
    spanish = outputs["es/cronologia/tema/dialogo/index.html"].decode()
    assert "Vista general de un solo hecho (" in spanish
    whole = outputs["en/timeline/index.html"].decode()
    count = whole.count('class="timeline-item"')
    assert count > 1 and f"Overview of the {count} events, from " in whole
    assert not any(b"the 1 events" in data or b"los 1 hechos" in data for data in outputs.values())


def test_an_unknown_tag_names_its_event_and_site_yml(project):
    path = project.root / "content/events/meeting.yml"
    path.write_text(path.read_text("utf-8").replace("tags: [dialogo]", "tags: [dialogo, trade]"), "utf-8")
    assert errors_of(project) == [
        "content/events/meeting.yml:17:17: tags[1]: unknown tag 'trade' (tags are listed under 'tags' in content/site.yml)"
    ]
