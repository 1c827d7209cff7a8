"""Fit the extractive answerer's sentence weights on development questions.

    .venv/bin/python benchmarks/fit_answer.py --index SCALE --index SMALL \
        eval/questions.jsonl eval/holdout.jsonl eval/dev/real.jsonl eval/dev/police.jsonl \
        [--write] [--folds 5]

For every answerable question, on every index given, the retrieval is run and every unit
(sentence, list item, table row) of the paragraphs the answerer reads is described by
``extractive.UNIT_FEATURES``. A unit is right when it holds one of the expected answer's
strings and its paragraph holds the question's evidence. The weights minimise the same
listwise loss as the re-ranker's (``fit_rerank.py``); printed: the right unit first, as
ranked by the current weights, by weights fitted on all, and with each question's fold
held out. ``--write`` saves pcc_assistant/answer/unit_weights.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from fit_rerank import Case, loss_and_grad, rank_of_first, table  # noqa: E402

from pcc_assistant.answer import extractive  # noqa: E402
from pcc_assistant.answer import question as asking  # noqa: E402
from pcc_assistant.answer.sentences import fold  # noqa: E402
from pcc_assistant.ask import Assistant  # noqa: E402
from pcc_assistant.config import load_settings  # noqa: E402
from pcc_assistant.evaluate import load_questions  # noqa: E402


def collect(index: Path, sets: list[Path]) -> list[Case]:
    assistant = Assistant(load_settings(index_dir=index))
    r = assistant.retriever
    indexed = {rep.doc for rep in r.reports}
    cases = []
    for path in sets:
        for q in load_questions(path).questions:
            if not q.answerable or not q.evidence or not q.answer_all:
                continue
            if any(e.doc not in indexed for e in q.evidence):
                continue
            retrieval = r.search(q.question)
            asked = asking.read(retrieval.topic or q.question)
            found, x = extractive.unit_features(asked, retrieval.evidence, r.weight)
            strings = [fold(s) for group in q.answer_all for s in group]
            snippets = [(e.doc, fold(e.snippet)) for e in q.evidence]
            y = np.array(
                [
                    any(s in fold(u.unit.text) for s in strings)
                    and any(
                        d == u.evidence.paragraph.doc and sn in fold(u.evidence.paragraph.text)
                        for d, sn in snippets
                    )
                    for u in found
                ],
                dtype=np.float64,
            )
            cases.append(Case(f"{path.stem} on {index.name}", q.id, x, y, len(q.evidence)))
    assistant.close()
    return cases


def fit(cases: list[Case], w0: np.ndarray) -> np.ndarray:
    from scipy.optimize import minimize

    res = minimize(
        lambda w: loss_and_grad(w, cases), w0, jac=True, method="L-BFGS-B", options={"maxiter": 500}
    )
    return np.asarray(res.x)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("sets", type=Path, nargs="+")
    ap.add_argument("--index", type=Path, action="append", required=True)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    cases = [c for index in args.index for c in collect(index, args.sets)]
    current = extractive.unit_weights()
    w_all = fit(cases, current)
    ids = sorted({c.qid for c in cases})
    rng = np.random.default_rng(12)
    fold_of = {q: int(f) for q, f in zip(ids, rng.permutation(len(ids)) % args.folds, strict=True)}
    held: dict[str, int | None] = {}
    for f in range(args.folds):
        w = fit([c for c in cases if fold_of[c.qid] != f], current)
        for c in cases:
            if fold_of[c.qid] == f:
                held[f"{c.group}/{c.qid}"] = rank_of_first(c, w)
    scored = {
        "current weights": {f"{c.group}/{c.qid}": rank_of_first(c, current) for c in cases},
        "fitted on all": {f"{c.group}/{c.qid}": rank_of_first(c, w_all) for c in cases},
        f"{args.folds}-fold held out": held,
    }
    lines = table(cases, scored)
    print("\n".join(lines))
    named = {f: round(float(v), 4) for f, v in zip(extractive.UNIT_FEATURES, w_all, strict=True)}
    print(named)
    missing = sum(1 for c in cases if not c.y.any())
    print(f"{missing} of {len(cases)} questions have no right unit among those read")
    if args.write:
        extractive._UNIT_WEIGHTS.write_text(
            json.dumps(
                {
                    "weights": named,
                    "fitted": dt.date.today().isoformat(),
                    "question_sets": [str(p) for p in args.sets],
                    "indexes": [str(i) for i in args.index],
                    "questions": len(cases),
                    "no_right_unit": missing,
                    "right_unit_top_1_3_5": lines,
                },
                indent=2,
            )
            + "\n"
        )
        print(f"wrote {extractive._UNIT_WEIGHTS}")


if __name__ == "__main__":
    main()
