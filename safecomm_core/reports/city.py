"""The city's monthly report: every subdistrict's figures rolled up from its own views.

::

    from safecomm_core.city import City
    from safecomm_core.reports.city import city_report

    city = City.from_file("city.toml")
    report = city_report(city, "2014-03")              # the city (*) and each subdistrict
    one = city_report(city, "2014-03", scope="S01")     # one subdistrict, by community

Each subdistrict's store is opened in turn, its views caught up and read, and what the city
needs of its monthly report is kept (:class:`Part`) before the next is opened: one
subdistrict's rows are in memory at a time. The roll-up is exact:

- a **figure** of the city sums the subdistricts' counted things: Σ numerators / Σ
  denominators, never an average of rates; a median or 90th percentile is taken over every
  subdistrict's measured values; a change is Σ now − Σ before over Σ before. Each
  subdistrict's figure (scope ``S01``) is the one its own report gives for ``*``. A
  subdistrict whose figure counts something but has no denominator (people named, cases
  reported, with no population recorded) makes the city's figure not applicable, as a
  community does for its subdistrict. The definition version and the reading are the
  subdistricts' own: one when they agree, each with the subdistricts it holds for otherwise;
- **provenance** (:func:`explain_city`) lists the events behind a city's figure, each
  naming its subdistrict (:attr:`~safecomm_core.reports.counting.EventRef.subdistrict`),
  whose store holds it;
- **sections** sum each subdistrict's counts, a row per subdistrict (by kind for disputes,
  by category for police cases), and suppression (:mod:`~safecomm_core.reports.disclosure`)
  is applied to the sums; targets and dead letters are listed per subdistrict;
- **series** are the city's and each subdistrict's, month by month, from the earliest
  first month of any subdistrict;
- **dead letters** are summed and listed per subdistrict; the **notes** say what was
  combined;
- the report's scope ``*`` is the city (:attr:`~safecomm_core.reports.model.Report.whole`
  ``"city"``), which renderers name "全市" / "City".

The same roll-up replays each subdistrict's log instead of reading its live views
(:func:`rollup` with another :data:`Views`; :mod:`safecomm_core.audit.report_replay`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Protocol, TypeVar

import attrs

from safecomm_core.city import City, Subdistrict
from safecomm_core.dates import Month
from safecomm_core.errors import FieldError, InvalidCommand, StoreError
from safecomm_core.projections.runner import Projector
from safecomm_core.reports.counting import Counted, EventRef, Tally, events_of, measure
from safecomm_core.reports.disclosure import suppress
from safecomm_core.reports.indicators import DEFINITIONS
from safecomm_core.reports.model import Cell, Column, Figure, Report, Section, Series
from safecomm_core.reports.monthly import (
    MAX_SERIES_MONTHS,
    SERIES_INDICATORS,
    _median,
    _notes,
    _report,
    _Sections,
    applies,
    figure_for,
)
from safecomm_core.reports.provenance import Explanation, report_of
from safecomm_core.reports.reading import caught_up, dead_letters, read_views
from safecomm_core.reports.register import PROJECTIONS, Extent, Register, load, read_register
from safecomm_core.service import Safecomm

__all__ = ["Part", "Views", "city_report", "explain_city", "live_views", "rollup"]

T = TypeVar("T")


class Views(Protocol):
    """How a roll-up reads a subdistrict: runs ``build`` on a projector of its monthly
    report's views (live and caught up, or replayed) and gives back what it returned."""

    def __call__(self, sub: Subdistrict, build: Callable[[Projector], T], /) -> T: ...


Cells = tuple[Cell, ...]


def live_views(sub: Subdistrict, build: Callable[[Projector], T]) -> T:
    """``build`` on the subdistrict's live views, caught up first (they are written to).

    A store that cannot be opened raises :class:`~safecomm_core.errors.StoreError` naming
    the subdistrict; a SQLite file that does not exist is not created.
    """
    with opened(sub) as service, caught_up(service, PROJECTIONS) as projector:
        return build(projector)


