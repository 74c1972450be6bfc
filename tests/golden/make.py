"""Write a golden file of stored events: ``python tests/golden/make.py NAME COMMANDS.jsonl``.

Golden files are the stored form of events written by a released version. They are never
regenerated: this script refuses to overwrite one. When an event's schema changes, add an
upcaster and keep the old file; test_golden.py proves that it still loads.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from safecomm_core import open_store, parse_command

HERE = Path(__file__).parent


def main(name: str, commands: Path) -> None:
    target = HERE / f"{name}.jsonl"
    if target.exists():
        sys.exit(f"{target} exists: golden files are never rewritten")
    store = open_store("memory://")
    for line in commands.read_text(encoding="utf-8").splitlines():
        if line.strip():
            store.handle(parse_command(json.loads(line)))
    with target.open("w", encoding="utf-8") as out:
        for n in store.events(limit=10**6):
            row = {
                "originator_id": str(n.originator_id),
                "originator_version": n.originator_version,
                "topic": n.topic,
                "state": n.state.decode("utf-8"),
            }
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {target}")


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
