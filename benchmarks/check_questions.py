"""Check a question set against an index before it is used: every evidence snippet must be
in one indexed paragraph of the document it names, and each answer group should be in the
paragraphs that hold the evidence.

    .venv/bin/python benchmarks/check_questions.py QUESTIONS.jsonl [--index DIR] [--quiet]

Prints one line per problem and exits 1 when any snippet is not found (a question whose
evidence can't be hit can never count as retrieved). Answer strings that are not in the
evidence paragraphs are warnings: the answer may come from a second paragraph. With
``--quiet`` only the counts are printed, so a set can be checked without being read
(how a test set is checked while it stays unread).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pcc_assistant.answer.sentences import fold
from pcc_assistant.evaluate import load_questions
from pcc_assistant.index.record import Record


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("questions", type=Path)
    ap.add_argument("--index", type=Path, default=Path("index"))
    ap.add_argument("--quiet", action="store_true", help="counts only, no question text")
    args = ap.parse_args()
    qs = load_questions(args.questions)
    record = Record(args.index / "record.sqlite")
    folded: dict[str, list[tuple[str, str]]] = {}
    for p in record.paragraphs():
        folded.setdefault(p.doc, []).append((p.label, fold(p.text)))
    errors = warnings = 0
    ids = set()

    def say(line: str) -> None:
        if not args.quiet:
            print(line)

    for problem in qs.problems:
        errors += 1
        say(f"{args.questions}: {problem}")
    for q in qs.questions:
        ids.add(q.id)
        if q.answerable and not q.evidence:
            errors += 1
            say(f"{q.id}: answerable but gives no evidence")
        if q.answerable and not q.answer_all:
            errors += 1
            say(f"{q.id}: answerable but gives no answer_all")
        where: list[str] = []
        for e in q.evidence:
            paras = folded.get(e.doc)
            if paras is None:
                errors += 1
                say(f"{q.id}: document {e.doc!r} is not indexed")
                continue
            found = [text for label, text in paras if fold(e.snippet) in text]
            if not found:
                errors += 1
                say(f"{q.id}: snippet not in any paragraph of {e.doc}: {e.snippet[:70]!r}")
            where.extend(found)
        if where:
            for group in q.answer_all:
                if not any(fold(s) in t for s in group for t in where):
                    warnings += 1
                    say(f"{q.id}: warning: none of {list(group)} is in the evidence paragraphs")
    answerable = sum(q.answerable for q in qs.questions)
    print(
        f"{args.questions}: {len(qs.questions)} questions ({answerable} answerable, "
        f"{len(qs.questions) - answerable} not); {errors} errors, {warnings} warnings"
    )
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