@contextmanager
def opened(sub: Subdistrict) -> Iterator[Safecomm]:
    """The subdistrict's store, open; :class:`StoreError` naming it if it cannot be."""
    from safecomm_core.application import open_store
    from safecomm_core.store import parse_store_url

    try:
        # A store that is not there is not made (as opening it would): its URL is wrong.
        service = open_store(sub.store) if parse_store_url(sub.store).exists() else None
    except StoreError as exc:
        raise StoreError(
            f"subdistrict {sub.id}: {exc.message}", field=f"{sub.id}.store", rule="must open"
        ) from exc
    if service is None:
        raise StoreError(
            f"subdistrict {sub.id}: no store at {sub.display!r}",
            field=f"{sub.id}.store",
            rule="must exist",
        )
    with service:
        yield service


def city_report(
    city: City,
    period: str | None = None,
    scope: str = "*",
    *,
    generated_at: datetime | None = None,
) -> Report:
    """The city's monthly report for ``period`` (``YYYY-MM``; default: the latest month with
    events in any subdistrict) and ``scope``: ``*`` for the city with every subdistrict as a
    scope beside it, or one subdistrict's id for its own report (its figures under its id,
    its communities' rows in the sections; by default its own latest month).

    Every subdistrict's views are caught up first (a side effect, as for
    :func:`~safecomm_core.reports.monthly.monthly_report`).
    """
    return rollup(city, live_views, period, scope, generated_at=generated_at)


@attrs.frozen
class Part:
    """What the city's report keeps of one subdistrict's monthly report."""

    sub: Subdistrict
    month: Month
    #: The latest month with a fact the report counts (None: none yet).
    latest: Month | None
    #: The first month of the subdistrict's own activity (None: none yet).
    first: Month | None
    #: The first month its series run from.
    start: Month
    #: Each indicator's tally for the subdistrict (its ``*``) for the month, every counted
    #: thing in the subdistrict's name and every event naming it.
    tallies: dict[str, Tally]
    #: The indicators its own report gives (see :func:`~safecomm_core.reports.monthly.applies`).
    given: frozenset[str]
    #: Each indicator's (definition version, reading) as its own report gives them.
    labels: dict[str, tuple[str, str]]
    #: (indicator, month) → the subdistrict's tally, reduced to what its value needs.
    series: dict[tuple[str, str], Tally]
    #: Its sections for ``*``, before suppression.
    sections: tuple[Section, ...]
    #: Hours each question asked in the month took to answer (for the city's medians).
    hours: tuple[float, ...]
    dead_letters: int
    #: Dead letters by view: (view, events, event types).
    letters: tuple[Cells, ...]
    notes: tuple[str, ...]


class _Counts(_Sections):
    """A subdistrict's sections with every count shown: the city suppresses its sums."""

    def disclose(self, rows: Sequence[Cells], counts: Sequence[int]) -> tuple[Cells, ...]:
        return tuple(rows)


