"""BENCHMARKS.md from the results of one run: tables per section, the goals met or missed
with ratios, and where the time goes."""
from __future__ import annotations

import json

from pathlib import Path

TARGETS = {
    "query_10k_median_ms": 60.0, "query_10k_p95_ms": 120.0, "query_1m_median_ms": 100.0, "recall_1m": 0.98,
    "embed_passages_per_s": 25.0, "pdf_pages_per_s": 25.0, "peak_rss_mb": 1.2 * 1024,
}  # fmt: skip


def _f(v, d: int = 1) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:,.{d}f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def _n(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 and n % 1_000_000 == 0 else f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)


def _largest(d: dict) -> str | None:
    keys = [k for k in d if k.isdigit()]
    return max(keys, key=int) if keys else None


def composed_1m(res: dict) -> dict | None:
    """End-to-end estimate at the largest scale size: encode + dense + lexical measured at that
    size, fusion + quote + other from the largest end-to-end index."""
    ds, ls = res.get("dense_scale", {}).get("sizes", {}), res.get("lexical_scale", {})
    big = _largest(ds)
    e2e = _largest(res.get("queries", {}))
    if not big or not e2e or big not in ls:
        return None
    q = res["queries"][e2e]["hybrid"]["stages"]
    kind = ds[big]["default_kind"]
    parts = {
        "encode": q["encode"]["median_ms"],
        f"dense ({kind}, {_n(int(big))})": ds[big]["kinds"][kind]["median_ms"],
        f"lexical ({_n(int(big))})": ls[big]["strategies"]["scores() with tokenising"]["median_ms"],
        f"fusion + quote + other (at {_n(int(e2e))})": sum(q[s]["median_ms"] for s in ("fusion", "quote", "other") if s in q),
    }
    return {"n": int(big), "kind": kind, "parts": parts, "median_ms": sum(parts.values()),
            "recall10": ds[big]["kinds"][kind]["recall10_rescored"]}  # fmt: skip


def goals(res: dict) -> list[dict]:
    """Each goal of issue 7 with the measured value, the target, the ratio and met/missed."""
    out = []

    def add(name, value, target, higher_better, note=""):
        if value is None:
            out.append({"goal": name, "value": None, "target": target, "met": None, "ratio": None, "note": note})
            return
        met = value >= target if higher_better else value <= target
        ratio = value / target
        out.append({"goal": name, "value": value, "target": target, "met": met, "ratio": ratio,
                    "higher_better": higher_better, "note": note})  # fmt: skip

    q10 = res.get("queries", {}).get("10000", {}).get("hybrid")
    add("warm query at 10k, median (ms)", q10 and q10["total"]["median_ms"], TARGETS["query_10k_median_ms"], False,
        "hybrid, each question new (encoding included)")
    add("warm query at 10k, p95 (ms)", q10 and q10["total"]["p95_ms"], TARGETS["query_10k_p95_ms"], False)
    for key, r in res.get("queries", {}).get("10000", {}).items():
        if key.startswith("hybrid, query encoder"):
            label = key.split("query encoder ", 1)[1]
            add(f"warm query at 10k, median (ms), with {label}", r["total"]["median_ms"], TARGETS["query_10k_median_ms"], False,
                "alternative, not shipped")
            add(f"warm query at 10k, p95 (ms), with {label}", r["total"]["p95_ms"], TARGETS["query_10k_p95_ms"], False,
                "alternative, not shipped")
    c = composed_1m(res)
    if c and c["n"] >= 1_000_000:
        add("query at 1M, median (ms)", c["median_ms"], TARGETS["query_1m_median_ms"], False, "composed from stages measured at 1M")
        for key, r in res.get("queries", {}).get("10000", {}).items():
            if key.startswith("hybrid, query encoder"):
                add(f"query at 1M, median (ms), with {key.split('query encoder ', 1)[1]}",
                    c["median_ms"] - c["parts"]["encode"] + r["stages"]["encode"]["median_ms"],
                    TARGETS["query_1m_median_ms"], False, "alternative, not shipped")
        add("dense search at 1M, median (ms)", res["dense_scale"]["sizes"][str(c["n"])]["kinds"][c["kind"]]["median_ms"],
            TARGETS["query_1m_median_ms"], False, f"{c['kind']}, one thread, 100 candidates")
        add("recall@10 at 1M vs exact", c["recall10"], TARGETS["recall_1m"], True, f"{c['kind']} candidates re-scored exactly, as the Retriever does")
    else:
        add("query at 1M, median (ms)", None, TARGETS["query_1m_median_ms"], False, "1M not run in this mode")
    add("embedding (passages/s)", res.get("build", {}).get("embedding_passages_per_s"), TARGETS["embed_passages_per_s"], True,
        "embed stage of the cold build")
    for name, r in (_get(res, "encoders", "encoders") or {}).items():
        if r.get("passages_per_s"):
            add(f"embedding (passages/s), {name}", r["passages_per_s"], TARGETS["embed_passages_per_s"], True,
                "encoder comparison, batches interleaved" + ("" if "as shipped" in name else "; alternative, not shipped"))
    prev = _get(res, "encoders", "previous_build_setting")
    if prev:
        add(f"embedding (passages/s), {prev['name']}", prev["passages_per_s"], TARGETS["embed_passages_per_s"], True,
            f"encoder comparison, batches interleaved; replaced: the shipped path is {prev['shipped_speedup']:.2f}x it, "
            f"vectors within {prev['max_abs_diff']:.1e} of it")
    add("PDF parsing (pages/s)", res.get("pdf", {}).get("parse_file", {}).get("pages_per_s"), TARGETS["pdf_pages_per_s"], True,
        "parse_file, as the build calls it")
    mem = res.get("memory", {})
    add(f"peak RSS, model + {_n(mem.get('passages', 0))} passages (MiB)", mem.get("peak_mb"), TARGETS["peak_rss_mb"], False)
    mt = res.get("memory_torch", {})
    if "peak_mb" in mt:
        add(f"peak RSS, model + {_n(mt.get('passages', 0))} passages (MiB), with the torch encoder", mt["peak_mb"],
            TARGETS["peak_rss_mb"], False, "alternative, not shipped")
    return out


