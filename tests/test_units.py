"""What is embedded of each paragraph: one unit when it fits, windows when it doesn't, each
paragraph once, with no window that repeats a whole paragraph or holds only its heading.

The rules are about counts, so most tests count words (a stand-in tokenizer: a word is a
token); the last one uses the real model's tokenizer on the sample reports.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from pcc_assistant.config import Settings
from pcc_assistant.index.embedder import WINDOW_TOKENS, Pending, embedding_units
from pcc_assistant.types import Paragraph


class _WordCounter:
    """An embedder that counts words as tokens and records how it was asked."""

    name = "words"
    dim = 3
    max_tokens = 256

    def __init__(self) -> None:
        self.count_calls: list[int] = []

    def count_tokens(self, texts: list[str]) -> list[int]:
        self.count_calls.append(len(texts))
        return [len(t.split()) for t in texts]

    def embed(self, texts: list[str]) -> np.ndarray:
        raise AssertionError("windowing embeds nothing")

    def embed_later(self, texts: Sequence[str]) -> Pending:
        raise AssertionError("windowing embeds nothing")


def _para(text: str, section: str = "", ordinal: int = 0) -> Paragraph:
    return Paragraph("doc", ordinal, str(ordinal + 1), "paragraph", (1,), section, text, 0, 0)


def _sentences(n: int, words: int, tag: str = "s") -> str:
    """n sentences of ``words`` words each, told apart by their first word."""
    return " ".join(
        f"{tag.capitalize()}{i} " + " ".join(["word"] * (words - 2)) + " end." for i in range(n)
    )


def test_a_paragraph_that_fits_is_one_unit_with_its_context() -> None:
    counter = _WordCounter()
    p = _para("The panel noted the report.", "Part A > Victims > Satisfaction")
    assert embedding_units(counter, [p]) == [
        (0, 0, "Victims > Satisfaction\nThe panel noted the report.")
    ]
    assert embedding_units(counter, [_para("No heading here.")]) == [(0, 0, "No heading here.")]


def test_a_long_paragraph_is_cut_into_windows_that_each_fit_with_the_context() -> None:
    counter = _WordCounter()
    text = _sentences(12, 40)  # 480 words
    units = embedding_units(counter, [_para(text, "Outcome 2 > KPQ3 how well")])
    assert len(units) >= 3
    assert [w for _, w, _ in units] == list(range(len(units)))
    for _, _, window in units:
        assert window.startswith("Outcome 2 > KPQ3 how well\n")
        assert len(window.split()) <= WINDOW_TOKENS
        assert window.split("\n", 1)[1] != text  # no window repeats the whole paragraph
    body = " ".join(u[2].split("\n", 1)[1] for u in units)
    for i in range(12):  # every sentence is in some window
        assert f"S{i} " in body
    # Consecutive windows share a sentence, so a fact told across two is whole once.
    first, second = (u[2].split("\n", 1)[1] for u in units[:2])
    last_of_first = first.rsplit(". ", 1)[-1]
    assert second.startswith(last_of_first.split(" ", 1)[0])


def test_a_short_paragraph_under_a_long_heading_is_not_split_into_heading_and_repeat() -> None:
    """The old windowing cut this into the heading alone and then the whole paragraph again."""
    counter = _WordCounter()
    heading = "Heading " + " ".join(["long"] * 119)  # 120 words
    p = _para(_sentences(1, 100), heading)  # 220 words with the heading: over the window
    units = embedding_units(counter, [p])
    assert len(units) == 1
    assert units[0][2] == p.text  # the heading is too long to keep: the text alone


def test_an_overlong_sentence_is_cut_at_spaces() -> None:
    counter = _WordCounter()
    text = "Word " * 500 + "end."
    units = embedding_units(counter, [_para(text)])
    assert len(units) == 3
    assert all(len(u[2].split()) <= WINDOW_TOKENS for u in units)
    assert sum(len(u[2].split()) for u in units) == 501  # nothing lost, nothing repeated


def test_tokens_are_counted_in_a_few_calls_for_a_whole_document() -> None:
    counter = _WordCounter()
    paragraphs = [_para(f"Short paragraph {i}.", "S", i) for i in range(50)]
    paragraphs += [_para(_sentences(10, 30), "S", 50 + i) for i in range(5)]
    units = embedding_units(counter, paragraphs)
    assert len(counter.count_calls) == 2  # the whole units, then the long ones' sentences
    assert counter.count_calls[0] == 55
    assert [o for o, w, _ in units if w == 0] == list(range(55))


@pytest.mark.slow
def test_sample_windows_fit_the_model(ingested: Settings, embedder) -> None:  # type: ignore[no-untyped-def]
    """With the real tokenizer: every unit of the sample reports is read whole by the model."""
    from pcc_assistant.index.record import Record

    record = Record(ingested.index_dir / "record.sqlite")
    paragraphs = record.paragraphs()
    record.close()
    for doc in {p.doc for p in paragraphs}:
        mine = [p for p in paragraphs if p.doc == doc]
        units = embedding_units(embedder, mine)
        sizes = embedder.count_tokens([t for _, _, t in units])
        assert max(sizes) <= WINDOW_TOKENS
        assert {o for o, _, _ in units} == {p.ordinal for p in mine}
        assert len(units) > len(mine)  # some long paragraphs have windows
