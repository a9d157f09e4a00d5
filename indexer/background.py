"""General-domain background texts, embedded with each build: the retriever abstains when a
question is closer to one of them than to any passage of the corpus."""
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


def save_background(folder: Path, encoder: Encoder, previous: Path | None = None) -> None:
    """Write the background embeddings into a build folder, copied from the `previous` build
    when it embedded the same background file with the same model (no model call then)."""
    import json
    import shutil

    sha = background_sha()
    if previous is not None and (previous / "background.npy").is_file():
        try:
            same_text = (previous / "background.sha256").read_text().strip() == sha
            model = json.loads((previous / "manifest.json").read_text(encoding="utf-8")).get("model")
        except (OSError, ValueError):
            same_text, model = False, None
        if same_text and model == encoder.name:
            shutil.copyfile(previous / "background.npy", folder / "background.npy")
            (folder / "background.sha256").write_text(sha)
            return
    np.save(folder / "background.npy", encode_background(encoder))
    (folder / "background.sha256").write_text(sha)
