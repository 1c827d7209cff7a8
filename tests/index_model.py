"""The index property test's machinery: report files in a few folders, a model of what
the index should hold, random steps against the folder index (ingest, update, remove,
prune, rebuild, a damaged Chroma, kill -9 of a real writer) from random working folders,
and after each step the index compared with a fresh build of the files that should be
there.

A fresh build of a set of files is the union of fresh builds of each file (a report's
paragraphs, vectors and metadata depend on its own file only), so each file version is
built once, really (``pipeline.ingest`` into an empty index), and its part kept.

Used by ``tests/test_index_property.py`` (200 steps in the suite) and
``benchmarks/index_property.py`` (more steps, more seeds). The tiny embedder is used:
the test is about the index's bookkeeping, not about what is found.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pcc_assistant import pipeline
from pcc_assistant.config import Settings
from pcc_assistant.index.indexer import Index
from pcc_assistant.index.keyword import KeywordIndex
from pcc_assistant.index.server import Location
from pcc_assistant.ingest.document import content_hash

from .tiny_embedder import TinyEmbedder

STEMS = ("alpha", "bravo", "charlie", "delta", "echo")
FOLDERS = ("a", "b", "c/deep")
WORDS = [
    "victims",
    "burglary",
    "satisfaction",
    "solved",
    "rate",
    "panel",
    "police",
    "crime",
    "outcome",
    "referral",
    "hub",
    "budget",
    "quarter",
    "year",
    "force",
    "officers",
    "response",
    "emergency",
    "calls",
    "domestic",
    "abuse",
]
WORKER = Path(__file__).resolve().parent / "index_worker.py"


@dataclass(frozen=True)
class Want:
    """What the index should hold for a report: its file (absolute) at this content."""

    path: str
    sha: str


Snap = tuple[Any, ...]  # one report as a fresh build holds it (see _doc_snaps)


@dataclass
class Outcome:
    steps: int = 0
    kills: int = 0
    kills_mid_write: int = 0  # killed after the record changed: a writer's work cut short
    damages: int = 0
    fresh_builds: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


class Difference(AssertionError):
    pass


class World:
    def __init__(self, root: Path, seed: int, kill_every: int = 25) -> None:
        self.root = root
        self.rng = random.Random(seed)
        self.seed = seed
        self.kill_every = kill_every
        self.files_root = root / "files"
        self.index = root / "index"
        self.settings = Settings(index_dir=self.index, onnx=False, cache_dir=root / "cache")
        self.embedder = TinyEmbedder()
        self.model: dict[str, Want] = {}
        self.fresh: dict[Want, Snap] = {}
        self.log: list[str] = []
        self.outcome = Outcome()
        self.counter = 0
        self.needs_writer = False  # a reader saw a damaged Chroma: a writer must mend it
        for f in FOLDERS:
            (self.files_root / f).mkdir(parents=True, exist_ok=True)
        (root / "elsewhere").mkdir(exist_ok=True)
        self.cwds = [
            root,
            self.files_root,
            self.files_root / "a",
            self.files_root / "c" / "deep",
            root / "elsewhere",
        ]

    # -- files --------------------------------------------------------------------------
    def files(self) -> list[Path]:
        return sorted(p for p in self.files_root.rglob("*.txt") if p.is_file())

    def _write(self, path: Path) -> None:
        self.counter += 1
        words = self.rng.choices(WORDS, k=60)
        paras = []
        for n in range(1, self.rng.randint(2, 4) + 1):
            chunk = " ".join(words[n * 12 : n * 12 + self.rng.randint(5, 12)])
            paras.append(f"{n}. The {chunk} figure was {self.rng.randint(1, 99)}% this year.")
        title = f"{path.stem.title()} report {self.counter}"
        path.write_text(title + "\n\n" + "\n\n".join(paras) + "\n")

    def mutate(self) -> str:
        """One change to the files on disk, as a user makes them."""
        files = self.files()
        kind = self.rng.choice(["create", "create", "modify", "modify", "delete", "move", "copy"])
        if kind != "create" and not files:
            kind = "create"
        if kind == "create":
            path = self.files_root / self.rng.choice(FOLDERS) / f"{self.rng.choice(STEMS)}.txt"
            self._write(path)
            return f"create {path.relative_to(self.root)}"
        path = self.rng.choice(files)
        if kind == "modify":
            self._write(path)
        elif kind == "delete":
            path.unlink()
        else:
            target = self.files_root / self.rng.choice(FOLDERS) / path.name
            if target.exists():
                return f"{kind} {path.relative_to(self.root)}: target exists, nothing done"
            (shutil.move if kind == "move" else shutil.copy2)(path, target)
        return f"{kind} {path.relative_to(self.root)}"

    # -- the model ------------------------------------------------------------------------
    def expect_ingest(self, targets: list[Path], prune: bool, replace: bool) -> dict[str, Want]:
        """What the index should hold after ``pcc ingest`` of ``targets`` (absolute)."""
        model = dict(self.model)
        found: list[Path] = []
        for t in targets:
            if t.is_dir():
                found += sorted(p for p in t.rglob("*") if p.is_file() and p.suffix == ".txt")
            elif t.is_file():
                found.append(t)
        stems: set[str] = set()
        for f in found:
            if f.stem in stems:  # the same id twice in one batch: the first wins
                continue
            stems.add(f.stem)
            here, sha = str(f.resolve()), content_hash(f)
            known = model.get(f.stem)
            if known is None:
                model[f.stem] = Want(here, sha)
                continue
            elsewhere = known.path != here and Path(known.path).exists()
            if elsewhere and not replace and known.sha != sha:
                continue  # refused: another file that is still there has this id
            if known.sha == sha and elsewhere and not replace:
                continue  # a copy: the report keeps its file
            model[f.stem] = Want(here, sha)
        if prune:
            model = {d: w for d, w in model.items() if Path(w.path).exists()}
        return model

    def _fresh(self, want: Want) -> Snap:
        """The report as a fresh build of its file holds it (built once per version)."""
        if want not in self.fresh:
            path = Path(want.path)
            assert content_hash(path) == want.sha, f"{path} changed before its fresh build"
            folder = self.root / "fresh" / str(len(self.fresh))
            settings = Settings(index_dir=folder, onnx=False, cache_dir=self.root / "cache")
            result = pipeline.ingest([path], settings, embedder=self.embedder)
            assert result.added == [path.stem] and not result.failed, result
            snaps, problems = snapshot(folder, self.embedder)
            assert not problems, problems
            self.fresh[want] = snaps[path.stem]
            Location(folder / "chroma").forget()
            shutil.rmtree(folder)
            self.outcome.fresh_builds += 1
        return self.fresh[want]

    def _settle_fresh(self) -> None:
        for want in self.model.values():
            self._fresh(want)

    # -- steps ----------------------------------------------------------------------------
    def _targets(self) -> list[Path]:
        choices: list[Path] = [self.files_root, *(self.files_root / f for f in FOLDERS)]
        choices += self.files()
        choices.append(self.files_root / "missing")
        return self.rng.sample(choices, k=min(len(choices), self.rng.randint(1, 3)))

    def _as_given(self, targets: list[Path], cwd: Path) -> list[Path]:
        """Each path as a user would type it from ``cwd``: relative or absolute."""
        return [Path(os.path.relpath(t, cwd)) if self.rng.random() < 0.6 else t for t in targets]

    def step(self) -> None:
        n = self.outcome.steps
        if self.kill_every and n % self.kill_every == self.kill_every // 2:
            kind = "kill"
        elif self.needs_writer:
            kind = "ingest"
        else:
            kind = self.rng.choices(
                ["ingest", "update", "remove", "prune", "rebuild", "damage"],
                weights=[30, 30, 8, 14, 6, 4],
            )[0]
        self.outcome.by_kind[kind] = self.outcome.by_kind.get(kind, 0) + 1
        cwd = self.rng.choice(self.cwds)
        try:
            getattr(self, f"_{kind}")(cwd)
        except Difference:
            raise
        except Exception as exc:  # a step that crashed is a difference too, with its history
            raise self._difference(
                f"{kind} raised {type(exc).__name__}: {exc}", None, None
            ) from exc
        self.outcome.steps += 1

    def _in(self, cwd: Path, action: Callable[[], Any]) -> Any:
        here = os.getcwd()
        os.chdir(cwd)
        try:
            return action()
        finally:
            os.chdir(here)

    def _run_ingest(self, cwd: Path, prune: bool, replace: bool, label: str) -> None:
        targets = self._targets()
        given = self._as_given(targets, cwd)
        self.log.append(
            f"{label} from {cwd.relative_to(self.root) or '.'}: {[str(g) for g in given]}"
            f"{' --prune' if prune else ''}{' --replace' if replace else ''}"
        )
        expected = self.expect_ingest(targets, prune, replace)
        self._in(
            cwd,
            lambda: pipeline.ingest(
                given, self.settings, prune=prune, replace=replace, embedder=self.embedder
            ),
        )
        self.model = expected
        self.needs_writer = False
        self.check(strict=True)

    def _ingest(self, cwd: Path) -> None:
        self._run_ingest(cwd, self.rng.random() < 0.2, self.rng.random() < 0.2, "ingest")

    def _update(self, cwd: Path) -> None:
        for _ in range(self.rng.randint(1, 3)):
            self.log.append(self.mutate())
        self._run_ingest(cwd, False, self.rng.random() < 0.2, "update")

    def _prune(self, cwd: Path) -> None:
        if self.rng.random() < 0.6:
            self.log.append(self.mutate())
        self._run_ingest(cwd, True, False, "prune")

    def _remove(self, cwd: Path) -> None:
        docs = self.rng.sample(STEMS, k=self.rng.randint(1, 2))
        self.log.append(f"remove {docs}")
        self._in(cwd, lambda: pipeline.remove(docs, self.settings, embedder=self.embedder))
        self.model = {d: w for d, w in self.model.items() if d not in docs}
        self.check(strict=True)

    def _rebuild(self, cwd: Path) -> None:
        self.log.append("rebuild")
        self._in(cwd, lambda: pipeline.rebuild(self.settings, embedder=self.embedder))
        self.check(strict=True)

    def _damage(self, cwd: Path) -> None:
        """Chroma's folder deleted or its database overwritten: readers must say so, and
        the next writer must rebuild it from the record."""
        chroma = self.index / "chroma"
        how = self.rng.choice(["delete", "overwrite"])
        self.log.append(f"damage chroma: {how}")
        Location(chroma).forget()  # as a new process would find it
        if how == "delete":
            shutil.rmtree(chroma, ignore_errors=True)
        else:
            db = chroma / "chroma.sqlite3"
            if db.exists():
                data = bytearray(db.read_bytes())
                for at in range(100, len(data), 4096):
                    data[at : at + 64] = b"\xff" * 64
                db.write_bytes(bytes(data))
        if self.model:
            with Index(self.index, self.embedder) as index:
                problem = index.check_store()
            if how == "delete":
                assert problem, "a deleted Chroma was not noticed by a reader"
        Location(chroma).forget()
        self.outcome.damages += 1
        self.needs_writer = True

    def _kill(self, cwd: Path) -> None:
        """A real writer process, killed with SIGKILL after a random number of commits."""
        for _ in range(self.rng.randint(2, 4)):
            self.log.append(self.mutate())
        # Mostly the whole folder, so the writer has several reports to change.
        targets = [self.files_root] if self.rng.random() < 0.7 else self._targets()
        prune, replace = self.rng.random() < 0.3, self.rng.random() < 0.2
        given = self._as_given(targets, cwd)
        before = dict(self.model)
        after = self.expect_ingest(targets, prune, replace)
        for want in after.values():  # fresh builds now, while the files are as ingested
            self._fresh(want)
        # Killed after 1-3 commits (and a moment more: mid-way through the next report),
        # or, without waiting for a commit, while it starts, repairs or parses.
        changes = sum(1 for d in set(before) | set(after) if before.get(d) != after.get(d))
        commits = self.rng.randint(1, min(3, changes)) if changes and self.rng.random() < 0.8 else 0
        delay = self.rng.choice([0.0, 0.002, 0.01, 0.05])
        if not commits:
            delay = self.rng.uniform(0.5, 3.0)
        start = _version(self.index)
        proc = subprocess.Popen(
            [sys.executable, str(WORKER), str(self.index), str(int(prune)), str(int(replace))]
            + [str(g) for g in given],
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while (
            _version(self.index) < start + commits
            and proc.poll() is None
            and time.monotonic() < deadline
        ):
            time.sleep(0.002)
        time.sleep(delay)
        killed = proc.poll() is None
        if killed:
            os.kill(proc.pid, signal.SIGKILL)
            self.outcome.kills += 1
            if _version(self.index) > start:
                self.outcome.kills_mid_write += 1
        proc.wait()
        self.log.append(
            f"kill -9 writer from {cwd.relative_to(self.root) or '.'} after {commits} commits "
            f"+{delay}s: {[str(g) for g in given]}{' --prune' if prune else ''}"
            f"{' --replace' if replace else ''} ({'killed' if killed else 'had finished'})"
        )
        Location(self.index / "chroma").forget()  # another process wrote it
        # Each report is whole: as before the writer, or as the finished writer leaves it.
        with Index(self.index, self.embedder) as index:
            damaged = bool(index.check_store())
        actual, _ = snapshot(self.index, self.embedder, chroma=not damaged)
        chosen: dict[str, Want] = {}
        for doc in set(before) | set(after) | set(actual):
            options = {w for w in (before.get(doc), after.get(doc))}
            got = actual.get(doc)
            match = [w for w in options if _same(got, None if w is None else self._fresh(w))]
            if not match:
                raise self._difference(
                    f"after kill -9, report {doc} is neither as before nor as after the writer",
                    got,
                    [self._fresh(w) if w else None for w in options],
                )
            if match[0] is not None:
                chosen[doc] = match[0]
        self.model = chosen
        self.needs_writer = damaged
        if not damaged:
            self.check(strict=False)

    # -- checks ---------------------------------------------------------------------------
    def check(self, strict: bool) -> None:
        """The index equals a fresh build of the files the model says should be there.

        Strict (after a writer finished): also no vectors of other generations in Chroma,
        an empty journal, a keyword index of the record's version over its paragraphs, and
        a clean health check.
        """
        self._settle_fresh()
        actual, problems = snapshot(self.index, self.embedder, strict=strict)
        if problems:
            raise self._difference("; ".join(problems), None, None)
        for doc in set(actual) | set(self.model):
            want = self.model.get(doc)
            expected = self._fresh(want) if want else None
            if not _same(actual.get(doc), expected):
                raise self._difference(f"report {doc} differs", actual.get(doc), expected)

    def _difference(self, what: str, got: Any, expected: Any) -> Difference:
        history = "\n  ".join(self.log[-12:])
        return Difference(
            f"seed {self.seed}, step {self.outcome.steps}: {what}\n"
            f"last steps:\n  {history}\ngot:      {got!r:.1500}\nexpected: {expected!r:.1500}"
        )


def _same(a: Snap | None, b: Snap | None) -> bool:
    if a is None or b is None:
        return a is b
    if len(a) == 4 and len(b) == 4 and (a[3] is None or b[3] is None):
        return a[:3] == b[:3]  # Chroma unreadable (after a kill): the record alone
    return a == b


def _version(index: Path) -> int:
    try:
        with sqlite3.connect(index / "record.sqlite", timeout=1) as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
        return int(row[0]) if row else 0
    except sqlite3.Error:
        return 0


def snapshot(
    folder: Path, embedder: Any, *, strict: bool = False, chroma: bool = True
) -> tuple[dict[str, Snap], list[str]]:
    """Each report as the index holds it, without what a build may number differently
    (generations, times), and what is wrong with the index as a whole."""
    problems: list[str] = []
    with Index(folder, embedder) as index:
        record = index.record
        gens = record.generations()
        reports = {r.report.doc: r for r in record.reports()}
        paragraphs: dict[str, list[Any]] = {}
        for p in record.paragraphs():
            paragraphs.setdefault(p.doc, []).append(
                (p.ordinal, p.label, p.kind, p.pages, p.section, p.text, p.start, p.end)
            )
        vectors: dict[str, list[Any]] = {}
        for v in record.vectors():
            vectors.setdefault(v.doc, []).append((v.ordinal, v.window, v.vector.tobytes()))
        held: dict[str, list[Any]] | None = None
        if chroma:
            held = {}
            got = index.store._open().get(include=["embeddings", "metadatas"])
            for vid, emb, meta in zip(got["ids"], got["embeddings"], got["metadatas"], strict=True):
                doc = str(meta["doc"])
                if gens.get(doc) != meta["gen"]:
                    if strict:
                        problems.append(f"Chroma holds {vid}, of no committed generation")
                    continue
                if vid != f"{doc}@{meta['gen']}#{meta['ordinal']}.{meta['window']}":
                    problems.append(f"vector id {vid} doesn't match its metadata")
                rest = tuple(sorted((k, v) for k, v in meta.items() if k != "gen"))
                held.setdefault(doc, []).append(
                    (
                        int(meta["ordinal"]),
                        int(meta["window"]),
                        emb.astype("float32").tobytes(),
                        rest,
                    )
                )
        if strict:
            if record.journal():
                problems.append(f"journal not settled: {record.journal()}")
            keywords = KeywordIndex(index.work_dir / "keyword")
            if keywords.stored_version() != record.version():
                problems.append(
                    f"keyword index of version {keywords.stored_version()}, "
                    f"the record is at {record.version()}"
                )
            else:
                keywords.load()
                keys = sorted(keywords._keys)
                if keys != sorted((p.doc, p.ordinal) for p in record.paragraphs()):
                    problems.append("the keyword index holds other paragraphs than the record")
            health = index.check_store()
            if health:
                problems.append(f"health check: {health}")
    snaps: dict[str, Snap] = {}
    for doc, item in reports.items():
        r = item.report
        head = (r.path, r.sha256, r.title, r.organisation, r.date, r.pages, item.paragraphs)
        snaps[doc] = (
            head,
            tuple(sorted(paragraphs.get(doc, []))),
            tuple(sorted(vectors.get(doc, []))),
            None if held is None else tuple(sorted(held.get(doc, []))),
        )
    if held is not None:
        for doc in set(held) - set(reports):
            problems.append(f"Chroma holds vectors of {doc}, which the record doesn't name")
    return snaps, problems


def run(root: Path, seed: int, steps: int, kill_every: int = 25) -> Outcome:
    """``steps`` random steps from an empty index; raises :class:`Difference` at the first
    step after which the index differs from a fresh build."""
    started = time.perf_counter()
    world = World(root, seed, kill_every)
    try:
        while world.outcome.steps < steps:
            world.step()
        world.check(strict=not world.needs_writer)
    finally:
        Location(world.index / "chroma").forget()
    world.outcome.seconds = time.perf_counter() - started
    return world.outcome
