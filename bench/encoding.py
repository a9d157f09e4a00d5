"""The shipped encoder (ONNX Runtime fp32, indexer/encoders/ort.py) against the previous default,
torch (sentence-transformers on the same model folder), in one run; in the full run also the
rejected int8 candidate (encoder.onnx quantised with onnxruntime's quantize_dynamic, cached).

Query latency is measured one question at a time with the encoders' order rotated per question
(fair under load); passages/s in length-sorted chunks of 32, chunks interleaved, each encoder
encoding a chunk as its build does (the ONNX build sessions are created once, outside the
timing), and the shipped model also on the previous build setting (one session on the build's
threads, batches of 32), to give the ratio of the two in the same run; recall on the evaluation
set with each encoder for the questions, over the same index."""
from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Callable

import numpy as np

from bench.common import stats_ms

BATCH = 32
SHIPPED = "as shipped"  # in the shipped row's name
TORCH = "torch"  # the name of the baseline row starts with it
INT8 = "int8"  # in the rejected candidate's name
PREVIOUS = "previous build setting"  # in the name of the shipped model's former passage path

WHY_NOT_ST_BACKENDS = (
    "sentence-transformers' own ONNX / OpenVINO backends need optimum-onnx (0.1.0 pins transformers<4.58) or "
    "optimum-intel (2.2.0 pins transformers<5.6); the project pins transformers 5.24, so neither installs beside it."
)


def _threads(q: int, b: int) -> str:
    return f"{q} thread{'s' if q != 1 else ''} per query, {b} for passages"


