"""An evaluator's audit of a safecomm store: is the record intact, and what was known when?

Copy it and change what you need. It uses only the public audit API::

    python examples/audit_replay.py sqlite:///safecomm.db seal.key.pub \\
        --on 2014-08-31 d-2014-0001 d-2014-0002

1. Verifies the store against every seal, with the public key the subdistrict gave you
   (and against seals published elsewhere, with ``--seals FILE``). Stops with exit status
   1, naming the first altered record, if anything was changed.
2. For each record named, prints what the office knew of it on the day (``known at``:
   events recorded by then) beside what is known now of that day (``as of``: events that
   occurred by then, including those entered late), and the entries that were late.
"""

from __future__ import annotations

import argparse
import sys

from safecomm_core import open_store
from safecomm_core.audit import (
    Cut,
    Seal,
    load_public_key,
    parse_moment,
    replay_record,
    verify,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("store", help="store URL, e.g. sqlite:///safecomm.db")
    parser.add_argument("public_key", help="the subdistrict's public sealing key (.pub)")
    parser.add_argument("records", nargs="*", help="records to replay, e.g. d-2014-0001")
    parser.add_argument("--on", default=None, help="the day or time to replay at")
    parser.add_argument("--seals", default=None, help="published seals, one JSON line each")
    args = parser.parse_intermixed_args(argv)

    published = []
    if args.seals:
        with open(args.seals, encoding="utf-8") as lines:
            published = [Seal.from_json(line) for line in lines if line.strip()]

    with open_store(args.store) as service:
        result = verify(service, public_key=load_public_key(args.public_key), published=published)
        print("\n".join(result.summary()))
        if not result.intact:
            return 1

        if args.records and args.on:
            moment = parse_moment(args.on)
            for record in args.records:
                known = replay_record(service, record, Cut.known_at(moment))
                as_of = replay_record(service, record, Cut.as_of(moment))
                print(f"\n{known.kind}:{known.ref} on {moment.isoformat()}")
                print(f"  known then: version {known.version}, {_status(known.state())}")
                print(f"  as of then: version {as_of.version}, {_status(as_of.state())}")
                recorded_then = {e.version for e in known.events}
                for late in as_of.events:
                    if late.version not in recorded_then:
                        print(
                            f"  late entry: v{late.version} {late.event} occurred "
                            f"{late.occurred_at.isoformat()}, recorded "
                            f"{late.recorded_at.isoformat()}"
                        )
    return 0


def _status(state: dict[str, object] | None) -> str:
    if state is None:
        return "not yet on record"
    return f"status {state.get('status', '?')}"


if __name__ == "__main__":
    sys.exit(main())
