"""Question in, ranked paragraphs out: candidates from the whole corpus, then a second look.

1. **Scope.** The user's filters are hard limits; what the question itself names narrows
   the search only when it is unambiguous (:mod:`scope`).
2. **Candidates** from everything in scope: the nearest windows by meaning (Chroma), the
   best paragraphs by keywords (BM25), and the best paragraphs of the few reports whose
   titles hold the question's rare words ("the DWP strategy").
3. **A second look** (:mod:`features`, :mod:`rerank`): every candidate is described by the
   same features and scored by weights fitted on the development questions.

Readers take no lock: they read the record's current generation of each report and ignore
any other vectors a writer may have in flight, so a half-ingested report is never cited.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pcc_assistant.answer.model import Evidence
from pcc_assistant.index.indexer import Index
from pcc_assistant.index.record import IndexedReport
from pcc_assistant.retrieve import features, rerank
from pcc_assistant.retrieve.filters import Filters
from pcc_assistant.retrieve.scope import read_scope
from pcc_assistant.terms import terms
from pcc_assistant.types import Paragraph, Report

_DIRECT_SCORING_LIMIT = 20_000  # paragraphs; past this a filtered Chroma search is cheaper
# On a server each report's vectors not yet cached cost a request (about 20 ms for 100
# paragraphs): past a few reports one filtered search on the server is cheaper.
_DIRECT_SCORING_REPORTS_SHARED = 4
DENSE_K = 40  # windows asked of Chroma (several may belong to one paragraph)
KEYWORD_K = 60
TITLE_REPORTS = 3  # reports whose titles match best, searched on their own as well
TITLE_K = 15  # candidates from each of them
TITLE_MIN = 0.25  # share of the question's word weight a title must hold to be searched
_WORDS_CACHE = 50_000  # paragraphs whose words are kept between questions


@dataclass(frozen=True)
class Candidates:
    """What the first pass found: paragraphs and their dense and keyword scores."""

    keys: list[tuple[str, int]]
    paragraphs: dict[tuple[str, int], Paragraph]
    dense: dict[tuple[str, int], float]  # cosine of the best window, for every key
    bm25: dict[tuple[str, int], float]  # keyword score, for every key with a shared word
    title_shares: dict[str, float]  # share of the question's weight in each report's title


@dataclass
class Retrieval:
    evidence: list[Evidence]
    topic: str = ""  # the question without the words that only name a report
    scope: list[str] = field(default_factory=list)  # docs searched (empty: nothing matched)
    scope_note: str = ""  # how the question itself narrowed the search, for the reader
    best_similarity: float = 0.0  # cosine similarity of the best dense hit
    cross_report: bool = False
    best_score: float = 0.0  # the re-ranker's score of the first paragraph (a logit)


class Retriever:
    """Reads the index; never writes it. Reloads what it caches when the record changes."""

    def __init__(self, index: Index, weights: rerank.Weights | None = None) -> None:
        self.index = index
        self.weights = weights or rerank.fitted()
        self._version = -1
        self._reports: dict[str, IndexedReport] = {}
        self._generations: dict[str, int] = {}
        self._vector_cache: dict[tuple[str, int], tuple[list[int], np.ndarray]] = {}
        self._words: dict[tuple[str, int, int], frozenset[str]] = {}
        self._heads: dict[str, frozenset[str]] = {}
        self._titles: dict[str, frozenset[str]] = {}

    def refresh(self) -> None:
        version = self.index.record.version()
        if version == self._version:
            return
        reports = self.index.record.reports()
        self._reports = {r.report.doc: r for r in reports}
        self._generations = {r.report.doc: r.generation for r in reports}
        self._titles = {r.report.doc: features.report_words(r.report) for r in reports}
        self._keywords(version)
        self._version = version

    def _keywords(self, version: int) -> None:
        """The keyword index of this record version: loaded when on disk, else built.

        A reader has no right to write an index folder (it may be shared, or read only);
        a server's client keeps its own copy in its cache, so the next `pcc ask` loads it
        instead of fetching every paragraph again.
        """
        kw = self.index.keywords
        if kw.loaded and kw.version() == version:  # the one in use is current
            return
        try:
            # the writer (a folder) or this client (a server) may have built it since
            if kw.stored_version() == version:
                kw.load()
                if kw.version() == version:
                    return
        except (OSError, ValueError, KeyError):  # another process was replacing it then
            pass
        self.index.build_keywords(version, persist=self.index.shared)

    def _dense(self, vector: np.ndarray, restrict: set[str] | None, k: int) -> dict[Key, float]:
        """Cosine similarity of the best window of the nearest paragraphs.

        Within a few reports, their vectors are scored directly (cached per report
        generation): Chroma's filtered search was the slowest step at 100,000 paragraphs
        (about 97 ms against 5 ms unfiltered). Otherwise Chroma's index answers.
        """
        dense: dict[Key, float] = {}
        if (
            restrict is not None
            and sum(self._reports[d].paragraphs for d in restrict) <= _DIRECT_SCORING_LIMIT
            and (
                not self.index.shared
                or len(restrict) <= _DIRECT_SCORING_REPORTS_SHARED
                or all((d, self._generations.get(d, -1)) in self._vector_cache for d in restrict)
            )
        ):
            for doc in restrict:
                ordinals, matrix = self._vectors(doc)
                if not ordinals:
                    continue
                for ordinal, sim in zip(ordinals, (matrix @ vector).tolist(), strict=True):
                    key = (doc, ordinal)
                    dense[key] = max(dense.get(key, -1.0), float(sim))
            best = sorted(dense, key=lambda key: -dense[key])[:k]
            return {key: dense[key] for key in best}
        where = None if restrict is None else {"doc": {"$in": sorted(restrict)}}
        for hit in self.index.store.query(vector, k, where):
            if self._generations.get(hit.doc) != hit.generation:
                continue  # a writer's vectors in flight, or leftovers of a killed one
            key = (hit.doc, hit.ordinal)
            dense[key] = max(dense.get(key, -1.0), 1.0 - hit.distance)
        return dense

    def _vectors(self, doc: str) -> tuple[list[int], np.ndarray]:
        key = (doc, self._generations.get(doc, -1))
        if key not in self._vector_cache:
            if len(self._vector_cache) >= 64:
                self._vector_cache.pop(next(iter(self._vector_cache)))
            self._vector_cache[key] = self.index.record.vectors_of(doc)
        return self._vector_cache[key]

    def _words_of(self, keys: list[Key]) -> dict[Key, frozenset[str]]:
        """The indexed words of these paragraphs (label, section path and text), cached."""
        out: dict[Key, frozenset[str]] = {}
        todo = []
        for key in keys:
            found = self._words.get((*key, self._generations.get(key[0], -1)))
            if found is None:
                todo.append(key)
            else:
                out[key] = found
        if todo:
            if len(self._words) + len(todo) > _WORDS_CACHE:
                self._words.clear()
            for key, words in self.index.keywords.words_of(todo).items():
                self._words[(*key, self._generations.get(key[0], -1))] = out[key] = words
        return out

    def _head_words(self, p: Paragraph) -> frozenset[str]:
        """The words of a paragraph's section path and label (each cached: many repeat)."""
        out: list[frozenset[str]] = []
        for text in (p.section, p.label):
            found = self._heads.get(text)
            if found is None:
                if len(self._heads) > _WORDS_CACHE:
                    self._heads.clear()
                found = self._heads[text] = frozenset(terms(text))
            out.append(found)
        return out[0] | out[1]

    @property
    def reports(self) -> list[Report]:
        self.refresh()
        return [r.report for r in self._reports.values()]

    def weight(self, term: str) -> float:
        return self.index.keywords.weight(term)

    def admitted(self, filters: Filters | None) -> list[Report]:
        """The reports the user's filters let through."""
        self.refresh()
        filters = filters or Filters()
        return [r.report for r in self._reports.values() if filters.admits(r.report)]

    def search(
        self,
        question: str,
        filters: Filters | None = None,
        k: int = 10,
        use_named: bool = True,
        bare_dates: bool = False,
    ) -> Retrieval:
        allowed = self.admitted(filters)
        note = ""
        topic = question
        cross = False
        docs = {r.doc for r in allowed}
        if use_named and allowed and (filters is None or not filters.docs):
            scope = read_scope(question, allowed, bare_dates)
            note, topic, cross = scope.note, scope.topic, scope.cross
            if scope.docs is not None:
                docs = set(scope.docs)
        if not docs:
            return Retrieval([], topic, [], note)
        restrict = None if len(docs) == len(self._reports) else docs
        found = self.candidates(question, topic, restrict)
        if not found.keys:
            return Retrieval([], topic, sorted(docs), note, 0.0, cross)
        scores = self.weights.score(self.features(question, found))
        order = np.argsort(-scores, kind="stable")
        ranked = [found.keys[int(i)] for i in order]
        score_of = {found.keys[int(i)]: float(scores[int(i)]) for i in order}
        chosen = _diverse(ranked, k, cross and len(docs) > 1)
        evidence = []
        for n, key in enumerate(chosen, 1):
            p = found.paragraphs[key]
            ir = self._reports[p.doc]
            evidence.append(Evidence(n, p, ir.report, score_of[key], ir.indexed_at))
        best = max(found.dense.values(), default=0.0)
        return Retrieval(
            evidence, topic, sorted(docs), note, best, cross and len(docs) > 1, score_of[ranked[0]]
        )

    def candidates(self, question: str, topic: str, restrict: set[str] | None) -> Candidates:
        """Candidate paragraphs, with everything the features need to know of them."""
        vector = self.index.embedder.embed([question])[0]
        dense = self._dense(vector, restrict, DENSE_K)
        shares = self._title_shares(topic, restrict)
        titled = [doc for share, doc in sorted(((v, d) for d, v in shares.items()), reverse=True)]
        titled = [doc for doc in titled[:TITLE_REPORTS] if shares[doc] >= TITLE_MIN]
        extra: dict[Key, None] = {}
        for doc in titled:
            for key, sim in self._dense(vector, {doc}, TITLE_K).items():
                dense[key] = max(dense.get(key, -1.0), sim)
            # within a report the question names, the words that named it tell nothing
            title = self._titles.get(doc, frozenset())
            rest = " ".join(w for w in topic.split() if not set(terms(w)) <= title) or topic
            extra.update(
                dict.fromkeys(h.key for h in self.index.keywords.search(rest, TITLE_K, {doc}))
            )
        also = set(dense) | set(extra)
        hits, bm25 = self.index.keywords.search_scored(topic, KEYWORD_K, restrict, also=also)
        keys = list(dict.fromkeys([*dense, *extra, *(h.key for h in hits)]))
        for h in hits:
            bm25[h.key] = h.score
        missing = [key for key in keys if key not in dense]
        for key, windows in self.index.record.vectors_at(missing).items():
            dense[key] = float(np.max(windows @ vector))
        paragraphs = self.index.record.paragraphs_at(keys)
        keys = [key for key in keys if key in paragraphs]  # removed since the search
        return Candidates(keys, paragraphs, dense, bm25, shares)

    def _title_shares(self, topic: str, restrict: set[str] | None) -> dict[str, float]:
        """For every report in scope, the share of the question's weight its title holds."""
        q = features.question_weights(topic, self.weight)
        total = sum(q.values())
        if not total:
            return {}
        return {
            doc: sum(w for t, w in q.items() if t in words) / total
            for doc, words in self._titles.items()
            if restrict is None or doc in restrict
        }

    def features(self, question: str, found: Candidates) -> np.ndarray:
        near = [(d, o + step) for d, o in found.keys for step in (-1, 1)]
        words = self._words_of([*found.keys, *near])
        empty: frozenset[str] = frozenset()

        def around(key: Key) -> frozenset[str]:
            doc, ordinal = key
            return words.get((doc, ordinal - 1), empty) | words.get((doc, ordinal + 1), empty)

        return features.matrix(
            found,
            lambda key: features.Words(
                words.get(key, empty), self._head_words(found.paragraphs[key])
            ),
            around,
            lambda doc: self._titles.get(doc, frozenset()),
            features.question_weights(question, self.weight),
            features.wants_figure(question),
        )


Key = tuple[str, int]


def _diverse(ranked: list[Key], k: int, cross: bool) -> list[Key]:
    """The top ``k``; for a question across reports, the best of each report first."""
    if not cross:
        return ranked[:k]
    firsts: list[Key] = []
    seen: set[str] = set()
    for key in ranked[: 4 * k]:
        if key[0] not in seen:
            seen.add(key[0])
            firsts.append(key)
    firsts = firsts[: max(2, k // 2)]
    return (firsts + [key for key in ranked if key not in firsts])[:k]
