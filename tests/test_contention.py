"""Several writers on one record: contention is retried inside ``handle``, never surfaced.

Four processes record responses into the same survey wave at once (every command a write
race on the wave); each command must land exactly once, none refused with
:class:`~safecomm_core.errors.ConcurrencyConflict`.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

import pytest

from safecomm_core import ConcurrencyConflict, open_store
from safecomm_core.domain.survey import Survey
from tests.conftest import drop_pg_tables, store_url

WRITERS = 4
EACH = 40
ACTOR = {"id": "staff-101", "role": "staff"}


def _command(type_: str, command_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "type": type_,
        "command_id": command_id,
        "occurred_at": "2014-05-10T10:00:00+08:00",
        "actor": ACTOR,
        "channel": "import",
        **fields,
    }


def _writer(url: str, writer: int, start: Any, out: Any) -> None:
    conflicts = 0
    with open_store(url) as service:
        start.wait()
        for n in range(EACH):
            try:
                service.handle_json(
                    _command(
                        "survey.record_response",
                        f"w{writer}-{n}",
                        survey_id="sv-mid",
                        response_id=f"r-{writer}-{n}",
                        community="C1",
                        answers={"aware": True, "satisfaction": "satisfied"},
                    )
                )
            except ConcurrencyConflict:
                conflicts += 1
    out.put(conflicts)


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_four_writers_on_one_record_see_no_conflict(backend: str, tmp_path: Path) -> None:
    url, name = store_url(backend, tmp_path)
    try:
        with open_store(url) as service:
            service.handle_json(
                _command(
                    "survey.open_wave",
                    "open",
                    survey_id="sv-mid",
                    wave="mid_term",
                    sample_target=500,
                )
            )
        context = multiprocessing.get_context("spawn")
        start, out = context.Event(), context.Queue()
        writers = [
            context.Process(target=_writer, args=(url, w, start, out)) for w in range(WRITERS)
        ]
        for process in writers:
            process.start()
        start.set()
        conflicts = [out.get(timeout=300) for _ in writers]
        for process in writers:
            process.join(timeout=60)
        assert [p.exitcode for p in writers] == [0] * WRITERS
        assert conflicts == [0] * WRITERS
        with open_store(url) as service:
            assert len(service.get(Survey, "sv-mid").responses) == WRITERS * EACH
    finally:
        if backend == "postgres":
            drop_pg_tables(name)


def test_a_command_that_keeps_losing_is_refused_after_the_last_attempt(
    memory_service: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from safecomm_core import service as service_module
    from safecomm_core.eventlog import WriteCollision

    saves, pauses = [], []

    def collide(*records: Any, **_: Any) -> None:
        saves.append(records)
        raise WriteCollision("another writer came first")

    monkeypatch.setattr(memory_service.log, "save", collide)
    monkeypatch.setattr(service_module, "_pause", pauses.append)
    with pytest.raises(ConcurrencyConflict, match=f"lost {service_module.ATTEMPTS} write races"):
        memory_service.handle_json(
            _command(
                "survey.open_wave", "open", survey_id="sv-1", wave="baseline", sample_target=10
            )
        )
    assert len(saves) == service_module.ATTEMPTS
    assert pauses == list(range(1, service_module.ATTEMPTS))
    assert memory_service.log.head() == 0
