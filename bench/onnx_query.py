"""Query encoding with ONNX Runtime (float32 and dynamic int8) against the torch encoder.

sentence-transformers' own ONNX / OpenVINO backends need optimum-onnx or optimum-intel, whose
current releases pin transformers < 4.58 / < 5.6 while this project pins transformers 5.24,
so they cannot be installed beside it. The same thing is done here with onnxruntime alone: the
provisioned model folder is exported with torch.onnx (no download), quantised with
onnxruntime.quantization.quantize_dynamic, and queries are tokenised with the folder's
tokenizer.json, mean-pooled and normalised as sentence-transformers does. Passages stay with
the torch encoder: only query encoding is compared. Skipped when onnxruntime is not installed.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np


UNAVAILABLE = (
    "sentence-transformers' ONNX backend needs optimum-onnx (0.1.0 pins transformers<4.58) and its OpenVINO "
    "backend optimum-intel (2.2.0 pins transformers<5.6); the project pins transformers 5.24, so neither installs "
    "beside it."
)


def available() -> str | None:
    """None when onnxruntime and onnx can be imported, else why not."""
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError as exc:
        return f"onnxruntime/onnx not installed ({exc}). {UNAVAILABLE}"
    return None


def export(model_dir: Path, out_dir: Path) -> dict:
    """model.onnx (float32) and model-int8.onnx in out_dir, made once from the local folder."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel

    out_dir.mkdir(parents=True, exist_ok=True)
    fp32, int8 = out_dir / "model.onnx", out_dir / "model-int8.onnx"
    info: dict = {"folder": str(out_dir)}
    if not fp32.is_file():
        t = time.perf_counter()
        base = AutoModel.from_pretrained(str(model_dir)).eval()

        class Hidden(torch.nn.Module):
            def __init__(self, m):
                super().__init__()
                self.m = m

            def forward(self, input_ids, attention_mask):
                return self.m(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

        ids = torch.tensor([[0, 1000, 2000, 3000, 4000, 5000, 2]])
        tmp = fp32.with_suffix(".tmp")
        torch.onnx.export(Hidden(base).eval(), (ids, torch.ones_like(ids)), str(tmp),
                          input_names=["input_ids", "attention_mask"], output_names=["last_hidden_state"],
                          dynamic_axes={n: {0: "batch", 1: "seq"} for n in ("input_ids", "attention_mask", "last_hidden_state")},
                          opset_version=17, dynamo=False)  # fmt: skip
        os.replace(tmp, fp32)
        info["export_s"] = time.perf_counter() - t
    if not int8.is_file():
        t = time.perf_counter()
        tmp = int8.with_suffix(".tmp")
        quantize_dynamic(str(fp32), str(tmp), weight_type=QuantType.QInt8, per_channel=True)
        os.replace(tmp, int8)
        info["quantise_s"] = time.perf_counter() - t
    info["fp32_mb"] = fp32.stat().st_size / 2**20
    info["int8_mb"] = int8.stat().st_size / 2**20
    return info


class OrtQueryEncoder:
    """Encoder protocol: queries through ONNX Runtime, passages through the torch encoder."""

    def __init__(self, base, onnx_path: Path, threads: int | None = None):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.base, self.name, self.dim = base, base.name, base.dim
        self.spec = getattr(base, "spec", None)
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads or (os.cpu_count() or 1)
        self.session = ort.InferenceSession(str(onnx_path), so, providers=["CPUExecutionProvider"])
        self.tok = Tokenizer.from_file(str(Path(base.path) / "tokenizer.json"))
        self.tok.enable_truncation(512)
        self.prefix = "query: " if getattr(base, "_query_prompt", None) else ""

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            ids = np.array([self.tok.encode(self.prefix + text).ids], dtype=np.int64)
            h = self.session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0]
            v = h[0].mean(axis=0)
            out[i] = v / max(float(np.linalg.norm(v)), 1e-12)
        return out

    def encode_passages(self, texts, progress=None):
        """Passages stay with the torch encoder: the index is built by it."""
        return self.base.encode_passages(texts, progress)

    def encode_passages_ort(self, texts: list[str]) -> np.ndarray:
        """One padded batch of passages through ONNX Runtime (for the passages/s comparison)."""
        prefix = "passage: " if getattr(self.base, "_passage_prompt", None) else ""
        encs = self.tok.encode_batch([prefix + t for t in texts])
        width = max(len(e.ids) for e in encs)
        ids = np.ones((len(encs), width), dtype=np.int64)  # pad id 1 (XLM-R)
        mask = np.zeros_like(ids)
        for i, e in enumerate(encs):
            ids[i, : len(e.ids)] = e.ids
            mask[i, : len(e.ids)] = 1
        h = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        v = (h * mask[:, :, None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
        return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)
