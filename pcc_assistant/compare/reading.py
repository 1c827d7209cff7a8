"""Reading one measure's figure out of a paragraph: the value as printed, and what
qualifies it (period, place or group, the comparison the report itself makes).

Everything here is plain text work on one paragraph; the sentences, figures and words
rules are the ones answers use (:mod:`pcc_assistant.answer.sentences`,
:mod:`pcc_assistant.terms`), so a value compare shows is one an answer could cite.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, replace

from pcc_assistant.answer.sentences import figures, flatten, fold, units
from pcc_assistant.answer.tables import PLACES, split_columns
from pcc_assistant.compare.periods import (
    MONTH_RE,
    PERIOD_RE,
    RELATIVE,
    YEAR_RE,
    periods,
    title_period,
)
from pcc_assistant.terms import terms
from pcc_assistant.types import Paragraph, Report

_LINE_LABEL = re.compile(
    r"^\s*(?:[-•]\s*)?\d+(?:\.\d+){2,}\.?\s+|^\s*(?:[-•]\s*)?\d+\.\d+\s+(?=[-−–]?[£$€]?\d|[A-Z])"
)

# Numbers that are not a measure's value: dates, sample sizes, labels, links.
_MASKS = re.compile(
    rf"https?://\S+|www\.\S+|\S+\.(?:uk|com|org)\S*"
    rf"|\bn\s*=\s*[\d,]+|\bout\s+of\s+(?:a\s+total\s+of\s+)?[\d,]+"
    rf"|\b(?:Figure|Table|Annex|Appendix|Principles?|KPQs?|para(?:graph)?s?|page|p\.|pp\.)\s*\d[\d.,]*"
    rf"|\b\d{{1,2}}(?:st|nd|rd|th)?\s+{MONTH_RE}(?:\s+{YEAR_RE})?"
    rf"|\b{MONTH_RE}\s+{YEAR_RE}"
    rf"|\b\d+(?:st|nd|rd|th)\b",
    re.IGNORECASE,
)
_VALUE = re.compile(
    r"(?<![\w.,/£$€-])[-−–]?(?:£|\$|€)?\d+(?:,\d{3})*(?:\.\d+)?"
    r"(?:\s?(?:%|per\s?cent|percent)|\s?(?:million|billion|bn|m|k)\b)?(?![\w/]|-\d)",
    re.IGNORECASE,
)
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
# Words after a figure that don't say what it counts ("19%, compared", "77.2% of the").
_LINKS = {
    "of",
    "in",
    "for",
    "and",
    "or",
    "to",
    "the",
    "a",
    "an",
    "at",
    "on",
    "by",
    "with",
    "was",
    "were",
    "is",
    "are",
    "compared",
    "against",
    "than",
    "this",
    "that",
    "from",
    "as",
    "while",
    "whilst",
    "which",
    "when",
    "where",
    "across",
    "over",
    "during",
    "last",
    "previous",
    "year",
    "quarter",
    "month",
    "period",
    "overall",
    "respectively",
    "nationally",
    "average",
}
_COMPARE_AFTER = re.compile(
    r"[,;]?\s*((?:compared\s+(?:to|with)|against|versus|vs\.?|up\s+from|down\s+from|"
    r"higher\s+than|lower\s+than|above|below)\b[^;.]*)",
    re.IGNORECASE,
)
_MOVEMENT = r"(?:risen|rose|increased|fallen|fell|decreased|grown|dropped|up|down|improved)"
_THIS_IS = re.compile(
    r"^\s*This\s+(?:is|was|represents|compares)\s+(.*?)(?=;|\.\s|\.$|, with|, and|$)",
    re.IGNORECASE,
)
_COMPARATIVE = re.compile(
    r"\b(higher|lower|above|below|up|down|compared|comparable|similar|than|increase|decrease|"
    r"better|worse)\b",
    re.IGNORECASE,
)
_THRESHOLD = re.compile(
    r"\b(?:below|above|under|over|beneath|exceed(?:ed|ing|s)?|(?:less|more|fewer) than|"
    r"at (?:least|most)|up to)\s*$",
    re.IGNORECASE,
)
_POSSESSIVE = re.compile(r"\b([A-Z][a-z]+)['’]s\b")
_EMPHASIS = re.compile(r"\*([^*\n]{3,40})\*")
_GENERIC = {
    "police",
    "crime",
    "victims",
    "commissioner",
    "constabulary",
    "and",
    "the",
    "of",
    "office",
    "for",
    "pcc",
    "pcvc",
    "force",
    "panel",
    "report",
    "performance",
}
_ROW = re.compile(
    r"^(?P<label>[^\d\n]*[A-Za-z][^\n]*?)\s+"
    r"(?P<values>(?:[-−–]?(?:£|\$|€)?\d[\d,]*(?:\.\d+)?%?)(?:\s+[-−–]?(?:£|\$|€)?\d[\d,]*(?:\.\d+)?%?)*)$"
)


@dataclass(frozen=True)
class Figure:
    """One value read from a paragraph, with what qualifies it; text fields verbatim."""

    value: str  # as printed: "77.2%", "19%", "446470"
    number: float
    unit: str  # "%", "£", or "" for a count or ratio
    period: str  # "12 months ending March 2020"; "" when the report doesn't say
    period_from: str  # where the period was read: "sentence", "paragraph", "title", ""
    place: str  # "Durham", "England and Wales", "North area"; a group after " · "
    place_from: str  # "text" (said there) or "report" (the report's own area), or ""
    comparison: str  # the comparison the report makes, verbatim; "" when none
    quote: str  # the sentence or table row the value is read from
    score: float = 0.0  # how well it matches the measure (higher is better)


@dataclass(frozen=True)
class _Piece:
    body: str  # sentence or row, flattened
    kind: str  # "sentence" or "row"
    at: int  # where it starts in the flattened paragraph (-1: unknown)
    context: str  # words that qualify it without being part of it (section, table title)
    after: str = ""  # the next sentence, which may say how the figure compares
    columns: tuple[str, ...] = ()  # a multi-value row's column headings


def measure_terms(measure: str) -> list[str]:
    return list(dict.fromkeys(terms(measure)))


def _same(a: str, b: str) -> bool:
    """Stems of one word ("satisfact", "satisfi") are taken as the same."""
    if a == b:
        return True
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n >= 6


def _covered(wanted: list[str], have: list[str]) -> set[str]:
    return {w for w in wanted if any(_same(w, h) for h in have)}


def _mask(text: str) -> str:
    """``text`` with periods, dates, links and labels blanked, offsets kept."""
    out = list(text)
    for rx in (PERIOD_RE, _MASKS):
        for m in rx.finditer(text):
            out[m.start() : m.end()] = " " * (m.end() - m.start())
    return "".join(out)


def _number(value: str) -> tuple[float, str] | None:
    v = value.replace(",", "").replace("−", "-").replace("–", "-")
    unit = ""
    if re.search(r"%|per\s?cent", v, re.IGNORECASE):
        unit = "%"
    elif v.lstrip("-")[:1] in "£$€":
        unit = v.lstrip("-")[0]
    scale = 1.0
    m = re.search(r"(million|billion|bn|m|k)\s*$", v, re.IGNORECASE)
    if m:
        scale = {"million": 1e6, "m": 1e6, "billion": 1e9, "bn": 1e9, "k": 1e3}[m.group(1).lower()]
    digits = re.search(r"-?\d+(?:\.\d+)?", v.replace("£", "").replace("$", "").replace("€", ""))
    if digits is None:
        return None
    return float(digits.group(0)) * scale, unit


def _is_year(value: str) -> bool:
    return bool(re.fullmatch(r"(?:19|20)\d{2}", value))


def _word_spans(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group(0)) for m in _WORD.finditer(text)]


def _pieces(p: Paragraph, title: str) -> list[_Piece]:
    """The paragraph's table rows (a label then figures) and its sentences."""
    lines = p.text.split("\n")
    rows: list[_Piece] = []
    prose: list[str] = []
    heading = ""
    label_start = re.compile(rf"^\s*(?:[-•]\s*)?{re.escape(p.label.split(' ')[0])}\.?\s")
    for i, line in enumerate(lines):
        text = line.strip()
        m = _ROW.match(text)
        if (
            m
            and not (i == 0 and label_start.match(text))
            and len(m.group("label")) <= 60
            and ". " not in m.group("label")
            and not (i + 1 < len(lines) and lines[i + 1][:1].islower())
        ):
            values = m.group("values").split()
            if all(_is_year(v) for v in values) or re.search(rf"{MONTH_RE}$", m.group("label")):
                continue  # a date at the end of a title line, not a row of figures
            columns: tuple[str, ...] = ()
            if len(values) > 1:
                columns = split_columns(heading, len(values))
                if not columns:
                    continue  # can't tell which column is which: not used
            context = " ".join([p.section, *prose[-2:], heading])
            rows.append(_Piece(text, "row", -1, context, columns=columns))
            continue
        if not _VALUE.search(_mask(text)):
            heading = text  # the nearest line without figures: a heading or title
        if i:  # a sub-paragraph's number opening a line ("2.1 76.9% of ...") is no value
            line = _LINE_LABEL.sub("", line)
        prose.append(line)
    out = list(rows)
    if p.kind != "table":
        body = replace(p, text="\n".join(prose))
        flat = flatten(body.text)
        sentences = [u.body for u in units(body) if u.kind == "sentence"]
        for i, s in enumerate(sentences):
            at = flat.find(s)
            after = sentences[i + 1] if i + 1 < len(sentences) else ""
            before = sentences[i - 1] if i else ""
            out.append(_Piece(s, "sentence", at, f"{p.section} {before}", after))
    del title
    return out


