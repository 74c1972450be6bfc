"""Evidence bundles: written from the store, checked without it; any change is named."""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from safecomm_cli.main import main

from safecomm_core import Safecomm, open_store
from safecomm_core.audit import Ledger, verify_bundle, write_bundle
from tests.auditing import write_disputes

SQL_BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
MONTH = "2014-03"  # the sample's month


def _files(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _rewrite(path: Path, files: dict[str, bytes], *, rehash: bool = False) -> None:
    """Write ``files`` back as the bundle; with ``rehash``, the manifest's hashes follow
    (what someone without the signing key could do), and the signature is dropped."""
    if rehash:
        manifest = json.loads(files["manifest.json"])
        for name in manifest["files"]:
            data = files[name]
            manifest["files"][name] = {
                "sha256": hashlib.sha256(data).hexdigest(),
                "bytes": len(data),
            }
        manifest["key_id"] = None
        files["manifest.json"] = json.dumps(manifest, indent=2, sort_keys=True).encode()
        files.pop("manifest.sig", None)
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)


def _sealed(service: Safecomm, key: Ed25519PrivateKey, disputes: int = 2) -> None:
    write_disputes(service, disputes)
    with Ledger(service) as ledger:
        ledger.seal(key)


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.mark.parametrize("backend", SQL_BACKENDS, indirect=True)
def test_a_signed_bundle_verifies_without_the_store(
    service: Safecomm, key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    _sealed(service, key)
    out = tmp_path / "evidence.zip"
    manifest = write_bundle(service, out, period=MONTH, key=key)
    stored = service.log.head()
    service.close()

    result = verify_bundle(out, public_key=key.public_key())

    assert result.intact, result.summary()
    assert result.signed
    assert result.key_checked
    assert result.last_position == stored == manifest["position"]
    assert result.seals_holding == result.seals == 1
    assert result.sealed_position == stored
    assert result.unsealed == 0
    files = _files(out)
    assert {f"reports/monthly-{MONTH}.json", "records/records.jsonl", "manifest.sig"} <= set(files)
    assert any(n.startswith("reports/self-assessment-2014-03-31") for n in files)
    assert any(n.startswith("reports/watchlist-2014-03-31") for n in files)
    assert json.loads(files[f"reports/monthly-{MONTH}.json"])["period"] == MONTH
    assert set(manifest["files"]) == set(files) - {"manifest.json", "manifest.sig"}


def test_personal_data_stays_sealed_and_no_private_key_is_carried(
    service_factory: object, key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    service: Safecomm = service_factory()  # type: ignore[operator]
    _sealed(service, key)
    out = tmp_path / "evidence.zip"
    write_bundle(service, out, period=MONTH, key=key)
    files = _files(out)
    everything = b"".join(files.values())
    states = [
        base64.b64decode(json.loads(line)["state"])
        for line in files["records/records.jsonl"].splitlines()
    ]
    assert len(states) == service.log.head()
    for secret in ("王建国", "13800001001", "李秀英"):
        for form in (secret.encode(), json.dumps(secret).encode()):
            assert form not in everything
            assert not any(form in state for state in states)
    assert b"PRIVATE KEY" not in everything
    # the records are the stored bytes themselves: the party's sealed box is there
    assert any(b"p-1001" in state for state in states)


@pytest.fixture
def bundle(tmp_path: Path, key: Ed25519PrivateKey) -> Path:
    with open_store(f"sqlite:///{tmp_path / 's.db'}") as service:
        _sealed(service, key)
        out = tmp_path / "evidence.zip"
        write_bundle(service, out, period=MONTH, key=key)
    return out


def _names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        return archive.namelist()


def test_a_changed_byte_in_any_file_is_named(bundle: Path, key: Ed25519PrivateKey) -> None:
    original = _files(bundle)
    for name in original:
        files = dict(original)
        data = bytearray(files[name])
        data[len(data) // 2] ^= 0x01
        files[name] = bytes(data)
        _rewrite(bundle, files)
        result = verify_bundle(bundle, public_key=key.public_key())
        assert not result.intact, name
        expected = "manifest.sig" if name == "manifest.json" else name
        assert any(p.startswith(expected) for p in result.problems), (name, result.problems)
    _rewrite(bundle, original)
    assert verify_bundle(bundle, public_key=key.public_key()).intact


def test_a_changed_record_is_named_even_with_the_manifest_rehashed(bundle: Path) -> None:
    files = _files(bundle)
    lines = files["records/records.jsonl"].splitlines()
    row = json.loads(lines[4])
    state = bytearray(base64.b64decode(row["state"]))
    state[-3] ^= 0x20
    row["state"] = base64.b64encode(bytes(state)).decode()
    lines[4] = json.dumps(row, sort_keys=True).encode()
    files["records/records.jsonl"] = b"\n".join(lines) + b"\n"
    _rewrite(bundle, files, rehash=True)

    result = verify_bundle(bundle)

    assert not result.intact
    named = f"record at position {row['position']} (aggregate {row['originator_id']} "
    assert any(p.startswith(named) and "changed" in p for p in result.problems)
    assert any("do not give the sealed chain value" in p for p in result.problems)


def test_records_and_ledger_changed_together_still_fail_the_seal(bundle: Path) -> None:
    files = _files(bundle)
    records = files["records/records.jsonl"].splitlines()
    del records[3]
    ledger = files["records/ledger.jsonl"].splitlines()
    del ledger[3]
    files["records/records.jsonl"] = b"\n".join(records) + b"\n"
    files["records/ledger.jsonl"] = b"\n".join(ledger) + b"\n"
    _rewrite(bundle, files, rehash=True)

    result = verify_bundle(bundle)

    assert not result.intact
    assert result.seals_holding == 0
    assert any("do not give the sealed chain value" in p for p in result.problems)


def test_a_forged_signature_key_is_refused(bundle: Path) -> None:
    other = Ed25519PrivateKey.generate().public_key()
    result = verify_bundle(bundle, public_key=other)
    assert not result.intact
    assert any(p.startswith("manifest.sig") for p in result.problems)
    assert any("its signature does not hold" in p for p in result.problems)


def test_an_unsigned_unsealed_bundle_proves_nothing(
    memory_service: Safecomm, tmp_path: Path
) -> None:
    write_disputes(memory_service, 1)
    out = tmp_path / "evidence.zip"
    manifest = write_bundle(memory_service, out, period=MONTH)
    assert manifest["key_id"] is None
    result = verify_bundle(out)
    assert not result.intact
    assert result.problems == (
        "nothing in the bundle is signed: no seal holds and the manifest is unsigned",
    )
    assert result.unsealed == result.records > 0


def test_an_unsigned_bundle_of_a_sealed_store_verifies_with_its_tail_unsealed(
    memory_service: Safecomm, key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    _sealed(memory_service, key, disputes=1)
    sealed = memory_service.log.head()
    write_disputes(memory_service, 1, first=2)
    out = tmp_path / "evidence.zip"
    write_bundle(memory_service, out, period=MONTH)
    result = verify_bundle(out, public_key=key.public_key())
    assert result.intact, result.summary()
    assert not result.signed
    assert result.sealed_position == sealed
    assert result.unsealed == result.records - sealed > 0
    assert any("unsealed tail" in line for line in result.summary())


def test_cli_bundle_and_verify_bundle(tmp_path: Path) -> None:
    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 's.db'}"
    key = tmp_path / "seal.key"
    with open_store(url) as service:
        write_disputes(service, 2)
    assert runner.invoke(main, ["audit", "keygen", "--out", str(key)]).exit_code == 0
    assert runner.invoke(main, ["audit", "seal", "--key", str(key), "--store", url]).exit_code == 0
    out = tmp_path / "evidence.zip"
    made = runner.invoke(
        main,
        [
            "audit",
            "bundle",
            "--out",
            str(out),
            "--period",
            MONTH,
            "--key",
            str(key),
            "--store",
            url,
        ],
    )
    assert made.exit_code == 0, made.output
    assert "manifest signed" in made.output
    names = _names(out)
    assert f"reports/monthly-{MONTH}.html" in names
    assert any(n.startswith("reports/watchlist-") and n.endswith(".html") for n in names)

    pub = ["--public-key", f"{key}.pub"]
    ok = runner.invoke(main, ["audit", "verify-bundle", str(out), *pub])
    assert ok.exit_code == 0, ok.output
    assert ok.output.startswith("INTACT")

    files = _files(out)
    files[f"reports/monthly-{MONTH}.html"] += b"<!-- altered -->"
    _rewrite(out, files)
    bad = runner.invoke(main, ["audit", "verify-bundle", str(out), *pub])
    assert bad.exit_code == 8
    assert f"reports/monthly-{MONTH}.html: changed" in bad.output


def test_a_bundle_is_verified_a_chunk_at_a_time(
    bundle: Path, key: Ed25519PrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Lines cut across reads are joined again: the same verdict with 7-byte reads.
    whole = verify_bundle(bundle, public_key=key.public_key())
    monkeypatch.setattr("safecomm_core.audit.bundle.READ_CHUNK", 7)
    chunked = verify_bundle(bundle, public_key=key.public_key())
    assert chunked.intact, chunked.summary()
    assert chunked == whole


def test_ledger_entries_out_of_order_or_without_a_record_are_named(bundle: Path) -> None:
    files = _files(bundle)
    ledger = files["records/ledger.jsonl"].splitlines()
    ledger[2], ledger[3] = ledger[3], ledger[2]
    extra = json.loads(ledger[-1])
    extra["position"] += 10
    ledger.append(json.dumps(extra, sort_keys=True).encode())
    files["records/ledger.jsonl"] = b"\n".join(ledger) + b"\n"
    _rewrite(bundle, files, rehash=True)

    result = verify_bundle(bundle)

    swapped = json.loads(ledger[3])
    assert "records/ledger.jsonl line 4: out of order" in result.problems
    named = f"record at position {swapped['position']} "
    assert any(p.startswith(named) and "no ledger entry" in p for p in result.problems)
    assert (
        f"record at position {extra['position']}: in the ledger but missing from "
        "records/records.jsonl"
    ) in result.problems
