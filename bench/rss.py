"""Peak memory of a serving process: `python -m bench.rss INDEX [QUESTION ...]` loads the index
and the default encoder (get_encoder with the index's model; BELEIDSWIJZER_ENCODER_BACKEND
chooses ONNX Runtime or torch) through a Retriever, answers the questions, and prints JSON
with the resident set size after each step and the peak (VmHWM). Run in its own process by bench."""
from __future__ import annotations

import json
import sys
import time


def _status(field: str) -> float:
    with open("/proc/self/status", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def rss_mb() -> float:
    return _status("VmRSS")


def peak_mb() -> float:
    """Peak RSS of this process image (VmHWM). Not ru_maxrss: after fork + exec, Linux keeps
    the parent's peak there, and the benchmark's parent holds gigabytes of vectors."""
    return _status("VmHWM")


class Steps(dict):
    """step -> (RSS now, peak so far) in MiB."""

    def mark(self, name: str) -> None:
        self[name] = rss_mb()
        self.peaks[name] = peak_mb()


def main(argv: list[str]) -> int:
    index, questions = argv[0], argv[1:]
    steps = Steps()
    steps.peaks = {}
    steps.mark("python")
    t = time.perf_counter()
    import numpy  # noqa: F401

    from retrieval.retriever import Retriever

    steps.mark("imports (retrieval, faiss, numpy)")
    r = Retriever(index)
    steps.mark("index loaded (Retriever)")
    load = getattr(r.encoder, "load", None)
    if load:
        load()
    steps.mark("model loaded")
    for q in questions:
        r.search(q, k=5)
    steps.mark("after queries")
    peak = peak_mb()
    print(json.dumps({"steps_mb": dict(steps), "peak_so_far_mb": steps.peaks, "torch_imported": "torch" in sys.modules,
                      "encoder": type(r.encoder).__name__, "peak_mb": peak, "passages": len(r.passages),
                      "dense_index": r.library.manifest.get("dense_index"), "seconds": time.perf_counter() - t}))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
