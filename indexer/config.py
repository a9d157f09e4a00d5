"""Settings with their defaults; each can be set by an environment variable."""
from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO / "corpus"


def default_index_dir() -> Path:
    """BELEIDSWIJZER_INDEX, else `index/` in the repo (ignored by git)."""
    return Path(os.environ.get("BELEIDSWIJZER_INDEX") or REPO / "index")


def cache_dir() -> Path:
    """BELEIDSWIJZER_CACHE, else ~/.cache/beleidswijzer (the converted model lives here)."""
    return Path(os.environ.get("BELEIDSWIJZER_CACHE") or Path.home() / ".cache" / "beleidswijzer")
