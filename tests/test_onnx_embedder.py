"""The ONNX embedder must be a drop-in for the torch one: same vectors, same counts, no torch;
its int8 model close to them.

The export is the test run's own (conftest's ``embedder`` makes it once, about 15 s); the
torch embedder is conftest's session one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from pcc_assistant import pipeline
from pcc_assistant.config import Settings
from pcc_assistant.errors import PccError
from pcc_assistant.index.embedder import (
    SentenceTransformerEmbedder,
    embedding_units,
    packaged_model_path,
)
from pcc_assistant.index.onnx_embedder import (
    INT8_FLOOR,
    INT8_MODEL_FILE,
    INT8_RECIPE,
    MODEL_FILE,
    STAMP_FILE,
    OnnxEmbedder,
    _fingerprint,
    _replace_dir,
    export_onnx,
    int8_usable,
    onnx_ready,
    read_stamp,
)
from pcc_assistant.types import Paragraph

if TYPE_CHECKING:
    from numpy.typing import NDArray

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent

LONG = " ".join(
    f"In quarter {i} the force recorded {i * 37} victim-based crimes, and the panel asked why "
    "satisfaction with follow-up contact fell."
    for i in range(1, 30)
)
TEXTS = [
    "How many burglaries were recorded in Durham?",
    "",
    " ",
    "£5,000 – ¶32 “quoted”",
    "Crime type\tQ1\tQ2\tQ3\nBurglary\t120\t98\t110\nVehicle crime\t45\t51\t60",
    LONG,  # about 740 tokens: only the first 256 (with [CLS]/[SEP]) count
    "Victim satisfaction: 78.4% (down 2.1 points)",
    "a",
    "THE PANEL NOTED THE REPORT.",
    "Résumé naïve café — ÉCOLE Zürich 東京 🚓",
    "Section 3.2 › Anti-social behaviour › Table 4",
    "The Commissioner's Victims' Code compliance audit found 14 of 20 cases met all rights.",
    "   leading and trailing spaces   ",
    "line one\nline two\r\nline three",
    "x" * 600,
    "999 calls answered within 10 seconds: 91%; 101 calls abandoned: 12.5%",
    "Durham Constabulary and the Office of the Police, Crime and Victims' Commissioner.",
    "Hate crime\t\t\t\t32",
    "\u00a0non-breaking\u00a0space and zero\u200bwidth",
    "What did the panel recommend about domestic abuse repeat victimisation rates?",
]


def _model_copy(dst: Path) -> Path:
    """The packaged model folder with its small files copied and its large ones symlinked.

    Tests change the small files' contents and mtimes; those must never reach the package.
    """
    src = packaged_model_path()
    for path in src.rglob("*"):
        if path.is_file():
            target = dst / path.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            if path.stat().st_size > 1_000_000:
                target.symlink_to(path)
            else:
                shutil.copy2(path, target)
    return dst


@pytest.fixture(scope="module")
def export(embedder: OnnxEmbedder) -> Path:
    """The run's export (fp32 and int8), made by conftest's embedder fixture."""
    folder = pipeline.onnx_folder(Settings())
    assert embedder.folder == folder
    return folder


@pytest.fixture(scope="module")
def vectors(export: Path) -> NDArray[np.float32]:
    """TEXTS through the fp32 export, once: embedding them takes seconds on a busy machine."""
    return OnnxEmbedder(export).embed(TEXTS)


def test_vectors_match_sentence_transformers(
    vectors: NDArray[np.float32], torch_embedder: SentenceTransformerEmbedder
) -> None:
    expected = torch_embedder.embed(TEXTS)
    got = vectors
    assert got.shape == (len(TEXTS), 384)
    assert got.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    cosines = (expected * got).sum(axis=1)
    for text, cos in zip(TEXTS, cosines, strict=True):
        assert cos > 0.9999, (text[:40], cos)


def test_batching_does_not_change_vectors(export: Path, vectors: NDArray[np.float32]) -> None:
    short = [t for t in TEXTS if len(t) < 200]  # different lengths, so padding in each batch
    small = OnnxEmbedder(export, batch_size=3).embed(short)
    emb = OnnxEmbedder(export)
    one_by_one = np.vstack([emb.embed([t]) for t in short[:5]])
    expected = vectors[[TEXTS.index(t) for t in short]]
    np.testing.assert_allclose(small, expected, atol=1e-5)
    np.testing.assert_allclose(one_by_one, expected[:5], atol=1e-5)


def test_threads_and_later_give_the_same_vectors_in_order(
    export: Path, vectors: NDArray[np.float32]
) -> None:
    """Batches spread over threads, two calls queued at once: each row is its own text's."""
    emb = OnnxEmbedder(export, batch_size=2, threads=3)
    first = emb.embed_later(TEXTS)
    second = emb.embed_later(list(reversed(TEXTS)))
    np.testing.assert_allclose(first.result(), vectors, atol=1e-5)
    np.testing.assert_allclose(second.result(), vectors[::-1], atol=1e-5)
    assert first.done() and second.done()
    assert emb.embed_later([]).result().shape == (0, 384)
    emb.close()


