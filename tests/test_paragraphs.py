"""From the sample reports to their own paragraphs (no embedding: fast)."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from pathlib import Path

import pytest

from pcc_assistant.ingest.document import load_source, parse_document
from pcc_assistant.ingest.furniture import body_lines
from pcc_assistant.ingest.paragraphs import split_paragraphs
from pcc_assistant.types import ParsedDocument

from .conftest import CAMBS, CORPUS, DURHAM, shared_txt, squash

_FOOTNOTE = re.compile(r"^[¹²³⁴⁵⁶⁷⁸⁹⁰]")


@pytest.fixture(scope="module")
def durham_pdf() -> ParsedDocument:
    return parse_document(CORPUS / f"{DURHAM}.pdf")


@pytest.fixture(scope="module")
def cambs_pdf() -> ParsedDocument:
    return parse_document(CORPUS / f"{CAMBS}.pdf")


def _labels(parsed: ParsedDocument) -> list[str]:
    return [p.label for p in parsed.paragraphs]


def _by_label(parsed: ParsedDocument) -> dict[str, object]:
    return {p.label: p for p in parsed.paragraphs}


def test_durham_numbered_paragraphs_each_once(durham_pdf: ParsedDocument) -> None:
    numbered = [lb for lb in _labels(durham_pdf) if lb.isdigit()]
    assert numbered == [str(n) for n in range(1, 77)]
    assert Counter(_labels(durham_pdf)).most_common(1)[0][1] == 1


@pytest.mark.parametrize(
    ("label", "pages", "starts"),
    [
        ("1", (1,), "1. To update the Panel"),
        ("32", (7,), "32. Durham Constabulary has a higher proportion"),
        ("48", (9, 10), "48. More broadly"),
        ("64", (12,), "- 64. There is currently no designated"),
        ("71", (12, 13), "71. The PCVC also promotes"),
    ],
)
def test_durham_pages_and_text(
    durham_pdf: ParsedDocument, label: str, pages: tuple[int, ...], starts: str
) -> None:
    para = next(p for p in durham_pdf.paragraphs if p.label == label)
    assert para.pages == pages
    assert para.text.startswith(starts)


def test_paragraph_keeps_sub_items_and_crosses_pages(durham_pdf: ParsedDocument) -> None:
    by = {p.label: p for p in durham_pdf.paragraphs}
    assert "3. Victims, or indeed people" in by["60"].text  # sub-item "3." is not ¶3
    assert "- II. Effective pathways" in by["39"].text
    assert "the Halo Project Charity" in by["43"].text
    assert squash("young victims of crime. This work is ongoing.") in squash(by["48"].text)
    assert "KPQ3" in by["38"].section and "Outcome 2" in by["38"].section


def test_durham_tables_are_single_units(durham_pdf: ParsedDocument) -> None:
    by = {p.label: p for p in durham_pdf.paragraphs}
    fig9, fig10 = by["Figure 9"], by["Figure 10"]
    assert fig9.kind == fig10.kind == "table"
    for table in (fig9, fig10):
        assert table.text.index("Durham North East England and Wales") < table.text.index("Robbery")
        assert "Figure" in table.text.splitlines()[-2] + table.text.splitlines()[-1]
    assert "Robbery -18% 4% 12%" in fig9.text
    assert "Theft Offences 28.7 34.5 33.4" in fig10.text
    assert fig9.pages == (5, 6)
    assert not any("Robbery -18%" in p.text for p in durham_pdf.paragraphs if p is not fig9)


def test_cambridgeshire_sections(cambs_pdf: ParsedDocument) -> None:
    labels = set(_labels(cambs_pdf))
    assert {"1.1", "3.2", "4.1.1", "4.2.3", "4.3.5", "5.3.3", "6.2.1", "7.1"} <= labels
    by = {p.label: p for p in cambs_pdf.paragraphs}
    assert "77.2% of the victims" in by["4.1.1 (2)"].text
    assert by["4.1.1 (2)"].section.endswith("4.1.1 Victims > Victim satisfaction")
    assert "Peterborough was\nthe only district" in by["4.3.5"].text
    assert by["footnote 2"].text.startswith("² Thrive stands for Threat")
    # The footnote printed mid-paragraph is lifted out; the paragraph runs on whole.
    assert "one of only 7\nforces to report" in by["4.2.3"].text
    assert "forces" not in by["footnote 1"].text


@pytest.mark.parametrize("doc", [DURHAM, CAMBS])
def test_no_page_furniture(doc: str) -> None:
    parsed = parse_document(CORPUS / f"{doc}.pdf")
    header = (
        "Police and Crime Panel – 12 March 2020"
        if doc == DURHAM
        else "Business Coordination Board – 26 May 2020"
    )
    for p in parsed.paragraphs:
        assert not re.search(r"Page \d+ of \d+", p.text), p.label
        assert header not in p.text, p.label


@pytest.mark.parametrize("doc", [DURHAM, CAMBS])
@pytest.mark.parametrize("suffix", [".pdf", ".txt"])
def test_every_paragraph_is_verbatim_source_text(doc: str, suffix: str, tmp_path: Path) -> None:
    """Each unit, whitespace aside, is a run of the published text (the .txt export),
    with footnotes lifted out of the paragraph they were printed in."""
    txt = shared_txt(doc)
    path = CORPUS / f"{doc}.pdf" if suffix == ".pdf" else txt
    parsed = parse_document(path)
    reference = squash(
        "\n".join(ln for ln in txt.read_text().splitlines() if not _FOOTNOTE.match(ln))
    )
    body = squash(
        "\n".join(
            ln.text
            for ln in body_lines(load_source(path, "", 60, 2048, None))
            if not _FOOTNOTE.match(ln.text)
        )
    )
    for p in parsed.paragraphs:
        if p.kind == "footnote":
            continue
        assert squash(p.text) in body, p.label
        if p.kind != "figure" or suffix == ".txt":  # a diagram's boxes read column-wise in a PDF
            assert squash(p.text) in reference, p.label


@pytest.mark.parametrize("doc", [DURHAM, CAMBS])
def test_txt_gives_the_same_paragraphs_as_pdf(doc: str) -> None:
    pdf = parse_document(CORPUS / f"{doc}.pdf")
    txt = parse_document(shared_txt(doc))
    assert txt.report.pages == 0 and all(p.pages == () for p in txt.paragraphs)
    numbered = re.compile(r"^\d+(\.\d+)*$")
    assert [lb for lb in _labels(txt) if numbered.match(lb)] == [
        lb for lb in _labels(pdf) if numbered.match(lb)
    ]
    for label in ("Figure 9", "Figure 10") if doc == DURHAM else ():
        assert next(p for p in txt.paragraphs if p.label == label).kind == "table"


def test_metadata_from_sidecar_and_document(tmp_path: Path) -> None:
    parsed = parse_document(CORPUS / f"{DURHAM}.pdf")
    assert parsed.report.title == "Durham PCVC performance report"
    assert parsed.report.date == dt.date(2020, 3, 12)
    # Without a sidecar the date and organisation come from the cover page.
    copy = tmp_path / "report.pdf"
    copy.write_bytes((CORPUS / f"{DURHAM}.pdf").read_bytes())
    bare = parse_document(copy)
    assert bare.report.date == dt.date(2020, 3, 12)
    assert bare.report.organisation == "Durham Police, Crime and Victims' Commissioner"
    (tmp_path / "report.meta.toml").write_text('title = "Q4 report"\ndate = "1 April 2021"\n')
    side = parse_document(copy)
    assert (side.report.title, side.report.date) == ("Q4 report", dt.date(2021, 4, 1))
    assert side.report.sha256 != bare.report.sha256  # a sidecar change re-indexes


def test_markdown_headings_and_unnumbered_labels(tmp_path: Path) -> None:
    md = tmp_path / "notes.md"
    md.write_text(
        "# Victims\n\nSupport was extended to 200 victims.\n\nA second point.\n\n"
        "## 2.1 Funding\n\nThe grant was £40,000.\n"
    )
    parsed = parse_document(md)
    assert [(p.label, p.section) for p in parsed.paragraphs] == [
        ("Victims (1)", "Victims"),
        ("Victims (2)", "Victims"),
        ("2.1", "2.1 Funding"),  # a numbered heading starts its own path
    ]


def test_split_of_empty_input_is_empty() -> None:
    assert split_paragraphs([]) == []
