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
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import threading
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
EXPORT_FORMAT = 1
DEFAULT_NAME = "all-MiniLM-L6-v2"
DEFAULT_DIM = 384
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


def _default_name(model_dir: Path) -> str:
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


def export_onnx(model_dir: Path, out_dir: Path, *, int8: bool = False) -> Path:
    """Export ``model_dir``'s transformer to ``out_dir/model.onnx``; return ``out_dir``.

    The graph maps (input_ids, attention_mask, token_type_ids) to last_hidden_state, with
    dynamic batch and sequence axes; pooling stays in numpy, where it is easy to check.
    tokenizer.json and a stamp (``export.json``: source folder, its files' sizes and mtimes,
    max_seq_length, name, dim) go beside it. With ``int8``, a dynamically quantised copy
    ``model.int8.onnx`` is added too (needs the ``onnx`` package, as the export does).

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
        if int8:
            _quantize(tmp / MODEL_FILE, tmp / INT8_MODEL_FILE)
        shutil.copyfile(model_dir / TOKENIZER_FILE, tmp / TOKENIZER_FILE)
        stamp = {
            "format": EXPORT_FORMAT,
            "source": str(model_dir.resolve()),
            "source_name": model_dir.name,
            "files": fingerprint,
            "name": _default_name(model_dir),
            "dim": dim,
            "max_seq_length": max_len,
            "do_lower_case": lower,
            "model_size": (tmp / MODEL_FILE).stat().st_size,
            "int8_size": (tmp / INT8_MODEL_FILE).stat().st_size if int8 else None,
            "torch": str(torch.__version__),
            "transformers": str(transformers.__version__),
        }
        (tmp / STAMP_FILE).write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")
        tmp.chmod(0o755)  # mkdtemp makes it private; the export is readable like the model
        _fsync_tree(tmp)  # on disk before the rename, or a power cut could still leave half
        _replace_dir(tmp, out_dir)
        _fsync_dir(out_dir.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def _quantize(src: Path, dst: Path) -> None:
    """Write an int8 dynamically quantised copy of ``src``: weights uint8, per channel.

    Measured on this model against the fp32 export, on CPUs with AVX2 but no VNNI: signed
    int8 weights (the default) gave cosines down to 0.90, an artefact of the U8S8 kernel's
    saturation; unsigned per-channel weights gave 0.97-1.00 (median 0.99). That is still
    short of fp32's agreement with torch, which is why int8 is opt-in.
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
        quantize_dynamic(str(src), str(dst), weight_type=QuantType.QUInt8, per_channel=True)
    finally:
        root.setLevel(level)


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


def _threads() -> int:
    """Cores this process may use, capped: past 4, a 6-layer MiniLM gains little."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(4, cores))


class OnnxEmbedder:
    """The Embedder protocol over an ONNX export: SentenceTransformerEmbedder's vectors, no torch.

    ``folder`` is what :func:`export_onnx` wrote. ``name`` and ``dim`` default to the packaged
    all-MiniLM-L6-v2's, as SentenceTransformerEmbedder's do, because the index names its
    collection after them before any model is loaded; :meth:`from_export` takes them from the
    stamp instead. The session and tokenizer load on first use, not at construction.
    """

    def __init__(
        self,
        folder: Path | str,
        batch_size: int = 8,
        name: str | None = None,
        dim: int = DEFAULT_DIM,
        *,
        int8: bool = False,
        threads: int | None = None,
    ) -> None:
        self.folder = Path(folder)
        self.batch_size = batch_size
        # int8 vectors differ from fp32 ones (cosine ~0.99), so they get their own name and
        # hence their own collection: the two are never mixed in one index.
        self.name = name or (DEFAULT_NAME + "-int8" if int8 else DEFAULT_NAME)
        self.dim = dim
        self.int8 = int8
        self.threads = threads or _threads()
        self._lock = threading.Lock()
        self._session: Any = None
        self._tokenizer: Any = None  # truncates at max_seq_length, adds [CLS]/[SEP]
        self._counter: Any = None  # does neither: counts as SentenceTransformerEmbedder does
        self._lower = False

    @classmethod
    def from_export(cls, folder: Path | str, batch_size: int = 8, **kwargs: Any) -> OnnxEmbedder:
        """An embedder whose name and dim come from the export's stamp."""
        stamp = read_stamp(Path(folder))
        if not stamp:
            raise PccError(f"{folder} holds no ONNX export: run the export first")
        name = str(stamp.get("name") or DEFAULT_NAME)
        if kwargs.get("int8"):
            name += "-int8"
        return cls(folder, batch_size, name, int(stamp.get("dim") or DEFAULT_DIM), **kwargs)

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
        opts.intra_op_num_threads = self.threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        # Every batch has a new shape; the arena would keep the largest ever seen, for good.
        opts.enable_cpu_mem_arena = False
        return ort.InferenceSession(str(model), opts, providers=["CPUExecutionProvider"])

    def embed(self, texts: list[str]) -> NDArray[np.float32]:
        """L2-normalised mean-pooled vectors, one row per text, in the order given.

        Texts are sorted by length and cut into batches of ``batch_size``, as
        sentence-transformers does, so a batch holds little padding.
        """
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        tokenizer, _ = self._load_tokenizers()
        session = self._load_session()
        if self._lower:
            texts = [t.lower() for t in texts]
        encodings = tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: -len(encodings[i].ids))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            batch = [encodings[i] for i in rows]
            width = max(len(e.ids) for e in batch)
            feed = {name: np.zeros((len(batch), width), dtype=np.int64) for name in _INPUTS}
            for r, enc in enumerate(batch):
                n = len(enc.ids)
                feed["input_ids"][r, :n] = enc.ids
                feed["attention_mask"][r, :n] = enc.attention_mask
                feed["token_type_ids"][r, :n] = enc.type_ids
            hidden = session.run(["last_hidden_state"], feed)[0]
            out[rows] = _mean_normalise(hidden, feed["attention_mask"])
        return out

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Tokens per text as SentenceTransformerEmbedder counts them.

        That is without [CLS]/[SEP] and without truncation: windows() uses the count to decide
        where to cut a text that the model would otherwise read only in part.
        """
        if not texts:
            return []
        # No lower-casing here even for a do_lower_case model: the torch embedder counts
        # with its tokenizer alone, which does not apply that setting either.
        _, counter = self._load_tokenizers()
        encodings = counter.encode_batch(texts, add_special_tokens=False)
        return [len(e.ids) for e in encodings]


def _mean_normalise(hidden: NDArray[np.float32], mask: NDArray[np.int64]) -> NDArray[np.float32]:
    """sentence-transformers' mean pooling then F.normalize, in numpy."""
    weights = mask[:, :, None].astype(np.float32)
    summed = (hidden * weights).sum(axis=1)
    counts = np.maximum(weights.sum(axis=1), 1e-9)
    mean = summed / counts
    norms = np.maximum(np.linalg.norm(mean, axis=1, keepdims=True), 1e-12)
    vectors: NDArray[np.float32] = (mean / norms).astype(np.float32)
    return vectors
