"""The default answerer: the retrieved paragraphs' own sentences, chosen and cited.

No model writes anything. The question is read first (:mod:`question`: its focus, its
parts, the type of answer it wants, the names and years it holds the answer to), and the
paragraphs as a reader sees them (:mod:`sentences`: sentences, list openers and their
items, table rows with their row and column names). Then:

1. every unit of the best paragraphs is scored by how much of the question's weight it
   covers (rare words weigh more, as in BM25), with the paragraph's retrieval rank as a
   prior and a bonus when it holds the type of answer asked for;
2. the best unit is taken with what completes it: the sentence it leans on ("This is
   lower than..."), the one that carries it on ("However, ..."), the items of the list
   it opens;
3. each part of the question the answer doesn't cover yet gets the best unit for that
   part; a question across reports gets the best statement of each report. Nothing else
   is added: a sentence that only shares words with the question is not an answer.

Text inside a paragraph is only ever matched and quoted, never obeyed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

import numpy as np

from pcc_assistant.answer import question as asking
from pcc_assistant.answer.model import Claim, Evidence
from pcc_assistant.answer.question import Asked, gives_figure, gives_type
from pcc_assistant.answer.sentences import Unit, figures, flatten, units
from pcc_assistant.retrieve.scope import forces_named
from pcc_assistant.terms import terms

# Kept importable from here: tests and pcc verify use them.
asked_figure = asking.asked_figure
names = asking.names
__all__ = ["Extract", "asked_figure", "extract", "gives_figure", "names"]

_DEFINITION = re.compile(
    r"^\s*(?i:what)\s+(?i:is|are|does)\s+(?:the\s+|an?\s+)?([A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)*)"
    r"(?:\s+(?i:stand for|mean|do))?\s*\??\s*$"
)
# A sentence that leans on the one before it.
_ANAPHORA = re.compile(
    r"^(?:This|These|That|Those|It|They|Their|Its|Such|However|Additionally|Further|"
    r"Furthermore|Also|In addition|As a result|Underlying this|But|Despite this|"
    r"Consequently|Therefore|Following this|Since then|As such)\b"
)
_ACRONYM = re.compile(r"((?:[A-Z][\w'-]*[\s,]+(?:(?:and|of|for|the|&)\s+)*){1,8})\(([A-Z]{2,})s?\)")
_CAPS = re.compile(r"\b([A-Z]{2,6})s?\b")
_PARAGRAPHS_READ = 8
_MAX_UNITS = 5  # sentences or rows, besides the items of a list
_MAX_ITEMS = 8
_PART_COVERED = 0.5  # share of a part's weight the answer must hold for it to be answered
_PART_MIN = 0.4  # ... a unit must hold to be added for a part
_MIN_GAIN = 0.1  # share of the focus's weight a further sentence must add
_OWN_ANSWER = 0.6  # share of the focus's weight that makes a sentence an answer by itself
_CONTINUES = 0.6  # the next sentence goes on about the same thing: this share of best's cover


@dataclass(frozen=True)
class Scored:
    evidence: Evidence
    unit: Unit
    index: int  # position of the unit in its paragraph
    score: float
    coverage: float  # share of the question's weight in the unit itself
    context: float  # ... in the unit, its paragraph, section headings and report name
    words: frozenset[str]  # the unit's terms, with its acronyms spelled out


@dataclass(frozen=True)
class Extract:
    claims: list[Claim]
    best: Scored | None
    wants_figure: bool
    figure_missing: bool = False  # a figure of the kind asked for is in no chosen sentence
    name_missing: bool = False  # a name the question gives is nowhere near the answer
    type_missing: bool = False  # no chosen sentence holds the type asked for (a date, a name)
    year_missing: bool = False  # a year the question asks about is not in the cited paragraphs
    asked: Asked | None = None
    unaddressed: list[str] = field(default_factory=list)  # reports that don't address it


def _share(q: dict[str, float], words: set[str] | frozenset[str]) -> float:
    total = sum(q.values())
    return sum(w for t, w in q.items() if t in words) / total if total else 0.0


def acronyms(texts: Sequence[str]) -> dict[str, set[str]]:
    """``MSHT`` -> the terms of "Modern Slavery and Human Trafficking", from "... (MSHT)"."""
    found: dict[str, set[str]] = {}
    for text in texts:
        for m in _ACRONYM.finditer(flatten(text)):
            words = m.group(1).split()
            initials = m.group(2)
            # Keep the last words whose initials spell the acronym, where they do.
            caps = [w for w in words if w[:1].isupper()]
            if len(caps) >= len(initials):
                words = caps[-len(initials) :]
            found.setdefault(initials.lower(), set()).update(terms(" ".join(words)))
    return found


def initialisms(question: str) -> dict[str, set[str]]:
    """``spo`` -> terms of "Stalking Protection Orders" when the question says it in full:
    a report often spells a name out once and abbreviates it after (or the other way)."""
    words = re.findall(r"[A-Za-z][\w'-]*", question)
    found: dict[str, set[str]] = {}
    for n in range(2, 7):
        for i in range(len(words) - n + 1):
            run = words[i : i + n]
            if all(w[0].isupper() for w in run):
                found.setdefault("".join(w[0] for w in run).lower(), set()).update(
                    terms(" ".join(run))
                )
    return found


def _unit_words(u: Unit, expand: dict[str, set[str]]) -> frozenset[str]:
    text = u.text if u.kind == "row" else u.body
    words = set(terms(text))
    for caps in _CAPS.findall(text):
        words |= expand.get(caps.lower(), set())
    for w in list(words):
        words |= expand.get(w, set())
    return frozenset(words)


UNIT_FEATURES = (
    "cover",  # share of the focus's word weight in the unit
    "context",  # ... in the unit, its paragraph, headings and report name
    "prior",  # 1 / (1 + rank / 2) of its paragraph in the retrieval
    "para_gap",  # its paragraph's re-ranking score below the first's (over 10, at most 1)
    "density",  # the focus's words among the unit's words
    "gives_type",  # +1 holds the type of answer asked for, -1 doesn't, 0 none asked
    "new_figure",  # holds a figure the question didn't give (no type asked)
    "defines",  # says what the term a "what is X" question asks about is
    "fragment",  # a sentence under 25 characters
    "opener",  # opens a list
    "row",  # a table row
    "item",  # an item of a list
    "first",  # its paragraph's first unit
)
_UNIT_WEIGHTS = Path(__file__).with_name("unit_weights.json")
# Used only when unit_weights.json is missing: the hand-set weights of the first version.
_DEFAULT_WEIGHTS = {
    "cover": 0.55,
    "context": 0.25,
    "prior": 0.2,
    "density": 0.05,
    "gives_type": 0.12,
    "new_figure": 0.03,
    "defines": 0.3,
    "fragment": -0.1,
    "opener": -0.05,
}


@cache
def unit_weights() -> np.ndarray:
    named = _DEFAULT_WEIGHTS
    if _UNIT_WEIGHTS.is_file():
        named = json.loads(_UNIT_WEIGHTS.read_text())["weights"]
    return np.array([float(named.get(f, 0.0)) for f in UNIT_FEATURES])


def unit_features(
    asked: Asked, evidence: Sequence[Evidence], weight: Callable[[str], float]
) -> tuple[list[Scored], np.ndarray]:
    """Every unit of the best paragraphs, with one row of :data:`UNIT_FEATURES` each."""
    q = {t: weight(t) for t in set(terms(asked.focus))}
    asked_figures = figures(asked.focus)
    definition = _DEFINITION.match(asked.focus)
    defined = definition.group(1) if definition else ""
    expand = acronyms([e.paragraph.text for e in evidence])
    for short, long in initialisms(asked.question).items():
        expand.setdefault(short, set()).update(long)
    found: list[Scored] = []
    rows: list[tuple[float, ...]] = []
    top = evidence[0].score if evidence else 0.0
    typed = asked.type in ("figure", "date", "name", "reason")
    for rank, e in enumerate(evidence[:_PARAGRAPHS_READ]):
        p = e.paragraph
        around = set(terms(f"{p.section} {p.label} {e.report.title} {e.report.organisation}"))
        para_words = set(terms(flatten(p.text))) | around
        for w in list(para_words):
            para_words |= expand.get(w, set())
        prior = 1.0 / (1.0 + 0.5 * rank)
        gap = max(e.score - top, -10.0) / 10.0
        for i, u in enumerate(units(p)):
            words = _unit_words(u, expand)
            cov = _share(q, words)
            context = _share(q, words | para_words)
            gives = (1.0 if gives_type(asked.type, u.body, asked.focus) else -1.0) if typed else 0.0
            defines = bool(defined) and bool(
                re.search(
                    rf"{re.escape(defined)}\s*\(|\({re.escape(defined)}\)|{re.escape(defined)}"
                    r"\s+(?:stands for|means|is an?|is the|are)\b",
                    u.body,
                )
            )
            rows.append(
                (
                    cov,
                    context,
                    prior,
                    gap,
                    sum(1 for t in q if t in words) / max(len(words), 8),
                    gives,
                    float(not typed and bool(figures(u.body) - asked_figures)),
                    float(defines),
                    float(u.kind == "sentence" and len(u.body) < 25 and u.role != "item"),
                    float(u.role == "opener" and asked.type != "list"),
                    float(u.kind == "row"),
                    float(u.role == "item"),
                    float(i == 0),
                )
            )
            found.append(Scored(e, u, i, 0.0, cov, context, words | frozenset(around)))
    return found, np.array(rows, dtype=np.float64).reshape(len(rows), len(UNIT_FEATURES))


def score_units(
    asked: Asked, evidence: Sequence[Evidence], weight: Callable[[str], float]
) -> list[Scored]:
    """Every unit of the best paragraphs, best first, scored with the fitted weights."""
    found, x = unit_features(asked, evidence, weight)
    scores = x @ unit_weights() if len(found) else np.zeros(0)
    scored = [replace(s, score=float(v)) for s, v in zip(found, scores, strict=True)]
    scored.sort(key=lambda s: -s.score)
    return scored


def _completed(best: Scored, scored: list[Scored], asked: Asked) -> list[Scored]:
    """A unit with what it needs to be read: the sentence it leans on, the one that
    carries it on, and the items of the list it opens."""
    if best.unit.kind != "sentence":
        return [best]
    same = {s.index: s for s in scored if s.evidence is best.evidence}
    chosen = [best]
    if best.index > 0 and _ANAPHORA.match(best.unit.body) and best.index - 1 in same:
        before = same[best.index - 1]
        if before.unit.role != "item":
            chosen.insert(0, before)
    if best.unit.role == "opener":
        i = best.index + 1
        while i in same and same[i].unit.role == "item" and len(chosen) < _MAX_ITEMS + 1:
            chosen.append(same[i])
            i += 1
        return chosen
    nxt = same.get(best.index + 1)
    if (
        nxt is not None
        and nxt.unit.role != "item"
        and (
            _ANAPHORA.match(nxt.unit.body) or nxt.coverage >= _CONTINUES * max(best.coverage, 0.01)
        )
    ):
        chosen.append(nxt)  # it leans on this one, or goes on about the same thing
    if asked.type in ("figure", "date", "name", "reason") and not any(
        gives_type(asked.type, c.unit.body, asked.focus) for c in chosen
    ):
        # "Why is X higher?" answered by "X is higher."; the reason is in what follows.
        for i in range(best.index + 1, best.index + 3):
            later = same.get(i)
            if later is not None and gives_type(asked.type, later.unit.body, asked.focus):
                chosen.extend(
                    same[j] for j in range(best.index + 1, i + 1) if same[j] not in chosen
                )
                break
    return chosen


def _same_passage(s: Scored, best: Scored) -> bool:
    a, b = s.evidence.paragraph, best.evidence.paragraph
    return a.doc == b.doc and abs(a.ordinal - b.ordinal) <= 1


def _strong_elsewhere(s: Scored, best: Scored) -> bool:
    """A sentence elsewhere in the same report that is an answer in its own right (most of
    the question's weight), not one that only shares a few words with it."""
    return s.evidence.paragraph.doc == best.evidence.paragraph.doc and s.coverage >= _OWN_ANSWER


def _nearness(s: Scored, best: Scored) -> float:
    """What follows in the same paragraph answers "and what happens next?" before a
    sentence elsewhere that only shares the words."""
    if s.evidence is not best.evidence:
        return 0.0
    return 0.3 if 0 < s.index - best.index <= 2 else 0.15


def _cover(s: Scored) -> bool:
    """A cover page: text before the first numbered paragraph that says little beyond
    the report's own title, organisation and date (unnumbered reports start with
    content here, which stays)."""
    p, r = s.evidence.paragraph, s.evidence.report
    if not p.label.startswith("front"):
        return False
    date = r.date.strftime("%d %B %Y") if r.date else ""
    known = set(terms(f"{r.title} {r.organisation} {date} police crime panel report"))
    return len([t for t in terms(s.unit.body) if t not in known]) <= 2


def extract(
    question: str,
    evidence: Sequence[Evidence],
    weight: Callable[[str], float],
    cross_report: bool = False,
) -> Extract:
    """The sentences that answer ``question``, each citing its paragraph."""
    asked = asking.read(question)
    scored = score_units(asked, evidence, weight)
    q = {t: weight(t) for t in set(terms(asked.focus))}
    if not scored:
        return Extract([], None, asked.type == "figure", asked=asked)
    usable = [s for s in scored if not _cover(s)] or scored
    best = usable[0]
    chosen = _completed(best, scored, asked)

    def taken(s: Scored) -> bool:
        return any(s.evidence is c.evidence and s.index == c.index for c in chosen)

    def add(s: Scored) -> None:
        chosen.extend(c for c in _completed(s, scored, asked) if not taken(c))

    # Each part of the question the answer doesn't cover yet: its own best unit.
    if len(asked.parts) > 1:
        for part in asked.parts:
            pq = {t: weight(t) for t in set(terms(part))}
            if not pq:
                continue
            covered = frozenset().union(*(c.words for c in chosen))
            if _share(pq, covered) >= _PART_COVERED:
                continue
            pick = max(
                (s for s in usable[:40] if not taken(s)),
                key=lambda s: _share(pq, s.words) + 0.3 * s.score + _nearness(s, best),
                default=None,
            )
            if pick is not None and _share(pq, pick.words) >= _PART_MIN:
                add(pick)
    # What the chosen sentences don't cover yet, from the same passage only (the paragraph
    # or its neighbours): "At the time of writing, the first application was going through
    # the courts" completes an answer; a sentence elsewhere that shares words does not.
    while (
        best.unit.kind != "row" and len([c for c in chosen if c.unit.role != "item"]) < _MAX_UNITS
    ):
        covered = frozenset().union(*(c.words for c in chosen))
        pick = max(
            (
                s
                for s in usable[:40]
                if not taken(s)
                and s.evidence.paragraph.kind != "figure"  # a chart's caption states nothing
                and (_same_passage(s, best) or _strong_elsewhere(s, best))
                and s.score >= 0.5 * best.score
            ),
            key=lambda s: _share(q, s.words - covered),
            default=None,
        )
        if pick is None or _share(q, pick.words - covered) < _MIN_GAIN:
            break
        add(pick)
    # A question across reports: the best statement of each report searched.
    unaddressed: list[str] = []
    if cross_report:
        docs = list(dict.fromkeys(e.paragraph.doc for e in evidence[:_PARAGRAPHS_READ]))
        for doc in docs:
            if any(c.evidence.paragraph.doc == doc for c in chosen):
                continue
            pick = next((s for s in usable if s.evidence.paragraph.doc == doc), None)
            if (
                pick is not None
                and pick.coverage >= 0.5 * best.coverage
                and pick.score >= (0.5 * best.score)
            ):
                add(pick)
            else:
                unaddressed.append(doc)
    sentences = [c for c in chosen if c.unit.role != "item"]
    if len(sentences) > _MAX_UNITS:
        keep = {id(c) for c in sentences[:_MAX_UNITS]}
        chosen = [c for c in chosen if c.unit.role == "item" or id(c) in keep]
    order = {e.marker: i for i, e in enumerate(evidence)}
    first = best.evidence.marker
    chosen.sort(key=lambda s: (s.evidence.marker != first, order[s.evidence.marker], s.index))
    claims = [
        Claim(tidy(s.unit.text), (s.evidence.marker,), True, "", (s.unit.body,)) for s in chosen
    ]
    return Extract(
        claims,
        best,
        asked.type == "figure",
        figure_missing=not any(
            gives_figure(asked.figure, s.unit.body, asked.focus) for s in chosen
        ),
        name_missing=_name_missing(asked, chosen, evidence),
        type_missing=asked.type in ("date", "name")
        and not any(gives_type(asked.type, s.unit.text, asked.focus) for s in chosen),
        year_missing=_year_missing(asked, chosen),
        asked=asked,
        unaddressed=unaddressed,
    )


def _near(chosen: list[Scored]) -> str:
    return " ".join(
        f"{s.evidence.paragraph.text} {s.evidence.paragraph.section} {s.evidence.report.title} "
        f"{s.evidence.report.organisation} {s.evidence.paragraph.doc}"
        for s in chosen
    )


def _name_missing(asked: Asked, chosen: list[Scored], evidence: Sequence[Evidence]) -> bool:
    """A name the question gives (a place, a body, a scheme) that neither the answer's
    passages nor anything else retrieved from the same reports mention: an answer about
    somewhere else. Names that identify the document ("the Transparency Board's action
    log") are usually in its other paragraphs, its title or its file name."""
    docs = {s.evidence.paragraph.doc for s in chosen}
    same = " ".join(e.paragraph.text for e in evidence if e.paragraph.doc in docs)
    passage = " " + re.sub(r"[_\W]+", " ", _near(chosen)).lower() + " "
    report = " " + re.sub(r"[_\W]+", " ", same).lower() + passage

    def mentioned(name: str) -> bool:
        # A force area must be the passage's own: a report mentions other forces in
        # passing ("commissioned with the PCC for Cleveland"), which says nothing of them.
        near = passage if forces_named(name) else report
        words = [w for w in re.sub(r"[_\W]+", " ", name).lower().split() if w]
        initials = "".join(w[0] for w in words if w not in ("of", "and", "for", "the"))
        return (
            f" {' '.join(words)} " in near
            or all(f" {w} " in near for w in words)
            or (len(initials) > 1 and f" {initials} " in near)
            or (len(initials) > 1 and f" {''.join(w[0] for w in words)} " in near)
        )

    return not all(mentioned(n) for n in asked.names)


def _year_missing(asked: Asked, chosen: list[Scored]) -> bool:
    """A year the question asks about that no cited paragraph (or its report) mentions:
    "in 2018" answered from a 2020 passage is another year's answer."""
    if not asked.years:
        return False
    near = _near(chosen)
    dates = " ".join(
        s.evidence.report.date.isoformat() for s in chosen if s.evidence.report.date is not None
    )
    return any(y not in near and y not in dates for y in asked.years)


_SUPERSCRIPT = re.compile(r"(?<=[A-Za-z.,;:)])[¹²³⁴⁵⁶⁷⁸⁹⁰]+|^[¹²³⁴⁵⁶⁷⁸⁹⁰]+\s*")
_LEADING_JOIN = re.compile(r"^(?:And|But|Or|So|Also|Then),?\s+(?=\w)")


def tidy(text: str) -> str:
    """A quoted sentence as it reads in an answer: no footnote marks ("²"), no leading
    "And"; every word and figure still the paragraph's own."""
    text = _SUPERSCRIPT.sub("", text)
    m = _LEADING_JOIN.match(text)
    if m:
        rest = text[m.end() :]
        text = rest[:1].upper() + rest[1:]
    return text
