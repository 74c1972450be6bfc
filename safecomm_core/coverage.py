"""Traceability: which commands, and which events, serve each measure of the plan.

The plan's measures are data here (:data:`PLAN_MEASURES`, listed in docs/domain.md). Each
command class names the measures it serves (``SERVES``); :func:`coverage` turns that into
the matrix plan measure × commands × events that ``safecomm coverage`` prints, and names
any measure no command serves.

How a command is tied to its records, and so to their events: a command's ``run`` names the
aggregate classes it loads or creates (``ctx.load(Survey, …)``, ``Survey(…)``), so its
records are the registered aggregates (``KINDS``) among the names its code uses, following
the command module's own helper functions and methods that ``run`` calls. Should none be
named even so, the command gets every aggregate its module imports. This asks nothing of
the command classes beyond what they already are, and finds a command that writes two
records (an on-site mediation opens a Dispute from a Patrol). It over-reports in one way,
on purpose: a record the command only reads (a network consulted to address an alert) is
listed too, since the command rests on its facts.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from types import CodeType, FunctionType
from typing import Any

import attrs

# Importing the package registers every command type.
from safecomm_core.commands import COMMANDS, Command
from safecomm_core.domain.base import KINDS, Record

__all__ = [
    "PLAN_MEASURES",
    "CommandTrace",
    "Coverage",
    "MeasureTrace",
    "PlanMeasure",
    "command_records",
    "coverage",
    "record_events",
]


@attrs.frozen
class PlanMeasure:
    """A measure of the plan: its id (M…, P…, S…) and a short English title."""

    id: str
    title: str


#: Every measure of the plan (docs/domain.md, *Plan measures*), in the plan's order.
PLAN_MEASURES: tuple[PlanMeasure, ...] = (
    PlanMeasure("M1.1", "Legal publicity"),
    PlanMeasure("M1.2", "Joint reception and mediation room"),
    PlanMeasure("M1.3", "Patrols and on-the-spot mediation"),
    PlanMeasure("M1.4", "Legal aid"),
    PlanMeasure("M1.5", "Anti-fraud publicity"),
    PlanMeasure("M2.1", "Technical prevention: anti-theft devices"),
    PlanMeasure("M2.2", "Physical prevention: parking lots and gatehouses"),
    PlanMeasure("M2.3", "Mass prevention and the linkage network"),
    PlanMeasure("M2.4", "Warning platform"),
    PlanMeasure("M3.1", "Know who is here: registration and permits"),
    PlanMeasure("M3.2", "Protect migrant workers' rights"),
    PlanMeasure("M3.3", "Equal public services (3 years' residence)"),
    PlanMeasure("M3.4", "Culture and education"),
    PlanMeasure("M3.5", "Neighbourhood integration"),
    PlanMeasure("P1", "Launch: diagnosis, goals, plan"),
    PlanMeasure("P2", "Publicity and mobilisation"),
    PlanMeasure("P3", "Advancement: projects fixed and carried out"),
    PlanMeasure("P4", "Training, guidance and mid-term review"),
    PlanMeasure("P5", "Building and upgrading"),
    PlanMeasure("P6", "Evaluation: self-assessment and evidence"),
    PlanMeasure("P7", "Provincial inspection"),
    PlanMeasure("S1", "Monthly meetings under the promotion committee"),
    PlanMeasure("S2", "Publicity months and safety education"),
    PlanMeasure("S3", "Legal knowledge for everyone"),
    PlanMeasure("S4", "Media, schools, training; cautionary education"),
    PlanMeasure("S5", "Acts of bravery publicised"),
    PlanMeasure("S6", "Awareness, participation and satisfaction rates"),
)


@attrs.frozen
class CommandTrace:
    """One command serving a measure: its type, class, records and their events.

    ``records`` and ``events`` are stored names (``TOPIC`` s), which never change.
    """

    type: str
    command: str
    records: tuple[str, ...]
    events: tuple[str, ...]


@attrs.frozen
class MeasureTrace:
    """One plan measure and every command that serves it (none: not covered)."""

    measure: str
    title: str
    commands: tuple[CommandTrace, ...]


@attrs.frozen
class Coverage:
    """The matrix plan measure × commands × events."""

    measures: tuple[MeasureTrace, ...]
    #: ``(command type, measure id)`` where a command serves an id the plan does not have.
    unplanned: tuple[tuple[str, str], ...]

    @property
    def missing(self) -> tuple[str, ...]:
        """The measures no command serves."""
        return tuple(m.measure for m in self.measures if not m.commands)


def coverage(commands: Mapping[str, type[Command]] | None = None) -> Coverage:
    """The coverage of the plan by ``commands`` (default: every registered command)."""
    if commands is None:
        commands = COMMANDS
    traces = {type_: _trace(type_, cls) for type_, cls in sorted(commands.items())}
    planned = {m.id for m in PLAN_MEASURES}
    measures = tuple(
        MeasureTrace(
            m.id,
            m.title,
            tuple(traces[t] for t in sorted(commands) if m.id in commands[t].SERVES),
        )
        for m in PLAN_MEASURES
    )
    unplanned = tuple(
        (t, s) for t in sorted(commands) for s in commands[t].SERVES if s not in planned
    )
    return Coverage(measures, unplanned)


def command_records(cls: type[Command]) -> tuple[type[Record], ...]:
    """The aggregate classes a command works on (see the module's docstring for how)."""
    module = vars(sys.modules[cls.__module__])
    aggregates = set(KINDS.values())

    def named(names: Iterable[str]) -> tuple[type[Record], ...]:
        found = {module[n] for n in names if isinstance(module.get(n), type)} & aggregates
        return tuple(sorted(found, key=lambda r: r.KIND))

    return named(_names(cls, cls.run)) or named(module)


def record_events(cls: type[Record]) -> tuple[type[Record.Event], ...]:
    """The events an aggregate class defines (its own and inherited), in their order."""
    found: list[type[Record.Event]] = []
    for klass in reversed(cls.__mro__):
        if not (isinstance(klass, type) and issubclass(klass, Record)) or klass is Record:
            continue
        for name, value in vars(klass).items():
            if _is_event(klass, name, value) and value not in found:
                found.append(value)
    return tuple(found)


def _is_event(klass: type[Record], name: str, value: Any) -> bool:
    if name == "Event" or not (isinstance(value, type) and issubclass(value, Record.Event)):
        return False
    # Record gives every aggregate a generic "Created" under a stored name; ours create
    # with their own first event, so that one is never emitted.
    return getattr(value, "TOPIC", None) != f"{klass.TOPIC}.Created"  # type: ignore[attr-defined]


def _names(cls: type[Command], func: Any) -> set[str]:
    """The global and attribute names ``func`` uses, following the command module's own
    helpers (``_worker(ctx, …)``, ``self._load(…)``) so that delegating finds the records."""
    module = vars(sys.modules[cls.__module__])
    names: set[str] = set()
    todo = [func.__code__]
    seen: set[CodeType] = set()
    while todo:
        code = todo.pop()
        if code in seen:
            continue
        seen.add(code)
        names.update(code.co_names)
        # comprehensions and lambdas inside the function
        todo.extend(c for c in code.co_consts if isinstance(c, CodeType))
        for name in code.co_names:
            helper = module.get(name) or getattr(cls, name, None)
            helper = getattr(helper, "__func__", helper)  # class and static methods
            if isinstance(helper, FunctionType) and helper.__module__ == cls.__module__:
                todo.append(helper.__code__)
    return names


def _topic(cls: type) -> str:
    return str(getattr(cls, "TOPIC", None) or f"{cls.__module__}:{cls.__qualname__}")


def _trace(type_: str, cls: type[Command]) -> CommandTrace:
    records = command_records(cls)
    return CommandTrace(
        type=type_,
        command=cls.__name__,
        records=tuple(_topic(r) for r in records),
        events=tuple(_topic(e) for r in records for e in record_events(r)),
    )
