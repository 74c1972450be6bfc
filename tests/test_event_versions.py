"""Changing an event's fields without editing history: the example of docs/howto.md.

An event stored by an earlier version has the fields it had then. When a field is added,
the new code must still load the old events: either the field has a default (on the event
and on the ``@event`` method's parameter), or the event class gets ``class_version = 2``
and an ``upcast_v1_v2`` that fills the field in the old state before it is decoded.

The record here is a small one of its own (not a safecomm ``Record``, so that nothing is
added to the registry of kinds the other tests read); its events are declared as safecomm
declares them, with a stable ``TOPIC`` each.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import StoredEvent

NOTED = "safecomm-test/Notebook/Noted"


class Notebook(Aggregate):
    """A notebook whose notes gained a ``colour`` in their second version."""

    TOPIC = "safecomm-test/Notebook"

    class Created(Aggregate.Created):
        TOPIC = "safecomm-test/Notebook/Created"

    class Opened(Aggregate.Created):
        TOPIC = "safecomm-test/Notebook/Opened"
        title: str

    class Noted(Aggregate.Event):
        TOPIC = NOTED
        class_version = 2
        text: str
        colour: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # Version 1 had no colour; every note it stored was written in black.
            state["colour"] = "black"

    @event(Opened)
    def __init__(self, *, title: str) -> None:
        self.title = title
        self.notes: list[tuple[str, str]] = []

    @event(Noted)
    def _noted(self, *, text: str, colour: str) -> None:
        self.notes.append((text, colour))

    def note(self, text: str, colour: str) -> None:
        """Decide (nothing to check here), then apply."""
        self._noted(text=text, colour=colour)


@pytest.fixture
def app() -> Iterator[Application[Any]]:
    application: Application[Any] = Application(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    yield application
    application.close()


def _stored(app: Application[Any], notebook: Notebook) -> list[StoredEvent]:
    return list(app.recorder.select_events(notebook.id))


def _as_version_1(stored: StoredEvent, version: int) -> StoredEvent:
    """The note as version 1 stored it: no colour, no class version."""
    state = json.loads(stored.state)
    assert state.pop("class_version") == 2
    del state["colour"]
    return StoredEvent(
        originator_id=stored.originator_id,
        originator_version=version,
        topic=stored.topic,
        state=json.dumps(state, separators=(",", ":")).encode(),
    )


def test_version_2_stores_its_class_version_and_the_new_field(app: Application[Any]) -> None:
    notebook = Notebook(title="patrol log")
    notebook.note("gate 3 locked", colour="red")
    app.save(notebook)
    noted = json.loads(_stored(app, notebook)[1].state)
    assert noted["class_version"] == 2
    assert noted["colour"] == "red"
    assert app.repository.get(notebook.id).notes == [("gate 3 locked", "red")]


def test_a_version_1_note_loads_through_the_upcaster(app: Application[Any]) -> None:
    notebook = Notebook(title="patrol log")
    notebook.note("gate 3 locked", colour="red")
    app.save(notebook)
    _opened, noted = _stored(app, notebook)
    app.recorder.insert_events([_as_version_1(noted, version=3)])

    loaded = app.repository.get(notebook.id)
    assert loaded.notes == [("gate 3 locked", "red"), ("gate 3 locked", "black")]
    old = app.mapper.to_domain_event(_stored(app, notebook)[2])
    assert isinstance(old, Notebook.Noted)
    assert old.colour == "black"


def test_a_field_added_without_upcaster_or_default_breaks_old_events(
    app: Application[Any],
) -> None:
    # Why the upcaster (or a default) is needed: the old state lacks the field, and
    # replaying calls the @event method without it.
    class Diary(Aggregate):
        TOPIC = "safecomm-test/Diary"

        class Created(Aggregate.Created):
            TOPIC = "safecomm-test/Diary/Created"

        class Written(Aggregate.Event):
            TOPIC = "safecomm-test/Diary/Written"
            text: str
            colour: str  # added in place, no version, no default

        @event(Written)
        def _written(self, *, text: str, colour: str) -> None:
            self.last = (text, colour)

    diary = Diary()
    app.save(diary)
    state = b'{"timestamp":{"_type_":"datetime_iso","_data_":"2014-03-03T01:10:00+00:00"},'
    old = StoredEvent(diary.id, 2, "safecomm-test/Diary/Written", state + b'"text":"x"}')
    app.recorder.insert_events([old])
    with pytest.raises(TypeError, match="colour"):
        app.repository.get(diary.id)


def test_keyword_only_parameters_of_an_event_method_are_required_even_with_a_default() -> None:
    class Tagged(Aggregate):
        TOPIC = "safecomm-test/Tagged"

        class Created(Aggregate.Created):
            TOPIC = "safecomm-test/Tagged/Created"

        class Made(Aggregate.Created):
            TOPIC = "safecomm-test/Tagged/Made"
            tag: str

        @event(Made)
        def __init__(self, *, tag: str = "none") -> None:
            self.tag = tag

    with pytest.raises(TypeError, match="tag"):
        Tagged()
    assert Tagged(tag="none").tag == "none"