def _stage_table(rows: dict, title_col: str = "case") -> list[str]:
    cols = ("encode", "dense", "lexical", "fusion", "quote", "other")
    lines = [f"| {title_col} | total median | total p95 | " + " | ".join(cols) + " |",
             "|---|---:|---:|" + "---:|" * len(cols)]
    for name, r in rows.items():
        if not isinstance(r, dict) or "total" not in r:
            continue
        st = r["stages"]
        cells = [(_f(st[c]["median_ms"], 2) if c in st else "–") for c in cols]
        lines.append(f"| {name} | {_f(r['total']['median_ms'])} | {_f(r['total']['p95_ms'])} | " + " | ".join(cells) + " |")
    return lines


def render(res: dict) -> str:
    m = res["machine"]
    L: list[str] = []
    L += ["# Benchmarks", "",
          f"Measured by `{res['command']}` on {m['date']} in {res['seconds'] / 60:.1f} min (mode **{res['mode']}**). "
          "Every comparison below comes from this one run; other processes shared the machine, so read "
          "ratios and medians rather than single values. Times are medians with the 95th percentile (p95) "
          "where it matters; the JSON file beside the report holds every figure. How to run it: "
          "[bench/README.md](bench/README.md).", ""]  # fmt: skip
    L += ["## Machine", "", "| | |", "|---|---|",
          f"| CPU | {m['cpu']} |", f"| cores | {m['cores_logical']} logical ({m['cores_physical']} physical) |",
          f"| memory | {m['memory_gib']} GiB ({m['memory_available_gib']} GiB available at start) |",
          f"| load average at start | {', '.join(map(str, m['load_average_at_start']))} |",
          f"| Python | {m['python']} ({m['platform']}) |",
          "| versions | " + ", ".join(f"{k} {v}" for k, v in m["versions"].items() if v) + " |",
          f"| model | {res['model']['name']} ({res['model']['spec']}, dim {res['model']['dim']}), loaded in {res['model']['load_s']:.1f} s |",
          "| threads | FAISS: 1 OpenMP thread per query (indexer/dense.py); encoder: 1 thread per query; for passages one "
          "single-thread session per core, each on the next batch of 4 (BELEIDSWIJZER_QUERY_THREADS / _BUILD_THREADS) |", ""]  # fmt: skip
    L += _goals_section(res)
    L += _ingest_section(res)
    L += _query_section(res)
    L += _encoders_section(res)
    L += _dense_section(res)
    L += _lexical_section(res)
    L += _concurrency_section(res)
    L += _memory_section(res)
    L += _profile_section(res)
    L += _synthetic_section(res)
    L += _closing_section(res)
    L += _stores_section()
    return "\n".join(L) + "\n"


STORES_RESULTS = Path(__file__).resolve().parent / "stores.json"


def _stores_section() -> list[str]:
    """The embedded store against PostgreSQL + pgvector, from the last `python -m bench.stores`
    run (bench/stores.json: it needs a database, so it is a run of its own)."""
    if not STORES_RESULTS.is_file():
        return []
    from bench.stores import render as render_stores

    res = json.loads(STORES_RESULTS.read_text(encoding="utf-8"))
    return ["## Stores: embedded against PostgreSQL + pgvector", "",
            f"From `{res.get('command', 'python -m bench.stores')}` (bench/stores.json), a run of its own: it needs a "
            "PostgreSQL server (scripts/pg.sh start). \"Warm query\" is what an officer waits for in a warm "
            "process (the question encoded, then searched); the cached-vector rows isolate the store. The app under "
            "load on the PostgreSQL store, one and two replicas: [deploy/load-postgresql/LOAD.md](deploy/load-postgresql/LOAD.md).",
            "", render_stores(res), ""]  # fmt: skip


