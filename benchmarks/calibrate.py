"""Calibrate the refusal rule on development questions, over one or more indexes.

Answers every question with refusal switched off, records the signals the rule sees,
then picks the thresholds that get the most questions right (the share of unanswerable
ones refused plus the share of answerable ones answered right) while refusing no more than
5% of the answerable ones, pooled over
every set on every index given, so the same thresholds serve the ~195-document archive
and the two sample reports. Prints the figures per set and index; ``--write`` saves them
to pcc_assistant/answer/calibration.json.

    .venv/bin/python benchmarks/calibrate.py --index SCALE --index SMALL \
        eval/questions.jsonl eval/holdout.jsonl eval/dev/real.jsonl eval/dev/police.jsonl [--write]

A question about documents an index doesn't hold is skipped on that index.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pcc_assistant.answer.refusal import Signals, Thresholds, save  # noqa: E402
from pcc_assistant.ask import Assistant  # noqa: E402
from pcc_assistant.config import load_settings  # noqa: E402
from pcc_assistant.evaluate import load_questions, score  # noqa: E402


def collect(index: Path, sets: list[Path]) -> list[dict[str, object]]:
    never = Thresholds(-1.0, -1.0, -1.0)
    assistant = Assistant(load_settings(index_dir=index), thresholds=never)
    indexed = {r.doc for r in assistant.retriever.reports}
    rows = []
    for path in sets:
        questions = load_questions(path).questions
        if not any(e.doc in indexed for q in questions for e in q.evidence):
            continue  # a set about documents this index doesn't hold
        for q in questions:
            if any(e.doc not in indexed for e in q.evidence):
                continue
            a = assistant.ask(q.question)
            s = score(q, a)
            rows.append(
                {
                    "group": f"{path.stem} on {index.name}",
                    "id": q.id,
                    "kind": q.kind,
                    "answerable": q.answerable,
                    "correct_if_answered": bool(s.get("correct")) if q.answerable else False,
                    "signals": a.signals,
                }
            )
    assistant.close()
    return rows


_NEUTRAL = {
    "similarity": 0.0,
    "coverage": 0.0,
    "context": 0.0,
    "figure_missing": False,
    "name_missing": False,
    "type_missing": False,
    "year_missing": False,
}


def evaluate(rows: list[dict[str, object]], t: Thresholds) -> dict[str, float]:
    ans = [r for r in rows if r["answerable"]]
    una = [r for r in rows if not r["answerable"]]

    def refused(r: dict[str, object]) -> bool:
        sig = r["signals"]
        assert isinstance(sig, dict)
        if not sig:
            return True
        return t.refuse(Signals(**{k: type(v)(sig[k]) for k, v in _NEUTRAL.items()}))

    return {
        "answerable_refused": sum(refused(r) for r in ans) / max(len(ans), 1),
        "answerable_correct": sum((not refused(r)) and bool(r["correct_if_answered"]) for r in ans)
        / max(len(ans), 1),
        "unanswerable_refused": sum(refused(r) for r in una) / max(len(una), 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("sets", type=Path, nargs="+")
    ap.add_argument("--index", type=Path, action="append", required=True)
    ap.add_argument("--max-refused", type=float, default=0.05)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    rows = [r for index in args.index for r in collect(index, args.sets)]
    grid = itertools.product(
        [0.0],
        [x / 100 for x in range(0, 81, 5)],
        [x / 100 for x in range(0, 101, 5)],
        [False, True],
        [False, True],
        [False, True],
        [False, True],
    )
    best: tuple[tuple[float, float], Thresholds, dict[str, float]] | None = None
    for values in grid:
        t = Thresholds(*values)
        m = evaluate(rows, t)
        if m["answerable_refused"] > args.max_refused:
            continue
        # Most questions handled right: unanswerable refused and answerable answered right,
        # weighed alike (refusing everything unsure would buy the first with the second).
        key = (
            round(m["unanswerable_refused"] + m["answerable_correct"], 6),
            round(m["answerable_correct"], 6),
        )
        if best is None or key > best[0]:
            best = (key, t, m)
    assert best is not None
    _, t, m = best
    groups = sorted({str(r["group"]) for r in rows})
    per_group = {g: evaluate([r for r in rows if r["group"] == g], t) for g in groups}
    record: dict[str, object] = {
        "question_sets": [str(p) for p in args.sets],
        "indexes": [str(i) for i in args.index],
        "answerable": sum(1 for r in rows if r["answerable"]),
        "unanswerable": sum(1 for r in rows if not r["answerable"]),
        "result": m,
        "by_set": per_group,
    }
    print(json.dumps({"thresholds": t.__dict__, **record}, indent=2))
    if args.write:
        save(t, record)


if __name__ == "__main__":
    main()
