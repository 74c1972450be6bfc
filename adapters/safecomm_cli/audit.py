"""``safecomm audit``: keys, seals, verification and replay (see :mod:`safecomm_core.audit`).

Exit statuses: 0 when intact / done; 8 when verification finds the record altered or a
seal that does not hold; 2 for bad input (a key file, a time); the others as every command
(:mod:`safecomm_cli.exit_status`).
"""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

import click


@click.group()
def audit() -> None:
    """Prove the record unaltered (ledger, seals, verify) and replay it at any time."""


# Imported after the group exists: main.py registers this group on its last line, so
# whichever of the two modules is imported first, the other finds what it needs.
from cryptography.hazmat.primitives.asymmetric.ed25519 import (  # noqa: E402
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from safecomm_cli.city import CITY_OPTION, STORES_OPTION, city_of  # noqa: E402
from safecomm_cli.exit_status import exit_status  # noqa: E402
from safecomm_cli.main import friendly, store_option  # noqa: E402
from safecomm_core import FieldError, InvalidCommand, open_store  # noqa: E402
from safecomm_core.audit import (  # noqa: E402
    BundleVerification,
    Cut,
    Ledger,
    Seal,
    TamperDetected,
    Verification,
    append_seal_log,
    generate_key,
    key_id,
    load_private_key,
    load_public_key,
    parse_moment,
    read_seal_log,
    replay_named_report,
    replay_record,
    seal_log_path,
    verify,
    verify_bundle,
    write_bundle,
)
from safecomm_core.audit.checkpoints import BUDGET as CHECKPOINT_BUDGET  # noqa: E402
from safecomm_core.audit.rebuild import rebuild_check  # noqa: E402
from safecomm_core.audit.replay import CutBasis  # noqa: E402
from safecomm_core.audit.report_replay import REPORTS, checkpoint_size, replay_city  # noqa: E402
from safecomm_core.converter import converter  # noqa: E402
from safecomm_core.reports.model import Report  # noqa: E402

_FILE = click.Path(dir_okay=False, path_type=Path)


@audit.command()
@click.option("--out", required=True, type=_FILE, help="Private key file to write (and OUT.pub).")
@friendly
def keygen(out: Path) -> None:
    """Make a sealing key: OUT (private, mode 0600; keep it off the database server) and
    OUT.pub (public; give it to whoever verifies)."""
    private, public = generate_key(out)
    click.echo(f"private key: {private} (keep it secret, outside the store)")
    click.echo(f"public key:  {public} (key id {key_id(load_public_key(public))})")


@audit.command("catch-up")
@store_option
@friendly
def catch_up(store_url: str) -> None:
    """Chain the records stored since the ledger's head; print the new head."""
    with open_store(store_url) as service, Ledger(service) as ledger:
        head = ledger.catch_up()
    click.echo(json.dumps({"position": head.position, "hash": head.hex}))


_SEAL_LOG_HELP = (
    "The seal log, outside the store (default: $SAFECOMM_SEAL_LOG, else safecomm-seal.log "
    "beside the key)."
)


@audit.command()
@click.option("--key", "key_file", required=True, type=_FILE, help="The private key file.")
@click.option("--seal-log", type=_FILE, help=_SEAL_LOG_HELP)
@store_option
@friendly
def seal(key_file: Path, seal_log: Path | None, store_url: str) -> None:
    """Catch the ledger up, sign its head, store the seal, add it to the seal log and print
    it as one JSON line (publish it, e.g. in the monthly report: published seals make
    deleting stored ones pointless)."""
    key = load_private_key(key_file)
    if key_file.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        click.echo(f"warning: {key_file} is readable by others; chmod 600 it", err=True)
    log = seal_log or seal_log_path(key_file)
    with open_store(store_url) as service, Ledger(service) as ledger:
        made = ledger.seal(key)
    if log is not None:
        append_seal_log(log, made)
    click.echo(made.to_json())


@audit.command("verify")
@store_option
@click.option("--public-key", type=_FILE, help="Check every seal against this key (FILE.pub).")
@click.option(
    "--seals", "seals_file", type=_FILE, help="Published seals (JSON lines) to check as well."
)
@click.option("--json", "as_json", is_flag=True, help="The outcome as one JSON object.")
@click.option("--seal-log", type=_FILE, help=_SEAL_LOG_HELP.replace("the key", "the public key"))
@friendly
def verify_command(
    store_url: str,
    public_key: Path | None,
    seals_file: Path | None,
    as_json: bool,
    seal_log: Path | None,
) -> None:
    """Recompute the chain from the stored records and check every seal, and that every
    seal of the seal log is in the store.

    Exit status 0 when intact; 8 when a record was updated, deleted, inserted, moved or
    truncated (the first is named: position, aggregate, version), a seal does not hold, a
    logged seal is missing from the store, or (with --public-key) no seal by that key holds.
    """
    key = load_public_key(public_key) if public_key else None
    published = _read_seals(seals_file) if seals_file else []
    log = seal_log or seal_log_path(public_key)
    if log is not None and not log.exists() and seal_log is None:
        click.echo(f"note: no seal log at {log}; only the stored seals were checked", err=True)
        log = None
    logged = read_seal_log(log) if log is not None else []
    with open_store(store_url) as service:
        result = verify(service, public_key=key, published=published, logged=logged)
    _outcome(
        result,
        as_json,
        None
        if key
        else "a seal's signature was checked only with the key it carries, which anyone "
        "able to write the seals table could replace",
    )


def _outcome(result: Verification | BundleVerification, as_json: bool, note: str | None) -> None:
    """Print a check's outcome (JSON or lines), the note on keys, and exit 8 if not intact."""
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False))
    else:
        for line in result.summary():
            click.echo(line)
    if note:
        click.echo(f"note: no --public-key given: {note}", err=True)
    if not result.intact:
        sys.exit(exit_status(TamperDetected))