def part_of(
    sub: Subdistrict, projector: Projector, month: Month | None, start: Month | None
) -> Part:
    """What the city keeps of ``sub``'s report for ``month`` (default: its latest), series
    from ``start`` (default: its own first month, at most
    :data:`~safecomm_core.reports.monthly.MAX_SERIES_MONTHS` back)."""
    # As the monthly report reads: each month cut to its rows, in one read transaction.
    with read_views(projector, PROJECTIONS) as read:
        extent = Extent.read(read)
        latest = extent.latest_month
        month = month or latest or Month.of(datetime.now(UTC))
        first = extent.first_month
        start = start or max(first or month, month.shift(1 - MAX_SERIES_MONTHS))
        series: dict[tuple[str, str], Tally] = {}
        for m in month.since(start):
            if m != month:
                cut = read_register(read, m, extent)
                found = {i: DEFINITIONS[i].compute(cut, m) for i in SERIES_INDICATORS}
                for i in SERIES_INDICATORS:
                    series[i, str(m)] = _reduced(DEFINITIONS[i].kind, found[i].scoped("*"), sub.id)
        reg = read_register(read, month, extent)
    tag = _Tagger(sub.id)
    now = {i: d.compute(reg, month) for i, d in DEFINITIONS.items()}
    labels = {
        i: (d.version_label(reg, month, "*"), d.reading_label(reg, month, "*"))
        for i, d in DEFINITIONS.items()
    }
    if start <= month:
        for i in SERIES_INDICATORS:
            series[i, str(month)] = _reduced(DEFINITIONS[i].kind, now[i].scoped("*"), sub.id)
    communities = list(extent.communities)
    targeted = {(t["indicator"], t["community"]) for t in reg.targets}
    figures = [
        figure_for(DEFINITIONS[i], now[i], month, c, reg)
        for i, c in sorted(targeted)
        if i in now and applies(DEFINITIONS[i], reg)
    ]
    sections = _Counts(reg, month, "*", communities, figures, projector).all()
    letters = next(s for s in sections if s.id == "dead_letters").rows
    return Part(
        sub=sub,
        month=month,
        latest=latest,
        first=first,
        start=start,
        tallies={i: tag.tally(t.scoped("*")) for i, t in now.items()},
        given=frozenset(i for i, d in DEFINITIONS.items() if applies(d, reg)),
        labels=labels,
        series=series,
        sections=sections,
        hours=_hours(reg, month),
        dead_letters=dead_letters(projector, PROJECTIONS),
        letters=letters,
        notes=tuple(_notes(reg, month, ["*"], communities)),
    )


def _hours(reg: Register, month: Month) -> tuple[float, ...]:
    """Hours to answer each question asked in ``month`` and answered (as the broadcasts
    section measures them)."""
    return tuple(
        (q["answered_at"] - q["asked_at"]).total_seconds() / 3600
        for q in reg.questions
        if q["asked_on"] in month and q["answered_at"] is not None
    )


class _Tagger:
    """Counted things of one subdistrict, renamed to it, their events naming it."""

    def __init__(self, sub: str) -> None:
        self.sub = sub
        self.events: dict[EventRef, EventRef] = {}
        self.items: dict[int, Counted] = {}

    def event(self, e: EventRef) -> EventRef:
        found = self.events.get(e)
        if found is None:
            found = self.events[e] = attrs.evolve(e, subdistrict=self.sub)
        return found

    def item(self, c: Counted) -> Counted:
        found = self.items.get(id(c))
        if found is None:
            events = tuple(map(self.event, c.events))
            found = self.items[id(c)] = Counted(self.sub, events, c.weight, c.value)
        return found

    def tally(self, t: Tally) -> Tally:
        return Tally(tuple(map(self.item, t.numerator)), tuple(map(self.item, t.denominator)))


def _reduced(kind: str, t: Tally, sub: str) -> Tally:
    """``t`` as little as its value needs: sums for a rate or a change, values otherwise."""
    if kind in ("rate", "change"):
        num = sum((c.weight for c in t.numerator), 0.0)
        den = sum((c.weight for c in t.denominator), 0.0)
        return Tally(
            (Counted(sub, (), num),) if t.numerator else (),
            (Counted(sub, (), den),) if t.denominator else (),
        )
    return Tally((), tuple(Counted(sub, (), value=c.value) for c in t.denominator))


def combined(kind: str, each: Iterable[Tally]) -> Tally:
    """The city's tally: every subdistrict's counted things together. A rate or a change
    with a subdistrict that counts something but has no denominator has none."""
    parts = list(each)
    numerator = tuple(c for t in parts for c in t.numerator)
    denominator = tuple(c for t in parts for c in t.denominator)
    if kind in ("rate", "change") and any(t.numerator and not t.denominator for t in parts):
        denominator = ()
    return Tally(numerator, denominator)


def rollup(
    city: City,
    views: Views,
    period: str | None = None,
    scope: str = "*",
    *,
    generated_at: datetime | None = None,
) -> Report:
    """The city's report (see :func:`city_report`), each subdistrict read by ``views``."""
    generated_at = generated_at or datetime.now(UTC)
    if scope != "*":
        sub = city.subdistrict(scope)
        return views(sub, lambda projector: _one(city, sub, projector, period, generated_at))
    parts = _parts(city, views, Month.parse(period) if period else None)
    return _Rollup(city, parts).report(generated_at)


