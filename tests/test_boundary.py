"""The event-log boundary: eventsourcing's persistence stays behind two modules.

Every reader of stored events (projections, audit, replays, adapters, examples) goes through
:class:`safecomm_core.eventlog.EventLog`; a move to another eventsourcing line then touches
``eventlog.py``, ``store.py`` (URLs to settings, its errors while opening) and
``transcoding.py`` (value types registered with its transcoder).
"""

from __future__ import annotations

import ast
import sqlite3
from pathlib import Path

import pytest

from safecomm_core import StoreError, open_store
from safecomm_core.domain.dispute import Dispute
from tests.commanding import sample_commands

ROOT = Path(__file__).resolve().parent.parent

#: Modules that may use eventsourcing's persistence layer and its application.
BOUNDARY = {
    "safecomm_core/eventlog.py",
    "safecomm_core/store.py",
    "safecomm_core/transcoding.py",
}

#: eventsourcing's modules that are about storing, not about the domain model.
PERSISTENCE = (
    "eventsourcing.persistence",
    "eventsourcing.application",
    "eventsourcing.popo",
    "eventsourcing.sqlite",
    "eventsourcing.postgres",
    "eventsourcing.system",
    "eventsourcing.projection",
    "eventsourcing.cipher",
    "eventsourcing.cryptography",
    "eventsourcing.compressor",
)


def _sources() -> list[Path]:
    found = [
        *(ROOT / "safecomm_core").rglob("*.py"),
        *(ROOT / "adapters").rglob("*.py"),
        *(ROOT / "examples").rglob("*.py"),
    ]
    assert len(found) > 50  # the walk found the code base, not an empty folder
    return sorted(found)


def _crossings(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        found += [f"line {node.lineno}: imports {n}" for n in names if n.startswith(PERSISTENCE)]
        if isinstance(node, ast.Attribute) and node.attr in ("app", "application", "recorder"):
            found.append(f"line {node.lineno}: touches .{node.attr}")
    return found


def test_only_the_boundary_modules_reach_into_eventsourcing_persistence() -> None:
    crossings = {
        str(path.relative_to(ROOT)): _crossings(path)
        for path in _sources()
        if str(path.relative_to(ROOT)) not in BOUNDARY
    }
    assert {path: lines for path, lines in crossings.items() if lines} == {}


def test_the_check_sees_a_crossing(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from eventsourcing.persistence import Notification\n"
        "def head(service):\n    return service.app.recorder.max_notification_id()\n"
    )
    assert _crossings(sample) == [
        "line 1: imports eventsourcing.persistence",
        "line 3: touches .recorder",
        "line 3: touches .app",
    ]


def test_a_stored_event_that_cannot_be_decoded_is_a_store_error_naming_the_record(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'safecomm.db'}"
    with open_store(url) as service:
        service.handle_json(sample_commands()[0])
        dispute_id = service.get(Dispute, "d-2014-0001").id
    # A naive date-time where the stored event must hold an aware one (what a typed command
    # with a naive occurred_at once stored): the row no longer decodes.
    with sqlite3.connect(tmp_path / "safecomm.db") as db:
        db.execute(
            "UPDATE stored_events SET state = replace(state, '+08:00', '') WHERE originator_id = ?",
            (dispute_id.hex,),
        )
    with open_store(url) as service:
        with pytest.raises(StoreError, match=f"record {dispute_id} cannot be decoded"):
            service.get(Dispute, "d-2014-0001")
        with pytest.raises(StoreError, match="cannot be decoded"):
            service.history("d-2014-0001", kind="dispute")
        (notification, *_) = [n for n in service.log.read(0, 100) if n.originator_id == dispute_id]
        with pytest.raises(StoreError, match=f"notification {notification.id} cannot"):
            service.log.decode(notification)
