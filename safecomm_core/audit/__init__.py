"""Audit: prove that the log is complete and unaltered, and replay it at any time.

- **Ledger** (:class:`Ledger`): a follower chains every stored event in notification
  order, ``h_i = SHA-256(h_{i-1} ‖ canonical(row_i))`` (the encoding is defined in
  :mod:`safecomm_core.audit.canonical`), and keeps one entry per row beside the events.
- **Seals** (:meth:`Ledger.seal`): Ed25519 signatures over (store, position, chain value,
  time), made with a key kept in a file outside the store (:func:`generate_key`).
- **Verify** (:func:`verify`): recompute the chain from the stored events, hold it to
  every seal, and name the first row updated, deleted, inserted, moved or truncated.
- **Replay** (:func:`replay_record`, :func:`replay_events`, :func:`replay_report`,
  :func:`replay_monthly`, :func:`replay_named_report`): a record, the store's events or a
  report (monthly, self-assessment, watchlist) as known at a time (recorded by it) or as
  of a time (occurred by it).
- **Rebuild check** (:func:`rebuild_check`): every projection rebuilt from zero beside its
  live view, and the two compared by digest; differing rows listed.
- **Evidence bundles** (:func:`write_bundle`, :func:`verify_bundle`): reports, the stored
  events (personal data still sealed), ledger, seals and a manifest in one zip, checked
  without the store.

An audit script::

    from safecomm_core import open_store
    from safecomm_core.audit import Cut, load_public_key, parse_moment, replay_record, verify

    with open_store("sqlite:///safecomm.db") as service:
        result = verify(service, public_key=load_public_key("seal.key.pub"))
        print("\\n".join(result.summary()))
        then = replay_record(service, "d-2014-0001", Cut.known_at(parse_moment("2014-08-31")))
        print(then.to_dict())

The same from the shell: ``safecomm audit keygen | seal | verify | replay |
rebuild-check | bundle | verify-bundle``.
"""

from safecomm_core.audit.bundle import BundleVerification, verify_bundle, write_bundle
from safecomm_core.audit.canonical import (
    GENESIS,
    LedgerEntry,
    MalformedRow,
    canonical,
    chain,
    chain_rows,
    state_digest,
)
from safecomm_core.audit.errors import AuditError, KeyFileError, TamperDetected
from safecomm_core.audit.findings import Finding, FindingKind, RowRef
from safecomm_core.audit.ledger import Ledger, LedgerHead
from safecomm_core.audit.rebuild import ProjectionCheck, RebuildCheck, rebuild_check
from safecomm_core.audit.replay import (
    Cut,
    CutBasis,
    ReplayedEvent,
    ReplayedRecord,
    ReportBuilder,
    identify,
    parse_moment,
    replay_events,
    replay_record,
    replay_report,
)
from safecomm_core.audit.report_replay import replay_monthly, replay_named_report
from safecomm_core.audit.seal import (
    Seal,
    append_seal_log,
    generate_key,
    key_id,
    load_private_key,
    load_public_key,
    public_key_path,
    read_seal_log,
    seal_log_path,
    sign_seal,
)
from safecomm_core.audit.verify import Verification, verify

__all__ = [
    "GENESIS",
    "AuditError",
    "BundleVerification",
    "Cut",
    "CutBasis",
    "Finding",
    "FindingKind",
    "KeyFileError",
    "Ledger",
    "LedgerEntry",
    "LedgerHead",
    "MalformedRow",
    "ProjectionCheck",
    "RebuildCheck",
    "ReplayedEvent",
    "ReplayedRecord",
    "ReportBuilder",
    "RowRef",
    "Seal",
    "TamperDetected",
    "Verification",
    "append_seal_log",
    "canonical",
    "chain",
    "chain_rows",
    "generate_key",
    "identify",
    "key_id",
    "load_private_key",
    "load_public_key",
    "parse_moment",
    "public_key_path",
    "read_seal_log",
    "rebuild_check",
    "replay_events",
    "replay_monthly",
    "replay_named_report",
    "replay_record",
    "replay_report",
    "seal_log_path",
    "sign_seal",
    "state_digest",
    "verify",
    "verify_bundle",
    "write_bundle",
]
