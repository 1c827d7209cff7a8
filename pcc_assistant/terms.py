"""Words as the keyword index and the extractive answerer both see them: lower-cased,
stop words dropped, stemmed. One definition, so a question's terms match the index's."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from functools import cache
from typing import Any

_WORD = re.compile(r"(?u)\b\w\w+\b")

# Words that say what kind of answer is wanted, not what it is about.
_QUESTION_WORDS = {
    "what",
    "which",
    "who",
    "whom",
    "whose",
    "when",
    "where",
    "why",
    "how",
    "many",
    "much",
    "often",
    "does",
    "did",
    "do",
    "was",
    "were",
    "has",
    "have",
    "had",
    "is",
    "are",
    "been",
    "being",
    "can",
    "could",
    "would",
    "should",
    "will",
    "shall",
    "may",
    "might",
    "tell",
    "give",
    "say",
    "says",
    "said",
    "report",
    "reports",
    "according",
    "there",
    "any",
    "about",
    "the",
    "this",
    "that",
    "these",
    "those",
    "its",
    "their",
    "our",
    "your",
    "his",
    "her",
    "from",
    "with",
    "than",
    "then",
    "also",
    "so",
    "up",
    "out",
    "over",
    "per",
    "all",
    "each",
    "both",
    "two",
    "one",
    "use",
    "used",
    "currently",
    "latest",
    "describe",
    "explain",
    "got",
    "get",
    "getting",
    "happen",
    "happened",
    "happening",
    "show",
    "shows",
    "showed",
    "expect",
    "expected",
    "like",
    "now",
    "far",
    "doing",
    "done",
    "whether",
    "kind",
    "sort",
}


@cache
def _stopwords() -> frozenset[str]:
    try:
        from bm25s.stopwords import STOPWORDS_EN_PLUS

        base = set(STOPWORDS_EN_PLUS)
    except ImportError:  # pragma: no cover - bm25s is a dependency
        base = set()
    return frozenset(base | _QUESTION_WORDS)


@cache
def _stemmer() -> Any:
    try:
        import Stemmer

        return Stemmer.Stemmer("english")
    except ImportError:  # stemming helps recall but is not essential
        return None


# Reports say the same movement in many words; a question uses one of them.
_SAME = {
    "increas": "rise",
    "rose": "rise",
    "risen": "rise",
    "grow": "rise",
    "grown": "rise",
    "growth": "rise",
    "up": "rise",
    "fell": "fall",
    "fallen": "fall",
    "decreas": "fall",
    "declin": "fall",
    "drop": "fall",
    "reduct": "fall",
    "reduc": "fall",
    "down": "fall",
}
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")


def words(text: str) -> list[str]:
    return _WORD.findall(_THOUSANDS.sub("", text.lower()))


def terms(text: str) -> list[str]:
    """Stemmed content words of ``text``, in order, repeats kept; "1,000" is "1000", and
    words for the same movement ("increased", "rose") are one term."""
    stop = _stopwords()
    kept = [w for w in words(text) if w not in stop]
    stem = _stemmer()
    stems = list(stem.stemWords(kept)) if stem is not None else kept
    return [_SAME.get(t, t) for t in stems]


def document_frequencies(texts: Iterable[str]) -> dict[str, int]:
    df: dict[str, int] = {}
    for text in texts:
        for t in set(terms(text)):
            df[t] = df.get(t, 0) + 1
    return df


def idf(df: int, n: int) -> float:
    """BM25's inverse document frequency: rare words weigh more."""
    return math.log(1.0 + (n - df + 0.5) / (df + 0.5))
