"""Sentence embeddings through raw onnxruntime and ``tokenizers``, without torch.

Why this exists: importing sentence-transformers (and with it torch) takes about 7 s, so a
command that embeds one question cannot answer in under 3 s. onnxruntime plus ``tokenizers``
load in about 0.2 s. The model is exported once from the same folder that
:class:`~pcc_assistant.index.embedder.SentenceTransformerEmbedder` reads, and
:class:`OnnxEmbedder` reproduces that embedder's vectors: BERT token vectors, mean pooling over
the attention mask, L2 normalisation, truncation at the folder's ``max_seq_length`` (counting
[CLS] and [SEP]).

Only :func:`export_onnx` needs torch and transformers, and imports them inside itself; nothing
else in this module may import them, or the speed this module exists for is lost.

Ingest embeds through this module too: batches of texts of similar length (little padding) run
on a pool of threads, one model call per thread at a time (see :meth:`OnnxEmbedder.embed_later`).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pcc_assistant.errors import PccError

if TYPE_CHECKING:
    from numpy.typing import NDArray

MODEL_FILE = "model.onnx"
INT8_MODEL_FILE = "model.int8.onnx"
TOKENIZER_FILE = "tokenizer.json"
STAMP_FILE = "export.json"
# Bumped whenever the export's layout or graph changes, so older exports count as stale.
# Format 2: the int8 model (recipe INT8_RECIPE) is always made beside the fp32 one.
EXPORT_FORMAT = 2
# Which MatMuls are quantised and how (see _quantize). Part of the int8 vectors' name, so an
# index built by another recipe is never mixed with this one's vectors.
INT8_RECIPE = "int8m1"
# The export folder's name ends with this, so exports of other formats (an older pcc's, in the
# same cache) live beside this one and neither is taken for the other.
EXPORT_TAG = f"f{EXPORT_FORMAT}-{INT8_RECIPE}"
# The int8 model is used only if, on CHECK_TEXTS, every vector is at least this close (cosine)
# to the fp32 one: a safety net for models other than the packaged one, whose recipe was
# checked on every paragraph of the sample and real PDFs (benchmarks/int8_check.py).
INT8_FLOOR = 0.99
DEFAULT_NAME = "all-MiniLM-L6-v2"
DEFAULT_DIM = 384
DEFAULT_MAX_TOKENS = 256
# Padded tokens per model call. Speed per token hardly changes with the batch on this model
# (measured 3.3-4.3k tokens/s per thread from 4 to 64 texts of 12-250 tokens); what costs is
# padding, which sorting by length keeps small, and a long call keeps a thread from others.
TOKEN_BUDGET = 2048
_OPSET = 17
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
# Files of the source folder whose change changes the vectors. Their sizes and mtimes go in
# the stamp: a stat is cheap enough to check on every start, a hash of 90 MB is not.
_SOURCE_FILES = (
    "model.safetensors",
    "pytorch_model.bin",
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.txt",
    "sentence_bert_config.json",
    "modules.json",
    "1_Pooling/config.json",
)


def _fingerprint(model_dir: Path) -> dict[str, list[int]]:
    """Size and mtime of each file of the model folder that shapes the vectors."""
    out: dict[str, list[int]] = {}
    for rel in _SOURCE_FILES:
        path = model_dir / rel
        if path.is_file():
            st = path.stat()
            out[rel] = [st.st_size, st.st_mtime_ns]
    return out


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def default_name(model_dir: Path) -> str:
    """The name SentenceTransformerEmbedder gives this folder's vectors when it is the default.

    The index names its Chroma collection after the embedder, so an index built through torch
    is only found again if this embedder reports the same name.
    """
    try:
        from pcc_assistant.index.embedder import packaged_model_path

        if model_dir.resolve() == packaged_model_path().resolve():
            return DEFAULT_NAME
    except PccError:
        pass
    return model_dir.name.replace(" ", "_")


def _check_pipeline(model_dir: Path) -> tuple[int, bool]:
    """(max_seq_length, do_lower_case) of a folder whose pipeline OnnxEmbedder reproduces.

    OnnxEmbedder hard-codes transformer → mean pooling → normalise. A folder that says
    otherwise (CLS pooling, no normalisation, an extra dense layer) would give different
    vectors, so it is refused here rather than silently mis-embedded later.
    """
    modules = json.loads((model_dir / "modules.json").read_text(encoding="utf-8"))
    kinds = [str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules]
    if kinds not in (["Transformer", "Pooling", "Normalize"], ["Transformer", "Pooling"]):
        raise PccError(f"{model_dir}: modules {kinds} are not transformer, pooling, normalize")
    pooling_dir = next(
        m.get("path", "") for m in modules if str(m.get("type", "")).endswith("Pooling")
    )
    pooling = _read_json(model_dir / pooling_dir / "config.json")
    modes = [k for k, v in pooling.items() if k.startswith("pooling_mode") and v]
    if modes != ["pooling_mode_mean_tokens"]:
        raise PccError(f"{model_dir}: pooling {modes} is not mean pooling")
    st_config = _read_json(model_dir / "sentence_bert_config.json")
    max_len = int(st_config.get("max_seq_length") or 0)
    if max_len <= 0:
        raise PccError(f"{model_dir}: sentence_bert_config.json gives no max_seq_length")
    return max_len, bool(st_config.get("do_lower_case", False))


def export_onnx(model_dir: Path, out_dir: Path, *, int8: bool = True) -> Path:
    """Export ``model_dir``'s transformer to ``out_dir/model.onnx``; return ``out_dir``.

    The graph maps (input_ids, attention_mask, token_type_ids) to last_hidden_state, with
    dynamic batch and sequence axes; pooling stays in numpy, where it is easy to check.
    tokenizer.json and a stamp (``export.json``: source folder, its files' sizes and mtimes,
    max_seq_length, name, dim) go beside it. With ``int8`` (the default), the int8 model
    ``model.int8.onnx`` of :func:`_quantize` is added, with its worst cosine to the fp32
    vectors on CHECK_TEXTS in the stamp (``int8_min_cosine``).

    Everything is written into a temporary folder next to ``out_dir`` and renamed into place,
    so a crash or a kill leaves either the old export or the new one, never half a model.

    torch and transformers are imported here only: this runs once per model, not per query.
    """
    model_dir = Path(model_dir)
    out_dir = Path(out_dir)
    if not model_dir.is_dir():
        raise PccError(f"embedding model folder {model_dir} does not exist")
    max_len, lower = _check_pipeline(model_dir)
    fingerprint = _fingerprint(model_dir)  # before reading, so a change mid-export shows

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("TQDM_DISABLE", "1")
    import warnings

    import torch
    import transformers

    transformers.logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    transformers.logging.disable_progress_bar()  # type: ignore[no-untyped-call]

    # Eager attention traces to plain MatMul/Softmax, which every onnxruntime runs and fuses;
    # the masked positions are explicit in the graph rather than left to an SDPA kernel.
    model = transformers.AutoModel.from_pretrained(str(model_dir), attn_implementation="eager")
    model.eval()
    dim = int(model.config.hidden_size)

    class _LastHidden(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return out.last_hidden_state

    # Two rows, one padded: the trace must see a mask with zeros in it, or a library that
    # skips an all-ones mask could bake "no mask" into the graph.
    ids = torch.tensor([[101, 7592, 2088, 102], [101, 7592, 102, 0]], dtype=torch.int64)
    mask = (ids != 0).to(torch.int64)
    types = torch.zeros_like(ids)
    dynamic = {0: "batch", 1: "sequence"}

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # tracer and deprecation chatter, not problems
            # The TorchScript exporter (dynamo=False) needs only the onnx package; the dynamo
            # exporter would also need onnxscript.
            torch.onnx.export(
                _LastHidden(model),
                (ids, mask, types),
                str(tmp / MODEL_FILE),
                input_names=list(_INPUTS),
                output_names=["last_hidden_state"],
                dynamic_axes={name: dynamic for name in (*_INPUTS, "last_hidden_state")},
                opset_version=_OPSET,
                do_constant_folding=True,
                dynamo=False,
            )
        shutil.copyfile(model_dir / TOKENIZER_FILE, tmp / TOKENIZER_FILE)
        stamp: dict[str, Any] = {
            "format": EXPORT_FORMAT,
            "source": str(model_dir.resolve()),
            "source_name": model_dir.name,
            "files": fingerprint,
            "name": default_name(model_dir),
            "dim": dim,
            "max_seq_length": max_len,
            "do_lower_case": lower,
            "model_size": (tmp / MODEL_FILE).stat().st_size,
            "int8_size": None,
            "int8_recipe": INT8_RECIPE if int8 else None,
            "int8_min_cosine": None,
            "torch": str(torch.__version__),
            "transformers": str(transformers.__version__),
        }
        (tmp / STAMP_FILE).write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")
        if int8:
            _quantize(tmp / MODEL_FILE, tmp / INT8_MODEL_FILE)
            stamp["int8_size"] = (tmp / INT8_MODEL_FILE).stat().st_size
            fp32 = OnnxEmbedder(tmp, threads=1).embed(list(CHECK_TEXTS))
            q8 = OnnxEmbedder(tmp, threads=1, int8=True).embed(list(CHECK_TEXTS))
            stamp["int8_min_cosine"] = round(float((fp32 * q8).sum(axis=1).min()), 5)
        (tmp / STAMP_FILE).write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")
        tmp.chmod(0o755)  # mkdtemp makes it private; the export is readable like the model
        _fsync_tree(tmp)  # on disk before the rename, or a power cut could still leave half
        _replace_dir(tmp, out_dir)
        _fsync_dir(out_dir.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


# Feed-forward MatMuls left in fp32, by layer: (intermediate, output) dense layers up to these.
_FP32_INTERMEDIATE_UPTO = 2
_FP32_OUTPUT_UPTO = 3
_FFN_NODE = re.compile(r"layer\.(\d+)/(intermediate|output)/dense/MatMul$")


def _fp32_nodes(src: Path) -> list[str]:
    """The MatMuls the int8 recipe leaves in fp32: the feed-forward ones of the first layers.

    Measured on all-MiniLM-L6-v2 by quantising one MatMul at a time (2,767 windows of the
    sample and real PDFs): nearly all of the int8 error comes from the feed-forward layers of
    the first four blocks, whose inputs have outliers that one per-tensor uint8 scale can't
    hold. With every weight MatMul in int8 the worst window's cosine to fp32 was 0.965; with
    these seven left in fp32 it is 0.992, at about 1.1x fp32's speed on AVX2 without VNNI
    (full int8: 1.25x).
    """
    import onnx

    graph = onnx.load(str(src), load_external_data=False).graph
    keep = []
    for node in graph.node:
        m = _FFN_NODE.search(node.name) if node.op_type == "MatMul" else None
        if m is None:
            continue
        layer, kind = int(m.group(1)), m.group(2)
        limit = _FP32_INTERMEDIATE_UPTO if kind == "intermediate" else _FP32_OUTPUT_UPTO
        if layer <= limit:
            keep.append(node.name)
    return keep


def _quantize(src: Path, dst: Path) -> None:
    """Write the int8 model (recipe INT8_RECIPE) of the fp32 ``src`` to ``dst``.

    Dynamic quantisation of the MatMuls whose second input is a weight (not the attention's
    activation-by-activation products, which lose accuracy and speed in int8): weights uint8,
    per channel (signed int8 saturates in the AVX2 kernel: cosines down to 0.90; 7-bit signed
    weights lose too much precision: 0.986 with the same MatMuls in fp32), except the
    feed-forward MatMuls of :func:`_fp32_nodes`.
    """
    import logging

    from onnxruntime.quantization import (  # type: ignore[import-untyped]
        QuantType,
        quantize_dynamic,
    )

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # "consider pre-processing" goes to the root logger
    try:
        quantize_dynamic(
            str(src),
            str(dst),
            weight_type=QuantType.QUInt8,
            per_channel=True,
            nodes_to_exclude=_fp32_nodes(src),
            extra_options={"MatMulConstBOnly": True},
        )
    finally:
        root.setLevel(level)


# Texts the int8 model is checked on at export (INT8_FLOOR): short and long, figures, tables.
CHECK_TEXTS = (
    "How many burglaries were recorded in Durham?",
    "Victim satisfaction: 78.4% (down 2.1 points)",
    "Crime type\tQ1\tQ2\tQ3\nBurglary\t120\t98\t110\nVehicle crime\t45\t51\t60",
    "Outcome 2 – Victims and the vulnerable feel supported > KPQ3: How well are victims "
    "supported to cope and recover?\n32. Durham Constabulary has a higher proportion of resolved "
    "outcomes – where a crime has been solved by the police – than is the case nationally.",
    "The Commissioner's Victims' Code compliance audit found 14 of 20 cases met all rights.",
    "999 calls answered within 10 seconds: 91%; 101 calls abandoned: 12.5%",
    "Annex A - New data releases 2012 to 2014 plus the Department's business plan indicators",
    " ".join(
        f"In quarter {i} the force recorded {i * 37} victim-based crimes, and the panel asked "
        "why satisfaction with follow-up contact fell."
        for i in range(1, 9)
    ),
)


def _fsync_tree(folder: Path) -> None:
    for path in folder.iterdir():
        with path.open("rb") as f:
            os.fsync(f.fileno())
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # some systems cannot open a folder; the rename is still atomic there
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _replace_dir(new: Path, target: Path) -> None:
    """Put the folder ``new`` at ``target``, moving any old export aside first.

    A directory rename cannot replace a non-empty directory, so the old one is renamed away
    and deleted after. In between, ``target`` is briefly absent: a reader then sees "no
    export", never a mixture of two.
    """
    for _ in range(5):
        try:
            new.rename(target)
            return
        except OSError:
            if not target.exists():
                raise
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            with contextlib.suppress(FileNotFoundError):  # another exporter moved it first
                target.rename(old / target.name)
            shutil.rmtree(old, ignore_errors=True)
    raise PccError(f"could not put the ONNX export in place at {target}")


def read_stamp(out_dir: Path) -> dict[str, Any]:
    """The export's stamp, or {} when there is none or it is unreadable."""
    return _read_json(Path(out_dir) / STAMP_FILE)


