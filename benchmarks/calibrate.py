"""Calibrate the refusal rule on a question set with unanswerable questions.

Answers every question with refusal switched off, records the signals the rule sees,
then picks the thresholds that refuse the most unanswerable questions while refusing no
more than 5% of the answerable ones (ties: more answerable questions right). Writes
pcc_assistant/answer/calibration.json and eval/calibration.md.

    .venv/bin/python benchmarks/calibrate.py [--index DIR] [--questions eval/questions.jsonl]
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


def collect(index: Path, questions: Path) -> list[dict[str, object]]:
    never = Thresholds(-1.0, -1.0, -1.0, False, False)
    assistant = Assistant(load_settings(index_dir=index), thresholds=never)
    rows = []
    for q in load_questions(questions).questions:
        a = assistant.ask(q.question)
        s = score(q, a)
        rows.append(
            {
                "id": q.id,
                "kind": q.kind,
                "answerable": q.answerable,
                "correct_if_answered": bool(s.get("correct")) if q.answerable else False,
                "signals": a.signals,
            }
        )
    assistant.close()
    return rows


def evaluate(rows: list[dict[str, object]], t: Thresholds) -> dict[str, float]:
    ans = [r for r in rows if r["answerable"]]
    una = [r for r in rows if not r["answerable"]]

    def refused(r: dict[str, object]) -> bool:
        sig = r["signals"]
        assert isinstance(sig, dict)
        if not sig:
            return True
        return t.refuse(
            Signals(
                sig["similarity"],
                sig["coverage"],
                sig["context"],
                bool(sig["figure_missing"]),
                bool(sig["name_missing"]),
            )
        )

    return {
        "answerable_refused": sum(refused(r) for r in ans) / len(ans),
        "answerable_correct": sum((not refused(r)) and bool(r["correct_if_answered"]) for r in ans)
        / len(ans),
        "unanswerable_refused": sum(refused(r) for r in una) / len(una),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--index", type=Path, default=ROOT / "index")
    ap.add_argument("--questions", type=Path, default=ROOT / "eval" / "questions.jsonl")
    ap.add_argument(
        "--holdout",
        type=Path,
        default=ROOT / "eval" / "holdout.jsonl",
        help="questions NOT used to choose thresholds, scored with the result",
    )
    args = ap.parse_args()
    rows = collect(args.index, args.questions)
    held = collect(args.index, args.holdout) if args.holdout.is_file() else []
    grid = itertools.product(
        [x / 100 for x in range(0, 61, 2)],
        [x / 100 for x in range(0, 81, 5)],
        [x / 100 for x in range(0, 101, 5)],
        [False, True],
        [False, True],
    )
    best: tuple[tuple[float, float], Thresholds, dict[str, float]] | None = None
    for sim, cov, ctx, fig, name in grid:
        t = Thresholds(sim, cov, ctx, fig, name)
        m = evaluate(rows, t)
        if m["answerable_refused"] > 0.05:
            continue
        # Most unanswerable refused; then most answered right; then the loosest rule.
        key = (round(m["unanswerable_refused"], 6), round(m["answerable_correct"], 6))
        if best is None or key > best[0]:
            best = (key, t, m)
    assert best is not None
    _, t, m = best
    n_ans = sum(1 for r in rows if r["answerable"])
    record: dict[str, object] = {
        "question_set": str(args.questions.relative_to(ROOT)),
        "answerable": n_ans,
        "unanswerable": len(rows) - n_ans,
        "result": m,
    }
    if held:
        record["holdout"] = {
            "question_set": str(args.holdout.relative_to(ROOT)),
            "answerable": sum(1 for r in held if r["answerable"]),
            "unanswerable": sum(1 for r in held if not r["answerable"]),
            "result": evaluate(held, t),
        }
    save(t, record)
    print(json.dumps({"thresholds": t.__dict__, **record}, indent=2))


if __name__ == "__main__":
    main()
