"""When the evidence is too weak to answer: thresholds calibrated on a question set.

The thresholds live in ``calibration.json`` beside this module, written by
``benchmarks/calibrate.py`` from ``eval/questions.jsonl`` (which holds questions the
reports cannot answer); ``eval/calibration.md`` records how they were chosen.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

_FILE = Path(__file__).with_name("calibration.json")


@dataclass(frozen=True)
class Signals:
    """How well the best evidence matches the question."""

    similarity: float  # cosine similarity of the best dense hit
    coverage: float  # share of the question's word weight in the best sentence
    context: float  # ... in the best sentence's paragraph and its section headings
    figure_missing: bool  # the question asks for a kind of figure the answer doesn't hold
    name_missing: bool = False  # a name in the question (Cleveland) is not near the answer


@dataclass(frozen=True)
class Thresholds:
    min_similarity: float = 0.35
    min_coverage: float = 0.3
    min_context: float = 0.45
    refuse_when_figure_missing: bool = False
    refuse_when_name_missing: bool = False

    def refuse(self, s: Signals) -> bool:
        if s.similarity < self.min_similarity:
            return True
        if s.coverage < self.min_coverage or s.context < self.min_context:
            return True
        if self.refuse_when_name_missing and s.name_missing:
            return True
        return self.refuse_when_figure_missing and s.figure_missing


@cache
def calibrated() -> Thresholds:
    if _FILE.is_file():
        data = json.loads(_FILE.read_text())
        fields = set(Thresholds.__dataclass_fields__)
        return Thresholds(**{k: v for k, v in data["thresholds"].items() if k in fields})
    return Thresholds()


def save(thresholds: Thresholds, evidence: dict[str, object]) -> None:
    _FILE.write_text(json.dumps({"thresholds": asdict(thresholds), **evidence}, indent=2) + "\n")