def quantise_int8(folder: Path, cache_dir: Path) -> tuple[Path, dict]:
    """encoder.onnx quantised to int8 weights (per channel) in cache_dir, made once."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from indexer.encoders.e5_layout import ONNX_FILE

    cache_dir.mkdir(parents=True, exist_ok=True)
    fp32, int8 = folder / ONNX_FILE, cache_dir / "encoder-int8.onnx"
    info: dict = {"folder": str(cache_dir)}
    if not int8.is_file() or int8.stat().st_mtime < fp32.stat().st_mtime:
        t = time.perf_counter()
        tmp = int8.with_suffix(".tmp")
        quantize_dynamic(str(fp32), str(tmp), weight_type=QuantType.QInt8, per_channel=True)
        tmp.replace(int8)
        info["quantise_s"] = time.perf_counter() - t
    info["fp32_mb"] = fp32.stat().st_size / 2**20
    info["int8_mb"] = int8.stat().st_size / 2**20
    return int8, info


def encoders(shipped, int8_cache: Path | None, log) -> tuple[dict, dict]:
    """name -> encoder: the shipped one, torch on the same folder, and the int8 candidate when
    `int8_cache` is given; and information on them."""
    import onnxruntime

    from indexer.encoders import ort, st

    q, b = ort.QUERY_THREADS, ort.BUILD_THREADS
    info: dict = {"onnxruntime": onnxruntime.__version__, "query_threads": q, "build_threads": b,
                  "why_not_st_backends": WHY_NOT_ST_BACKENDS}  # fmt: skip
    log("encoders: loading the torch baseline")
    out = {
        f"onnxruntime fp32 ({SHIPPED}: {_threads(q, b)})": shipped,
        f"{TORCH} (previous default: {_threads(st.QUERY_THREADS, st.BUILD_THREADS)})": st.SentenceTransformerEncoder(
            shipped.path, name=shipped.name
        ).load(),
    }
    if int8_cache is not None:
        log("encoders: int8 quantisation of encoder.onnx (once, cached)")
        path, info["int8"] = quantise_int8(shipped.path, int8_cache)
        out[f"onnxruntime {INT8}, rejected ({_threads(q, b)})"] = ort.OrtE5Encoder(shipped.path, shipped.name, onnx_file=path).load()
    return out, info


def batch_encoder(enc) -> tuple[Callable[[list[str]], np.ndarray], Callable[[], None]]:
    """A chunk of passages encoded as the encoder's build does it (the ONNX encoder's sessions
    made once, here), and what releases them."""
    from indexer.encoders import ort

    if isinstance(enc, ort.OrtE5Encoder):
        pool = enc.load().passage_pool()
        return pool.encode, pool.close
    return enc.encode_passages, lambda: None


def previous_build_path(enc) -> Callable[[list[str]], np.ndarray]:
    """A chunk of passages as the ONNX encoder's build ran them before its passage pool: one
    session on BUILD_THREADS threads, the chunk as one batch (of BATCH)."""
    from indexer.encoders import ort

    session = enc.load()._session(ort.BUILD_THREADS)
    return lambda batch: enc._run(session, [enc._passage_prefix + t for t in batch])


def compare(encs: dict, info: dict, index_dir: Path, questions, passage_texts: list[str], log, eval_questions=None,
            passes: int = 1) -> dict:
    """Latency over `questions`, passages/s over `passage_texts` (the median of `passes` passes),
    recall over `eval_questions` (skipped when None), for the encoders of `encoders()` (the
    shipped one first)."""
    from retrieval.evaluate import evaluate
    from retrieval.retriever import Retriever

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
    log(f"encoders: passages/s, {len(passage_texts)} passages, {passes} pass(es)")
    from indexer.encoders import ort

    order = sorted(range(len(passage_texts)), key=lambda i: len(passage_texts[i]), reverse=True)
    batches = [[passage_texts[i] for i in order[s : s + BATCH]] for s in range(0, len(order), BATCH)]
    run, closers = {}, []
    for n in names:
        run[n], close = batch_encoder(encs[n])
        closers.append(close)
    previous = None
    if isinstance(encs[names[0]], ort.OrtE5Encoder):
        previous = f"onnxruntime fp32, {PREVIOUS} (one session on {ort.BUILD_THREADS} threads, batches of {BATCH})"
        run[previous] = previous_build_path(encs[names[0]])
    runs = list(run)
    spent = {n: [0.0] * passes for n in runs}
    vectors: dict[str, list[np.ndarray]] = {n: [] for n in runs}
    for p in range(passes):
        for b, batch in enumerate(batches):
            turn = p * len(batches) + b
            for name in runs[turn % len(runs):] + runs[: turn % len(runs)]:
                t = time.perf_counter()
                v = run[name](batch)
                spent[name][p] += time.perf_counter() - t
                if p == 0:
                    vectors[name].append(v)
    for close in closers:
        close()
    del run
    out = {n: np.vstack(v) for n, v in vectors.items()}
    for name in names:
        rows[name]["passages_per_s"] = len(passage_texts) / statistics.median(spent[name])
        rows[name]["passages_per_s_passes"] = [len(passage_texts) / s for s in spent[name]]
        rows[name]["passage_cos_min"] = float((out[name] * out[names[0]]).sum(axis=1).min())
    prev = None
    if previous:
        prev = {"name": previous, "passages_per_s": len(passage_texts) / statistics.median(spent[previous]),
                "passages_per_s_passes": [len(passage_texts) / s for s in spent[previous]],
                "shipped_speedup": statistics.median(a / b for a, b in zip(spent[previous], spent[names[0]])),
                "max_abs_diff": float(np.abs(out[previous] - out[names[0]]).max()), "passes": passes}  # fmt: skip
    if eval_questions:
        for name in names:
            log(f"encoders: evaluation set with {name}")
            rep = evaluate(Retriever(index_dir, encoder=encs[name]), eval_questions, k=5, modes=("hybrid", "dense"), timed=True)
            rows[name]["eval"] = {m: {k: rep["metrics"][m]["all"][k] for k in ("recall@1", "recall@5", "mrr",
                                  "abstention_recall", "in_scope_answerable")} for m in ("hybrid", "dense")}  # fmt: skip
            rows[name]["eval_hybrid_ms_median"] = statistics.median(r["seconds"] * 1000 for r in rep["rows"] if r["mode"] == "hybrid")
    return {**info, "questions": len(texts), "passages": len(passage_texts), "encoders": rows,
            "previous_build_setting": prev, "eval_questions": len(eval_questions or [])}