def _parts(city: City, views: Views, month: Month | None) -> list[Part]:
    """Each subdistrict's part, all for the same month and with series from the same start:
    a subdistrict read for another month or a later start is read again."""
    parts: dict[str, Part] = {}
    start: Month | None = None
    while True:
        for sub in city.subdistricts:
            had = parts.get(sub.id)
            if had is None or (month and had.month != month) or (start and had.start != start):

                def build(
                    projector: Projector,
                    sub: Subdistrict = sub,
                    month: Month | None = month,
                    start: Month | None = start,
                ) -> Part:
                    return part_of(sub, projector, month, start)

                parts[sub.id] = views(sub, build)
        latest = [p.latest for p in parts.values() if p.latest is not None]
        month = month or max(latest, default=Month.of(datetime.now(UTC)))
        firsts = [p.first for p in parts.values() if p.first is not None]
        start = max(min(firsts, default=month), month.shift(1 - MAX_SERIES_MONTHS))
        if all(p.month == month and p.start == start for p in parts.values()):
            return [parts[id] for id in city.ids]


def _one(
    city: City, sub: Subdistrict, projector: Projector, period: str | None, generated_at: datetime
) -> Report:
    """One subdistrict's own report, its figures and series named by its id."""
    own = _report(projector, period, "*", generated_at)

    def named(scope: str) -> str:
        return sub.id if scope == "*" else f"{sub.id}/{scope}"

    return attrs.evolve(
        own,
        zh=f"{city.name} {sub.name} 月度社会治安报告",
        en=f"Monthly public-order report, {sub.name} ({city.name})",
        scope=sub.id,
        figures=tuple(attrs.evolve(f, scope=named(f.scope)) for f in own.figures),
        series=tuple(attrs.evolve(s, scope=named(s.scope)) for s in own.series),
        notes=(
            f"{city.name} 的 {sub.id} {sub.name}: 社区范围记为 {sub.id}/社区。 Subdistrict "
            f"{sub.id} ({sub.name}) of {city.name}; its communities' scopes read {sub.id}/C.",
            *own.notes,
        ),
    )


def _figure(
    indicator: str, tally: Tally, month: Month, scope: str, labels: dict[str, tuple[str, str]]
) -> Figure:
    """The figure of ``indicator`` for ``scope`` from the roll-up's ``tally``, labelled by
    the (definition version, reading) of each subdistrict it counts."""
    definition = DEFINITIONS[indicator]
    numerator, denominator, value = measure(definition.kind, tally)
    return Figure(
        id=indicator,
        numerator=numerator,
        denominator=denominator,
        value=value,
        period=str(month),
        scope=scope,
        definition_version=_label({s: v for s, (v, _) in labels.items()}),
        basis=definition.basis,
        reading=_label({s: r for s, (_, r) in labels.items()}),
    )


def _label(values: dict[str, str]) -> str:
    """One label when every subdistrict's is the same; else each with its subdistricts."""
    distinct = dict.fromkeys(values.values())
    if len(distinct) == 1:
        return next(iter(distinct))
    return "; ".join(
        f"{value or '-'} ({', '.join(s for s, v in values.items() if v == value)})"
        for value in distinct
    )


#: The subdistrict column that takes the community's place in the city's sections.
_SUBDISTRICT = Column("subdistrict", "街道", "Subdistrict")

#: The sections whose rows are listed per subdistrict rather than summed.
_LISTED = ("targets", "dead_letters")

#: The count columns of the sections the monthly report suppresses (by section id).
_SUPPRESSED = {
    "disputes_by_kind": range(1, 7),
    "disputes_by_community": range(1, 7),
    "registrations": range(1, 12),
}

#: Columns that are neither names nor counts: themes (``t×n; …``) are merged, a median of
#: hours is taken again over the subdistrict's questions.
_THEMES, _HOURS = "themes", "hours_to_answer"

#: What a section's cells are keyed by (the others are summed): its columns of names.
_NAMES = ("kind", "community", "area", "week", "category")


