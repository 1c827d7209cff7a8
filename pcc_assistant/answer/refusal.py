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
    type_missing: bool = False  # it asks for a date or a name that no chosen sentence gives
    year_missing: bool = False  # a year it asks about is in no cited paragraph


@dataclass(frozen=True)
class Thresholds:
    min_similarity: float = 0.35
    min_coverage: float = 0.3
    min_context: float = 0.45
    refuse_when_figure_missing: bool = False
    refuse_when_name_missing: bool = False
    refuse_when_type_missing: bool = False
    refuse_when_year_missing: bool = False

    def refuse(self, s: Signals) -> bool:
        return self.why(s) != ""

    def why(self, s: Signals) -> str:
        """What the answer lacks, for the reader ("" when the evidence is strong enough)."""
        if s.similarity < self.min_similarity:
            return "nothing indexed is close enough in meaning"
        if s.coverage < self.min_coverage or s.context < self.min_context:
            return "no passage covers enough of the question"
        if self.refuse_when_name_missing and s.name_missing:
            return "the closest passages are not about the place or body the question names"
        if self.refuse_when_year_missing and s.year_missing:
            return "the closest passages are not about the year the question asks about"
        if self.refuse_when_figure_missing and s.figure_missing:
            return "the reports don't give the figure asked for"
        if self.refuse_when_type_missing and s.type_missing:
            return "the reports don't give the date or name asked for"
        return ""


@cache
def calibrated() -> Thresholds:
    if _FILE.is_file():
        data = json.loads(_FILE.read_text())
        fields = set(Thresholds.__dataclass_fields__)
        return Thresholds(**{k: v for k, v in data["thresholds"].items() if k in fields})
    return Thresholds()


def save(thresholds: Thresholds, evidence: dict[str, object]) -> None:
    _FILE.write_text(json.dumps({"thresholds": asdict(thresholds), **evidence}, indent=2) + "\n")
