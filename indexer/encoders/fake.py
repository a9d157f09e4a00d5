"""A tiny deterministic encoder for tests: hashed character trigrams of lower-cased words.

Texts that share words get similar vectors, so retrieval tests behave sensibly, and the
result never depends on a model, the network or the machine.
"""
from __future__ import annotations

import hashlib
import re

import numpy as np

from indexer.encoders.protocol import ProgressFn

_WORD = re.compile(r"\w+", re.UNICODE)


class FakeEncoder:
    name = "fake-trigram-64"
    spec = "fake"  # what get_encoder() takes to make this encoder again
    dim = 64

    def _one(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for word in _WORD.findall(text.lower()):
            w = f"#{word}#"
            for i in range(max(1, len(w) - 2)):
                h = hashlib.blake2b(w[i : i + 3].encode(), digest_size=4).digest()
                v[int.from_bytes(h, "little") % self.dim] += 1.0
        n = np.linalg.norm(v)
        if n == 0:
            v[0] = 1.0
            return v
        return v / n

    def _many(self, texts: list[str], progress: ProgressFn | None = None) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            out[i] = self._one(t)
            if progress:
                progress(i + 1, len(texts))
        return out

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._many(texts)

    def encode_passages(self, texts: list[str], progress: ProgressFn | None = None) -> np.ndarray:
        return self._many(texts, progress)