def onnx_ready(out_dir: Path, model_dir: Path, *, int8: bool = False) -> bool:
    """Whether ``out_dir`` holds a whole export of ``model_dir`` as the folder is now.

    Checks only stats (cheap enough for every start): the stamp's format, source folder and
    the sizes and mtimes of the folder's files, and that model.onnx (and with ``int8``,
    model.int8.onnx) is there at the recorded size, with tokenizer.json beside it. False
    means: run :func:`export_onnx` again.
    """
    out_dir = Path(out_dir)
    model_dir = Path(model_dir)
    stamp = read_stamp(out_dir)
    if stamp.get("format") != EXPORT_FORMAT or not model_dir.is_dir():
        return False
    if stamp.get("source") != str(model_dir.resolve()):
        return False
    if stamp.get("files") != _fingerprint(model_dir):
        return False
    wanted = {MODEL_FILE: stamp.get("model_size")}
    if int8:
        wanted[INT8_MODEL_FILE] = stamp.get("int8_size")
    for file, size in wanted.items():
        path = out_dir / file
        if size is None or not path.is_file() or path.stat().st_size != size:
            return False
    return (out_dir / TOKENIZER_FILE).is_file()


def int8_usable(out_dir: Path) -> bool:
    """Whether the export's int8 model passed its check against fp32 (INT8_FLOOR)."""
    stamp = read_stamp(out_dir)
    cosine = stamp.get("int8_min_cosine")
    return stamp.get("int8_recipe") == INT8_RECIPE and cosine is not None and cosine >= INT8_FLOOR


