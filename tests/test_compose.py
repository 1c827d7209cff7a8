"""How an extractive answer is composed, each kind of failure on sentences made up for it.

No model and no index: the paragraphs are given as retrieved evidence, words are weighed
equally, so what is tested is the composition alone.
"""

from __future__ import annotations

import datetime as dt

from pcc_assistant.answer.extractive import extract, tidy
from pcc_assistant.answer.model import Answer, Claim, Evidence, numbered
from pcc_assistant.answer.question import answer_type, focus, parts, read
from pcc_assistant.answer.refusal import Signals, Thresholds
from pcc_assistant.types import Paragraph, Report

NORTH = Report(
    "north", "Northshire performance report", "Northshire Police", dt.date(2021, 3, 1), "", "", 1
)
SOUTH = Report(
    "south", "Southshire performance report", "Southshire Police", dt.date(2021, 4, 1), "", "", 1
)


def _ev(
    marker: int,
    text: str,
    report: Report = NORTH,
    label: str = "",
    kind: str = "paragraph",
    ordinal: int | None = None,
) -> Evidence:
    at = marker if ordinal is None else ordinal
    p = Paragraph(report.doc, at, label or str(at), kind, (1,), "", text, 0, len(text))
    return Evidence(marker, p, report, 10.0 - marker)


def _answer(question: str, *evidence: Evidence, cross: bool = False) -> str:
    found = extract(question, evidence, lambda term: 1.0, cross)
    return " ".join(c.text for c in found.claims)


def test_a_list_opener_brings_its_items() -> None:
    text = (
        "12. Victims are supported in three core ways: 1. The Victim Care Service. "
        "2. Witness care officers. 3. Specialist counselling for survivors."
    )
    answer = _answer("In what ways are victims supported?", _ev(1, text))
    assert "Victim Care Service" in answer and "Witness care" in answer
    assert "Specialist counselling" in answer


def test_a_bulleted_list_brings_its_items() -> None:
    text = (
        "Specialist services include:\n- Harbour, for domestic abuse\n- the Halo Project\n- RSACC"
    )
    answer = _answer("Which specialist services are there?", _ev(1, text))
    assert all(name in answer for name in ("Harbour", "Halo", "RSACC"))


def test_what_became_of_something_is_the_next_sentence() -> None:
    text = (
        "The referral app went live in January. Since then 85 referrals have been made and "
        "41 orders granted. Staff training continues."
    )
    answer = _answer("What has happened with the referral app?", _ev(1, text))
    assert "went live" in answer and "85 referrals" in answer
    assert "training" not in answer


def test_the_reason_asked_for_follows_the_statement() -> None:
    text = (
        "The recorded crime rate is higher than the national average. This is because the "
        "force records crime more completely than most. Other forces differ."
    )
    answer = _answer(
        "Why is the recorded crime rate higher than the national average?", _ev(1, text)
    )
    assert "records crime more completely" in answer


def test_a_heading_is_never_the_answer() -> None:
    text = "4.1 Victim satisfaction\nOverall satisfaction was 77.2% over the 12 months."
    answer = _answer("What is victim satisfaction?", _ev(1, text, label="4.1"))
    assert "77.2%" in answer and not answer.startswith("4.1")


def test_a_sentence_that_only_shares_words_is_not_added() -> None:
    table = _ev(
        1,
        "Rate of offences\nDurham North East England and Wales\nRobbery 0.3 0.6 1.5\n"
        "Theft 28.7 34.5 33.4",
        label="Figure 10",
        kind="table",
    )
    other = _ev(2, "The recorded rate is higher for Durham than the average.", ordinal=40)
    answer = _answer("What was the robbery rate in Durham compared with the average?", table, other)
    assert "Robbery: Durham 0.3, North East 0.6, England and Wales 1.5" in answer
    assert "higher" not in answer


def test_table_figures_name_their_row_and_column() -> None:
    table = _ev(
        1,
        "Crime change\nDurham North East England and Wales\nRobbery -18% 4% 12%",
        label="Figure 9",
        kind="table",
    )
    answer = _answer("How did robbery change?", table)
    assert answer.startswith("Robbery: Durham -18%, North East 4%, England and Wales 12%")


