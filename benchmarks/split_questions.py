"""Split freshly written questions into a development set and a sealed test set.

    .venv/bin/python benchmarks/split_questions.py SOURCE.jsonl DEV.jsonl TEST.jsonl [--seed N]

Questions are grouped by (kind, answerable); each group is shuffled with the seed and
dealt alternately, test first, so both halves have the same mix. Only counts are printed:
the test half is written without being read, and stays unread until it is scored once.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("source", type=Path)
    ap.add_argument("dev", type=Path)
    ap.add_argument("test", type=Path)
    ap.add_argument("--seed", type=int, default=12)
    args = ap.parse_args()
    rows = [json.loads(line) for line in args.source.read_text().splitlines() if line.strip()]
    groups: dict[tuple[str, bool], list[dict[str, object]]] = {}
    for row in rows:
        groups.setdefault((str(row.get("kind", "")), bool(row["answerable"])), []).append(row)
    rng = random.Random(args.seed)
    dev: list[dict[str, object]] = []
    test: list[dict[str, object]] = []
    turn = 0
    for key in sorted(groups):
        group = groups[key]
        rng.shuffle(group)
        for row in group:
            (test if turn % 2 == 0 else dev).append(row)
            turn += 1
    for path, part in ((args.dev, dev), (args.test, test)):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in part))
        print(
            f"{path}: {len(part)} questions, {sum(bool(r['answerable']) for r in part)} answerable"
        )


if __name__ == "__main__":
    main()
