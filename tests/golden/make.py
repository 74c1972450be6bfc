"""Write a golden file of stored events.

``python tests/golden/make.py NAME COMMANDS.jsonl``: every event the commands store.
``python tests/golden/make.py NAME --scenario SCALE``: the demo's scenario handled at SCALE,
of which the whole histories of a few records that together show every stored topic
(for each topic, the record with the shortest history that has it).

Golden files are the stored form of events written by a released version. They are never
regenerated: this script refuses to overwrite one. When an event's schema changes, add an
upcaster and keep the old file; test_golden.py proves that it still loads.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path
from uuid import UUID

from eventsourcing.persistence import Notification
from safecomm_demo import scenario_commands

from safecomm_core import open_store, parse_command

#: The demo's seed.
SEED = 2014

HERE = Path(__file__).parent


def main(name: str, source: list[str]) -> None:
    target = HERE / f"{name}.jsonl"
    if target.exists():
        sys.exit(f"{target} exists: golden files are never rewritten")
    service = open_store("memory://")
    if source[0] == "--scenario":
        for command in scenario_commands(SEED, float(source[1])):
            service.handle(command)
        stored = _covering(list(service.log.read(0, 10**7)))
    else:
        for line in Path(source[0]).read_text(encoding="utf-8").splitlines():
            if line.strip():
                service.handle(parse_command(json.loads(line)))
        stored = list(service.log.read(0, 10**7))
    with target.open("w", encoding="utf-8") as out:
        for n in stored:
            row = {
                "originator_id": str(n.originator_id),
                "originator_version": n.originator_version,
                "topic": n.topic,
                "state": n.state.decode("utf-8"),
            }
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {target}")


def _covering(notifications: list[Notification]) -> list[Notification]:
    """The notifications of the fewest short histories that show every topic, in order."""
    histories: dict[UUID, list[Notification]] = defaultdict(list)
    for n in notifications:
        histories[n.originator_id].append(n)
    chosen: set[UUID] = set()
    for topic in sorted({n.topic for n in notifications}):
        if any(n.topic == topic for id_ in chosen for n in histories[id_]):
            continue
        having = [id_ for id_, events in histories.items() if any(n.topic == topic for n in events)]
        chosen.add(min(having, key=lambda id_: (len(histories[id_]), str(id_))))
    return [n for n in notifications if n.originator_id in chosen]


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
