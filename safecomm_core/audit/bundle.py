"""Evidence bundles: what an inspector is given, and how they check it without the store.

::

    from safecomm_core import open_store
    from safecomm_core.audit import load_private_key, verify_bundle, write_bundle

    with open_store("sqlite:///safecomm.db") as service:
        write_bundle(service, "evidence-2014-03.zip", period="2014-03",
                     key=load_private_key("seal.key"))
    result = verify_bundle("evidence-2014-03.zip", public_key=load_public_key("seal.key.pub"))
    print("\\n".join(result.summary()))

A bundle is a zip file holding:

=============================  =========================================================
``reports/NAME.json``          the monthly report for the period, the self-assessment and
                               the watchlist as of the period's last day, as the converter
                               of record writes them (the CLI adds ``NAME.html`` for people)
``records/records.jsonl``      every stored event up to the bundle's position, one JSON
                               object a line: position, originator_id, version, topic and
                               the state bytes exactly as stored, in base64
``records/ledger.jsonl``       the ledger's entries for the same rows (position, id,
                               version, topic, state digest, chain value; hex)
``seals/seals.jsonl``          every seal the store holds, as published (one JSON line each)
``seals/public_key.pem``       the public key of the signing key (``--key``), or else the
                               key the latest seal carries
``manifest.json``              format, store, period, position, creation time, key id, and
                               for every other file its SHA-256 and size
``manifest.sig``               only with a key: base64 Ed25519 signature over
                               ``b"safecomm evidence bundle v1\\n" + manifest.json``
=============================  =========================================================

**Personal data stays sealed.** Rows are copied as stored: the personal fields in them
are sealed boxes encrypted with per-person keys from the key store, and the bundle carries
no key of any kind but the public sealing key. A person erased by crypto-shredding stays
erased; the chain still verifies (erasure is not tampering). Reports hold counts only.

**What proves what.** The rows are proven by the seals: :func:`verify_bundle` recomputes
the chain from ``records.jsonl`` with the ledger's own encoding
(:mod:`safecomm_core.audit.canonical`) and holds it to each seal's signed value, so a row
changed, dropped, added or moved in the bundle is found, whatever was done to the manifest.
The reports and the other files are proven by the manifest; the manifest itself is proven
only by its signature. **Without** ``key`` the manifest is unsigned: anyone who handled the
bundle could have changed a report and re-hashed it, and only the sealed rows can be
relied on (rows after the last seal, the *unsealed tail*, are then proven by nothing;
seal the store before bundling). With ``key`` everything is signed.

Reports are computed first (the views are caught up), then the ledger is caught up and the
rows are read: the rows cover at least every event the reports rest on.
"""

from __future__ import annotations

import array
import base64
import binascii
import hashlib
import json
import os
import zipfile
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import attrs
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from safecomm_core.audit.canonical import GENESIS, LedgerEntry, RawRow, chain, raw_canonical
from safecomm_core.audit.errors import AuditError, KeyFileError
from safecomm_core.audit.ledger import Ledger
from safecomm_core.audit.seal import Seal, key_id, parse_public_key
from safecomm_core.converter import converter
from safecomm_core.dates import Month
from safecomm_core.reports.model import Report
from safecomm_core.service import Safecomm

__all__ = [
    "BUNDLE_FORMAT",
    "BundleVerification",
    "Renderer",
    "read_bundle_file",
    "verify_bundle",
    "write_bundle",
]

BUNDLE_FORMAT = "safecomm evidence bundle v1"
_SIG_CONTEXT = b"safecomm evidence bundle v1\n"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
RECORDS = "records/records.jsonl"
LEDGER = "records/ledger.jsonl"
SEALS = "seals/seals.jsonl"
PUBLIC_KEY = "seals/public_key.pem"
#: How much of a file :func:`verify_bundle` reads at a time.
READ_CHUNK = 1 << 20

#: Extra renderings of a report for people: (file stem, report) → {file name: bytes}.
#: The CLI passes one that writes HTML; the core writes JSON only.
Renderer = Callable[[str, Report], Mapping[str, bytes]]