def _goals_section(res: dict) -> list[str]:
    L = ["## Goals of issue 7 on this machine", "",
         "| goal | measured | target | ratio | |", "|---|---:|---:|---:|---|"]
    for g in res["goals"]:
        if g["value"] is None:
            L.append(f"| {g['goal']} | n/a | {_f(g['target'], 2)} | | not measured{': ' + g['note'] if g['note'] else ''} |")
            continue
        verdict = "met" if g["met"] else "**missed**"
        if g["higher_better"]:
            how = f"{g['ratio']:.2f}x the target"
        else:
            how = f"{g['ratio']:.2f}x the budget"
        L.append(f"| {g['goal']} | {_f(g['value'], 3 if g['target'] < 2 else 1)} | {_f(g['target'], 2)} | {how} | {verdict}{' — ' + g['note'] if g.get('note') else ''} |")
    L.append("")
    c = composed_1m(res)
    if c:
        L += [f"Query at {_n(c['n'])}, composed from stage medians: " + " + ".join(f"{k} {v:.1f} ms" for k, v in c["parts"].items())
              + f" = **{c['median_ms']:.1f} ms**.", ""]
    return L


def _ingest_section(res: dict) -> list[str]:
    p, b = res["pdf"], res["build"]
    L = ["## Ingest", "",
         f"PDF parsing: the note ({p['source']}) appended to itself up to {p['pages']} pages with pypdf's PdfWriter "
         f"({p['passages']} passages); {p['parse']['n']} runs each.", "",
         "| step | median s | p95 s | pages/s |", "|---|---:|---:|---:|"]
    for k, label in (("parse", "PdfParser.parse (text, layout, passages)"), ("page_texts", "page_texts (raw text per page)"),
                     ("parse_file", "parse_file (one read: passages and page texts), as the build calls it")):
        L.append(f"| {label} | {p[k]['median_ms'] / 1000:.2f} | {p[k]['p95_ms'] / 1000:.2f} | {p[k]['pages_per_s']:.1f} |")
    L += ["", f"Builds of {', '.join(b['corpora'])}: {b['documents']} documents, {b['passages']} passages.", "",
          "| build | runs | median s | p95 s | of which parse | embed | write |", "|---|---:|---:|---:|---:|---:|---:|"]
    cs, oc = b["cold_stages"], b["one_changed_stages"]
    L.append(f"| cold (new index folder) | {b['cold']['n']} | {b['cold']['median_ms'] / 1000:.2f} | {b['cold']['p95_ms'] / 1000:.2f} | "
             f"{cs['parse']['median_ms'] / 1000:.2f} | {cs['embed']['median_ms'] / 1000:.2f} | {cs['write']['median_ms'] / 1000:.2f} |")
    L.append(f"| no change | {b['no_change']['n']} | {b['no_change']['median_ms'] / 1000:.2f} | {b['no_change']['p95_ms'] / 1000:.2f} | | | |")
    L.append(f"| one file changed ({b['one_changed']['file']}, {b['one_changed']['embedded']} passages embedded) | {b['one_changed']['n']} | "
             f"{b['one_changed']['median_ms'] / 1000:.2f} | {b['one_changed']['p95_ms'] / 1000:.2f} | {oc['parse']['median_ms'] / 1000:.2f} | "
             f"{oc['embed']['median_ms'] / 1000:.2f} | {oc['write']['median_ms'] / 1000:.2f} |")
    w = b["write_breakdown"]
    L += ["", f"Embedding: **{b['embedding_passages_per_s']:.1f} passages/s** (embed stage of the cold build). "
          f"The write stage is BM25 {w['bm25_ms'] / 1000:.2f} s + FAISS {w['faiss_ms'] / 1000:.2f} s + re-embedding the background "
          f"texts {w['background_ms'] / 1000:.2f} s + SQLite/publish; the background texts are embedded in a cold build only: "
          "an incremental build copies their vectors from the previous build."]
    ls = res.get("length_sort")
    if ls:
        L += ["", f"Length-sorted chunks of 32 (as the encoder orders a build's passages) against file order, each chunk encoded as the build does, {ls['passages']} passages, the mean of two runs each after a warm-up: "
              f"{ls['sorted_s']:.1f} s against {ls['file_order_s']:.1f} s, **{ls['speedup']:.2f}x**."]
    L.append("")
    return L