def default_threads() -> int:
    """Cores this process may use, capped: past 4, a 6-layer MiniLM gains little."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(4, cores))


class PendingVectors:
    """Vectors being computed on the embedder's threads; :meth:`result` waits for them."""

    def __init__(self, out: NDArray[np.float32], parts: list[Future[None]]) -> None:
        self._out = out
        self._parts = parts

    def done(self) -> bool:
        return all(f.done() for f in self._parts)

    def cancel(self) -> None:
        for part in self._parts:
            part.cancel()  # a batch already running finishes; the rest never start

    def result(self) -> NDArray[np.float32]:
        for part in self._parts:
            part.result()  # re-raises a batch's error here, in the caller
        return self._out


class OnnxEmbedder:
    """The Embedder protocol over an ONNX export: SentenceTransformerEmbedder's vectors, no torch.

    ``folder`` is what :func:`export_onnx` wrote. ``name`` and ``dim`` default to the packaged
    all-MiniLM-L6-v2's, as SentenceTransformerEmbedder's do, because the index names its
    collection after them before any model is loaded; :meth:`from_export` takes them from the
    stamp instead. The session and tokenizer load on first use, not at construction.

    ``threads`` model calls run at once, each on one core: the session runs single-threaded and
    batches are spread over a pool of that many threads. Measured on 2 cores shared with other
    work, this keeps its speed where a session with two intra-op threads, which wait for each
    other at every operator, lost a third or more when another process took a core.
    """

    def __init__(
        self,
        folder: Path | str,
        batch_size: int = 32,
        name: str | None = None,
        dim: int = DEFAULT_DIM,
        *,
        int8: bool = False,
        threads: int | None = None,
        max_tokens: int = DEFAULT_MAX_TOKENS,
    ) -> None:
        self.folder = Path(folder)
        self.batch_size = max(1, batch_size)
        # int8 vectors differ from fp32 ones (cosine ~0.99), so they get their own name and
        # hence their own collection: the two are never mixed in one index.
        base = name or DEFAULT_NAME
        self.name = f"{base}-{INT8_RECIPE}" if int8 else base
        self.dim = dim
        self.max_tokens = max_tokens
        self.int8 = int8
        self.threads = threads or default_threads()
        self._lock = threading.Lock()
        self._session: Any = None
        self._pool: ThreadPoolExecutor | None = None
        self._tokenizer: Any = None  # truncates at max_seq_length, adds [CLS]/[SEP]
        self._counter: Any = None  # does neither: counts as SentenceTransformerEmbedder does
        self._lower = False

    @classmethod
    def from_export(cls, folder: Path | str, batch_size: int = 32, **kwargs: Any) -> OnnxEmbedder:
        """An embedder whose name, dim and length limit come from the export's stamp."""
        stamp = read_stamp(Path(folder))
        if not stamp:
            raise PccError(f"{folder} holds no ONNX export: run the export first")
        return cls(
            folder,
            batch_size,
            str(stamp.get("name") or DEFAULT_NAME),
            int(stamp.get("dim") or DEFAULT_DIM),
            max_tokens=int(stamp.get("max_seq_length") or DEFAULT_MAX_TOKENS),
            **kwargs,
        )

    def _load_tokenizers(self) -> tuple[Any, Any]:
        """(tokenizer for embed, tokenizer for count_tokens); cheap, ~40 ms each."""
        with self._lock:
            if self._tokenizer is None:
                os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
                from tokenizers import Tokenizer

                stamp = read_stamp(self.folder)
                if not stamp:
                    raise PccError(f"{self.folder} holds no ONNX export: run the export first")
                if int(stamp.get("dim", self.dim)) != self.dim:
                    raise PccError(
                        f"{self.folder} makes {stamp['dim']}-d vectors, not {self.dim}-d"
                    )
                max_len = int(stamp.get("max_seq_length") or 0)
                if max_len <= 0:
                    raise PccError(f"{self.folder}/{STAMP_FILE} gives no max_seq_length")
                path = str(self.folder / TOKENIZER_FILE)
                # tokenizer.json carries settings of its own (for this model: truncation at
                # 128 and fixed padding to 128); the pipeline's are sentence-transformers',
                # so both are replaced. Padding is done per batch in embed().
                tokenizer = Tokenizer.from_file(path)
                tokenizer.no_padding()
                tokenizer.enable_truncation(max_length=max_len)
                counter = Tokenizer.from_file(path)
                counter.no_padding()
                counter.no_truncation()
                self._lower = bool(stamp.get("do_lower_case", False))
                self._counter = counter
                self._tokenizer = tokenizer
            return self._tokenizer, self._counter

    def _load_session(self) -> Any:
        with self._lock:
            if self._session is None:
                self._session = self._open_session()
            return self._session

    def _open_session(self) -> Any:
        import onnxruntime as ort  # type: ignore[import-untyped]

        model = self.folder / (INT8_MODEL_FILE if self.int8 else MODEL_FILE)
        if not model.is_file():
            raise PccError(f"{model} is missing: run the export (with int8 for the int8 model)")
        ort.set_default_logger_severity(3)  # errors only: no graph-optimisation warnings
        opts = ort.SessionOptions()
        # One core per call; parallelism comes from several calls at once (see the class).
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        # Every batch has a new shape; the arena would keep the largest ever seen, for good.
        opts.enable_cpu_mem_arena = False
        return ort.InferenceSession(str(model), opts, providers=["CPUExecutionProvider"])

    def warm(self) -> None:
        """Load the tokenizer and the model now (about 0.3 s) rather than at first use."""
        self._load_tokenizers()
        self._load_session()

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="pcc-embed")
            return self._pool

    def close(self) -> None:
        """Stop the embedding threads (they are idle between calls; this is tidiness)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)

    def embed(self, texts: list[str]) -> NDArray[np.float32]:
        """L2-normalised mean-pooled vectors, one row per text, in the order given."""
        if len(texts) > self.batch_size:
            return self.embed_later(texts).result()
        out, encodings, batches = self._prepare(texts)
        for rows in batches:  # a question, or a few texts: here, without the pool
            _run(self._load_session(), [encodings[i] for i in rows], rows, out)
        return out

    def _prepare(
        self, texts: Sequence[str]
    ) -> tuple[NDArray[np.float32], list[Any], list[list[int]]]:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out, [], []
        tokenizer, _ = self._load_tokenizers()
        items = [t.lower() for t in texts] if self._lower else list(texts)
        encodings = tokenizer.encode_batch(items)
        return out, encodings, _batches([len(e.ids) for e in encodings], self.batch_size)

    def embed_later(self, texts: Sequence[str]) -> PendingVectors:
        """Start embedding ``texts`` on the embedder's threads and return at once.

        Texts are tokenised here, sorted by length and cut into batches of at most
        ``batch_size`` texts and TOKEN_BUDGET padded tokens, so a batch holds little padding.
        Batches run in the order given across calls: an ingest hands over the next document
        before waiting for this one, and no thread idles between documents.
        """
        out, encodings, batches = self._prepare(texts)
        if not batches:
            return PendingVectors(out, [])
        session = self._load_session()
        pool = self._executor()
        parts = [
            pool.submit(_run, session, [encodings[i] for i in rows], rows, out) for rows in batches
        ]
        return PendingVectors(out, parts)

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Tokens per text as SentenceTransformerEmbedder counts them.

        That is without [CLS]/[SEP] and without truncation: windows use the count to decide
        where to cut a text that the model would otherwise read only in part.
        """
        if not texts:
            return []
        # No lower-casing here even for a do_lower_case model: the torch embedder counts
        # with its tokenizer alone, which does not apply that setting either.
        _, counter = self._load_tokenizers()
        encodings = counter.encode_batch(texts, add_special_tokens=False)
        return [len(e.ids) for e in encodings]


