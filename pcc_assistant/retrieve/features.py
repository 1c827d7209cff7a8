"""What the second look knows about each candidate paragraph, as numbers.

Every candidate (from the dense and the keyword search over the whole corpus) is
described by the same features, and :mod:`rerank` weighs them with weights fitted on the
development questions (``benchmarks/fit_rerank.py``). The features are ones a reader
would use: how close the meaning is (MiniLM's cosine, the paragraph's best window), how
well the words match (BM25, and the share of the question's weight the paragraph holds),
whether the question's words are in the paragraph's heading or its report's title, how
strongly the paragraph's report as a whole answers, and what kind of unit it is.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from pcc_assistant.terms import terms
from pcc_assistant.types import Report

if TYPE_CHECKING:
    from pcc_assistant.retrieve.retriever import Candidates

FEATURES = (
    "dense",  # cosine similarity of the paragraph's best window to the question
    "dense_gap",  # ... minus the best candidate's (how far behind the leader)
    "bm25",  # keyword score over the best candidate's
    "bm25_log",  # log(1 + keyword score): absolute strength of the word match
    "cover",  # share of the question's word weight in the paragraph (with its heading)
    "cover_head",  # ... in its heading path and label
    "title",  # ... in its report's title, organisation and file name
    "title_margin",  # how far its report's title leads the next report's (0 if not first)
    "cover_rest",  # share of the weight the title doesn't hold that the paragraph holds
    "cover_around",  # ... in the paragraph with the one before and the one after
    "report_dense",  # the best dense score among the report's candidates
    "report_bm25",  # the best keyword score (over the best) among the report's candidates
    "short",  # a fragment: under 80 characters
    "front",  # text before the report's first numbered paragraph (often a cover)
    "figure",  # holds a figure and the question asks for one
    "table",  # a table and the question asks for a figure
)

_WANTS_FIGURE = re.compile(
    r"\b(how many|how much|what (?:percentage|proportion|share|number|figure|rate|level|"
    r"score|value|total)|percentage|per ?cent|proportion|rate|number of|increase|decrease|"
    r"rise|fall|average|median|cost|budget|£)\b|%",
    re.IGNORECASE,
)
_FIGURE = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?(?!\d)")


def wants_figure(question: str) -> bool:
    return bool(_WANTS_FIGURE.search(question))


@dataclass(frozen=True)
class Words:
    """A paragraph's terms, cut once and cached by the retriever."""

    text: frozenset[str]  # as the keyword index cut them: label, section path and text
    head: frozenset[str]  # the section path and label alone


def report_words(r: Report) -> frozenset[str]:
    """A report's title, organisation and file name: staff name a document by any of them
    ("the LPDP terms of reference 2013-14" is in the file name, not the cover's title)."""
    stem = re.sub(r"[_.]+", " ", r.doc)
    return frozenset(terms(f"{r.title} {r.organisation} {stem}"))


def question_weights(question: str, weight: Callable[[str], float]) -> dict[str, float]:
    return {t: weight(t) for t in set(terms(question))}


def _share(q: Mapping[str, float], words: frozenset[str], total: float) -> float:
    return sum(w for t, w in q.items() if t in words) / total if total else 0.0


def matrix(
    found: Candidates,
    words: Callable[[tuple[str, int]], Words],
    around: Callable[[tuple[str, int]], frozenset[str]],
    title_words: Callable[[str], frozenset[str]],
    q: Mapping[str, float],
    figure_wanted: bool,
) -> np.ndarray:
    """One row of :data:`FEATURES` per candidate."""
    keys, paragraphs, dense, bm25 = found.keys, found.paragraphs, found.dense, found.bm25
    total = sum(q.values())
    top_dense = max(dense.values(), default=0.0)
    top_bm25 = max(bm25.values(), default=0.0) or 1.0
    shares = [*sorted(found.title_shares.values(), reverse=True)[:2], 0.0, 0.0]
    report_dense: dict[str, float] = {}
    report_bm25: dict[str, float] = {}
    for doc, ordinal in keys:
        report_dense[doc] = max(report_dense.get(doc, -1.0), dense.get((doc, ordinal), 0.0))
        report_bm25[doc] = max(report_bm25.get(doc, 0.0), bm25.get((doc, ordinal), 0.0))
    rows = np.zeros((len(keys), len(FEATURES)), dtype=np.float64)
    for i, key in enumerate(keys):
        p = paragraphs[key]
        w = words(key)
        d = dense.get(key, 0.0)
        b = bm25.get(key, 0.0)
        figure = figure_wanted and bool(_FIGURE.search(p.text))
        title = title_words(p.doc)
        rest = {t: v for t, v in q.items() if t not in title}
        rest_total = sum(rest.values())
        share = found.title_shares.get(p.doc, 0.0)
        rows[i] = (
            d,
            d - top_dense,
            b / top_bm25,
            math.log1p(b),
            _share(q, w.text, total),
            _share(q, w.head, total),
            share,
            share - shares[1] if share >= shares[0] > 0 else 0.0,
            _share(rest, w.text | w.head, rest_total),
            _share(q, w.text | w.head | around(key), total),
            report_dense[p.doc],
            report_bm25[p.doc] / top_bm25,
            float(len(p.text) < 80),
            float(p.label.startswith("front")),
            float(figure),
            float(figure_wanted and p.kind == "table"),
        )
    return rows