class _Rollup:
    """The city's report from its subdistricts' parts."""

    def __init__(self, city: City, parts: list[Part]) -> None:
        self.city = city
        self.parts = parts
        self.month = parts[0].month
        self.start = parts[0].start

    def report(self, generated_at: datetime) -> Report:
        figures = tuple(self.figures())
        return Report(
            kind="monthly",
            zh=f"{self.city.name} 月度社会治安报告(全市汇总)",
            en=f"Monthly public-order report, {self.city.name} (city roll-up)",
            period=str(self.month),
            scope="*",
            generated_at=generated_at,
            figures=figures,
            sections=tuple(self.sections()),
            series=tuple(self.series()),
            dead_letters=sum(p.dead_letters for p in self.parts),
            notes=tuple(self.notes()),
            whole="city",
        )

    def indicators(self) -> list[str]:
        """The indicators some subdistrict's report gives, in report order."""
        return [i for i in DEFINITIONS if any(i in p.given for p in self.parts)]

    def figures(self) -> Iterator[Figure]:
        for i in self.indicators():
            kind = DEFINITIONS[i].kind
            tally = combined(kind, (p.tallies[i] for p in self.parts))
            labels = {p.sub.id: p.labels[i] for p in self.parts}
            yield _figure(i, tally, self.month, "*", labels)
            for p in self.parts:
                if i in p.given:
                    yield _figure(i, p.tallies[i], self.month, p.sub.id, {p.sub.id: p.labels[i]})

    def series(self) -> Iterator[Series]:
        months = [str(m) for m in self.month.since(self.start)]
        for i in SERIES_INDICATORS:
            if i not in self.indicators():
                continue
            kind = DEFINITIONS[i].kind
            yield Series(
                indicator=i,
                scope="*",
                points=tuple(
                    (m, measure(kind, combined(kind, (p.series[i, m] for p in self.parts)))[2])
                    for m in months
                ),
            )
            for p in self.parts:
                yield Series(
                    indicator=i,
                    scope=p.sub.id,
                    points=tuple((m, measure(kind, p.series[i, m])[2]) for m in months),
                )

    # -- sections ---------------------------------------------------------------------

    def sections(self) -> Iterator[Section]:
        for first in self.parts[0].sections:
            found = [next(s for s in p.sections if s.id == first.id) for p in self.parts]
            if first.id in _LISTED:
                yield attrs.evolve(
                    first,
                    columns=(_SUBDISTRICT, *first.columns),
                    rows=tuple(
                        (p.sub.id, *row)
                        for p, section in zip(self.parts, found, strict=True)
                        for row in section.rows
                    ),
                )
            else:
                yield self._summed(first, found)

    def _summed(self, first: Section, found: list[Section]) -> Section:
        keys = [c.key for c in first.columns]
        names = [n for n, key in enumerate(keys) if key in _NAMES]
        sums: dict[Cells, list[Cell]] = {}
        themes: dict[Cells, Counter[str]] = defaultdict(Counter)
        for p, section in zip(self.parts, found, strict=True):
            for row in section.rows:
                cells = [p.sub.id if keys[n] == "community" else row[n] for n in range(len(row))]
                key = tuple(cells[n] for n in names)
                had = sums.setdefault(key, [c if n in names else None for n, c in enumerate(cells)])
                for n, cell in enumerate(cells):
                    if n in names:
                        continue
                    if keys[n] == _THEMES:
                        themes[key].update(_themes(cell))
                    elif keys[n] == _HOURS:
                        had[n] = _median(p.hours)
                    else:
                        had[n] = _add(had[n], cell)
        rows: list[Cells] = []
        for key, cells in sorted(sums.items(), key=lambda item: tuple(map(str, item[0]))):
            if _THEMES in keys:
                cells[keys.index(_THEMES)] = "; ".join(
                    f"{t}×{n}" for t, n in sorted(themes[key].items())
                )
            rows.append(tuple(cells))
        columns = tuple(_SUBDISTRICT if c.key == "community" else c for c in first.columns)
        section = attrs.evolve(first, columns=columns, rows=tuple(rows))
        if first.id == "disputes_by_community":
            section = attrs.evolve(
                section,
                id="disputes_by_subdistrict",
                zh="矛盾纠纷(按街道)",
                en="Disputes by subdistrict",
            )
        counts = _SUPPRESSED.get(first.id)
        return section if counts is None else attrs.evolve(section, rows=suppress(rows, counts))

    # -- notes ------------------------------------------------------------------------

    def notes(self) -> Iterator[str]:
        named = ", ".join(f"{p.sub.id} {p.sub.name}" for p in self.parts)
        yield (
            f"全市汇总 {len(self.parts)} 个街道的视图: {named}。"
            "各指标的分子、分母相加(不平均比率)，中位数与第90百分位数按全部街道的数值计算;"
            " 范围 * 为全市。"
            f" The city rolls up {len(self.parts)} subdistricts' views: {named}. Each figure "
            "sums the subdistricts' numerators and denominators (rates are never averaged); "
            "medians and 90th percentiles are taken over every subdistrict's values; scope * "
            "is the city, each subdistrict's figure is its own report's."
        )
        yield (
            "问卷指标按各街道最近一轮调查汇总; 有分子而无分母(未记录人口)的街道使全市该指标不适用。"
            " Survey figures add up each subdistrict's reading of its latest wave; a "
            "subdistrict that counts something with no denominator (no population recorded) "
            "leaves the city's figure not applicable."
        )
        shared = set.intersection(*(set(p.notes) for p in self.parts))
        yield from (n for n in self.parts[0].notes if n in shared)
        for p in self.parts:
            for note in p.notes:
                if note not in shared:
                    yield f"{p.sub.id}: {note}"


