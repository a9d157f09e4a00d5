"""Encoders compared in one run: torch with its default threads (as shipped) and with one
thread, and, when onnxruntime is installed, ONNX Runtime float32 and int8 (bench/onnx_query.py).
Query latency is measured one question at a time with the encoders' order rotated per
question (fair under load); passages/s in length-sorted batches of 32, batches interleaved;
recall on the evaluation set with each query encoder over the same (torch-embedded) index."""
from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np

from bench.common import stats_ms, torch_threads

BATCH = 32


class _Torch:
    """The shipped encoder, run with a given number of torch threads."""

    def __init__(self, base, threads: int | None):
        self.base, self.threads = base, threads
        self.name, self.dim, self.spec = base.name, base.dim, getattr(base, "spec", None)

    def encode_queries(self, texts):
        with torch_threads(self.threads):
            return self.base.encode_queries(texts)

    def encode_passages(self, texts, progress=None):
        with torch_threads(self.threads):
            return self.base.encode_passages(texts, progress)


def encoders(base, cache_dir: Path | None, log) -> tuple[dict, dict]:
    """name -> encoder; and information on the ONNX export (or why there is none)."""
    import torch

    from indexer.encoders import st

    default = torch.get_num_threads()  # after loading: the encoder's query thread count
    q_threads = getattr(st, "QUERY_THREADS", default)
    b_threads = getattr(st, "BUILD_THREADS", default)
    shipped = f"torch (as shipped: {q_threads} thread{'s' if q_threads != 1 else ''} per query, {b_threads} for passages)"
    other = 2 if q_threads == 1 else 1
    out = {shipped: _Torch(base, None), f"torch, {other} thread{'s' if other != 1 else ''} per query": _Torch(base, other)}
    info: dict = {"torch_default_threads": default, "query_threads": q_threads, "build_threads": b_threads}
    from bench import onnx_query

    why = onnx_query.available() if cache_dir is not None else "not run in this mode"
    if why:
        info["onnx"] = {"available": False, "why": why}
        return out, info
    import onnxruntime

    log("encoders: ONNX export and int8 quantisation (once, cached)")
    info["onnx"] = {"available": True, "onnxruntime": onnxruntime.__version__, **onnx_query.export(Path(base.path), cache_dir)}
    out["onnxruntime fp32, 1 thread"] = onnx_query.OrtQueryEncoder(base, cache_dir / "model.onnx", 1)
    out["onnxruntime fp32, 2 threads"] = onnx_query.OrtQueryEncoder(base, cache_dir / "model.onnx", 2)
    out["onnxruntime int8, 1 thread"] = onnx_query.OrtQueryEncoder(base, cache_dir / "model-int8.onnx", 1)
    out["onnxruntime int8, 2 threads"] = onnx_query.OrtQueryEncoder(base, cache_dir / "model-int8.onnx", 2)
    return out, info


def _passages(enc, texts: list[str]) -> np.ndarray:
    if hasattr(enc, "encode_passages_ort"):
        return enc.encode_passages_ort(texts)
    return enc.encode_passages(texts)


def compare(base, index_dir: Path, questions, passage_texts: list[str], cache_dir: Path | None, log,
            eval_questions=None) -> dict:  # fmt: skip
    """Latency over `questions`, passages/s over `passage_texts`, recall over `eval_questions`
    (skipped when None). The torch rows give identical vectors, so recall is evaluated once
    for torch (as shipped), and once per ONNX model."""
    from retrieval.evaluate import evaluate
    from retrieval.retriever import Retriever

    encs, info = encoders(base, cache_dir, log)
    names = list(encs)
    texts = [q.question for q in questions]
    for e in encs.values():
        e.encode_queries(texts[:2])
    log(f"encoders: query latency, {len(texts)} questions x {len(names)} encoders")
    secs: dict[str, list[float]] = {k: [] for k in names}
    vecs: dict[str, list[np.ndarray]] = {k: [] for k in names}
    for i, text in enumerate(texts):
        for name in names[i % len(names):] + names[: i % len(names)]:
            t = time.perf_counter()
            v = encs[name].encode_queries([text])[0]
            secs[name].append(time.perf_counter() - t)
            vecs[name].append(v)
    ref = np.vstack(vecs[names[0]])
    rows: dict = {}
    for name in names:
        cos = (np.vstack(vecs[name]) * ref).sum(axis=1)
        rows[name] = {"query": stats_ms(secs[name]), "cos_min": float(cos.min()), "cos_mean": float(cos.mean())}
    base_med = rows[names[0]]["query"]["median_ms"]
    for name in names:
        rows[name]["query_speedup"] = base_med / rows[name]["query"]["median_ms"]
    log(f"encoders: passages/s, {len(passage_texts)} passages")
    order = sorted(range(len(passage_texts)), key=lambda i: len(passage_texts[i]), reverse=True)
    batches = [[passage_texts[i] for i in order[s : s + BATCH]] for s in range(0, len(order), BATCH)]
    # passages: the shipped encoder sets its own build threads, so one torch row only
    pas = [n for n in names if "as shipped" in n or ("onnx" in n and "2 threads" in n)]
    spent = {n: 0.0 for n in pas}
    first: dict[str, np.ndarray] = {}
    for b, batch in enumerate(batches):
        for name in pas[b % len(pas):] + pas[: b % len(pas)]:
            t = time.perf_counter()
            v = _passages(encs[name], batch)
            spent[name] += time.perf_counter() - t
            if b == 0:
                first[name] = v
    for name in pas:
        rows[name]["passages_per_s"] = len(passage_texts) / spent[name]
        rows[name]["passage_cos_min"] = float((first[name] * first[pas[0]]).sum(axis=1).min())
    if eval_questions:
        for name in names:
            if ("2 threads" in name and "onnx" in name) or ("torch" in name and "as shipped" not in name):
                continue  # the same vectors as another row
            log(f"encoders: evaluation set with {name}")
            rep = evaluate(Retriever(index_dir, encoder=encs[name]), eval_questions, k=5, modes=("hybrid", "dense"), timed=True)
            rows[name]["eval"] = {m: {k: rep["metrics"][m]["all"][k] for k in ("recall@1", "recall@5", "mrr",
                                  "abstention_recall", "in_scope_answerable")} for m in ("hybrid", "dense")}  # fmt: skip
            rows[name]["eval_hybrid_ms_median"] = statistics.median(r["seconds"] * 1000 for r in rep["rows"] if r["mode"] == "hybrid")
    return {**info, "questions": len(texts), "passages": len(passage_texts), "encoders": rows,
            "eval_questions": len(eval_questions or [])}
