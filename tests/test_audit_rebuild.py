"""``safecomm audit rebuild-check``: every projection rebuilt from zero, held to its live view."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from safecomm_cli.main import main

from safecomm_core import Safecomm, open_store
from safecomm_core.audit.rebuild import rebuild_check
from safecomm_core.projections import DISPUTES, Projector, builtin_projections
from tests.auditing import write_disputes

SQL_BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _live_table(projector: Projector, table: str) -> str:
    generation = projector.status(DISPUTES).live_generation
    return projector.views.physical(table, generation)


@pytest.mark.parametrize("backend", SQL_BACKENDS, indirect=True)
def test_a_view_row_altered_by_raw_sql_is_reported(service: Safecomm) -> None:
    write_disputes(service, 3)
    with Projector(service) as projector:
        for projection in builtin_projections():
            projector.catch_up(projection)
        before = rebuild_check(service, projector=projector)
        assert before.equal, before.summary()
        assert all(p.built for p in before.projections)
        live_digest = projector.digest(DISPUTES).value
        table = _live_table(projector, "disputes")
        changed = projector.views.execute(
            f'UPDATE "{table}" SET community = ? WHERE ref = ?', ("C9", "d-2014-0002")
        )
        assert changed == 1

        after = rebuild_check(service, projector=projector)

        assert not after.equal
        disputes = next(p for p in after.projections if p.projection == DISPUTES.name)
        assert disputes.digest != live_digest  # the live digest moved with the row
        [difference] = [d for d in disputes.differences if d.table == "disputes"]
        assert difference.live is not None
        assert difference.rebuilt is not None
        assert difference.live["community"] == "C9"
        assert difference.rebuilt["community"] != "C9"
        assert difference.live["ref"] == "d-2014-0002"
        others = [p for p in after.projections if p.projection != DISPUTES.name]
        assert all(p.equal for p in others)
        # the live view was not disturbed by the check: the altered row is still there
        rows = projector.rows(DISPUTES, "disputes")
        assert [r["community"] for r in rows if r["ref"] == "d-2014-0002"] == ["C9"]


def test_an_unbuilt_projection_is_listed_not_failed(memory_service: Safecomm) -> None:
    write_disputes(memory_service, 1)
    result = rebuild_check(memory_service)
    assert result.equal
    assert not any(p.built for p in result.projections)
    assert "not built yet" in result.summary()[0]


def test_cli_rebuild_check_exit_status(tmp_path: object) -> None:
    runner = CliRunner()
    url = f"sqlite:///{tmp_path}/audit.db"
    with open_store(url) as service:
        write_disputes(service, 3)
    assert runner.invoke(main, ["project", "--store", url]).exit_code == 0
    ok = runner.invoke(main, ["audit", "rebuild-check", "--store", url])
    assert ok.exit_code == 0, ok.output
    assert "EQUAL" in ok.output

    import sqlite3

    views = sqlite3.connect(f"{tmp_path}/audit.views.db", isolation_level=None)
    [(generation,)] = views.execute(
        "SELECT generation FROM projection_generations WHERE projection = ? AND status = 'live'",
        (DISPUTES.name,),
    ).fetchall()
    [(ref,)] = views.execute(f'SELECT ref FROM "disputes__g{generation}" LIMIT 1').fetchall()
    views.execute(f'UPDATE "disputes__g{generation}" SET sessions = 99 WHERE ref = ?', (ref,))
    views.close()

    bad = runner.invoke(main, ["audit", "rebuild-check", "--store", url])
    assert bad.exit_code == 1
    assert f"{DISPUTES.name}: DIFFERS: 1 row(s)" in bad.output
    assert ref in bad.output
    as_json = runner.invoke(main, ["audit", "rebuild-check", "--store", url, "--json"])
    data = json.loads(as_json.output)
    assert data["equal"] is False
    [p] = [p for p in data["projections"] if p["projection"] == DISPUTES.name]
    assert p["differences"][0]["live"]["sessions"] == 99
