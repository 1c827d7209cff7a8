"""What a user's measure names, and which of its words only locate it.

"share of new visits to data.gov.uk" names *new visits*; "share of" says it is a
proportion and "to data.gov.uk" where it was counted. A report's row says "New visits
74.00%": a match must hold the words that name the measure (its core), not the ones that
locate it. Likewise "crime rate per 1000 population" names *crime rate*; "per 1000
population" is its denominator, and 1000 is never its value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from pcc_assistant.answer.tables import PLACES
from pcc_assistant.terms import terms

# "share of", "the percentage of all", "rate of", "number of": the kind of figure wanted.
_KIND_OF = re.compile(
    r"\b(?:the\s+)?(?:total\s+)?(?:share|percentage|per\s?cent(?:age)?|%|proportion|fraction|"
    r"ratio|rate|number|no\.|count|amount|level|figure|value)s?\s+of\s+(?:the\s+|all\s+|a\s+)?",
    re.IGNORECASE,
)
# Words that say what kind of figure is wanted wherever they stand ("percentage change").
_KIND_WORDS = {
    "share",
    "percentag",
    "percent",
    "proport",
    "fraction",
    "ratio",
    "number",
    "count",
    "amount",
    "level",
    "figur",
    "valu",
}
# A website or e-mail domain: data.gov.uk, www.police.uk.
_SITE = re.compile(r"\b(?:https?://)?(?:[\w-]+\.)+(?:uk|com|org|net|gov|eu|io)\b[/\w.-]*", re.I)
# "per 1,000 population", "per 100,000 people", "per head", "per capita".
DENOMINATOR = re.compile(
    r"\bper\s+(?:[\d,]+(?:\.\d+)?|head|capita|thousand|hundred|million)"
    r"(?:\s+(?:of\s+(?:the\s+)?)?(?:population|people|residents|persons|households|"
    r"inhabitants|adults|children|officers|head|capita))?",
    re.IGNORECASE,
)
# "to data.gov.uk", "in Durham", "for the North East": a place or site the measure is of.
_AT = r"(?:to|on|for|in|at|by|from|across|of|within)\s+(?:the\s+)?"


@dataclass(frozen=True)
class Measure:
    """A measure as the user wrote it, split into what names it and what locates it."""

    text: str  # as written, on one line
    phrase: str  # the words that name it: "new visits" (what its meaning is taken from)
    core: tuple[str, ...]  # its terms a match must hold (stemmed, as the keyword index)
    optional: tuple[str, ...]  # terms that help a match but are not required
    numbers: frozenset[str]  # numbers the measure itself holds ("1000"): never a value
    denominator: str = ""  # "per 1000 population", verbatim

    @property
    def terms(self) -> tuple[str, ...]:
        return self.core + self.optional


def parse(text: str, names: Iterable[str] = ()) -> Measure:
    """``text`` read as a measure; ``names`` are the places and organisations of the
    indexed reports ("Durham", "Cabinet Office"), which locate a measure when named."""
    text = " ".join(text.split())
    rest = text
    located: list[str] = []

    def drop(m: re.Match[str]) -> str:
        located.append(m.group(0))
        return " "

    denominator = ""
    found = DENOMINATOR.search(rest)
    if found:
        denominator = found.group(0)
        rest = rest[: found.start()] + " " + rest[found.end() :]
        located.append(denominator)
    rest = _SITE.sub(drop, rest)
    rest = _KIND_OF.sub(drop, rest)
    known = sorted({n for n in names if n.strip()}, key=len, reverse=True)
    if known:
        named = re.compile(
            rf"(?:\b{_AT})?\b(?:{'|'.join(re.escape(n) for n in known)})(?:['’]s)?\b",
            re.IGNORECASE,
        )
        rest = named.sub(drop, rest)
    rest = PLACES.sub(drop, rest)
    rest = re.sub(rf"\s+\b{_AT}\s*$", " ", rest, flags=re.IGNORECASE)  # a dangling "to"
    phrase = " ".join(rest.split()).strip(" ,;:-–")
    core = [t for t in dict.fromkeys(terms(phrase)) if t not in _KIND_WORDS]
    optional = [t for t in dict.fromkeys(terms(" ".join(located))) if t not in core]
    optional += [t for t in dict.fromkeys(terms(phrase)) if t in _KIND_WORDS]
    if not core:  # the measure is only a kind or a place ("share of Durham"): all of it
        core = list(dict.fromkeys(terms(text)))
        optional = []
        phrase = text
    numbers = frozenset(re.sub(r"[,]", "", n) for n in re.findall(r"\d[\d,]*(?:\.\d+)?", text))
    return Measure(text, phrase or text, tuple(core), tuple(optional), numbers, denominator)
