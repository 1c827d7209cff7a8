"""What a question asks for, read before any paragraph is: its focus, its parts, the type
of answer it wants, and the names and years it holds the answer to.

- **Focus.** A member's long question is background, then the question ("I am very
  concerned about ... What does the force expect ...?"): the answer must supply the asking
  sentences, so they are what an answer's coverage is measured against.
- **Parts.** "When does X end, and which pilot will shape Y?" asks two things; each part
  must be answered, by its own sentence if need be, and nothing is added that answers
  none of them.
- **Type.** A figure (percentage, money, duration, count, number), a date, a name, a list,
  a reason, a definition, a yes/no, a comparison: an answer that doesn't hold the type
  asked for doesn't answer, however many words it shares.
- **Constraints.** Names ("Cleveland") and years ("in 2018") the question holds the
  answer to: a passage about another place or year is not the answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pcc_assistant.answer.sentences import split_sentences
from pcc_assistant.terms import terms

# -- the kind of figure ---------------------------------------------------------------------
_ASKS = (
    (
        "percent",
        re.compile(
            r"\b(?:what|which) (?:percentage|proportion|share)\b|\bby what "
            r"percentage\b|\bper ?cent\b|\bpercentage of\b|\bas a percentage\b",
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


# -- the type of answer ---------------------------------------------------------------------
_TYPES = (
    (
        "date",
        re.compile(
            r"^\s*(?:when|since when|by when|until when)\b|\bwhat (?:date|year|month|day)\b|"
            r"\bwhich (?:year|month|date)\b",
            re.I,
        ),
    ),
    (
        "name",
        re.compile(
            r"^\s*who\b|\bwho (?:is|was|were|are|wrote|chairs?|chaired|led|leads|signed|"
            r"presented|developed|produced|runs?|delivers?|provides?|commissioned)\b|"
            r"\bwhich (?:organisation|organization|company|companies|body|bodies|department|"
            r"person|people|agency|agencies|partner|partners|group|firm|charity|charities)\b",
            re.I,
        ),
    ),
    (
        "reason",
        re.compile(
            r"\bwhy\b|\bwhat (?:is|was|are|were) the reasons?\b|\bwhat (?:has |have )?driven\b|"
            r"\bwhat (?:caused|explains|"
            r"is behind|was behind|lies behind|drove|drives)\b",
            re.I,
        ),
    ),
    (
        "definition",
        re.compile(
            r"^\s*what (?:is|are|does) (?:an? |the )?\S+(?: \S+){0,4}? (?:stand for|mean)\b|"
            r"^\s*what (?:is|are) (?:an? |the )?[A-Z][\w'-]*\s*\??$|\bdefin",
            re.I,
        ),
    ),
    (
        "list",
        re.compile(
            r"\bwhich\b[^?]*\b(?:are|were)\b|\bwhat (?:are|were) the\b|\blist\b|"
            r"\bwhat (?:types|kinds|channels|ways|services|steps|measures|actions|areas|"
            r"priorities|sections)\b",
            re.I,
        ),
    ),
    (
        "outcome",
        re.compile(
            r"\bwhat (?:has |have )?(?:happened|became|come of|results?|progress|outcomes?|"
            r"impact|difference)\b|\bwhere (?:has|have|is|are)\b[^?]*\bgot to\b|"
            r"\bhow (?:has|have|did|is|are)\b[^?]*\b(?:gone|going|progress(?:ed|ing)?|"
            r"perform(?:ed|ing)?|worked|working)\b|\bso far\b|\bwhat (?:did|does|do)\b[^?]*"
            r"\b(?:conclude|find|show|achieve)\b",
            re.I,
        ),
    ),
    (
        "yesno",
        re.compile(
            r"^\s*(?:is|are|was|were|does|do|did|has|have|had|can|could|will|would|should)\b",
            re.I,
        ),
    ),
)


def answer_type(question: str) -> str:
    """``figure``, ``date``, ``name``, ``reason``, ``definition``, ``list``, ``outcome``,
    ``yesno`` or ``""`` (a description, anything else)."""
    if asked_figure(question):
        return "figure"
    return next((kind for kind, pattern in _TYPES if pattern.search(question)), "")


_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|"
    r"December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)"
)
_DATE_IN_TEXT = re.compile(
    rf"\b{_MONTH}\b|\b(?:19|20)\d\d\b|\b\d{{1,2}}/\d{{1,2}}/\d{{2,4}}\b|\b(?:spring|summer|"
    r"autumn|winter|quarter|Q[1-4])\b",
    re.I,
)
# A name: a capitalised word that isn't a sentence's first, or an initialism.
_NAME_IN_TEXT = re.compile(r"(?<=[a-z,;:)] )[A-Z][\w'&-]+|\b[A-Z]{2,}\b")
_REASON_IN_TEXT = re.compile(
    r"\b(?:because|due to|owing to|as a result|result(?:ed|s)? (?:of|from)|reflects?|"
    r"driven by|attributed|caus(?:e|ed|es)|explain(?:s|ed)?|reason|since|given that|"
    r"following|led to|so that|in order to|largely|partly|mainly)\b",
    re.I,
)


def gives_type(kind: str, text: str, question: str = "") -> bool:
    """Whether ``text`` holds an answer of the type asked for, by its form."""
    if kind == "figure":
        return gives_figure(asked_figure(question), text, question)
    if kind == "date":
        asked = set(_DATE_IN_TEXT.findall(question))
        return any(d not in asked for d in _DATE_IN_TEXT.findall(text))
    if kind == "name":
        return bool(_NAME_IN_TEXT.search(text))
    if kind == "reason":
        return bool(_REASON_IN_TEXT.search(text))
    return True


# -- focus and parts ------------------------------------------------------------------------
_ASKING = re.compile(
    r"^\s*(?:what|which|who|whom|whose|when|where|why|how|is|are|was|were|does|do|did|has|"
    r"have|had|can|could|will|would|should|please|tell|explain|describe|list|give|"
    r"confirm|set out|say|i (?:would like|want) to know|members will want)\b",
    re.I,
)
LONG_QUESTION = 250  # characters; past this, a member's question has background first


def focus(question: str) -> str:
    """The sentences that ask; the whole question when it is short or none of them asks."""
    if len(question) <= LONG_QUESTION:
        return question
    sentences = split_sentences(" ".join(question.split()))
    asking = [s for s in sentences if s.endswith("?") or _ASKING.match(s)]
    return " ".join(asking) if asking else question


_PART_SPLIT = re.compile(
    r"\?\s+|[,;]?\s+and\s+(?=(?:what|which|who|whom|when|where|why|how|whether|is|are|was|"
    r"were|does|did|has|have|in what|to what|at what|for what|tell)\b)|,\s*(?=(?:what|which|"
    r"who|when|where|why|how)\b)",
    re.I,
)


def parts(question: str) -> list[str]:
    """The separate things a question asks: "When does X end, and which pilot ...?" is two."""
    pieces = [p.strip(" ?,;") for p in _PART_SPLIT.split(focus(question))]
    pieces = [p for p in pieces if len(terms(p)) >= 1]
    return pieces or [question]


# -- names and years ------------------------------------------------------------------------
_NAME = re.compile(
    r"(?<![.?!]\s)(?<!^)\b([A-Z][A-Za-z0-9-]*[A-Za-z0-9](?:\s+(?:(?:of|and|for|the)\s+)?"
    r"[A-Z][A-Za-z0-9-]*[A-Za-z0-9])*)"
)
# Capitalised words that a question uses for emphasis or titles, not to name a place or body.
_NOT_NAMES = frozenset(
    [
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
        "reports",
        "commissioner",
        "constabulary",
        "chief",
        "constable",
        "panel",
        "pcc",
        "pcvc",
        "members",
        "member",
        "council",
        "government",
        "office",
        "force",
        "forces",
        "board",
        "group",
        "plan",
        "strategy",
    ]
)


_JOINS = ("of", "and", "for", "the")
_MONTH_WORD = re.compile(rf"^{_MONTH}$")


def names(question: str) -> set[str]:
    """Names inside the question's focus (places, bodies, schemes): runs of capitalised
    words, ``Cleveland``, ``Ministry of Justice``, without words of emphasis or titles."""
    text = focus(question)
    first = text.split(maxsplit=1)[0] if text.split() else ""
    found = set()
    for m in _NAME.finditer(text):
        words = [
            w
            for w in m.group(1).split()
            if w.lower() in _JOINS
            or (w.lower() not in _NOT_NAMES and w != first and not _MONTH_WORD.match(w))
        ]
        while words and words[0].lower() in _JOINS:
            words.pop(0)
        while words and words[-1].lower() in _JOINS:
            words.pop()
        if words:
            found.add(" ".join(words))
    return found


_YEAR = re.compile(r"\b((?:19|20)\d\d)(?:[/-](\d\d))?\b")


def years(question: str) -> set[str]:
    """Years the question's focus holds the answer to: "in 2018", "2019/20" (as "2019")."""
    return {m.group(1) for m in _YEAR.finditer(focus(question))}


@dataclass(frozen=True)
class Asked:
    """A question read: what an answer must supply."""

    question: str
    focus: str
    parts: tuple[str, ...]
    type: str
    figure: str
    names: frozenset[str]
    years: frozenset[str]


def read(question: str) -> Asked:
    f = focus(question)
    return Asked(
        question,
        f,
        tuple(parts(question)),
        answer_type(f),
        asked_figure(f),
        frozenset(names(question)),
        frozenset(years(question)),
    )