def report_place(r: Report) -> str:
    """The report's own area, from its organisation: "Durham", "Cambridgeshire"."""
    for w in re.findall(r"[A-Z][A-Za-z-]+", r.organisation):
        if w.lower() not in _GENERIC:
            return str(w)
    return ""


def read(measure: str, p: Paragraph, report: Report) -> list[Figure]:
    """Every figure in ``p`` that gives ``measure``, best first; each one verified."""
    wanted = measure_terms(measure)
    if not wanted:
        return []
    flat = flatten(p.text)
    out: list[Figure] = []
    for piece in _pieces(p, report.title):
        body_terms = terms(piece.body)
        in_body = _covered(wanted, body_terms)
        if not in_body or len(in_body | _covered(wanted, terms(piece.context))) < len(wanted):
            continue
        found = _value(piece, wanted, report)
        if found is None:
            continue
        value, start, distance, comparison, place = found
        period, period_from = _period_of(piece, start, value, flat, report)
        number = _number(value)
        if number is None:
            continue
        own = report_place(report)
        place_from = "text" if place else ("report" if own else "")
        if not place and piece.kind == "sentence":
            # "Nationally, ..." at the head of the paragraph covers its sentences
            lead = PLACES.match(re.sub(r"^\s*(?:[-•]\s*)?[\d.]+\s+", "", flat))
            if lead:
                place, place_from = lead.group(1), "paragraph"
        place = place or own
        group = _group(piece.body)
        if group:
            place = f"{place} · {group}" if place else group
        score = len(in_body) / len(wanted) * 10 - min(distance, 30) / 3
        fig = Figure(
            value,
            number[0],
            number[1],
            period,
            period_from,
            place,
            place_from,
            comparison,
            piece.body,
            score,
        )
        if verified(fig, p, report):
            out.append(fig)
    return sorted(out, key=lambda f: -f.score)


