"""python -m bench [--quick | --smoke] [--out DIR]: run the benchmark, write BENCHMARKS.md and
results.json (full run: the repo root and bench/results.json; other modes: a temp folder
unless --out is given)."""
from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true", help="small sizes, fewer repetitions, no 1M (< 3 min)")
    g.add_argument("--smoke", action="store_true", help="fake encoder, tiny sizes (< 60 s): checks the benchmark runs")
    ap.add_argument("--out", type=Path, default=None, help="folder for BENCHMARKS.md and results.json")
    ap.add_argument("--keep", action="store_true", help="keep the temporary work folder (indexes, PDF)")
    ap.add_argument("--render", type=Path, default=None, metavar="JSON",
                    help="only write the report again from a results file (next to it, or to --out)")
    args = ap.parse_args(argv)
    if args.render:
        from bench.report import render

        results = json.loads(args.render.read_text(encoding="utf-8"))
        out = (args.out or (REPO if args.render.resolve() == (REPO / "bench" / "results.json").resolve() else args.render.parent))
        (out / "BENCHMARKS.md").write_text(render(results), encoding="utf-8")
        print(f"wrote {out / 'BENCHMARKS.md'}")
        return 0
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if args.out:
        md_path, json_path = args.out / "BENCHMARKS.md", args.out / "results.json"
    elif mode == "full":
        md_path, json_path = REPO / "BENCHMARKS.md", REPO / "bench" / "results.json"
    else:
        folder = Path(tempfile.gettempdir()) / f"beleidswijzer-bench-{mode}"
        md_path, json_path = folder / "BENCHMARKS.md", folder / "results.json"
    md_path.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"bench-{mode}-"))
    try:
        results = run(mode, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    from bench.report import render

    json_path.write_text(json.dumps(results, indent=1, ensure_ascii=False, default=str), encoding="utf-8")
    md_path.write_text(render(results), encoding="utf-8")
    print(f"\nwrote {md_path} and {json_path} ({results['seconds']:.0f} s)")
    return 0


def run(mode: str, work: Path) -> dict:
    from bench import ingest, query, scale, synth
    from bench.common import PLANS, machine

    plan = PLANS[mode]
    t_start = time.perf_counter()

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - t_start:6.1f} s] {msg}", file=sys.stderr, flush=True)

    res: dict = {"mode": mode, "plan": asdict(plan), "command": "python -m bench" + ("" if mode == "full" else f" --{mode}")}
    res["machine"] = machine(load_model_libs=plan.model != "fake")
    m = res["machine"]
    log(f"{m['cpu']}, {m['cores_logical']} cores, {m['memory_gib']} GiB, load {m['load_average_at_start']}; "
        + ", ".join(f"{k} {v}" for k, v in m["versions"].items() if v))  # fmt: skip

    from indexer.encoders import get_encoder
    from retrieval.evaluate import DEFAULT_QUESTIONS, load_questions
    from retrieval.retriever import Retriever

    t = time.perf_counter()
    encoder = get_encoder(plan.model)
    if hasattr(encoder, "load"):
        encoder.load()
    encoder.encode_queries(["warm-up"])
    res["model"] = {"spec": plan.model, "name": encoder.name, "dim": encoder.dim, "load_s": time.perf_counter() - t}
    log(f"model {encoder.name} loaded in {res['model']['load_s']:.1f} s")

    # ---- ingest
    log("ingest: PDF parsing")
    res["pdf"] = ingest.pdf_parsing(plan, work)
    log("ingest: builds")
    res["build"] = ingest.builds(plan, encoder, work)
    index_real = Path(res["build"]["index_dir"])
    res["build"]["write_breakdown"] = ingest.write_breakdown(index_real, encoder)
    material = synth.material_from_index(index_real)
    if plan.mode == "full":
        log("ingest: length-sorted batches")
        res["length_sort"] = ingest.length_sorting(encoder, [p.text for p in material.passages])

    # ---- warm queries on the real corpus
    all_questions = load_questions(DEFAULT_QUESTIONS)  # the tuning set of eval/sets.yaml
    questions = all_questions[: plan.questions] if plan.questions else all_questions
    texts = [q.question for q in questions]
    retriever = Retriever(index_real, encoder=encoder)
    log(f"queries: real corpus ({len(material.passages)} passages), {len(texts)} questions")
    res["queries"] = {"real": {"n": len(material.passages),
                               **query.warm_queries(retriever, texts, plan.query_passes, extra=0 if mode == "quick" else plan.extra_questions)}}  # fmt: skip
    del retriever

    # ---- encoders: the shipped ONNX Runtime encoder against torch (and the rejected int8)
    alternatives: dict = {}
    if plan.model != "fake":
        from bench import encoding
        from indexer.encoders.e5_provision import cache_root

        ptexts = [p.text for p in material.passages]
        ptexts = ptexts[: plan.encode_passages] if plan.encode_passages else ptexts
        encs, info = encoding.encoders(encoder, cache_root() / "bench-onnx" if plan.int8 else None, log)
        res["encoders"] = encoding.compare(encs, info, index_real, questions, ptexts, log,
                                           eval_questions=all_questions if plan.mode == "full" else None,
                                           passes=plan.encode_passes)  # fmt: skip
        alternatives = {k: v for k, v in encs.items() if v is not encoder}  # the same index, another query encoder

    Q = encoder.encode_queries([q.question for q in all_questions])
    words = synth.WordModel(material.texts)
    e2e_dirs: dict[int, Path] = {}
    conc_retriever = None
    for i, n in enumerate(plan.e2e_sizes):
        log(f"queries: building a synthetic index of {n:,} passages")
        d = work / f"index-{n}"
        t = time.perf_counter()
        synth.write_index(d, synth.synthetic_docs(material, n, words), synth.vectors_for(material, n), encoder)
        build_s = time.perf_counter() - t
        e2e_dirs[n] = d
        r = Retriever(d, encoder=encoder)
        log(f"queries: {n:,} passages")
        modes = ("hybrid", "dense", "lexical") if i == 0 else ("hybrid",)
        res["queries"][str(n)] = {"n": n, "write_s": build_s, "dense_index": r.library.manifest.get("dense_index"),
                                  **query.warm_queries(r, texts, plan.query_passes, modes=modes, extra=plan.extra_questions)}  # fmt: skip
        for name, alt in alternatives.items():  # the same index with another query encoder
            shipped, r.encoder = r.encoder, alt
            query.clear_cache(r)
            res["queries"][str(n)][f"hybrid, query encoder {name}"] = query.stage_latency(r, texts, "hybrid", plan.query_passes)
            r.encoder = shipped
            query.clear_cache(r)
        if i == 0:
            conc_retriever = r
        else:
            del r
    if conc_retriever is not None:
        n0 = plan.e2e_sizes[0]
        log(f"profile: hybrid queries at {n0:,}")
        res["profile"] = {"n": n0, **query.profile(conc_retriever, texts[: plan.extra_questions])}
        log(f"concurrency at {n0:,}")
        res["concurrency"] = {"n": n0, **query.concurrency(conc_retriever, texts[: plan.concurrency_questions], plan.threads)}
        del conc_retriever
    gc.collect()

    # ---- peak memory in a fresh process
    rss_dir = e2e_dirs.get(plan.rss_size)
    if rss_dir is None:
        rss_dir = work / f"index-{plan.rss_size}"
        synth.write_index(rss_dir, synth.synthetic_docs(material, plan.rss_size, words),
                          synth.vectors_for(material, plan.rss_size), encoder)  # fmt: skip
    log(f"memory: a fresh process with the model and {plan.rss_size:,} passages")
    res["memory"] = peak_rss(rss_dir, texts[:10])
    if plan.model != "fake":
        log("memory: the same with the torch encoder (the previous default)")
        res["memory_torch"] = peak_rss(rss_dir, texts[:10], backend="torch")
    for d in e2e_dirs.values():
        shutil.rmtree(d, ignore_errors=True)

    # ---- scale
    log(f"scale: vectors for {max(plan.sizes):,} passages")
    X_all = synth.vectors_for(material, max(plan.sizes))
    res["synthetic"] = {"real": synth.cosine_profile(material.vectors, Q),
                        "synthetic_10k": synth.cosine_profile(X_all[len(material.vectors): len(material.vectors) + 10_000], Q),
                        "real_passages": len(material.vectors)}  # fmt: skip

    def kinds_for(n: int) -> list[str]:
        kinds = ["flat", "ivf-sq8", "ivf-flat", "ivf-pq"]
        if n <= plan.old_ivf_max:
            kinds.append("ivf-sq8-old")
        if n <= plan.hnsw_max:
            kinds.append("hnsw32")
        return kinds

    res["dense_scale"] = scale.dense_scale(X_all, Q, plan.sizes, kinds_for, plan.query_passes, log)
    del X_all
    gc.collect()
    res["lexical_scale"] = scale.lexical_scale(material.texts, texts, plan.sizes, plan.query_passes, log)
    res["bm25_text_build"] = scale.bm25_text_build(words.texts(min(10_000, max(plan.sizes))))
    res["seconds"] = time.perf_counter() - t_start
    from bench.report import goals

    res["goals"] = goals(res)
    log("done")
    return res


def peak_rss(index_dir: Path, questions: list[str], backend: str | None = None) -> dict:
    """Run bench.rss in a fresh interpreter: RSS after each step and the peak; `backend` sets
    BELEIDSWIJZER_ENCODER_BACKEND (default: the shipped encoder)."""
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.pop("BELEIDSWIJZER_ENCODER_BACKEND", None)
    if backend:
        env["BELEIDSWIJZER_ENCODER_BACKEND"] = backend
    proc = subprocess.run([sys.executable, "-m", "bench.rss", str(index_dir), *questions], capture_output=True,
                          text=True, cwd=REPO, env=env, timeout=600)  # fmt: skip
    if proc.returncode != 0:
        return {"error": proc.stderr[-2000:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    sys.exit(main())