def _batches(lengths: list[int], most: int) -> list[list[int]]:
    """Indexes of ``lengths`` sorted longest first, cut into batches of at most ``most``
    texts and TOKEN_BUDGET tokens once padded to the batch's longest."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        width = lengths[current[0]] if current else lengths[i]
        if current and (len(current) >= most or (len(current) + 1) * width > TOKEN_BUDGET):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


def _run(session: Any, batch: list[Any], rows: list[int], out: NDArray[np.float32]) -> None:
    """One model call: ``batch`` (encodings) padded to its longest, pooled into ``out[rows]``."""
    width = max(len(e.ids) for e in batch)
    feed = {name: np.zeros((len(batch), width), dtype=np.int64) for name in _INPUTS}
    for r, enc in enumerate(batch):
        n = len(enc.ids)
        feed["input_ids"][r, :n] = enc.ids
        feed["attention_mask"][r, :n] = enc.attention_mask
        feed["token_type_ids"][r, :n] = enc.type_ids
    hidden = session.run(["last_hidden_state"], feed)[0]
    out[rows] = _mean_normalise(hidden, feed["attention_mask"])


def _mean_normalise(hidden: NDArray[np.float32], mask: NDArray[np.int64]) -> NDArray[np.float32]:
    """sentence-transformers' mean pooling then F.normalize, in numpy."""
    weights = mask[:, :, None].astype(np.float32)
    summed = (hidden * weights).sum(axis=1)
    counts = np.maximum(weights.sum(axis=1), 1e-9)
    mean = summed / counts
    norms = np.maximum(np.linalg.norm(mean, axis=1, keepdims=True), 1e-12)
    vectors: NDArray[np.float32] = (mean / norms).astype(np.float32)
    return vectors
