"""The timeline's shape: events grouped by year (and month where dense), facets for filters, and the overview chart."""

from __future__ import annotations

import calendar
import operator
from collections.abc import Iterable
from dataclasses import dataclass

from .model import Entry, Event, Model

DENSE = 4
"""A year with more events than this is split by month, in the list and in the overview."""


@dataclass(frozen=True)
class MonthGroup:
    """Events of one month (month 0: events known only to the year)."""

    month: int
    events: tuple[Event, ...]


@dataclass(frozen=True)
class YearGroup:
    """Events of one year, split by month when the year is dense."""

    year: int
    months: tuple[MonthGroup, ...]
    by_month: bool

    @property
    def count(self) -> int:
        """Return how many events the year holds."""
        return sum(len(group.events) for group in self.months)


def group_events(events: Iterable[Event]) -> tuple[YearGroup, ...]:
    """Group events, already in date order, by year, and by month within dense years."""
    years: dict[int, list[Event]] = {}
    for event in events:
        years.setdefault(event.date.year, []).append(event)
    groups = []
    for year, items in years.items():
        if len(items) > DENSE:
            months: dict[int, list[Event]] = {}
            for event in items:
                months.setdefault(event.date.month, []).append(event)
            groups.append(YearGroup(year, tuple(MonthGroup(m, tuple(e)) for m, e in months.items()), True))
        else:
            groups.append(YearGroup(year, (MonthGroup(0, tuple(items)),), False))
    return tuple(groups)


YEAR_PAGES_FROM = 200
"""A timeline with more events than this has a page per year, and its whole page lists the years
instead of every event: thousands of events on one page would weigh megabytes."""


def in_year_pages(model: Model) -> bool:
    """Return whether the timeline is shown a year per page (see YEAR_PAGES_FROM)."""
    return len(model.events) > YEAR_PAGES_FROM


@dataclass(frozen=True)
class Facet:
    """One value to filter the timeline by: a year (on large sites), a person, an agreement or a tag, and its events.

    A filter with more events than YEAR_PAGES_FROM also has a facet per year it has events in (its
    `year` set), each a page of its own: the filter's page lists those years, as the whole timeline
    of a large site lists its own.
    """

    kind: str
    value: str
    events: tuple[Event, ...]
    year: str = ""

    @property
    def key(self) -> tuple[str, ...]:
        """Return the key of the facet's page."""
        return ("timeline", self.kind, self.value, *((self.year,) if self.year else ()))

    @property
    def in_years(self) -> bool:
        """Return whether the facet's page lists its years rather than its events (see YEAR_PAGES_FROM)."""
        return self.kind != "year" and not self.year and len(self.events) > YEAR_PAGES_FROM


_LAST: list = [None, 0, ()]
"""The model last asked about, the size its facets were split at, and its facets: the plan, the
summary and each rendering process ask for them."""


def timeline_facets(model: Model) -> tuple[Facet, ...]:
    """Return every year (on large sites), person, agreement and tag that at least one event has, in display order."""
    if _LAST[0] is model and _LAST[1] == YEAR_PAGES_FROM:
        return _LAST[2]
    facets = _facets_of(model)
    _LAST[:] = [model, YEAR_PAGES_FROM, facets]
    return facets


def facets_kept(model: Model) -> tuple[int, tuple[Facet, ...]]:
    """Return the model's facets with the size they were split at, to keep with the model (see
    `patched_facets`)."""
    return YEAR_PAGES_FROM, timeline_facets(model)


def patched_facets(kept: tuple[int, tuple[Facet, ...]], before: Model, model: Model, edited: Iterable[Entry]) -> bool:
    """Take the facets `kept` of the model `before` (see `facets_kept`) as those of `model`, the same
    model with the `edited` entries' new versions, if the edits leave every facet's events as they were
    (then return True): what `timeline_facets` would compute, without a pass over every event."""
    # Computing them was 0.06-0.09 s of a 10,000-entry site's edit, and the summary of their names
    # as much again (see render.derived_inputs, and what pipeline.keep_model keeps of it).
    size, facets = kept
    if size != YEAR_PAGES_FROM or model.site.tags != before.site.tags:
        return False
    new = {entry.id: entry for entry in edited if isinstance(entry, Event)}
    for entry_id, event in new.items():
        old = before.entries.get(entry_id)
        if not isinstance(old, Event) or _facet_fields(old) != _facet_fields(event):
            return False
    # The order of the events, people and agreements is the order of the facets and of their events.
    for kind in ("events", "people", "agreements"):
        now, was = getattr(model, kind), getattr(before, kind)
        if len(now) != len(was) or list(map(_ID, now)) != list(map(_ID, was)):
            return False
    if new:
        # The facets an edited event is in, by their kind and value: a year (on large sites), its
        # people, agreements and tags (and a large filter's page for its year).
        years = in_year_pages(model)
        holding = {key for event in new.values() for key in _facets_holding(event, years)}
        facets = tuple(
            Facet(facet.kind, facet.value, tuple(new.get(event.id, event) for event in facet.events), facet.year)
            if (facet.kind, facet.value) in holding
            else facet
            for facet in facets
        )
    _LAST[:] = [model, YEAR_PAGES_FROM, facets]
    return True


_ID = operator.attrgetter("id")


def _facet_fields(event: Event) -> tuple:
    # What decides which facets an event is in.
    return (event.date.year, event.people, event.agreements, event.tags)