def _query_section(res: dict) -> list[str]:
    L = ["## Warm query latency by stage", "",
         "A warm process (model and index loaded), one query at a time, k = 5; each question is new to the "
         "query-vector cache unless the row says \"cached vector\". Milliseconds; stages are the Retriever's "
         "own `timings`, \"other\" is the rest of `search` (reference parsing, validity filter, abstention check).", ""]
    for key, q in res["queries"].items():
        n = q["n"]
        kind = q.get("dense_index") or "flat"
        src = "the real corpus" if key == "real" else "the real passages plus synthetic ones (see the end)"
        L += [f"### {n:,} passages ({src}; dense index {kind})", ""]
        rows = {k: v for k, v in q.items() if isinstance(v, dict) and "total" in v}
        L += _stage_table(rows, "mode")
        L.append("")
        if "hybrid, cached vector" in q:
            a, c = q["hybrid"]["total"]["median_ms"], q["hybrid, cached vector"]["total"]["median_ms"]
            L += [f"The query-vector cache (lru_cache of 1024 questions) makes a repeated hybrid question "
                  f"{a / c:.1f}x faster ({a:.1f} → {c:.1f} ms).", ""]
    return L


def _encoders_section(res: dict) -> list[str]:
    e = res.get("encoders")
    L = ["## Query encoding: ONNX Runtime (shipped) against torch", ""]
    if not e:
        return L + ["Not measured in this mode (fake encoder).", ""]
    L += ["The shipped encoder (indexer/encoders/ort.py) runs `encoder.onnx` with onnxruntime "
          f"{e['onnxruntime']}: the transformer from token embeddings to mean-pooled vectors, exported once with "
          "torch.onnx when the model is provisioned; the token-embedding table is a `.npy` read row by row, so torch is "
          "never imported. torch is sentence-transformers on the same model folder, the previous default. "
          + e.get("why_not_st_backends", ""), ""]
    i8 = e.get("int8")
    if i8:
        L += [f"The int8 candidate is `encoder.onnx` quantised with `quantize_dynamic` (int8 weights, per channel): "
              f"{i8['fp32_mb']:.0f} MB → {i8['int8_mb']:.0f} MB; rejected because it changes the vectors and the results.", ""]
    L += [f"{e['questions']} questions encoded one at a time by each encoder, the encoders' order rotated per question; "
          f"passages/s over {e['passages']} real passages in length-sorted chunks of 32, chunks interleaved, the median of "
          f"{(e.get('previous_build_setting') or {}).get('passes', 1)} passes, each encoder "
          "encoding a chunk as its build does (the shipped one: batches of 4 shared out over single-thread sessions, one per "
          "build thread, created once, outside the timing). The evaluation columns "
          f"({e.get('eval_questions', 0)} questions of eval/questions.yaml) use each encoder for the questions, over the "
          "same index (embedded by the shipped encoder).", "",
          "| encoder | query median ms | p95 ms | speed-up | cosine to shipped (min / mean) | passages/s | hybrid R@1 | R@5 | MRR | dense R@5 | out-of-scope abstained |",
          "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for name, r in e["encoders"].items():
        ev = r.get("eval")
        evc = (f"{ev['hybrid']['recall@1']:.3f} | {ev['hybrid']['recall@5']:.3f} | {ev['hybrid']['mrr']:.3f} | "
               f"{ev['dense']['recall@5']:.3f} | {_f(ev['hybrid']['abstention_recall'], 3)}") if ev else "– | – | – | – | –"
        L.append(f"| {name} | {r['query']['median_ms']:.1f} | {r['query']['p95_ms']:.1f} | {r['query_speedup']:.2f}x | "
                 f"{r['cos_min']:.4f} / {r['cos_mean']:.4f} | {_f(r.get('passages_per_s'))} | {evc} |")
    prev = e.get("previous_build_setting")
    if prev:
        L += ["", f"The shipped model on its {prev['name'].split(', ', 1)[1]}, interleaved with the rows above "
              f"(medians of {prev.get('passes', 1)} passes): {prev['passages_per_s']:.1f} passages/s; the shipped path is "
              f"**{prev['shipped_speedup']:.2f}x** it (the median of the passes' ratios), with vectors "
              f"differing by at most {prev['max_abs_diff']:.1e} per component. Small batches cost less CPU per passage (32 passages of "
              "~300 tokens hold ~125 MB of attention scores per layer), and one single-thread session per "
              "core never waits for the other core between operators, as a two-thread session does."]
    L.append("")
    return L


def _dense_section(res: dict) -> list[str]:
    d = res["dense_scale"]
    L = ["## Scale: FAISS index types", "",
         f"Single-query search with one thread for {d['k_candidates']} candidates (the Retriever's depth), "
         f"{d['queries']} real questions as queries. Recall@10 against exact search: of the index's own ranking "
         "(\"raw\") and after re-scoring its 100 candidates with the stored float vectors, as the Retriever does "
         "(\"re-scored\"). Build with one thread (as the indexer runs); memory = the serialised index. "
         "`ivf-sq8` is the default beyond the exact-search threshold (indexer/dense.py); `ivf-sq8-old` is the "
         "previous default (4·√n lists trained on 100·nlist vectors, nprobe 16).", ""]
    for key, s in d["sizes"].items():
        n = s["n"]
        L += [f"### {n:,} passages (default: {s['default_kind']})", "",
              "| index | params | build s | memory MB | median ms | p95 ms | recall@10 raw | re-scored |",
              "|---|---|---:|---:|---:|---:|---:|---:|"]
        for kind, r in s["kinds"].items():
            params = ", ".join(f"{k} {r[k]}" for k in ("nlist", "nprobe", "M", "efSearch") if k in r)
            L.append(f"| {kind} | {params} | {r['build_s']:.1f} | {r['bytes'] / 2**20:.0f} | {r['median_ms']:.2f} | "
                     f"{r['p95_ms']:.2f} | {r['recall10']:.3f} | {r['recall10_rescored']:.3f} |")
        flat = s["kinds"].get("flat")
        for name, sweep in s["sweeps"].items():
            key2 = "nprobe" if "nprobe" in name else "efSearch"
            L += ["", f"{name} sweep: " + "; ".join(
                f"{r[key2]}: {r['median_ms']:.2f} ms, {r['recall10']:.3f} / {r['recall10_rescored']:.3f}" for r in sweep)
                + (f" (exact: {flat['median_ms']:.2f} ms)" if flat else "")]
        skipped = [k for k in ("hnsw32", "ivf-sq8-old") if k not in s["kinds"]]
        if skipped:
            prev = [x for x in d["sizes"].values() if x["n"] < n and all(k in x["kinds"] for k in skipped)]
            est = ""
            if prev:
                p = prev[-1]
                est = " At {:,} they took {} to build (one thread); build time grows at least linearly with n.".format(
                    p["n"], ", ".join(f"{k} {p['kinds'][k]['build_s']:.0f} s" for k in skipped))
            L += ["", f"Not built at this size, for the run's time budget: {', '.join(skipped)}.{est}"
                  + (" HNSW also holds the float vectors plus its graph (~1.8 GB at 1M) and cannot remove vectors." if "hnsw32" in skipped else "")]
        L.append("")
    return L


def _lexical_section(res: dict) -> list[str]:
    ls = res["lexical_scale"]
    L = ["## Scale: lexical (BM25)", "",
         "Synthetic passages drawn from the corpus' term distribution (see the end). `scores()` reads only the posting "
         "lists of the question's terms (CSC columns): it merges them by sorting, or, once they reach a third of the "
         "passages (`DENSE_MERGE_FACTOR`), sums the columns into a dense vector as the previous code always did. "
         "Two query sets: the evaluation questions (this corpus' topic words, so long lists), and selective queries "
         "of three terms each found in 0.05–2% of the passages (a question about a specific matter in a library of many "
         "topics). Milliseconds, medians.", "",
         "| passages | build s | question postings (share) | scores() incl. tokenising | merge as shipped | sort only | column sum only (previous) "
         "| selective: postings (share) | as shipped | sort only | column sum only (previous) |",
         "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    keys = ("merge as shipped (auto)", "sort merge only", "column sum only (the previous code)")
    for key, r in ls.items():
        st, sel = r["strategies"], r.get("selective", {})
        sst = sel.get("strategies") or {}
        L.append(f"| {r['n']:,} | {r['build_s']:.1f} | {r['postings_per_query_median']:,.0f} ({r['postings_share_median']:.0%}) | "
                 f"{st['scores() with tokenising']['median_ms']:.2f} | " + " | ".join(f"{st[k]['median_ms']:.2f}" for k in keys)
                 + (f" | {sel['postings_share_median'] * r['n']:,.0f} ({sel['postings_share_median']:.1%}) | "
                    + " | ".join(f"{sst[k]['median_ms']:.2f}" for k in keys) if sst else " | – | – | – | –") + " |")
    b = res.get("bm25_text_build")
    if b:
        L += ["", f"Building BM25 from texts (tokenise, stem and split compounds, what the indexer does): {b['passages_per_s']:,.0f} passages/s "
              f"({b['passages']:,} passages in {b['seconds']:.1f} s)."]
    L.append("")
    return L


def _concurrency_section(res: dict) -> list[str]:
    c = res.get("concurrency")
    if not c:
        return []
    L = ["## Concurrency: one shared Retriever", "",
         f"{c['questions']} questions at {c['n']:,} passages, hybrid, k = 5, through a thread pool. Uncached: every question "
         "new to the query-vector cache (encoding included; a thread-safe encoder such as the shipped ONNX Runtime one runs "
         "without the Retriever's lock, others under it). Cached: the "
         "questions three times with warm vectors. Results are compared with a single-thread run.", "",
         "| threads | cached | queries | qps | speed-up | median ms | p95 ms | errors | results differing |",
         "|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    base = {}
    for r in c["rows"]:
        base.setdefault(r["cached"], r["qps"])
        L.append(f"| {r['threads']} | {'yes' if r['cached'] else 'no'} | {r['queries']} | {r['qps']:.1f} | "
                 f"{r['qps'] / base[r['cached']]:.2f}x | {r['latency']['median_ms']:.1f} | {r['latency']['p95_ms']:.1f} | "
                 f"{r['errors']} | {r['mismatches']} |")
    L.append("")
    return L


def _memory_section(res: dict) -> list[str]:
    L = ["## Memory", ""]
    probes = [("as shipped (ONNX Runtime encoder)", res.get("memory", {}))]
    if res.get("memory_torch"):
        probes.append(("torch encoder (previous default)", res["memory_torch"]))
    for label, mem in list(probes):
        if "error" in mem:
            L += [f"The memory probe ({label}) failed:", "", "```", mem["error"], "```", ""]
            probes.remove((label, mem))
    if not probes:
        return L
    first = probes[0][1]
    L += [f"A fresh process (`python -m bench.rss`) loads a Retriever over {first['passages']:,} passages "
          f"(dense index {first['dense_index']}), loads the model and answers 10 questions. Resident set size after each step, MiB:", "",
          "| step | " + " | ".join(lbl for lbl, _ in probes) + " |", "|---|" + "---:|" * len(probes)]
    steps = list(dict.fromkeys(k for _, m in probes for k in m["steps_mb"]))
    for k in steps:
        L.append(f"| {k} | " + " | ".join(f"{m['steps_mb'][k]:.0f} (peak so far {m.get('peak_so_far_mb', {}).get(k, 0):.0f})"
                                          if k in m["steps_mb"] else "–" for _, m in probes) + " |")
    L.append("| **peak (VmHWM)** | " + " | ".join(f"**{m['peak_mb']:.0f}**" for _, m in probes) + " |")
    L.append("| torch imported | " + " | ".join("yes" if m.get("torch_imported") else "no" for _, m in probes) + " |")
    L.append("")
    return L


def _profile_section(res: dict) -> list[str]:
    p = res.get("profile")
    if not p:
        return []
    L = ["## Where a query's time goes (cProfile)", "",
         f"{p['queries']} uncached hybrid queries at {p['n']:,} passages, {p['wall_s']:.1f} s under the profiler. "
         "Functions with the most cumulative time, then the most own time:", "",
         "| function | calls | cumulative s | own s |", "|---|---:|---:|---:|"]
    for r in p["cumulative"][:14]:
        L.append(f"| `{r['function']}` | {r['calls']} | {r['cumtime_s']:.2f} | {r['tottime_s']:.2f} |")
    L += ["", "| function (own time) | calls | own s |", "|---|---:|---:|"]
    for r in p["self"][:10]:
        L.append(f"| `{r['function']}` | {r['calls']} | {r['tottime_s']:.2f} |")
    L.append("")
    return L


def _synthetic_section(res: dict) -> list[str]:
    from bench import synth

    s = res["synthetic"]
    r, y = s["real"], s["synthetic_10k"]
    doc = synth.__doc__.strip().split("\n\n")
    return ["## How the synthetic data was made", "",
            f"The real corpus has {s['real_passages']} passages; every size above that is the real passages plus synthetic ones.", "",
            *[" ".join(p.split()) + "\n" for p in doc[1:]],
            "| vectors | pairwise cosine mean | sd | question → nearest | question → 10th nearest |", "|---|---:|---:|---:|---:|",
            f"| real passages ({s['real_passages']}) | {r['pairwise_mean']:.3f} | {r['pairwise_sd']:.3f} | {r.get('query_top1', 0):.3f} | {r.get('query_top10', 0):.3f} |",
            f"| synthetic (10k) | {y['pairwise_mean']:.3f} | {y['pairwise_sd']:.3f} | {y.get('query_top1', 0):.3f} | {y.get('query_top10', 0):.3f} |",
            "", "Mixtures with Gaussian-like noise have no fine topical structure, so an IVF index needs more probes "
            "on them than on real embeddings: the recall figures above are on the pessimistic side.", ""]  # fmt: skip


def _get(d, *keys):
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def _closing_section(res: dict) -> list[str]:
    """Key ratios of this run and the changes they suggest outside indexer/dense.py and lexical.py."""
    L = ["## Closing note: key ratios and what to change", ""]
    encs = _get(res, "encoders", "encoders") or {}
    shipped_name = next((k for k in encs if "as shipped" in k), "")
    shipped = encs.get(shipped_name)
    torch_name = next((k for k in encs if k.startswith("torch")), "")
    torch = encs.get(torch_name)
    int8_name = next((k for k in encs if "int8" in k), "")
    int8 = encs.get(int8_name)
    if shipped and torch:
        s, t = shipped["query"]["median_ms"], torch["query"]["median_ms"]
        line = (f"- **Query encoding is most of a query.** {shipped_name}: {s:.0f} ms median (p95 {shipped['query']['p95_ms']:.0f}); "
                f"{torch_name}: {t:.0f} ms (p95 {torch['query']['p95_ms']:.0f}; the shipped encoder is {t / s:.1f}x faster)")
        if int8:
            line += f"; the rejected int8 candidate: {int8['query']['median_ms']:.0f} ms"
        L.append(line + f". Query vectors against torch's: cosine ≥ {torch['cos_min']:.4f}. The other stages together take a few ms (tables above).")
        alt = [(k, q[a]["stages"]["encode"]) for k, q in res.get("queries", {}).items() for a in q
               if isinstance(q[a], dict) and a == f"hybrid, query encoder {torch_name}"]
        if alt:
            L.append("- Same index, torch for the query (sequential runs): " + "; ".join(
                f"at {_n(int(k))} encode {res['queries'][k]['hybrid']['stages']['encode']['median_ms']:.0f} ms as shipped "
                f"(p95 {res['queries'][k]['hybrid']['stages']['encode']['p95_ms']:.0f}) against {e['median_ms']:.0f} ms (p95 {e['p95_ms']:.0f})"
                for k, e in alt) + ".")
        if shipped.get("eval") and torch.get("eval"):
            a, b = shipped["eval"]["hybrid"], torch["eval"]["hybrid"]
            same = all(shipped["eval"][m] == torch["eval"][m] for m in ("hybrid", "dense"))
            line = (f"- Evaluation set, hybrid, as shipped / torch: R@1 {a['recall@1']:.3f} / {b['recall@1']:.3f}, R@5 {a['recall@5']:.3f} / "
                    f"{b['recall@5']:.3f}, MRR {a['mrr']:.3f} / {b['mrr']:.3f}" + (" — every evaluation figure equal" if same else ""))
            if int8 and int8.get("eval"):
                c = int8["eval"]["hybrid"]
                line += (f". int8: R@1 {c['recall@1']:.3f}, R@5 {c['recall@5']:.3f}, MRR {c['mrr']:.3f}, out-of-scope abstained "
                         f"{_f(c['abstention_recall'], 3)} (shipped {_f(a['abstention_recall'], 3)}), cosine ≥ {int8['cos_min']:.4f}")
            L.append(line + ".")
        if shipped.get("passages_per_s"):
            L.append(f"- Embedding passages: {shipped['passages_per_s']:.1f}/s as shipped"
                     + "".join(f", {r['passages_per_s']:.1f}/s with {k.split(' (')[0]}" for k, r in encs.items()
                               if r is not shipped and r.get("passages_per_s"))
                     + " (goal 25/s)"
                     + (f"; {prev['passages_per_s']:.1f}/s on the previous build setting, in the same run"
                        if (prev := _get(res, "encoders", "previous_build_setting")) else "") + ".")
    ds = _get(res, "dense_scale", "sizes") or {}
    big = _largest(ds)
    if big and int(big) >= 100_000:
        k = ds[big]["kinds"]
        f, q = k["flat"], k["ivf-sq8"]
        L.append(f"- **Dense at {_n(int(big))}:** exact {f['median_ms']:.0f} ms against IVF-SQ8 (nlist {q['nlist']}, nprobe {q['nprobe']}) "
                 f"{q['median_ms']:.1f} ms, {f['median_ms'] / q['median_ms']:.0f}x faster, recall@10 {q['recall10_rescored']:.3f} after re-scoring "
                 f"({q['recall10']:.3f} raw), {q['bytes'] / 2**20:.0f} MB against {f['bytes'] / 2**20:.0f} MB, built in {q['build_s']:.0f} s.")
        for key, s in ds.items():
            old = s["kinds"].get("ivf-sq8-old")
            if old and s["n"] >= 100_000:
                L.append(f"- The previous IVF parameters at {_n(s['n'])} (nlist {old['nlist']}, nprobe 16): recall@10 {old['recall10_rescored']:.3f} "
                         f"re-scored, build {old['build_s']:.0f} s, against {s['kinds']['ivf-sq8']['recall10_rescored']:.3f} and "
                         f"{s['kinds']['ivf-sq8']['build_s']:.0f} s now.")
    ls = res.get("lexical_scale", {})
    lb = _largest(ls)
    if lb:
        r = ls[lb]
        st = r["strategies"]
        sst = r.get("selective", {}).get("strategies") or {}
        line = (f"- **Lexical at {_n(int(lb))}:** {st['scores() with tokenising']['median_ms']:.1f} ms per evaluation question: its terms are "
                f"this corpus' topic words and cover {r['postings_share_median']:.0%} of the synthetic passages, so the "
                f"column sum is used, as before ({st['column sum only (the previous code)']['median_ms']:.1f} ms).")
        if sst:
            a, c = sst["merge as shipped (auto)"]["median_ms"], sst["column sum only (the previous code)"]["median_ms"]
            line += (f" Selective queries ({r['selective']['postings_share_median']:.1%} of the passages) take {a:.2f} ms against "
                     f"{c:.2f} ms with the previous code ({c / a:.0f}x): only their postings are read.")
        L.append(line)
    b = res.get("build", {})
    if b:
        cs = b["cold_stages"]
        L.append(f"- **Builds:** cold {b['cold']['median_ms'] / 1000:.1f} s, of which embedding {cs['embed']['median_ms'] / b['cold']['median_ms']:.0%}; "
                 f"no change {b['no_change']['median_ms'] / 1000:.2f} s; one file changed {b['one_changed']['median_ms'] / 1000:.1f} s, of which "
                 f"{b['one_changed_stages']['embed']['median_ms'] / 1000:.1f} s embed its {b['one_changed']['embedded']} passages.")
    p = res.get("pdf", {})
    if p:
        L.append(f"- **PDF:** parse_file ({p['parse_file']['median_ms'] / 1000:.2f} s for {p['pages']} pages) reads the PDF once and "
                 f"returns the passages and the page texts; PdfParser.parse alone {p['parse']['median_ms'] / 1000:.2f} s, "
                 f"page_texts alone {p['page_texts']['median_ms'] / 1000:.2f} s.")
    mem = res.get("memory", {})
    if "peak_mb" in mem:
        ps = mem.get("peak_so_far_mb", {})
        L.append(f"- **Memory:** peak {mem['peak_mb']:.0f} MiB with {mem['passages']:,} passages ({mem['peak_mb'] / TARGETS['peak_rss_mb']:.2f}x the 1.2 GB "
                 f"budget); the process holds {mem['steps_mb'].get('index loaded (Retriever)', 0):.0f} MiB after loading the index, "
                 f"{mem['steps_mb'].get('model loaded', 0):.0f} MiB after loading the model (peak so far {ps.get('model loaded', 0):.0f}) and "
                 f"{mem['steps_mb'].get('after queries', 0):.0f} MiB after the first queries.")
        mt = res.get("memory_torch")
        if mt and "peak_mb" in mt:
            L.append(f"  With the torch encoder (the previous default): peak {mt['peak_mb']:.0f} MiB "
                     f"({mt['peak_mb'] / TARGETS['peak_rss_mb']:.2f}x the budget).")
    conc = _get(res, "concurrency", "rows") or []
    if conc:
        cached = [r for r in conc if r["cached"]]
        unc = [r for r in conc if not r["cached"]]
        L.append(f"- **Concurrency:** no errors and no differing results at any thread count. Cached vectors: "
                 + ", ".join(f"{r['threads']} thread{'s' if r['threads'] > 1 else ''} {r['qps']:.0f} qps" for r in cached)
                 + "; uncached: " + ", ".join(f"{r['threads']} thread{'s' if r['threads'] > 1 else ''} {r['qps']:.1f} qps" for r in unc)
                 + " (encodings run side by side when the encoder is thread-safe, as the shipped one is; "
                 + "two cores bound the speed-up).")
    for key in ("100000", "10000"):
        q = _get(res, "queries", key)
        if q and "hybrid, names a reference" in q:
            ref = q["hybrid, names a reference"]["stages"]["fusion"]["median_ms"]
            date = q["hybrid, valid on a date"]
            L.append(f"- **At {_n(int(key))} passages:** a question naming a reference spends {ref:.0f} ms in fusion "
                     f"(ReferenceIndex.rows checks, in the lower-cased text, every passage of that article in the law's documents "
                     f"and every passage holding both the number and a name of the law; the synthetic passages are word samples of the corpus, "
                     f"so many hold \"31\" and a law's name by chance); a validity "
                     f"date adds {date['stages']['fusion']['median_ms'] + date['stages']['other']['median_ms'] - q['hybrid, cached vector']['stages']['fusion']['median_ms']:.0f} ms "
                     "(the Retriever's validity filter builds a set over all passages per query, and the dense search asks 4x the candidates).")
            break
    L.append("")
    return L