def test_the_type_asked_for_missing_is_said() -> None:
    found = extract(
        "How many 999 calls were answered?",
        [_ev(1, "999 calls were answered promptly throughout the quarter.")],
        lambda term: 1.0,
    )
    assert found.figure_missing
    rule = Thresholds(0.0, 0.0, 0.0, refuse_when_figure_missing=True)
    signals = Signals(0.9, 1.0, 1.0, figure_missing=True)
    assert rule.why(signals) == "the reports don't give the figure asked for"
    found = extract(
        "When will the new contract start?",
        [_ev(1, "A new contract for victim services will start soon after the review.")],
        lambda term: 1.0,
    )
    assert found.type_missing


def test_a_year_asked_about_must_be_in_the_passage() -> None:
    text = "Satisfaction was 77.2% in the 12 months ending March 2020."
    assert extract("What was satisfaction in 2018?", [_ev(1, text)], lambda t: 1.0).year_missing
    assert not extract("What was satisfaction in 2020?", [_ev(1, text)], lambda t: 1.0).year_missing


def test_a_question_across_reports_gets_a_statement_from_each() -> None:
    north = _ev(1, "Northshire uses THRIVE in its control room for every call.")
    south = _ev(2, "Southshire uses THRIVE at the front counter and in custody.", SOUTH)
    answer = _answer("How do the two forces use THRIVE?", north, south, cross=True)
    assert "control room" in answer and "front counter" in answer


def test_a_report_that_doesnt_address_it_is_named() -> None:
    north = _ev(1, "Northshire uses THRIVE in its control room for every call.")
    south = _ev(2, "Southshire opened a new custody suite.", SOUTH)
    found = extract("How do the two forces use THRIVE?", [north, south], lambda t: 1.0, True)
    assert found.unaddressed == ["south"]


def test_each_part_of_a_question_is_answered() -> None:
    text = (
        "The contract for the victim service ends in September 2020. A court pilot with a "
        "victim liaison officer will shape the new service. Budgets are set annually."
    )
    answer = _answer(
        "When does the victim service contract end, and which pilot will shape the new one?",
        _ev(1, text),
    )
    assert "September 2020" in answer and "court pilot" in answer
    assert "Budgets" not in answer


def test_a_long_question_is_answered_against_its_asking_sentences() -> None:
    question = (
        "Victims' services are a significant part of the Commissioner's spending, and I would "
        "not want us simply to roll over the existing arrangement without learning from what "
        "has and has not worked, particularly at court, where victims tell us they feel most "
        "left on their own. Members have raised this repeatedly over the past year. When does "
        "the current victim service contract end?"
    )
    assert focus(question) == "When does the current victim service contract end?"
    assert answer_type(focus(question)) == "date"
    found = extract(
        question, [_ev(1, "The victim service contract ends in September 2020.")], lambda t: 1.0
    )
    assert found.best is not None and found.best.coverage >= 0.8


def test_parts_and_types_are_read() -> None:
    assert parts("What did the pilot conclude, and what happens next?") == [
        "What did the pilot conclude",
        "what happens next",
    ]
    assert read("Who chairs the panel?").type == "name"
    assert read("Why did satisfaction fall?").type == "reason"
    assert read("How many PCSOs are there?").figure == "count"
    assert read("What results has the app produced so far?").type == "outcome"


def test_an_answer_reads_as_a_sentence() -> None:
    assert tidy("And the rate fell²; it was 19%.") == "The rate fell; it was 19%."
    assert tidy("² Thrive stands for Threat and Harm.") == "Thrive stands for Threat and Harm."


def test_citations_are_numbered_in_the_order_shown() -> None:
    evidence = [_ev(1, "First."), _ev(2, "Second."), _ev(3, "Third.")]
    answer = Answer(
        "q", "extractive", True, [Claim("Third.", (3,)), Claim("First.", (1,))], evidence
    )
    shown = numbered(answer)
    assert [c.markers for c in shown.claims] == [(1,), (2,)]
    assert [e.paragraph.text for e in shown.retrieved] == ["Third.", "First.", "Second."]
    assert [e.marker for e in shown.retrieved] == [1, 2, 3]


def test_a_name_the_passage_doesnt_mention_is_missing() -> None:
    durham = _ev(1, "Durham's crime severity score is lower than most of its group.")
    found = extract("What is Cleveland's crime severity score?", [durham], lambda t: 1.0)
    assert found.name_missing
    found = extract("What is Durham's crime severity score?", [durham], lambda t: 1.0)
    assert not found.name_missing


def test_a_name_given_in_full_matches_its_initials() -> None:
    passage = _ev(1, "The MoW transparency champion is Jane Smith, a board member.")
    found = extract(
        "Who is the transparency champion at the Ministry of Widgets?", [passage], lambda t: 1.0
    )
    assert not found.name_missing
