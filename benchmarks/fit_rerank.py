"""Fit the re-ranker's weights on development questions, over one or more indexes.

    .venv/bin/python benchmarks/fit_rerank.py --index SCALE_INDEX --index SMALL_INDEX \
        eval/questions.jsonl eval/holdout.jsonl eval/dev/real.jsonl eval/dev/police.jsonl \
        [--write] [--folds 5]

For every answerable question with evidence, on every index given, the retriever's own
candidates and features are collected (``Retriever.candidates`` and ``.features``); a
candidate is right when it holds an evidence snippet. The weights minimise the listwise
loss (-log of the share of the softmax that falls on the right candidates) with a little
L2, by L-BFGS. It prints evidence in the top 1/3/5 for each set on each index: as ranked
by the current weights, by weights fitted on all of it, and by weights fitted with each
question's fold left out (the honest figure: the test set is never used here). ``--write``
saves the weights to ``pcc_assistant/retrieve/rerank.json`` with those figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pcc_assistant.answer.sentences import fold  # noqa: E402
from pcc_assistant.ask import Assistant  # noqa: E402
from pcc_assistant.config import load_settings  # noqa: E402
from pcc_assistant.evaluate import load_questions  # noqa: E402
from pcc_assistant.retrieve import features, rerank  # noqa: E402
from pcc_assistant.retrieve.scope import read_scope  # noqa: E402

L2 = 0.01


@dataclass
class Case:
    group: str  # "set on index"
    qid: str
    x: np.ndarray  # candidates x features
    y: np.ndarray  # 1 where the candidate holds evidence
    total_evidence: int  # evidence items, to tell whether all were found


def collect(index: Path, sets: list[Path]) -> list[Case]:
    assistant = Assistant(load_settings(index_dir=index))
    r = assistant.retriever
    r.refresh()
    indexed = {rep.doc for rep in r.reports}
    cases = []
    for path in sets:
        for q in load_questions(path).questions:
            if not q.answerable or not q.evidence:
                continue
            if any(e.doc not in indexed for e in q.evidence):
                continue  # a question about reports this index doesn't hold
            allowed = r.admitted(None)
            scope = read_scope(q.question, allowed)
            docs = set(scope.docs) if scope.docs is not None else {a.doc for a in allowed}
            restrict = None if len(docs) == len(allowed) else docs
            found = r.candidates(q.question, scope.topic, restrict)
            keys, paragraphs = found.keys, found.paragraphs
            x = r.features(q.question, found)
            snippets = [(e.doc, fold(e.snippet)) for e in q.evidence]
            y = np.array(
                [
                    any(doc == k[0] and s in fold(paragraphs[k].text) for doc, s in snippets)
                    for k in keys
                ],
                dtype=np.float64,
            )
            cases.append(Case(f"{path.stem} on {index.name}", q.id, x, y, len(q.evidence)))
    assistant.close()
    return cases


def loss_and_grad(w: np.ndarray, cases: list[Case]) -> tuple[float, np.ndarray]:
    loss = L2 * float(w @ w)
    grad = 2 * L2 * w
    n = 0
    for c in cases:
        if not c.y.any():
            continue
        n += 1
        s = c.x @ w
        s = s - s.max()
        e = np.exp(s)
        p_all = e / e.sum()
        pos = e * c.y
        p_pos = pos / pos.sum()
        loss += -float(np.log(pos.sum() / e.sum()))
        grad += c.x.T @ (p_all - p_pos)
    return loss / max(n, 1), grad / max(n, 1)


def fit(cases: list[Case]) -> np.ndarray:
    from scipy.optimize import minimize

    w0 = np.asarray(rerank.fitted().weights, dtype=np.float64)
    res = minimize(
        lambda w: loss_and_grad(w, cases), w0, jac=True, method="L-BFGS-B", options={"maxiter": 500}
    )
    return np.asarray(res.x)


def rank_of_first(c: Case, w: np.ndarray) -> int | None:
    if not c.y.any():
        return None
    order = np.argsort(-(c.x @ w), kind="stable")
    return int(np.nonzero(c.y[order])[0][0]) + 1


def table(cases: list[Case], scored: dict[str, dict[str, int | None]]) -> list[str]:
    groups = sorted({c.group for c in cases})
    lines = ["| set | questions | " + " | ".join(f"{n} top 1/3/5" for n in scored) + " |"]
    lines.append("|---|---|" + "---|" * len(scored))
    for g in groups:
        mine = [c for c in cases if c.group == g]
        cells = []
        for ranks in scored.values():
            rs = [ranks[f"{c.group}/{c.qid}"] for c in mine]
            cells.append(
                " / ".join(
                    f"{sum(1 for r in rs if r is not None and r <= k) / len(rs):.0%}"
                    for k in (1, 3, 5)
                )
            )
        lines.append(f"| {g} | {len(mine)} | " + " | ".join(cells) + " |")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("sets", type=Path, nargs="+")
    ap.add_argument("--index", type=Path, action="append", required=True)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    cases = [c for index in args.index for c in collect(index, args.sets)]
    current = np.asarray(rerank.fitted().weights)
    w_all = fit(cases)
    # Folds by question id, so a question's cases on both indexes fall in the same fold.
    ids = sorted({c.qid for c in cases})
    rng = np.random.default_rng(12)
    fold_of = {
        qid: int(f) for qid, f in zip(ids, rng.permutation(len(ids)) % args.folds, strict=True)
    }
    held: dict[str, int | None] = {}
    for f in range(args.folds):
        w = fit([c for c in cases if fold_of[c.qid] != f])
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
    named = {f: round(float(v), 4) for f, v in zip(features.FEATURES, w_all, strict=True)}
    print(named)
    missing = sum(1 for c in cases if not c.y.any())
    print(f"{missing} of {len(cases)} questions have no right candidate at all")
    if args.write:
        rerank.save(
            named,
            {
                "fitted": dt.date.today().isoformat(),
                "question_sets": [str(p) for p in args.sets],
                "indexes": [str(i) for i in args.index],
                "questions": len(cases),
                "no_right_candidate": missing,
                "evidence_top_1_3_5": lines,
            },
        )
        print(f"wrote {rerank._FILE}")


if __name__ == "__main__":
    main()
