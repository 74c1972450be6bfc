"""``safecomm demo``: the whole product doing its real job on the Hemenkou programme.

It records the programme (Oct 2013 – Dec 2014) through the public API, catches every
projection up, writes the reports as HTML and XLSX, seals the audit chain with a key kept
outside the store and verifies it, then says what it did. Running it again on the same
store records nothing new (every command is idempotent) and says so.
"""

from __future__ import annotations

import time
from pathlib import Path

import click
from safecomm_demo import build, scenario_commands
from safecomm_demo.builder import PROGRAMME_END
from safecomm_reports import write
from safecomm_reports.labels import format_value

from safecomm_cli.main import friendly, store_option
from safecomm_core import Safecomm, open_store
from safecomm_core.audit import (
    Ledger,
    append_seal_log,
    generate_key,
    load_private_key,
    load_public_key,
    read_seal_log,
    seal_log_path,
    verify,
)
from safecomm_core.masterkey import ensure_key_file
from safecomm_core.projections import Projector, builtin_projections
from safecomm_core.reports import (
    Figure,
    Report,
    label,
    monthly_report,
    self_assessment,
    watchlist,
)
from safecomm_core.store import mask_url

#: Indicators the summary shows at the start and at the end of the programme.
HEADLINE = (
    "mediation_success_rate",
    "settled_on_time_rate",
    "alert_ack_rate",
    "registration_coverage",
    "awareness_rate",
    "participation_rate",
    "participation_register_rate",
    "satisfaction_rate",
)


@click.command("demo")
@store_option
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("safecomm-report"),
    show_default=True,
    help="Folder for the HTML and XLSX reports.",
)
@click.option("--scale", type=click.FloatRange(min=0.01), default=1.0, show_default=True)
@click.option("--seed", type=int, default=2014, show_default=True)
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option(
    "--key",
    "key_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("safecomm-seal.key"),
    show_default=True,
    help="Ed25519 sealing key, kept outside the store (made if missing).",
)
@friendly
def demo(store_url: str, out_dir: Path, scale: float, seed: int, lang: str, key_path: Path) -> None:
    """Record the Hemenkou programme, report on it, seal and verify the record."""
    started = time.perf_counter()
    made_key = ensure_key_file()  # a first run needs no set-up: see docs/personal-data.md
    if made_key is not None:
        click.echo(
            f"Created the master key {made_key} (mode 0600, outside the store's folder): it "
            "wraps the store's person keys. Keep it; without it the personal data is lost."
        )
    shown = mask_url(store_url)
    with open_store(store_url) as service:
        recorded = _record(service, seed, scale)
        with Projector(service) as projector:
            _catch_up(projector)
            files, first, last = _reports(projector, out_dir, lang)
        audit_lines = _seal_and_verify(service, key_path)
        total = service.log.head()
    click.echo("")
    if recorded["applied"]:
        click.echo(
            f"Recorded {recorded['applied']:,} commands as {recorded['events']:,} events "
            f"({total:,} in the store {shown})."
        )
    else:
        click.echo(
            f"Nothing new: all {recorded['commands']:,} commands were already recorded in "
            f"{shown} ({total:,} events); the store is unchanged."
        )
    click.echo("")
    click.echo(f"{'indicator':<32}{first.period:>12}{last.period:>12}")
    for indicator in HEADLINE:
        click.echo(
            f"{label(indicator, 'en'):<32}{_value(first, indicator):>12}"
            f"{_value(last, indicator):>12}"
        )
    click.echo("")
    for line in audit_lines:
        click.echo(line)
    click.echo("")
    click.echo(f"Reports in {out_dir}/:")
    for path in files:
        click.echo(f"  {path.name}")
    click.echo(f"Done in {time.perf_counter() - started:.0f} s.")


def _record(service: Safecomm, seed: int, scale: float) -> dict[str, int]:
    before = service.log.head()
    count = len(scenario_commands(seed, scale))  # for the progress bar; it is quick
    with click.progressbar(length=count, label="Recording the programme", show_pos=True) as bar:
        result = build(service, seed, scale, progress=bar.update)
    after = service.log.head()
    return {"commands": result.commands, "applied": result.applied, "events": after - before}


def _catch_up(projector: Projector) -> None:
    projections = builtin_projections()
    with click.progressbar(projections, label="Projecting the reports' views") as bar:
        for projection in bar:
            projector.catch_up(projection)


def _reports(projector: Projector, out_dir: Path, lang: str) -> tuple[list[Path], Report, Report]:
    out_dir.mkdir(parents=True, exist_ok=True)
    end = PROGRAMME_END
    last_month = f"{end:%Y-%m}"
    first = monthly_report(projector, "2013-10")
    last = monthly_report(projector, last_month)
    reports: list[tuple[str, Report]] = [
        (f"monthly-{last_month}", last),
        ("self-assessment", self_assessment(projector, as_of=end)),
        ("watchlist", watchlist(projector, as_of=end)),
    ]
    files: list[Path] = []
    with click.progressbar(reports, label="Writing the reports") as bar:
        for name, report in bar:
            for suffix in ("html", "xlsx"):
                files.append(write(report, out_dir / f"{name}.{suffix}", lang=lang))  # type: ignore[arg-type]
    return files, first, last


def _seal_and_verify(service: Safecomm, key_path: Path) -> list[str]:
    if not key_path.exists():
        generate_key(key_path)
    with Ledger(service) as ledger:
        seal = ledger.seal(load_private_key(key_path))
    log = seal_log_path(key_path)
    assert log is not None
    append_seal_log(log, seal)
    result = verify(
        service, public_key=load_public_key(f"{key_path}.pub"), logged=read_seal_log(log)
    )
    return [
        f"Sealed the audit chain at position {seal.position:,} with {key_path} "
        f"(public key {key_path}.pub; seal log {log}).",
        *result.summary(),
    ]


def _value(report: Report, indicator: str) -> str:
    found: list[Figure] = [f for f in report.figures if f.id == indicator and f.scope == "*"]
    if not found or found[0].value is None:
        return "n/a"  # a zero denominator: nothing to count that month
    return format_value(indicator, found[0].value, "en")