def _value(
    piece: _Piece, wanted: list[str], report: Report
) -> tuple[str, int, int, str, str] | None:
    """The value the piece gives for the measure: (value, offset, distance in words to
    the measure's words, comparison, place)."""
    text = piece.body
    masked = _mask(text)
    if piece.kind == "row":
        m = _ROW.match(text)
        if m is None:
            return None
        values = list(re.finditer(r"\S+", m.group("values")))
        base = m.start("values")
        pick = 0
        place = ""
        comparison = ""
        if piece.columns:
            own = report_place(report)
            pick = next((i for i, c in enumerate(piece.columns) if c == own), 0)
            place = piece.columns[pick]
            comparison = "; ".join(
                f"{c} {v.group(0)}"
                for i, (c, v) in enumerate(zip(piece.columns, values, strict=True))
                if i != pick
            )
        v = values[pick]
        return v.group(0), base + v.start(), 0, comparison, place
    words = _word_spans(text)
    hits = [
        (s, e) for s, e, w in words if any(_same(t, h) for t in wanted for h in terms(w) or [""])
    ]
    if not hits:
        return None
    candidates = []
    for m in _VALUE.finditer(masked):
        value = text[m.start() : m.end()].strip()
        if _is_year(value.lstrip("£$€")) or re.match(r"[\w.,/-]", text[m.start() - 1 : m.start()]):
            continue  # a year, or part of a range or code that the mask blanked ("5-8")
        if _THRESHOLD.search(text[max(0, m.start() - 16) : m.start()]):
            continue  # "fell below 50%": a threshold crossed, not the measure's value
        if re.search(
            r"\d,\s+$|\d,?\s+(?:and|or)\s+$", text[max(0, m.start() - 10) : m.start()]
        ) or re.match(r",\s+\d", text[m.end() : m.end() + 6]):
            continue  # "Principles 2, 3, 4 and 11": numbers in a list name things
        nxt = next((w for s, _, w in words if s >= m.end()), "")
        between = text[m.end() : m.end() + 3]
        if (
            nxt
            and re.match(r"^\s*[A-Za-z]", between)
            and nxt.lower() not in _LINKS
            and not any(_same(t, h) for t in wanted for h in terms(nxt) or [""])
        ):
            continue  # "96% attendance rate": the figure counts something else
        distance = min(
            len(_WORD.findall(text[min(m.start(), s) : max(m.end(), e)])) for s, e in hits
        )
        candidates.append((m, value, distance))
    if not candidates:
        return None
    # "from 20.8% ... to 22.3%": the later figure is the current one
    main = min(candidates, key=lambda c: c[2])
    for a, b in itertools.pairwise(candidates):
        gap = text[a[0].end() : b[0].start()]
        lead = text[max(0, a[0].start() - 30) : a[0].start()]
        starts = re.search(r"\bfrom\s*$", lead) and re.search(r"\bto\s*$", gap)
        if starts and (main is a or main is b):
            moved = re.search(rf"(?:\b{_MOVEMENT}\s+)?from\s*$", lead)
            begin = a[0].start() - (len(moved.group(0)) if moved else 0)
            comparison = re.sub(r"\s+to$", "", text[begin : b[0].start()].strip())
            place = _place(text[: a[0].start()], text[b[0].end() :])
            return b[1], b[0].start(), b[2], comparison, place
    m, value, distance = main
    comparison = ""
    after = _COMPARE_AFTER.search(text, m.end())
    if after and after.start() - m.end() < 40:
        comparison = after.group(1).strip().rstrip(",")
        head = text[: m.start()]
        tail = text[m.end() : after.start()]
    else:
        head, tail = text[: m.start()], text[m.end() :]
        follow = _THIS_IS.match(piece.after)
        if follow and _COMPARATIVE.search(follow.group(1)):
            comparison = follow.group(1).strip().rstrip(",")
    return value, m.start(), distance, comparison, _place(head, tail)


