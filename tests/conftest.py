from __future__ import annotations

import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest

from pcc_assistant.config import Settings

# The ONNX export `pcc ingest` makes goes to a cache folder of the test run, not the
# user's ~/.cache; subprocesses inherit it.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="pcc-test-cache-")

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
# ../shared beside the checkout; PCC_SHARED_DIR names another (a worktree elsewhere).
SHARED = Path(os.environ.get("PCC_SHARED_DIR") or ROOT.parent / "shared")
DURHAM = "durham-pcvc-performance-2020-03-12"
CAMBS = "cambridgeshire-victims-performance-2020-05-26"


def squash(text: str) -> str:
    """Text compared as the eval format compares it: NFKC, no whitespace, case-folded."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).casefold()


def shared_txt(doc: str) -> Path:
    path = SHARED / "corpus" / f"{doc}.txt"
    if not path.is_file():
        pytest.skip(f"{path} is absent: the .txt versions live in ../shared/corpus")
    return path


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(index_dir=tmp_path / "index")


@pytest.fixture(scope="session")
def embedder():  # type: ignore[no-untyped-def]
    """What pcc embeds with by default (the fp32 model through onnxruntime), exported once
    (fp32 and int8) into this run's cache, where subprocesses find it too."""
    from pcc_assistant import pipeline

    return pipeline.make_embedder(Settings())


@pytest.fixture(scope="session")
def torch_embedder():  # type: ignore[no-untyped-def]
    """The same model through sentence-transformers and torch: the reference vectors."""
    from pcc_assistant.index.embedder import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


@pytest.fixture(scope="session")
def ingested(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[Settings]:  # type: ignore[no-untyped-def]
    """The sample corpus ingested once into an index shared by read-only tests."""
    from pcc_assistant import pipeline

    folder = tmp_path_factory.mktemp("shared-index")
    corpus = folder / "corpus"
    shutil.copytree(CORPUS, corpus)
    settings = Settings(index_dir=folder / "index")
    result = pipeline.ingest([corpus], settings, embedder=embedder)
    assert not result.failed, result.failed
    yield settings