def write_bundle(
    service: Safecomm,
    out: str | os.PathLike[str],
    *,
    period: str | None = None,
    key: Ed25519PrivateKey | None = None,
    render: Renderer | None = None,
    created_at: datetime | None = None,
) -> dict[str, Any]:
    """Write an evidence bundle of ``service`` for ``period`` (``YYYY-MM``; default: the
    latest month with events) to ``out``. Returns the manifest written.

    The records and the ledger's entries are streamed into the zip, a batch of rows at a
    time, each file hashed as it is written: what they take stays flat however long the
    history. The reports need what each report needs (the monthly report: about one
    month's records at a time, the workers read one by one), and views far behind are
    caught up first, which costs what a rebuild costs. The bundle appears at ``out`` only
    once complete.
    """
    reports = _reports(service, period)
    monthly = reports[next(iter(reports))]
    path = Path(out)
    partial = path.with_name(path.name + ".part")
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            files = _Listed(archive)
            for stem, report in reports.items():
                files.put(f"reports/{stem}.json", [_report_json(report)])
                for name, data in (render(stem, report) if render else {}).items():
                    files.put(f"reports/{name}", [data])
            with Ledger(service) as ledger:
                head = ledger.catch_up()
                backend = ledger.backend
                with backend.reading():
                    rows = (r for batch in backend.scan(0, head.position, 5000) for r in batch)
                    files.put(RECORDS, _jsonl(_record_dict(r) for r in rows))
                files.put(LEDGER, _jsonl(_entry_dict(e) for e in ledger.entries(0, head.position)))
                seals = ledger.seals()
                store_name = backend.name
            files.put(SEALS, [b"".join(s.to_json().encode() + b"\n" for s in seals)])
            public = key.public_key() if key else (seals[-1].key() if seals else None)
            if public is not None:
                pem = public.public_bytes(
                    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
                )
                files.put(PUBLIC_KEY, [pem])
            manifest = {
                "format": BUNDLE_FORMAT,
                "store": store_name,
                "period": monthly.period,
                "position": head.position,
                "chain": head.hex,
                "created_at": (created_at or datetime.now(UTC)).astimezone(UTC).isoformat(),
                "key_id": key_id(key.public_key()) if key else None,
                "files": dict(sorted(files.listed.items())),
            }
            manifest_bytes = json.dumps(manifest, indent=2, sort_keys=True).encode() + b"\n"
            archive.writestr(MANIFEST, manifest_bytes)
            if key is not None:
                signature = base64.b64encode(key.sign(_SIG_CONTEXT + manifest_bytes)) + b"\n"
                archive.writestr(SIGNATURE, signature)
        partial.replace(path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise AuditError(f"cannot write the bundle {path}: {exc}") from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return manifest


class _Listed:
    """Files streamed into a zip, each one's SHA-256 and size kept for the manifest."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self._archive = archive
        self.listed: dict[str, dict[str, Any]] = {}

    def put(self, name: str, chunks: Iterable[bytes]) -> None:
        digest = hashlib.sha256()
        size = 0
        with self._archive.open(name, "w", force_zip64=True) as member:
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                member.write(chunk)
        self.listed[name] = {"sha256": digest.hexdigest(), "bytes": size}


def _reports(service: Safecomm, period: str | None) -> dict[str, Report]:
    # Imported here: the reports pull in every projection, which plain audit scripts
    # (verify, replay) do not need.
    from safecomm_core.projections import Projector, builtin_projections
    from safecomm_core.reports import monthly_report, self_assessment, watchlist

    with Projector(service) as projector:
        projector.catch_up_all(builtin_projections())
        monthly = monthly_report(projector, period)
        day = _last_day(monthly.period)
        return {
            f"monthly-{monthly.period}": monthly,
            f"self-assessment-{day.isoformat()}": self_assessment(projector, as_of=day),
            f"watchlist-{day.isoformat()}": watchlist(projector, as_of=day),
        }


def _last_day(period: str) -> date:
    try:
        return Month.parse(period).last
    except ValueError:
        return datetime.now(UTC).date()


def _report_json(report: Report) -> bytes:
    data = converter.unstructure(report)
    return json.dumps(data, ensure_ascii=False, indent=2, allow_nan=False).encode() + b"\n"


def _record_dict(row: RawRow) -> dict[str, Any]:
    position, originator_id, version, topic, state = row
    return {
        "position": position,
        "originator_id": originator_id,
        "version": version,
        "topic": topic,
        "state": base64.b64encode(state).decode(),
    }


def _entry_dict(entry: LedgerEntry) -> dict[str, Any]:
    return {
        "position": entry.position,
        "originator_id": entry.originator_id,
        "version": entry.version,
        "topic": entry.topic,
        "state_digest": entry.state_digest.hex(),
        "chain": entry.chain.hex(),
    }


def _jsonl(rows: Iterable[dict[str, Any]], per_chunk: int = 1000) -> Iterator[bytes]:
    """JSON lines, ``per_chunk`` rows to a chunk."""
    lines: list[bytes] = []
    for row in rows:
        lines.append(json.dumps(row, sort_keys=True).encode() + b"\n")
        if len(lines) >= per_chunk:
            yield b"".join(lines)
            lines = []
    yield b"".join(lines)


# -- verifying ------------------------------------------------------------------------------


@attrs.frozen
class BundleVerification:
    """The outcome of :func:`verify_bundle`: what was checked, and every problem found."""

    path: str
    files: int
    records: int
    last_position: int
    seals: int
    seals_holding: int
    sealed_position: int
    #: Whether the manifest carries a signature, and whether it was checked against a key
    #: the caller gave (else against the key in the bundle, which proves little).
    signed: bool
    key_checked: bool
    problems: tuple[str, ...]

    @property
    def intact(self) -> bool:
        """True when nothing was found wrong."""
        return not self.problems

    @property
    def unsealed(self) -> int:
        """Rows after the last holding seal."""
        return 0 if self.last_position <= self.sealed_position else self.records_after

    records_after: int = 0

    def _signature_state(self) -> str:
        if not self.signed:
            return (
                "not signed (reports are proven by nothing but the manifest's hashes; "
                "records by the seals)"
            )
        if self.key_checked:
            return "signed"
        return "signed (checked only with the key in the bundle)"

    def summary(self) -> list[str]:
        """Lines for people: the verdict, what was checked, each problem."""
        verdict = "INTACT" if self.intact else "TAMPERED"
        lines = [
            f"{verdict}: bundle {self.path}: {self.files} files, {self.records} records up to "
            f"position {self.last_position}",
            f"seals: {self.seals_holding} of {self.seals} hold; sealed up to position "
            f"{self.sealed_position}",
            f"manifest: {self._signature_state()}",
        ]
        if self.unsealed:
            lines.append(f"unsealed tail: {self.unsealed} records after the last seal")
        lines.extend(f"  {p}" for p in self.problems)
        return lines

    def to_dict(self) -> dict[str, Any]:
        """The outcome as a JSON object."""
        data = attrs.asdict(self)
        data["problems"] = list(self.problems)
        data["intact"] = self.intact
        data["unsealed"] = self.unsealed
        return data


class _Check:
    """Collects problems while reading a bundle."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, message: str) -> None:
        self.problems.append(message)


def verify_bundle(
    path: str | os.PathLike[str], *, public_key: Ed25519PublicKey | None = None
) -> BundleVerification:
    """Check a bundle without the store: files against the manifest, the manifest's
    signature, the chain recomputed from its rows against every seal, the seals'
    signatures. Problems name the file or the row (position, aggregate, version).

    The records and the ledger are read as streams, a line at a time, beside each other
    (both are in position order): memory stays flat however many rows the bundle holds.
    """
    check = _Check()
    try:
        with zipfile.ZipFile(path) as archive:
            return _verify(_Members(archive), str(path), public_key, check)
    except (OSError, zipfile.BadZipFile, zipfile.LargeZipFile) as exc:
        raise AuditError(f"cannot read the bundle {path}: {exc}") from exc
    except (ValueError, RuntimeError) as exc:  # a corrupted member (bad CRC, encrypted, …)
        raise AuditError(f"the bundle {path} is damaged: {exc}") from exc


class _Members:
    """The files of an open bundle: small ones read whole, large ones streamed."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        self.names = archive.namelist()
        self.present = set(self.names)

    def small(self, name: str) -> bytes | None:
        """A small file (manifest, signature, key, seals) whole; None when missing."""
        return self.archive.read(name) if name in self.present else None

    def sha256(self, name: str) -> str | None:
        """The SHA-256 of a file, read a chunk at a time; None when missing."""
        if name not in self.present:
            return None
        digest = hashlib.sha256()
        with self.archive.open(name) as member:
            while chunk := member.read(READ_CHUNK):
                digest.update(chunk)
        return digest.hexdigest()

    def _lines(self, name: str) -> Iterator[bytes]:
        """The lines of a file (without their ``\\n``), read a chunk at a time."""
        with self.archive.open(name) as member:
            rest = b""
            while chunk := member.read(READ_CHUNK):
                lines = (rest + chunk).split(b"\n")
                rest = lines.pop()
                yield from lines
            if rest:
                yield rest

    def jsonl(self, name: str, check: _Check) -> Iterator[tuple[int, dict[str, Any]]]:
        """(line number, object) for each line of a JSON-lines file, read as a stream."""
        if name not in self.present:
            return
        for number, line in enumerate(self._lines(name), start=1):
            try:
                row = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError):
                check.fail(f"{name} line {number}: not JSON")
                continue
            if not isinstance(row, dict):
                check.fail(f"{name} line {number}: not a JSON object")
                continue
            yield number, row


def _verify(
    members: _Members, path: str, public_key: Ed25519PublicKey | None, check: _Check
) -> BundleVerification:
    if len(members.present) != len(members.names):
        check.fail("the zip holds a file name twice")
    manifest = _manifest(members.small(MANIFEST), check)
    files = manifest.get("files", {}) if manifest else {}
    _check_files(members, files, check)
    signed, key_checked, signer = _check_signature(members, manifest, public_key, check)
    key = public_key or signer
    seals = list(members.jsonl(SEALS, check))
    wanted = {p for _, row in seals if type(p := row.get("position")) is int}
    rows = _check_rows(members, wanted, check)
    count, holding, sealed = _check_seals(seals, manifest, key, rows.chains, check)
    if not signed and not holding:
        check.fail("nothing in the bundle is signed: no seal holds and the manifest is unsigned")
    return BundleVerification(
        path=path,
        files=len(files),
        records=len(rows.positions),
        last_position=rows.positions[-1] if rows.positions else 0,
        seals=count,
        seals_holding=holding,
        sealed_position=sealed,
        signed=signed,
        key_checked=key_checked,
        problems=tuple(check.problems),
        records_after=sum(1 for p in rows.positions if p > sealed),
    )


def _manifest(data: bytes | None, check: _Check) -> dict[str, Any] | None:
    if data is None:
        check.fail(f"{MANIFEST} is missing")
        return None
    try:
        manifest = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        check.fail(f"{MANIFEST} is not JSON ({exc})")
        return None
    if not isinstance(manifest, dict) or manifest.get("format") != BUNDLE_FORMAT:
        check.fail(f"{MANIFEST} is not a manifest of a {BUNDLE_FORMAT!r}")
        return None
    if not isinstance(manifest.get("files"), dict):
        check.fail(f"{MANIFEST} lists no files")
        return None
    return manifest


def _check_files(members: _Members, files: Mapping[str, Any], check: _Check) -> None:
    for name, entry in sorted(files.items()):
        found = members.sha256(name)
        if found is None:
            check.fail(f"{name}: listed in the manifest but missing from the bundle")
            continue
        expected = entry.get("sha256") if isinstance(entry, dict) else None
        if found != expected:
            check.fail(f"{name}: changed (its SHA-256 does not match the manifest)")
    for name in sorted(members.present - set(files) - {MANIFEST, SIGNATURE}):
        check.fail(f"{name}: not in the manifest (added to the bundle)")


def _check_signature(
    members: _Members,
    manifest: Mapping[str, Any] | None,
    public_key: Ed25519PublicKey | None,
    check: _Check,
) -> tuple[bool, bool, Ed25519PublicKey | None]:
    """(signed, checked against the caller's key, the bundle's own public key)."""
    bundled: Ed25519PublicKey | None = None
    pem = members.small(PUBLIC_KEY)
    if pem is not None:
        try:
            bundled = parse_public_key(pem, PUBLIC_KEY)
        except KeyFileError as exc:
            check.fail(f"{PUBLIC_KEY}: {exc}")
    signature = members.small(SIGNATURE)
    claimed = manifest.get("key_id") if manifest else None
    if signature is None:
        if claimed:
            check.fail(f"{SIGNATURE}: missing, though the manifest names key {claimed}")
        return False, False, bundled
    key = public_key or bundled
    if key is None:
        check.fail(f"{SIGNATURE}: no public key to check it with")
        return True, False, bundled
    if claimed != key_id(key):
        check.fail(f"{SIGNATURE}: the manifest names key {claimed}, not {key_id(key)}")
    try:
        key.verify(
            base64.b64decode(signature.strip(), validate=True),
            _SIG_CONTEXT + (members.small(MANIFEST) or b""),
        )
    except (InvalidSignature, ValueError, binascii.Error):
        check.fail(f"{SIGNATURE}: the signature over {MANIFEST} does not hold")
    return True, public_key is not None, bundled


def _row_of(line: Mapping[str, Any]) -> RawRow:
    state = base64.b64decode(line["state"], validate=True)
    return (line["position"], line["originator_id"], line["version"], line["topic"], state)


def _named(row: RawRow) -> str:
    position, originator_id, version, _topic, _state = row
    return f"record at position {position} (aggregate {originator_id} v{version})"


class _LedgerStream:
    """The ledger's entries, read beside the records: both are in position order, so each
    record's entry is found by reading on (entries passed over have no record)."""

    def __init__(self, lines: Iterator[tuple[int, dict[str, Any]]], check: _Check) -> None:
        self._lines = lines
        self._check = check
        self._ahead: dict[str, Any] | None = None
        self._last = -1
        #: Positions of entries with no record in the bundle.
        self.orphans: list[int] = []

    def _peek(self) -> dict[str, Any] | None:
        while self._ahead is None:
            found = next(self._lines, None)
            if found is None:
                return None
            number, entry = found
            position = entry.get("position")
            if type(position) is not int:
                continue  # no record is at such a position: the chain check names the rest
            if position <= self._last:
                self._check.fail(f"{LEDGER} line {number}: out of order")
                continue
            self._last = position
            self._ahead = entry
        return self._ahead

    def entry(self, position: int) -> dict[str, Any] | None:
        """The entry at ``position``, if the ledger has one."""
        while (ahead := self._peek()) is not None and ahead["position"] < position:
            self.orphans.append(ahead["position"])
            self._ahead = None
        if ahead is not None and ahead["position"] == position:
            self._ahead = None
            return ahead
        return None

    def rest(self) -> list[int]:
        """Positions of every entry left once the records are read: none has a record."""
        while (ahead := self._peek()) is not None:
            self.orphans.append(ahead["position"])
            self._ahead = None
        return self.orphans


@attrs.define
class _Rows:
    """What the row check keeps: every position (8 bytes each), and the chain's value at
    the positions the seals name."""

    positions: array.array[int] = attrs.field(factory=lambda: array.array("q"))
    chains: dict[int, bytes] = attrs.field(factory=dict)


def _check_rows(members: _Members, wanted: Collection[int], check: _Check) -> _Rows:
    """Chain the bundle's stored events; compare each with its ledger entry."""
    if RECORDS not in members.present:
        check.fail(f"{RECORDS} is missing")
    ledger = _LedgerStream(members.jsonl(LEDGER, check), check)
    found = _Rows()
    positions = found.positions
    h = GENESIS
    for number, line in members.jsonl(RECORDS, check):
        try:
            row = _row_of(line)
        except (KeyError, TypeError, ValueError, binascii.Error):
            check.fail(f"{RECORDS} line {number}: not a record")
            continue
        position = row[0]
        if type(position) is not int or (positions and position <= positions[-1]):
            check.fail(f"{_named(row)}: out of order in {RECORDS} (line {number})")
            continue
        encoded = raw_canonical(row)
        h = chain(h, encoded)
        positions.append(position)
        if position in wanted:
            found.chains[position] = h
        entry = ledger.entry(position)
        if entry is None:
            check.fail(f"{_named(row)}: has no ledger entry in {LEDGER}")
        elif (
            entry.get("originator_id") != row[1]
            or entry.get("version") != row[2]
            or entry.get("topic") != row[3]
            or entry.get("state_digest") != encoded[-32:].hex()
        ):
            check.fail(f"{_named(row)}: differs from its ledger entry (changed)")
        elif entry.get("chain") != h.hex():
            check.fail(f"{_named(row)}: the chain after it differs from the ledger's")
    for position in sorted(ledger.rest()):
        check.fail(f"record at position {position}: in the ledger but missing from {RECORDS}")
    return found


def _check_seals(
    seals: Iterable[tuple[int, dict[str, Any]]],
    manifest: Mapping[str, Any] | None,
    key: Ed25519PublicKey | None,
    at: Mapping[int, bytes],
    check: _Check,
) -> tuple[int, int, int]:
    """(seals, seals holding, highest sealed position)."""
    store = manifest.get("store") if manifest else None
    count = holding = sealed = 0
    for number, row in seals:
        count += 1
        try:
            seal = Seal.from_dict(row)
        except ValueError as exc:
            check.fail(f"{SEALS} line {number}: not a seal ({exc})")
            continue
        name = f"seal at position {seal.position} ({SEALS} line {number})"
        try:
            signer = key or seal.key()
        except KeyFileError as exc:
            check.fail(f"{name}: {exc}")
            continue
        if not seal.signed_by(signer):
            check.fail(f"{name}: its signature does not hold")
            continue
        if store is not None and seal.store != store:
            check.fail(f"{name}: made for store {seal.store!r}, not {store!r}")
            continue
        value = GENESIS if seal.position == 0 else at.get(seal.position)
        if value is None:
            check.fail(f"{name}: the record at position {seal.position} is not in the bundle")
            continue
        if value.hex() != seal.hash:
            check.fail(f"{name}: the records up to it do not give the sealed chain value")
            continue
        holding += 1
        sealed = max(sealed, seal.position)
    return count, holding, sealed


def read_bundle_file(path: str | os.PathLike[str], name: str) -> bytes:
    """One file of a bundle, as stored (for scripts that go on to read the reports)."""
    with zipfile.ZipFile(path) as archive:
        return archive.read(name)
