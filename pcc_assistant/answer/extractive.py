"""The default answerer: the retrieved paragraphs' own sentences, chosen and cited.

No model writes anything. Each sentence (or table row) of the best paragraphs is scored by
how much of the question's weight it covers (rare words weigh more, as in BM25), with the
paragraph's retrieval rank as a prior and a bonus for a figure when the question asks for
one. Further sentences are added while they cover parts of the question the answer does
not cover yet, so "When does X end, and what feeds into Y?" gets both halves. Text inside
a paragraph is only ever matched and quoted, never obeyed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pcc_assistant.answer.model import Claim, Evidence
from pcc_assistant.answer.sentences import Unit, figures, flatten, units
from pcc_assistant.terms import terms

_WANTS_FIGURE = re.compile(
    r"\b(how many|how much|what (?:percentage|proportion|share|number|figure|rate|level|"
    r"score|value)|percentage|per ?cent|proportion|rate|number of|increase|decrease|rise|"
    r"fall|change|changed|compare|compared|higher|lower|how long|average|median|results?)\b|%",
    re.IGNORECASE,
)
_WANTS_DATE = re.compile(r"\b(when|what (?:date|year|month)|since when|which year)\b", re.I)
_DATE = re.compile(
    r"\b(?:January|February|March|April|May|June|July|August|September|October|November|"
    r"December)\b|\b(?:19|20)\d\d\b"
)
_DEFINITION = re.compile(
    r"^\s*(?i:what)\s+(?i:is|are|does)\s+(?:the\s+|an?\s+)?([A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)*)"
    r"(?:\s+(?i:stand for|mean|do))?\s*\??\s*$"
)
# What kind of figure a question asks for, and what a sentence must hold to give one.
_ASKS = (
    (
        "percent",
        re.compile(
            r"\b(?:what|which) (?:percentage|proportion|share)\b|\bby what "
            r"percentage\b|\bper ?cent\b|\bpercentage of\b",
            re.I,
        ),
    ),
    (
        "money",
        re.compile(
            r"\bhow much\b.*\b(?:spend|spent|cost|costs|budget|value|worth|"
            r"pay|paid|price)\b|\b(?:budget|value of|cost of)\b",
            re.I,
        ),
    ),
    ("duration", re.compile(r"\bhow long\b|\b(?:waiting|wait|response) times?\b", re.I)),
    ("count", re.compile(r"\bhow many\b", re.I)),
    (
        "number",
        re.compile(
            r"\bby how much\b|\bwhat (?:was|were)\b.*\b(?:rate|score|number|"
            r"level|figure|target|total)\b|\bwhat is\b[^?]*'s\b[^?]*\b(?:rate|"
            r"score|number|level|target|total)\b",
            re.I,
        ),
    ),
)
_NUMBER_WORDS = (
    r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"twenty|thirty|forty|fifty|hundred|dozen)\b"
)
_GIVES = {
    "percent": re.compile(
        r"\d\s?%|\bper ?cent\b|\bpercent\b|\b(?:half|third|thirds|quarter|"
        r"quarters|fifth|fifths|tenth)\b|\b(?:one|two|three|\d+) in (?:\w+|\d+)\b",
        re.I,
    ),
    "money": re.compile(r"[£$€]\s?\d|\d\s?(?:million|billion|bn|m|k)\b", re.I),
    "duration": re.compile(
        rf"(?:\d|{_NUMBER_WORDS})\s*(?:seconds?|minutes?|mins?|hours?|"
        r"days?|weeks?|months?|years?)\b|\b(?:until|to|till|by)\s+"
        r"(?:\w+\s+)?(?:19|20)\d\d\b",
        re.I,
    ),
    "count": re.compile(
        rf"(?<!Figure )(?<!Table )(?:\b(?!(?:19|20)\d\d\b)\d[\d,]*(?:\.\d+)?"
        rf"|{_NUMBER_WORDS})(?![\d.,]?\d)(?!\s?%|\s?per ?cent|st\b|nd\b|rd\b|"
        r"th\b|\s+(?:months?|years?|weeks?|days?|hours?)\b)",
        re.I,
    ),
    "number": re.compile(r"(?<!Figure )(?<!Table )\b(?!(?:19|20)\d\d\b)\d[\d,.]*", re.I),
}


def asked_figure(question: str) -> str:
    """``percent``, ``money``, ``duration``, ``count``, ``number`` or ``""``."""
    return next((kind for kind, pattern in _ASKS if pattern.search(question)), "")


_ASKED_UNIT = re.compile(r"\bin (seconds|minutes|hours|days|weeks|months|years)\b", re.I)
_PERIOD = re.compile(r"\b(?:last|past|previous|next|the|over)\s+$", re.I)
_HOW_MANY = re.compile(
    r"\bhow many\s+((?:[\w'-]+\s+){0,3}?[\w'-]+?)\s+(?:does|did|do|were|was|"
    r"is|are|has|have|had|will|would|can|could|work|in|on|at|of)\b",
    re.I,
)


def gives_figure(kind: str, text: str, question: str = "") -> bool:
    """Whether ``text`` holds the kind of figure asked for (not one the question gave).

    A count must count the thing asked about: "How many nurses..." is not answered by
    "31% of calls", "12 months" or "one of only 7 forces".
    """
    if not kind:
        return True
    counted: set[str] = set()
    if kind == "count":
        m = _HOW_MANY.search(question)
        phrase = re.split(r"\s+(?:a|per|each|every)\s+", m.group(1))[0] if m else ""
        counted = set(terms(phrase)) - {"time"}
    asked = question.lower().split()
    unit = _ASKED_UNIT.search(question) if kind == "duration" else None
    for f in _GIVES[kind].finditer(text):
        if f.group(0).strip().lower() in asked:
            continue
        if kind == "duration" and (
            _PERIOD.search(text[max(0, f.start() - 12) : f.start()])
            or (unit and unit.group(1).lower().rstrip("s") not in f.group(0).lower())
        ):
            continue  # "over the last 12 months" is the period, not the time asked for
        if counted:  # the thing counted is named just after the number, or not long before
            after = set(terms(" ".join(text[f.end() :].split()[:4])))
            before = set(terms(" ".join(text[: f.start()].split()[-25:])))
            if not counted <= (after | before):
                continue
        return True
    return False


_ANAPHORA = re.compile(
    r"^(?:This|These|That|Those|It|They|Their|Its|Such|However|Additionally|Further|"
    r"Furthermore|Also|In addition|As a result|Underlying this|But)\b"
)
_ACRONYM = re.compile(r"((?:[A-Z][\w'-]*[\s,]+(?:(?:and|of|for|the|&)\s+)*){1,8})\(([A-Z]{2,})s?\)")
_PARAGRAPHS_READ = 8
W_COVER, W_CONTEXT, W_PRIOR, W_FIGURE = 0.55, 0.25, 0.2, 0.12
_MAX_CLAIMS = 4
_MIN_GAIN = 0.1  # share of the question's weight a further sentence must add


@dataclass(frozen=True)
class Scored:
    evidence: Evidence
    unit: Unit
    index: int  # position of the unit in its paragraph
    score: float
    coverage: float  # share of the question's weight in the unit itself
    context: float  # ... in the unit, its paragraph, section headings and report name
    words: frozenset[str]  # the unit's terms, with its acronyms spelled out


_NAME = re.compile(r"(?<![.?!]\s)(?<!^)\b([A-Z][A-Za-z0-9-]*[A-Za-z0-9])")


def names(question: str) -> set[str]:
    """Capitalised words inside the question (places, bodies, schemes): ``Cleveland``."""
    first = question.split(maxsplit=1)[0] if question.split() else ""
    found = {m.group(1) for m in _NAME.finditer(question) if m.group(1) != first}
    return {n for n in found if n.lower() not in _stop_names()}


def _stop_names() -> set[str]:
    return {
        "i",
        "what",
        "which",
        "how",
        "who",
        "when",
        "where",
        "why",
        "is",
        "are",
        "does",
        "did",
        "the",
        "a",
        "an",
        "in",
        "of",
        "and",
        "police",
        "crime",
        "report",
    }


@dataclass(frozen=True)
class Extract:
    claims: list[Claim]
    best: Scored | None
    wants_figure: bool
    figure_missing: bool = False  # a figure of the kind asked for is in no chosen sentence
    name_missing: bool = False  # a name the question gives is nowhere near the answer


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


_CAPS = re.compile(r"\b([A-Z]{2,6})s?\b")


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


def score_units(
    question: str, evidence: Sequence[Evidence], weight: Callable[[str], float]
) -> tuple[list[Scored], dict[str, float], bool]:
    q = {t: weight(t) for t in set(terms(question))}
    wants_figure = bool(_WANTS_FIGURE.search(question))
    wants_date = bool(_WANTS_DATE.search(question))
    asked_figures = figures(question)
    kind = asked_figure(question)
    definition = _DEFINITION.match(question)
    defined = definition.group(1) if definition else ""
    read = evidence[:_PARAGRAPHS_READ]
    expand = acronyms([e.paragraph.text for e in evidence])
    for short, long in initialisms(question).items():
        expand.setdefault(short, set()).update(long)
    scored: list[Scored] = []
    for rank, e in enumerate(read):
        p = e.paragraph
        around = set(terms(f"{p.section} {p.label} {e.report.title} {e.report.organisation}"))
        para_words = set(terms(flatten(p.text))) | around
        for w in list(para_words):
            para_words |= expand.get(w, set())
        prior = 1.0 / (1.0 + 0.5 * rank)
        for i, u in enumerate(units(p)):
            words = _unit_words(u, expand)
            cov = _share(q, words)
            context = _share(q, words | para_words)
            density = sum(1 for t in q if t in words) / max(len(words), 8)
            score = W_COVER * cov + W_CONTEXT * context + W_PRIOR * prior + 0.05 * density
            if kind:
                score += W_FIGURE if gives_figure(kind, u.body, question) else -W_FIGURE
            elif wants_figure:
                score += W_FIGURE / 2 if figures(u.body) - asked_figures else 0.0
            if wants_date and _DATE.search(u.body):
                score += 0.1
            if defined and re.search(
                rf"{re.escape(defined)}\s*\(|\({re.escape(defined)}\)|{re.escape(defined)}"
                r"\s+(?:stands for|means|is an?|is the|are)\b",
                u.body,
            ):
                score += 0.3
            if u.kind == "sentence" and len(u.body) < 25:
                score -= 0.1  # a fragment answers little
            scored.append(Scored(e, u, i, score, cov, context, words | frozenset(around)))
    scored.sort(key=lambda s: -s.score)
    return scored, q, wants_figure


def _with_context(best: Scored, scored: list[Scored], after: bool = True) -> list[Scored]:
    """A sentence with the sentences it leans on or that carry it on.

    "This is lower than..." needs the sentence before; a sentence followed by "This is an
    App..." or "However, ... suspended" is finished by the one after.
    """
    if best.unit.kind != "sentence":
        return [best]
    same = {s.index: s for s in scored if s.evidence is best.evidence}
    chosen = [best]
    if best.index > 0 and _ANAPHORA.match(best.unit.body) and best.index - 1 in same:
        chosen.insert(0, same[best.index - 1])
    nxt = same.get(best.index + 1) if after else None
    if nxt is not None and (_ANAPHORA.match(nxt.unit.body) or best.unit.body.endswith(":")):
        chosen.append(nxt)
    return chosen


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
    scored, q, wants_figure = score_units(question, evidence, weight)
    if not scored:
        return Extract([], None, wants_figure)
    best = scored[0]
    chosen = _with_context(best, scored)

    def taken(s: Scored) -> bool:
        return any(s.evidence is c.evidence and s.index == c.index for c in chosen)

    docs = {best.evidence.paragraph.doc}
    while len(chosen) < _MAX_CLAIMS:
        covered = frozenset().union(*(c.words for c in chosen))
        pick: Scored | None = None
        pick_value = 0.0
        for s in scored[:40]:
            if taken(s) or s.score < 0.5 * best.score:
                continue
            if s.unit.kind == "row" and any(c.evidence is s.evidence for c in chosen):
                continue  # one row of a table answers; more rows are noise
            if _cover(s):
                continue  # a cover page matches a question's date or name, states no fact
            gain = _share(q, s.words - covered)
            other = cross_report and s.evidence.paragraph.doc not in docs
            tie = s.score >= 0.95 * best.score and s.coverage >= 0.6  # as good: say both
            if gain < _MIN_GAIN and not tie and not (other and s.score >= 0.6 * best.score):
                continue
            value = s.score + 0.5 * gain + (0.5 if other else 0.0)
            if value > pick_value:
                pick, pick_value = s, value
        if pick is None:
            break
        chosen.extend(c for c in _with_context(pick, scored, after=False) if not taken(c))
        docs.add(pick.evidence.paragraph.doc)
    chosen = chosen[: _MAX_CLAIMS + 1]
    order = {e.marker: i for i, e in enumerate(evidence)}
    first = best.evidence.marker
    chosen.sort(key=lambda s: (s.evidence.marker != first, order[s.evidence.marker], s.index))
    claims = [Claim(s.unit.text, (s.evidence.marker,), True, "", (s.unit.body,)) for s in chosen]
    kind = asked_figure(question)
    missing = not any(gives_figure(kind, s.unit.body, question) for s in chosen)
    near = " ".join(
        f"{s.evidence.paragraph.text} {s.evidence.paragraph.section} {s.evidence.report.title} "
        f"{s.evidence.report.organisation}"
        for s in chosen
    ).lower()
    unnamed = any(n.lower() not in near for n in names(question))
    return Extract(claims, best, wants_figure, missing, unnamed)