def test_long_text_is_cut_at_256_tokens(export: Path) -> None:
    """Text past the model's 256th token changes nothing, as in sentence-transformers."""
    emb = OnnxEmbedder(export)
    base, longer = emb.embed([LONG, LONG + " Completely different closing words about fish."])
    assert float(base @ longer) > 0.99999


def test_count_tokens_match(export: Path, torch_embedder: SentenceTransformerEmbedder) -> None:
    onnx = OnnxEmbedder.from_export(export)
    assert onnx.count_tokens(TEXTS) == torch_embedder.count_tokens(TEXTS)
    assert onnx.count_tokens([]) == []
    para = Paragraph("d", 0, "1", "paragraph", (1,), "Part A > Victims", LONG, 0, len(LONG))
    assert embedding_units(onnx, [para]) == embedding_units(torch_embedder, [para])
    assert onnx.max_tokens == torch_embedder.max_tokens == 256


def test_names_and_empty_input(export: Path) -> None:
    """The index names its collection after name and dim: they must match the torch ones."""
    emb = OnnxEmbedder.from_export(export)
    assert (emb.name, emb.dim) == (SentenceTransformerEmbedder().name, 384)
    assert OnnxEmbedder(export).name == emb.name
    assert OnnxEmbedder(export, int8=True).name == f"{emb.name}-{INT8_RECIPE}"
    assert emb.embed([]).shape == (0, 384)


def test_int8_is_close_but_not_the_same(export: Path, vectors: NDArray[np.float32]) -> None:
    int8 = OnnxEmbedder(export, int8=True).embed(TEXTS)
    cosines = (vectors * int8).sum(axis=1)
    # Text with no words in it ("", " ", 600 x's) is the int8 model's worst (0.983-0.99);
    # no report paragraph is like that.
    odd = [i for i, t in enumerate(TEXTS) if not t.strip() or set(t) == {"x"}]
    fair = np.delete(cosines, odd)
    assert fair.min() > INT8_FLOOR, cosines
    assert cosines.min() > 0.98, cosines
    assert cosines.min() < 0.9999  # quantised, not a copy of fp32
    assert (export / INT8_MODEL_FILE).stat().st_size < (export / MODEL_FILE).stat().st_size / 2
    # The export checked it too, and says so in the stamp.
    assert int8_usable(export)
    assert read_stamp(export)["int8_min_cosine"] >= INT8_FLOOR


def test_int8_of_every_sample_paragraph_is_close(ingested: Settings, export: Path) -> None:
    """On the sample reports (benchmarks/int8_check.py checks the real PDFs too, against
    torch): every unit's int8 vector within INT8_FLOOR of the fp32 one, which is torch's
    (test_vectors_match_sentence_transformers)."""
    from pcc_assistant.index.record import Record

    fp32 = OnnxEmbedder.from_export(export)
    record = Record(ingested.index_dir / "record.sqlite")
    paragraphs = record.paragraphs()
    record.close()
    texts = [
        t
        for doc in {p.doc for p in paragraphs}
        for _, _, t in embedding_units(fp32, [p for p in paragraphs if p.doc == doc])
    ]
    int8 = OnnxEmbedder.from_export(export, int8=True)
    cosines = (int8.embed(texts) * fp32.embed(texts)).sum(axis=1)
    assert len(texts) > 160
    assert cosines.min() >= INT8_FLOOR, sorted(cosines)[:5]


