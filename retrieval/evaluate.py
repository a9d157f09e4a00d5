"""Evaluate retrieval on a question set: recall@1/3/5, MRR, abstention, passage length, latency.

    python -m retrieval.evaluate [--index DIR] [--questions eval/questions.yaml] [--k 5] [--json FILE]

Every question runs in the three modes (hybrid, dense, lexical) on one Retriever; figures are
printed per mode and per language (nl, en, all). A returned passage *answers* an in-scope
question when it contains one of the question's `expect` phrases (case, diacritics and white
space ignored). `evaluate()` and `load_questions()` are reused by the tests and by
`retrieval.calibrate`.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable

from indexer.text import comparable
from retrieval.evalsets import tune_set
from retrieval.fusion import CONFIDENCE, MODES
from retrieval.retriever import Retriever
from retrieval.yamlfile import entries

REPO = Path(__file__).resolve().parents[1]
DEFAULT_QUESTIONS = tune_set().path  # eval/questions.yaml, the tuning set of eval/sets.yaml
LANGS = ("nl", "en")
TYPES = ("fact", "paraphrase", "reference", "out-of-scope")
CUTOFFS = (1, 3, 5)
WARM_UP = "Wat is een besluit- en vertrekmoratorium?"


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    lang: str
    type: str
    expect: tuple[str, ...] = ()
    doc: str = ""

    @property
    def in_scope(self) -> bool:
        return self.type != "out-of-scope"


class QuestionFileError(ValueError):
    """The question file is malformed; the message names the file, the entry and what is allowed."""


def load_questions(path: Path | str) -> list[Question]:
    """Questions from a YAML file (`questions: [{id, question, lang, type, expect, doc}]`)."""
    path = Path(path)
    out: list[Question] = []
    seen: set[str] = set()
    for where, item in entries(path, "questions", QuestionFileError, bare_list=True):
        missing = [f for f in ("id", "question", "lang", "type") if not item.get(f)]
        if missing:
            raise QuestionFileError(f"{where}: missing {', '.join(missing)}")
        if item["lang"] not in LANGS:
            raise QuestionFileError(f"{where}: lang '{item['lang']}' is not one of {', '.join(LANGS)}")
        if item["type"] not in TYPES:
            raise QuestionFileError(f"{where}: type '{item['type']}' is not one of {', '.join(TYPES)}")
        expect = item.get("expect") or []
        if isinstance(expect, str):
            expect = [expect]
        if item["type"] == "out-of-scope" and expect:
            raise QuestionFileError(f"{where}: an out-of-scope question has no 'expect'")
        if item["type"] != "out-of-scope" and not expect:
            raise QuestionFileError(f"{where}: an in-scope question needs at least one 'expect' phrase")
        if item["id"] in seen:
            raise QuestionFileError(f"{where}: duplicate id '{item['id']}'")
        seen.add(item["id"])
        out.append(
            Question(str(item["id"]), str(item["question"]).strip(), item["lang"], item["type"],
                     tuple(str(e) for e in expect), str(item.get("doc") or ""))
        )  # fmt: skip
    return out


def answers(passage_text: str, expect: Iterable[str]) -> bool:
    """True when the passage contains at least one expected phrase."""
    hay = comparable(passage_text)
    return any(comparable(e) in hay for e in expect)


def _percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); 0.0 for no values."""
    if not values:
        return 0.0
    s = sorted(values)
    rank = max(1, min(len(s), int(-(-q * len(s) // 100))))  # ceil(q/100 * n)
    return s[rank - 1]


def run_question(retriever: Retriever, q: Question, mode: str, k: int, timed: bool = True) -> dict:
    """One search; the rank (1-based) of the first answering passage, or None."""
    if timed:
        retriever.clear_query_cache()
    t0 = time.perf_counter()
    result = retriever.search(q.question, k=k, mode=mode)
    seconds = time.perf_counter() - t0
    rank = None
    if q.in_scope:
        for i, h in enumerate(result.hits, 1):
            if answers(h.passage.text, q.expect):
                rank = i
                break
    top = result.hits[0] if result.hits else None
    answer = result.answer
    return {
        "id": q.id, "mode": mode, "lang": q.lang, "type": q.type, "in_scope": q.in_scope,
        "rank": rank, "answerable": bool(result.answerable), "confidence": result.confidence,
        # the answer line's passage holds an expected phrase (None: no answer line, or out of scope)
        "answer_right": None if answer is None or not q.in_scope else answers(result.hits[answer.passage].passage.text, q.expect),
        "top_citation": top.passage.citation if top else None,
        "top_passage": top.passage.passage_id if top else None,
        "passage_chars": [len(h.passage.text) for h in result.hits],
        "seconds": seconds,
    }  # fmt: skip


def summarise(rows: list[dict], k: int) -> dict:
    """Metrics over a list of per-question rows of one mode."""
    ins = [r for r in rows if r["in_scope"]]
    oos = [r for r in rows if not r["in_scope"]]
    out: dict = {"n_in_scope": len(ins), "n_out_of_scope": len(oos)}
    for c in [c for c in CUTOFFS if c <= k] + ([k] if k not in CUTOFFS else []):
        out[f"recall@{c}"] = _share(ins, lambda r: r["rank"] is not None and r["rank"] <= c)
    out["mrr"] = sum(1.0 / r["rank"] for r in ins if r["rank"]) / len(ins) if ins else None
    abstained = [r for r in rows if not r["answerable"]]
    correct = [r for r in abstained if not r["in_scope"]]
    out["abstention_precision"] = len(correct) / len(abstained) if abstained else None
    out["abstention_recall"] = len(correct) / len(oos) if oos else None
    out["in_scope_answerable"] = _share(ins, lambda r: r["answerable"])
    out["out_of_scope_abstained"] = out["abstention_recall"]
    for level in CONFIDENCE:  # shares of the confidence levels, in scope and out of scope
        out[f"in_scope_{level}"] = _share(ins, lambda r: r.get("confidence") == level)
        out[f"out_of_scope_{level}"] = _share(oos, lambda r: r.get("confidence") == level)
    with_line = [r for r in ins if r.get("answer_right") is not None]
    out["answer_line_right"] = _share(with_line, lambda r: r["answer_right"])
    chars = [c for r in rows for c in r["passage_chars"]]
    out["mean_passage_chars"] = sum(chars) / len(chars) if chars else None
    ms = [r["seconds"] * 1000 for r in rows]
    out["latency_ms_median"] = statistics.median(ms) if ms else None
    out["latency_ms_p95"] = _percentile(ms, 95)
    return out


def _share(rows: list[dict], pred) -> float | None:
    return sum(1 for r in rows if pred(r)) / len(rows) if rows else None


def evaluate(
    retriever: Retriever, questions: list[Question], k: int = 5, modes: Iterable[str] = MODES, timed: bool = True
) -> dict:
    """Run every question in every mode; metrics per mode x language (and x type), and failures.

    Returns {"k", "model", "n_questions", "metrics": {mode: {"nl"|"en"|"all": {...}}},
    "by_type": {mode: {type: {...}}}, "rows": [...], "failures": [...]}.
    `timed=False` keeps the query-vector cache (faster repeated runs, latency not meaningful).
    """
    modes = tuple(modes)
    t0 = time.perf_counter()
    for m in modes:
        retriever.search(WARM_UP, k=k, mode=m)  # loads lazily-initialised parts (the model) before timing
    warm_up = time.perf_counter() - t0
    rows = [run_question(retriever, q, m, k, timed) for q in questions for m in modes]
    metrics: dict = {}
    by_type: dict = {}
    for m in modes:
        mrows = [r for r in rows if r["mode"] == m]
        metrics[m] = {lang: summarise([r for r in mrows if r["lang"] == lang], k) for lang in LANGS}
        metrics[m]["all"] = summarise(mrows, k)
        by_type[m] = {t: summarise([r for r in mrows if r["type"] == t], k) for t in TYPES if any(r["type"] == t for r in mrows)}
    failures = []
    for r in rows:
        if r["in_scope"] and r["rank"] is None:
            failures.append({**_brief(r), "problem": f"no answer in top {k}"})
        elif r["in_scope"] and not r["answerable"]:
            failures.append({**_brief(r), "problem": "abstained although in scope"})
        elif not r["in_scope"] and r["answerable"]:
            failures.append({**_brief(r), "problem": "answered although out of scope"})
        elif r["in_scope"] and r["rank"] > 1:
            failures.append({**_brief(r), "problem": f"answer at rank {r['rank']}"})
    return {
        "k": k, "model": retriever.encoder.name, "index": str(retriever.index_dir),
        "n_questions": len(questions), "modes": list(modes), "warm_up_seconds": warm_up,
        "metrics": metrics, "by_type": by_type, "rows": rows, "failures": failures,
    }  # fmt: skip


def _brief(r: dict) -> dict:
    return {"id": r["id"], "mode": r["mode"], "lang": r["lang"], "type": r["type"], "rank": r["rank"],
            "answerable": r["answerable"], "top_citation": r["top_citation"], "top_passage": r["top_passage"]}  # fmt: skip


def _fmt(v, pct: bool = False, digits: int = 3) -> str:
    if v is None:
        return "n/a"
    return f"{v:.{digits}f}" if not pct else f"{v * 100:.0f}%"


def render(report: dict, questions: list[Question] | None = None) -> str:
    """The report as text tables: metrics per mode and language, by type, then the failures."""
    k = report["k"]
    cut = [c for c in CUTOFFS if c <= k] + ([k] if k not in CUTOFFS else [])
    lines = []
    n_in = report["metrics"][report["modes"][0]]["all"]["n_in_scope"]
    n_oos = report["metrics"][report["modes"][0]]["all"]["n_out_of_scope"]
    counts = {lang: report["metrics"][report["modes"][0]][lang] for lang in LANGS}
    lines.append(
        f"Evaluation of {report['n_questions']} questions (in scope {n_in}, out of scope {n_oos}; "
        + ", ".join(f"{lang}: {c['n_in_scope']}+{c['n_out_of_scope']}" for lang, c in counts.items())
        + f"), k={k}, model {report['model']}, index {report['index']}"
    )
    head = (
        f"{'mode':8} {'lang':4} " + " ".join(f"{'R@' + str(c):>6}" for c in cut)
        + f" {'MRR':>6} {'abstP':>6} {'abstR':>6} {'in>ans':>6} {'oos>abst':>8} {'chars':>6} {'p50ms':>7} {'p95ms':>7}"
    )  # fmt: skip
    lines += ["", head, "-" * len(head)]
    for m in report["modes"]:
        for lang in (*LANGS, "all"):
            s = report["metrics"][m][lang]
            lines.append(
                f"{m:8} {lang:4} " + " ".join(f"{_fmt(s[f'recall@{c}']):>6}" for c in cut)
                + f" {_fmt(s['mrr']):>6} {_fmt(s['abstention_precision']):>6} {_fmt(s['abstention_recall']):>6}"
                + f" {_fmt(s['in_scope_answerable']):>6} {_fmt(s['out_of_scope_abstained']):>8}"
                + f" {_fmt(s['mean_passage_chars'], digits=0):>6} {_fmt(s['latency_ms_median'], digits=1):>7}"
                + f" {_fmt(s['latency_ms_p95'], digits=1):>7}"
            )  # fmt: skip
    lines += ["", "Confidence (share of questions high / low / none) and answer line (its passage holds an expected phrase):",
              f"{'mode':8} {'lang':4} {'in scope h/l/n':>18} {'out of scope h/l/n':>20} {'line ok':>8}"]
    for m in report["modes"]:
        for lang in (*LANGS, "all"):
            s = report["metrics"][m][lang]
            ins = "/".join(_fmt(s[f"in_scope_{v}"], digits=2) for v in CONFIDENCE)
            oos = "/".join(_fmt(s[f"out_of_scope_{v}"], digits=2) for v in CONFIDENCE)
            lines.append(f"{m:8} {lang:4} {ins:>18} {oos:>20} {_fmt(s['answer_line_right']):>8}")
    lines += ["", f"By question type (R@{k} / MRR):", f"{'mode':8} " + " ".join(f"{t:>20}" for t in TYPES[:3])]
    for m in report["modes"]:
        cells = []
        for t in TYPES[:3]:
            s = report["by_type"][m].get(t)
            cells.append(f"{_fmt(s[f'recall@{k}']) + ' / ' + _fmt(s['mrr']) + ' (' + str(s['n_in_scope']) + ')':>20}" if s else f"{'-':>20}")
        lines.append(f"{m:8} " + " ".join(cells))
    qtext = {q.id: q.question for q in questions or []}
    hard = [f for f in report["failures"] if not f["problem"].startswith("answer at rank")]
    late = [f for f in report["failures"] if f["problem"].startswith("answer at rank")]
    lines += ["", f"Failures ({len(hard)}): id, mode, problem, top citation"]
    for f in sorted(hard, key=lambda f: (report["modes"].index(f["mode"]), f["id"])):
        lines.append(f"  {f['id']:34} {f['mode']:8} {f['problem']:32} -> {f['top_citation']}")
        if qtext and f["mode"] == "hybrid":
            lines.append(f"  {'':34} {qtext.get(f['id'], '')}")
    lines += ["", f"Answer found but not first, hybrid ({sum(1 for f in late if f['mode'] == 'hybrid')}):"]
    for f in late:
        if f["mode"] == "hybrid":
            lines.append(f"  {f['id']:34} rank {f['rank']}   top: {f['top_citation']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from indexer.config import default_index_dir
    from retrieval.retriever import RetrievalError

    ap = argparse.ArgumentParser(prog="python -m retrieval.evaluate", description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, default=None, help="index folder (default: BELEIDSWIJZER_INDEX or ./index)")
    ap.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS, help=f"question file (default {DEFAULT_QUESTIONS.relative_to(REPO)})")
    ap.add_argument("--k", type=int, default=5, help="passages per question (default 5)")
    ap.add_argument("--modes", default=",".join(MODES), help="comma-separated modes (default: all three)")
    ap.add_argument("--model", default=None, help="model spec; default: the one that built the index")
    ap.add_argument("--json", type=Path, default=None, help="also write the full report (with per-question rows) here")
    args = ap.parse_args(argv)
    if args.k < 1:
        ap.error("--k must be at least 1")
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    bad = [m for m in modes if m not in MODES]
    if bad:
        ap.error(f"unknown mode(s) {', '.join(bad)}; choose from {', '.join(MODES)}")
    try:
        questions = load_questions(args.questions)
    except QuestionFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    try:
        retriever = Retriever(args.index or default_index_dir(), args.model)
    except (RetrievalError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    load_s = time.perf_counter() - t0
    report = evaluate(retriever, questions, k=args.k, modes=modes)
    report["load_seconds"] = load_s
    print(render(report, questions))
    print(f"\nIndex opened in {load_s:.1f} s, warm-up queries (model load) {report['warm_up_seconds']:.1f} s; "
          f"latency = one search per question in a warm process, query cache cleared.\nParams: {asdict(retriever.params)}")
    if args.json:
        report["params"] = asdict(retriever.params)
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
        print(f"Full report written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
