"""The second look: candidate paragraphs scored by a weighted sum of their features.

The weights are fitted on the development questions, over the ~195-document index and
the two-report one together (``benchmarks/fit_rerank.py``, which writes
``rerank.json`` beside this module and says how well they did). A linear model, not a
learned ranker from a hub: it runs offline in microseconds, and its weights can be read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from pcc_assistant.retrieve.features import FEATURES

_FILE = Path(__file__).with_name("rerank.json")


@dataclass(frozen=True)
class Weights:
    weights: tuple[float, ...]
    bias: float = 0.0

    def score(self, rows: np.ndarray) -> np.ndarray:
        """Each row's score (a logit: higher is more likely the paragraph that answers)."""
        if rows.size == 0:
            return np.zeros(0)
        return np.asarray(rows @ np.asarray(self.weights) + self.bias, dtype=np.float64)


# Used only when rerank.json is missing: meaning and words weighed about equally.
_DEFAULT = {"dense": 4.0, "bm25": 2.0, "cover": 2.0, "cover_head": 0.5, "title": 0.5}


def from_mapping(named: dict[str, float], bias: float = 0.0) -> Weights:
    unknown = set(named) - set(FEATURES)
    if unknown:
        raise ValueError(f"unknown features {sorted(unknown)}")
    return Weights(tuple(float(named.get(f, 0.0)) for f in FEATURES), bias)


@cache
def fitted() -> Weights:
    if not _FILE.is_file():
        return from_mapping(_DEFAULT)
    data = json.loads(_FILE.read_text())
    return from_mapping(data["weights"], data.get("bias", 0.0))


def save(weights: dict[str, float], record: dict[str, object]) -> None:
    _FILE.write_text(json.dumps({"weights": weights, **record}, indent=2) + "\n")