def _facets_of(model: Model) -> tuple[Facet, ...]:
    # One pass over the events: a pass per person would be quadratic on large sites.
    found: dict[tuple[str, str], list[Event]] = {}
    years = in_year_pages(model)
    for event in model.events:
        for key in _facets_holding(event, years):
            found.setdefault(key, []).append(event)
    order = [
        # Events are in date order, and so are the years.
        *((kind, value) for kind, value in found if kind == "year"),
        *(("person", person.id) for person in model.people),
        *(("agreement", agreement.id) for agreement in model.agreements),
        *(("tag", tag) for tag in model.site.tags),
    ]
    facets = [Facet(kind, value, tuple(found[kind, value])) for kind, value in order if (kind, value) in found]
    # After every filter: the filter lists pick their facets by kind, and leave these out.
    return (*facets, *(part for facet in facets if facet.in_years for part in _by_year(facet)))


def _facets_holding(event: Event, years: bool) -> list[tuple[str, str]]:
    # The kind and value of each facet an event is in, once each: its year (with a page per year),
    # people, agreements and tags.
    keys = [("year", str(event.date.year))] if years else []
    for kind, values in (("person", event.people), ("agreement", event.agreements), ("tag", event.tags)):
        keys += [(kind, value) for value in dict.fromkeys(values)]
    return keys


def _by_year(facet: Facet) -> list[Facet]:
    years: dict[str, list[Event]] = {}
    for event in facet.events:
        years.setdefault(str(event.date.year), []).append(event)
    return [Facet(facet.kind, facet.value, tuple(events), year) for year, events in years.items()]


def facet_summary(model: Model) -> tuple:
    """Return what every filtered timeline shows of all facets: their names and which events each has."""
    return tuple(
        (
            facet.kind,
            facet.value,
            facet.year,
            repr(_facet_name(model, facet)),
            tuple(sorted(event.id for event in facet.events)),
        )
        for facet in timeline_facets(model)
    )


def _facet_name(model: Model, facet: Facet) -> object:
    if facet.kind == "year":
        return facet.value
    if facet.kind == "tag":
        return model.site.tags[facet.value]
    return model.entries[facet.value].label()


# The overview chart, in the SVG's own units.
WIDTH = 720
"""The chart's width, drawn across the column (and scrolled on a phone), unless it is narrow."""
NARROW = 340
"""A chart whose periods fit this width (three of them at most) is drawn at its own size: a phone shows it whole."""
PERIOD_WIDTH = 85
"""The width a period takes in a narrow chart: room for its label and marks."""
AXIS_Y = 70
GAP = 28
PAD = 10
STEP = 14


@dataclass(frozen=True)
class Band:
    """A stretch of the overview's axis: one year, or one month of a dense year."""

    year: int
    month: int
    x: float
    width: float
    broken_before: bool


@dataclass(frozen=True)
class Mark:
    """An event's place on the overview."""

    event: Event
    x: float
    y: float


@dataclass(frozen=True)
class Overview:
    """The overview chart's layout: bands along a broken axis, and one mark per event."""

    width: int
    height: int
    axis_y: float
    bands: tuple[Band, ...]
    marks: tuple[Mark, ...]

    @property
    def narrow(self) -> bool:
        """Return whether the chart is drawn at its own size rather than across the column."""
        return self.width < WIDTH


def lay_out_overview(groups: tuple[YearGroup, ...]) -> Overview:
    """Place every event on an axis broken between the periods that have events.

    Each band's width grows with its number of events, so that a dense month is as readable as a
    sparse decade; where time is skipped, the axis is broken.
    """
    periods: list[tuple[int, int, tuple[Event, ...]]] = []
    for group in groups:
        if group.by_month:
            periods += [(group.year, month.month, month.events) for month in group.months]
        else:
            periods.append((group.year, 0, group.months[0].events))
    if not periods:
        return Overview(WIDTH, AXIS_Y + 40, AXIS_Y, (), ())
    weights = [1 + len(events) for _, _, events in periods]
    chart_width = 2 * PAD + PERIOD_WIDTH * len(periods) + GAP * (len(periods) - 1)
    chart_width = chart_width if chart_width <= NARROW else WIDTH
    usable = chart_width - 2 * PAD - GAP * (len(periods) - 1)
    bands, marks = [], []
    x = PAD
    top = AXIS_Y
    previous = None
    for (year, month, events), weight in zip(periods, weights, strict=True):
        width = usable * weight / sum(weights)
        bands.append(Band(year, month, x, width, previous is not None and not _adjacent(previous, (year, month))))
        taken: list[float] = []
        for event in events:
            mark_x = x + PAD + _fraction(event, month) * max(width - 2 * PAD, 0)
            level = sum(1 for other in taken if abs(other - mark_x) < STEP)
            taken.append(mark_x)
            mark_y = AXIS_Y - 14 - level * STEP
            top = min(top, mark_y)
            marks.append(Mark(event, round(mark_x, 1), mark_y))
        x += width + GAP
        previous = (year, month)
    # Stacked marks must stay inside the picture: shift everything down by what rose above the top.
    shift = max(0, 12 - top)
    return Overview(
        chart_width,
        AXIS_Y + shift + 34,
        AXIS_Y + shift,
        tuple(Band(b.year, b.month, round(b.x, 1), round(b.width, 1), b.broken_before) for b in bands),
        tuple(Mark(m.event, m.x, m.y + shift) for m in marks),
    )


def _adjacent(previous: tuple[int, int], current: tuple[int, int]) -> bool:
    (year, month), (next_year, next_month) = previous, current
    if month and next_month:
        return (next_year * 12 + next_month) - (year * 12 + month) == 1
    if not month and not next_month:
        return next_year - year == 1
    return False


def _fraction(event: Event, band_month: int) -> float:
    date = event.date
    if band_month:
        if not date.day:
            return 0.5
        return (date.day - 1) / max(calendar.monthrange(date.year, date.month)[1] - 1, 1)
    if not date.month:
        return 0.5
    return (date.month - 1 + ((date.day - 1) / 31 if date.day else 0.5)) / 12