def _read_seals(path: Path) -> list[Seal]:
    seals = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            seals.append(Seal.from_json(line))
        except ValueError as exc:
            raise InvalidCommand([FieldError(f"{path}:{number}", str(exc))]) from None
    return seals


@audit.command()
@click.option("--known-at", help="Only events recorded by then (ISO date or date-time).")
@click.option("--as-of", help="Events that occurred by then, whenever recorded.")
@click.option("--aggregate", help="The record's id (d-2014-0001) or UUID.")
@click.option("--kind", help="The record's kind, when several share the id.")
@click.option("--report", "report_name", type=click.Choice(REPORTS), help="A report to replay.")
@click.option(
    "--period",
    help="The monthly report's month, YYYY-MM (default: the latest at the cut); the day "
    "the self-assessment or the watchlist is as of, YYYY-MM-DD or a month's last day "
    "(default: the cut's day).",
)
@click.option(
    "--scope",
    default="*",
    show_default=True,
    help="The report's community, or *; with a city, a subdistrict or * (the city).",
)
@CITY_OPTION
@STORES_OPTION
@click.option(
    "--no-checkpoints",
    is_flag=True,
    help="Fold the report's views from the first event; read and leave no checkpoints.",
)
@click.option(
    "--checkpoint-budget",
    type=click.IntRange(min=0),
    default=CHECKPOINT_BUDGET // 2**20,
    show_default=True,
    help="MB the report's checkpoints may take; older ones are thinned out past it.",
)
@store_option
@friendly
def replay(
    known_at: str | None,
    as_of: str | None,
    aggregate: str | None,
    kind: str | None,
    report_name: str | None,
    period: str | None,
    scope: str,
    no_checkpoints: bool,
    checkpoint_budget: int,
    store_url: str,
    city_file: Path | None,
    stores: str | None,
) -> None:
    """A record (--aggregate) or a report (--report) as known at a time, or as of a time,
    printed as JSON.

    With --city FILE or --stores URL,URL the monthly report of a city: each subdistrict's
    log replayed and rolled up as the live city report is.

    A date means the end of that day in the subdistrict (Asia/Shanghai). A report replayed
    as known at T is the report the live system produced at T; as of T it includes late
    entries recorded since that occurred by T.

    A report replayed as known at T starts from the latest checkpoint of its views that an
    earlier replay left (all of whose events were recorded by T) and leaves new ones, kept
    within --checkpoint-budget (their number and size are shown on stderr);
    --no-checkpoints folds every event from the first instead.
    """
    if (known_at is None) == (as_of is None):
        raise InvalidCommand([FieldError("known_at", "give exactly one of --known-at, --as-of")])
    if (aggregate is None) == (report_name is None):
        raise InvalidCommand([FieldError("report", "give exactly one of --report, --aggregate")])
    if known_at is not None:
        cut = Cut.known_at(parse_moment(known_at, field="known_at"))
    else:
        assert as_of is not None
        cut = Cut.as_of(parse_moment(as_of, field="as_of"))
    kept = {"checkpoints": not no_checkpoints, "checkpoint_budget": checkpoint_budget * 2**20}
    town = city_of(city_file, stores)
    if town is not None:
        if report_name != "monthly":
            raise InvalidCommand([FieldError("report", "a city replays the monthly report")])
        replayed = replay_city(town, cut, period, scope, **kept)  # type: ignore[arg-type]
        data = {**converter.unstructure(replayed), "cut": cut.to_dict()}
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    with open_store(store_url) as service:
        if aggregate is not None:
            data = replay_record(service, aggregate, cut, kind=kind).to_dict()
        else:
            assert report_name is not None
            report = replay_named_report(
                service,
                cut,
                report_name,
                period,
                scope,
                **kept,  # type: ignore[arg-type]
            )
            data = {**converter.unstructure(report), "cut": cut.to_dict()}
            if not no_checkpoints and cut.basis is CutBasis.KNOWN_AT:
                count, size = checkpoint_size(service, report_name)
                click.echo(
                    f"replay checkpoints: {count} kept, {size / 2**20:.1f} MB "
                    f"(budget {checkpoint_budget} MB)",
                    err=True,
                )
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@audit.command("rebuild-check")
@store_option
@click.option("--json", "as_json", is_flag=True, help="The outcome as one JSON object.")
@friendly
def rebuild_check_command(store_url: str, as_json: bool) -> None:
    """Rebuild every projection from zero beside its live view and compare their digests.

    The live views are neither caught up nor disturbed: each rebuild goes into a scratch
    generation that is dropped afterwards. Exit status 0 when every rebuild equals its live
    view; 1 when any differs (the differing rows are listed).
    """
    with open_store(store_url) as service:
        result = rebuild_check(service)
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, default=str))
    else:
        for line in result.summary():
            click.echo(line)
    if not result.equal:
        sys.exit(1)