def _place(head: str, tail: str) -> str:
    """The place the value's clause names, nearest the value: "Durham’s solved rate"."""
    head = re.split(r"[,;]", head)[-1]
    tail = re.split(r"[,;]", tail)[0]
    found = [(m.end(), m.group(1)) for m in _POSSESSIVE.finditer(head)]
    found += [(m.end(), m.group(1)) for m in PLACES.finditer(head)]
    if found:
        return max(found)[1]
    m = PLACES.search(tail[:60])
    return m.group(1) if m else ""


def _group(body: str) -> str:
    m = _EMPHASIS.search(body)
    return m.group(1).strip() if m else ""


def _period_of(piece: _Piece, start: int, value: str, flat: str, report: Report) -> tuple[str, str]:
    """The period nearest the value in its sentence (before a comparison), else the
    nearest in the paragraph, else the one the report's title names."""
    body = piece.body
    cut = _COMPARE_AFTER.search(body, start + len(value))
    main = body[: cut.start()] if cut else body
    own = [(at, p) for at, p in periods(main) if not p.lower().startswith(("last", "previous"))]
    # "from 20.8% in the last quarter to 22.3% this quarter": the one after the value
    if own:
        return min(own, key=lambda ap: abs(ap[0] - start))[1], "sentence"
    here = [(a, p) for a, p in periods(flat) if not RELATIVE.match(p)]
    if here:
        at = piece.at if piece.at >= 0 else flat.find(body.split()[0]) if body.split() else -1
        if piece.kind == "row":
            at = flat.find(body)
        before = [(a, p) for a, p in here if at < 0 or a <= at]
        chosen = max(before)[1] if before else min(here)[1]
        return chosen, "paragraph"
    named = title_period(report)
    return (named, "title") if named else ("", "")


def verified(fig: Figure, p: Paragraph, report: Report) -> bool:
    """The value is in the paragraph word for word (as verification checks answers),
    and every figure in its comparison and period is there too (or, for a period taken
    from the report's title, in the title)."""
    text = p.text
    if fold(fig.value) not in fold(text) or not figures(fig.value) <= figures(text):
        return False
    if not figures(fig.comparison) <= figures(text):
        return False
    source = report.title if fig.period_from == "title" else f"{text} {p.section}"
    return figures(fig.period) <= figures(source)
