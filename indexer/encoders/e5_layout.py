"""The provisioned e5 model folder's layout: its file names and the ONNX graph's inputs, shared by
the module that writes the folder (e5_provision.py) and the encoder that reads it (ort.py)."""
from __future__ import annotations

import numpy as np

MARKER_FILE = "provenance.json"  # written last: its presence means the folder is complete
MAX_SEQ_LENGTH = 512  # tokens per text; longer texts are truncated

ONNX_FILE = "encoder.onnx"  # the transformer: inputs_embeds -> mean-pooled vectors
EMBEDDINGS_FILE = "word_embeddings.npy"  # its token-embedding table, read row by row at run time
ONNX_MARKER = "onnx_export.json"  # written last: the ONNX files are complete
ONNX_EXPORT_VERSION = 1  # bump when the graph's inputs or outputs change
ONNX_INPUTS = ("inputs_embeds", "attention_mask", "position_ids")


def position_ids(ids: np.ndarray, pad: int) -> np.ndarray:
    """XLM-R's position ids as transformers derives them from input_ids: pad+1, pad+2, ... over
    the tokens, `pad` on padding."""
    real = ids != pad
    return (np.cumsum(real, axis=1) * real + pad).astype(np.int64)
