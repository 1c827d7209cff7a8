"""Every answer is checked against its sources before anyone sees it, whoever wrote it.

A claim is verified when it cites at least one retrieved paragraph, every figure in it
(number, percentage, year) appears in a paragraph it cites, and every quoted span is in a
cited paragraph word for word.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from pcc_assistant.answer.model import Claim, Evidence
from pcc_assistant.answer.sentences import figures, flatten, fold, split_sentences

_MARKER = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_QUOTED = re.compile(r"[\"“]([^\"“”]{8,})[\"”]")
NOT_IN_REPORTS = re.compile(r"not in the reports", re.IGNORECASE)


def parse_claims(text: str) -> list[Claim]:
    """Sentences of a generated answer and the ``[n]`` markers each one carries.

    A marker standing alone at the start of a sentence is taken to belong to the sentence
    before it (models often put the full stop before the marker).
    """
    claims: list[Claim] = []
    for sentence in split_sentences(flatten(text)):
        markers = tuple(
            int(n) for m in _MARKER.finditer(sentence) for n in re.split(r"[,;]", m.group(1))
        )
        body = _MARKER.sub("", sentence).strip()
        if not re.search(r"\w", body):
            if claims and markers:
                last = claims[-1]
                claims[-1] = replace(last, markers=tuple(dict.fromkeys(last.markers + markers)))
            continue
        claims.append(Claim(body, tuple(dict.fromkeys(markers))))
    return claims


def verify(claims: Sequence[Claim], evidence: Sequence[Evidence]) -> list[Claim]:
    by_marker = {e.marker: e for e in evidence}
    return [_check(c, by_marker) for c in claims]


def _check(c: Claim, by_marker: dict[int, Evidence]) -> Claim:
    if not c.markers:
        return replace(c, verified=False, problem="cites no paragraph")
    unknown = [m for m in c.markers if m not in by_marker]
    if unknown:
        return replace(
            c,
            verified=False,
            problem="cites " + ", ".join(f"[{m}]" for m in unknown) + ", which was not retrieved",
        )
    sources = [by_marker[m].paragraph.text for m in c.markers]
    source_figures = set().union(*(figures(s) for s in sources))
    labels = set().union(*(figures(by_marker[m].paragraph.label) for m in c.markers))
    missing = sorted(figures(c.text) - source_figures - labels)
    if missing:
        return replace(
            c,
            verified=False,
            problem="figure " + ", ".join(missing) + " is not in the cited paragraph",
        )
    folded = [fold(s) for s in sources]
    for quote in _QUOTED.findall(c.text):
        if not any(fold(quote) in f for f in folded):
            return replace(c, verified=False, problem=f'"{quote}" is not in the cited paragraph')
    return replace(c, verified=True, problem="")
