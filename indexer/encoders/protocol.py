"""The interface every encoder implements (Encoder) and the progress callback it takes, apart from
the package's get_encoder, which imports the implementations.

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
