"""Random sequences of ingest, update, remove, prune, rebuild, a damaged Chroma and
kill -9 of a real writer, from random working folders, against the folder index: after
every step the index equals a fresh build of the files that should be there.

The tiny embedder is used (this is about the index's bookkeeping, not what is found);
the writers killed are real processes (tests/index_worker.py). ``benchmarks/
index_property.py`` runs more steps and seeds.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .index_model import run

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("seed", [1, 2])
def test_index_equals_a_fresh_build_after_every_step(tmp_path: Path, seed: int) -> None:
    outcome = run(tmp_path, seed, steps=100, kill_every=20)
    assert outcome.steps == 100
    assert outcome.kills >= 2, outcome  # some writers really were killed
    assert set(outcome.by_kind) >= {"ingest", "update", "remove", "prune", "rebuild"}