def _add(total: Cell, cell: Cell) -> Cell:
    """Two counts added (a missing figure, None, adds nothing)."""
    if cell is None or isinstance(cell, str):
        return total
    if total is None or isinstance(total, str):
        return cell
    added = total + cell
    return round(added, 1) if isinstance(added, float) else added


def _themes(cell: Cell) -> Counter[str]:
    """``theme×n; …`` (the campaigns section's cell) as counts."""
    found: Counter[str] = Counter()
    for part in str(cell or "").split("; "):
        theme, _, n = part.rpartition("×")
        if theme:
            found[theme] += int(n)
    return found


# -- provenance ------------------------------------------------------------------------


def explain_city(
    city: City, indicator: str, period: str, scope: str = "*", *, views: Views = live_views
) -> Explanation:
    """The events behind the city's figure ``indicator`` for ``period`` (``YYYY-MM``) and
    ``scope`` (``*``: the city; a subdistrict's id), each event naming its subdistrict."""
    if report_of(indicator) != "monthly":
        raise _not_monthly(indicator)
    definition = DEFINITIONS[indicator]
    month = Month.parse(period)
    chosen = city.subdistricts if scope == "*" else (city.subdistrict(scope),)
    labels: dict[str, tuple[str, str]] = {}

    def tally_of(sub: Subdistrict) -> Callable[[Projector], Tally]:
        def build(projector: Projector) -> Tally:
            reg = load(projector, month)
            labels[sub.id] = (
                definition.version_label(reg, month, "*"),
                definition.reading_label(reg, month, "*"),
            )
            return _Tagger(sub.id).tally(definition.compute(reg, month).scoped("*"))

        return build

    tally = combined(definition.kind, (views(sub, tally_of(sub)) for sub in chosen))
    return Explanation(
        figure=_figure(indicator, tally, month, scope, labels),
        definition=definition.doc,
        numerator=tuple(_in_city_order(city, tally.numerator)),
        denominator=tuple(_in_city_order(city, tally.denominator)),
    )


def _in_city_order(city: City, items: Sequence[Counted]) -> list[EventRef]:
    order = {id: n for n, id in enumerate(city.ids)}
    return sorted(events_of(items), key=lambda e: (order[e.subdistrict], e))


def _not_monthly(indicator: str) -> InvalidCommand:
    return InvalidCommand(
        [FieldError("indicator", f"{indicator} is not a monthly figure: a city explains those")]
    )
