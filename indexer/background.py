"""General-domain background texts, embedded with each build (indexer.store keeps them): the
retriever abstains when a question is closer to one of them than to any passage of the corpus."""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import yaml

from indexer.encoders import Encoder

BACKGROUND = Path(__file__).with_name("background.yaml")


def background_texts() -> list[str]:
    return list(yaml.safe_load(BACKGROUND.read_text(encoding="utf-8"))["texts"])


def background_sha() -> str:
    return hashlib.sha256(BACKGROUND.read_bytes()).hexdigest()


def encode_background(encoder: Encoder) -> np.ndarray:
    """Background texts embedded as queries (they are phrased as questions an officer might type)."""
    return encoder.encode_queries(background_texts()).astype(np.float32)


def background_vectors(encoder: Encoder, saved: np.ndarray | None = None) -> np.ndarray:
    """The background embeddings: `saved` (those of the build, when made from the same file),
    else the texts encoded now (about 30 short texts); none when the file is absent."""
    if saved is not None:
        return saved
    return encode_background(encoder) if BACKGROUND.is_file() else np.zeros((0, encoder.dim), np.float32)