def test_embedding_imports_no_torch(export: Path) -> None:
    code = (
        "import sys\n"
        "from pcc_assistant.index.onnx_embedder import OnnxEmbedder\n"
        f"v = OnnxEmbedder({str(export)!r}).embed(['how many burglaries?'])\n"
        "assert v.shape == (1, 384), v.shape\n"
        "heavy = ('torch', 'transformers', 'sentence_transformers')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", done.stdout
    assert done.stderr == "", done.stderr  # no onnxruntime or tokenizers chatter


def test_an_export_of_another_format_is_not_read(export: Path, tmp_path: Path) -> None:
    """The folder is named after the export's format, int8 recipe and source folder, so an
    older pcc's export (format 1, its own folder) and this one's coexist, and neither is ready
    for the other."""
    assert f"-f2-{INT8_RECIPE}-" in export.name
    older = tmp_path / "export"
    shutil.copytree(export, older, copy_function=os.link)
    stamp = json.loads((older / STAMP_FILE).read_text(encoding="utf-8"))
    stamp["format"] = 1
    (older / STAMP_FILE).unlink()
    (older / STAMP_FILE).write_text(json.dumps(stamp), encoding="utf-8")
    assert not onnx_ready(older, packaged_model_path())
    assert onnx_ready(export, packaged_model_path(), int8=True)
    # Another installation of the same model (a second checkout's .venv): a folder of its own.
    other = pipeline.onnx_folder(Settings(embedding_model=str(_model_copy(tmp_path / "model"))))
    assert other.parent == export.parent and other.name != export.name


def test_onnx_ready_sees_a_stale_export(export: Path, tmp_path: Path) -> None:
    model = packaged_model_path()
    assert onnx_ready(export, model)
    assert onnx_ready(export, model, int8=True)
    assert not onnx_ready(export, tmp_path)  # another model folder
    assert not onnx_ready(tmp_path / "absent", model)

    # A copy of the model folder (small files copied, the weights linked), with the export's
    # stamp pointed at it: ready, until one of its files changes.
    source = _model_copy(tmp_path / "model")
    copy = tmp_path / "export"
    shutil.copytree(export, copy, copy_function=os.link)
    stamp_path = copy / STAMP_FILE
    stamp = json.loads(stamp_path.read_text(encoding="utf-8"))
    stamp.update(source=str(source.resolve()), files=_fingerprint(source))
    stamp_path.unlink()  # a hard link to the module's export: write a new file instead
    stamp_path.write_text(json.dumps(stamp), encoding="utf-8")
    assert onnx_ready(copy, source)

    st = (source / "config.json").stat()
    os.utime(source / "config.json", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert not onnx_ready(copy, source)

    stamp_path.write_text("{not json", encoding="utf-8")
    assert not onnx_ready(copy, source)


def test_onnx_ready_needs_the_whole_model(export: Path, tmp_path: Path) -> None:
    copy = tmp_path / "export"
    shutil.copytree(export, copy, copy_function=os.link)
    assert onnx_ready(copy, packaged_model_path(), int8=True)
    (copy / INT8_MODEL_FILE).unlink()
    assert not onnx_ready(copy, packaged_model_path(), int8=True)
    assert onnx_ready(copy, packaged_model_path())
    (copy / MODEL_FILE).unlink()
    (copy / MODEL_FILE).write_bytes(b"truncated")
    assert not onnx_ready(copy, packaged_model_path())


def test_export_refuses_a_pipeline_it_cannot_reproduce(tmp_path: Path) -> None:
    """A CLS-pooling model would export fine and then give the wrong vectors: refuse it."""
    source = _model_copy(tmp_path / "cls-model")
    pooling = source / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text(encoding="utf-8"))
    config.update(pooling_mode_cls_token=True, pooling_mode_mean_tokens=False)
    pooling.write_text(json.dumps(config), encoding="utf-8")
    out = tmp_path / "out"
    with pytest.raises(PccError, match="mean pooling"):
        export_onnx(source, out)
    with pytest.raises(PccError, match="does not exist"):
        export_onnx(tmp_path / "absent", out)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [source]  # no temporary folder left behind


def test_replace_dir_swaps_whole_folders(tmp_path: Path) -> None:
    target = tmp_path / "export"
    target.mkdir()
    (target / "old.txt").write_text("old", encoding="utf-8")
    new = tmp_path / ".export.tmp-1"
    new.mkdir()
    (new / "new.txt").write_text("new", encoding="utf-8")
    _replace_dir(new, target)
    assert [p.name for p in target.iterdir()] == ["new.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["export"]


def test_missing_export_is_a_user_error(tmp_path: Path) -> None:
    emb = OnnxEmbedder(tmp_path)  # constructing touches nothing
    with pytest.raises(PccError, match="no ONNX export"):
        emb.embed(["x"])
    with pytest.raises(PccError, match="no ONNX export"):
        OnnxEmbedder.from_export(tmp_path)


def test_an_int8_model_that_failed_its_check_is_not_used(export: Path, tmp_path: Path) -> None:
    """Asked for int8 whose export check failed: fp32 vectors, and a reason to show."""
    settings = Settings(cache_dir=tmp_path / "cache", embed_int8=True)
    folder = pipeline.onnx_folder(settings)
    folder.parent.mkdir(parents=True)
    shutil.copytree(export, folder, copy_function=os.link)
    assert pipeline.make_embedder(settings, prepare=False).name.endswith(INT8_RECIPE)
    assert pipeline.int8_refused(settings) == ""
    stamp = json.loads((folder / STAMP_FILE).read_text(encoding="utf-8"))
    stamp["int8_min_cosine"] = 0.9
    (folder / STAMP_FILE).unlink()
    (folder / STAMP_FILE).write_text(json.dumps(stamp), encoding="utf-8")
    assert not int8_usable(folder)
    assert (
        pipeline.make_embedder(settings, prepare=False).name == SentenceTransformerEmbedder().name
    )
    assert "0.9, under 0.99; embedding with fp32" in pipeline.int8_refused(settings)
    assert pipeline.int8_refused(settings.model_copy(update={"embed_int8": False})) == ""