def _html(stem: str, report: Report) -> dict[str, bytes]:
    from safecomm_reports.render import render

    return {f"{stem}.html": render(report, "html")}


@audit.command()
@click.option("--out", required=True, type=_FILE, help="The zip file to write.")
@click.option("--period", help="The monthly report's month, YYYY-MM (default: the latest).")
@click.option("--key", "key_file", type=_FILE, help="Sign the manifest with this private key file.")
@store_option
@friendly
def bundle(out: Path, period: str | None, key_file: Path | None, store_url: str) -> None:
    """Write an evidence bundle for an inspection: the reports (JSON and HTML), the stored
    records with personal data still encrypted, the ledger, the seals and public key, and a
    manifest of SHA-256 hashes, signed with --key if given.

    Without --key the manifest is unsigned: the records are then proven by the seals only
    (seal before bundling), and the reports by nothing a third party can check.
    """
    key: Ed25519PrivateKey | None = load_private_key(key_file) if key_file else None
    with open_store(store_url) as service:
        manifest = write_bundle(service, out, period=period, key=key, render=_html)
    click.echo(
        f"wrote {out}: {len(manifest['files'])} files, records up to position "
        f"{manifest['position']}, chain {manifest['chain']}, "
        + ("manifest signed" if key else "manifest not signed (no --key)")
    )


@audit.command("verify-bundle")
@click.argument("bundle_file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--public-key", type=_FILE, help="Check the signatures against this key.")
@click.option("--json", "as_json", is_flag=True, help="The outcome as one JSON object.")
@friendly
def verify_bundle_command(bundle_file: Path, public_key: Path | None, as_json: bool) -> None:
    """Check an evidence bundle without the store: every file against the manifest, the
    manifest's signature, the chain recomputed from the records against every seal.

    Exit status 0 when all holds; 8 otherwise, naming each changed file or record.
    """
    key: Ed25519PublicKey | None = load_public_key(public_key) if public_key else None
    result = verify_bundle(bundle_file, public_key=key)
    _outcome(
        result,
        as_json,
        None
        if key
        else "signatures were checked only with the key the bundle carries, which whoever "
        "handled the bundle could replace",
    )
