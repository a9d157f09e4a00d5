"""Fit fusion weights and the abstention threshold on the evaluation set, per model.

    python -m retrieval.calibrate --index DIR [--questions eval/questions.yaml] [--dry-run]

1. Fusion: `lexical_weight` x `coverage_power` over a small grid; the choice maximises the
   hybrid MRR averaged over the two languages (so the smaller English set weighs as much as the
   Dutch one), ties broken by the language-averaged recall@k, then by the smaller weight.
2. Abstention: the threshold `min_margin` of the retriever's own rule (retrieval.fusion.answerable,
   applied to the signals of its own search): a passage shown *is* a reference the question
   names, or the margin of the best passage cosine over the best general-domain background
   cosine reaches the threshold; never for a question about a state no document mentions whose
   best passage is about a foreign state. The threshold is the midpoint of the widest margin
   interval that maximises balanced accuracy (mean of: share of in-scope questions answered,
   share of out-of-scope questions abstained).
3. Over-fitting check: a 2-fold split stratified by language and type; each half is fitted
   with the same procedure and measured on the other half.
4. Check sets (default: DEFAULT_CHECKS, the blind sets in eval/, written apart from the questions
   and never tuned on): the fitted values replace the model's current ones only if
   they do no worse on every check set. The fusion weights must not lower the hybrid MRR or
   the recall@k of either language; the threshold must not lower the share of in-scope questions
   answered or of out-of-scope questions abstained. Where they would, the current value is
   kept and the check that fell is named. A model without values of its own has nothing to
   keep: its first fit is taken as it is.

The values are written into retrieval/calibration.json under the model's name (starting from
the "default" entry, which is kept, so unfitted parameters keep their default).
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import hashlib
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from retrieval import fusion
from retrieval.evalsets import check_sets
from retrieval.evaluate import DEFAULT_QUESTIONS, LANGS, REPO, Question, evaluate, load_questions, run_question, summarise
from retrieval.fusion import CALIBRATION, Params, Signals, read_calibration
from retrieval.retriever import Retriever

DEFAULT_CHECKS = tuple(s.path for s in check_sets())  # eval/sets.yaml's check sets, in its order
LEXICAL_WEIGHTS = (0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.5)
COVERAGE_POWERS = (1.0, 2.0)


@contextmanager
def params_set(retriever: Retriever, **values) -> Iterator[None]:
    """Run the retriever with `values` replacing its parameters; restored afterwards."""
    base = retriever.params
    retriever.params = dataclasses.replace(base, **values)
    try:
        yield
    finally:
        retriever.params = base


# ------------------------------------------------------------------------------ fusion


def fusion_runs(retriever: Retriever, questions: list[Question], k: int) -> dict[tuple[float, float], list[dict]]:
    """Hybrid rows per (lexical_weight, coverage_power); query vectors are cached across runs."""
    runs = {}
    for w in LEXICAL_WEIGHTS:
        for p in COVERAGE_POWERS:
            with params_set(retriever, lexical_weight=w, coverage_power=p):
                runs[(w, p)] = [run_question(retriever, q, "hybrid", k, timed=False) for q in questions if q.in_scope]
    return runs


def fusion_score(rows: list[dict], k: int) -> tuple[float, float]:
    """(MRR averaged over languages, recall@k averaged over languages) of hybrid rows."""
    mrr, rec = [], []
    for lang in LANGS:
        s = summarise([r for r in rows if r["lang"] == lang], k)
        if s["n_in_scope"]:
            mrr.append(s["mrr"])
            rec.append(s[f"recall@{k}"])
    return float(np.mean(mrr)), float(np.mean(rec))


def choose_fusion(runs: dict, ids: set[str], k: int) -> tuple[tuple[float, float], dict]:
    """The grid point with the best language-averaged MRR on the questions `ids`."""
    scored = {key: fusion_score([r for r in rows if r["id"] in ids], k) for key, rows in runs.items()}
    best = max(scored, key=lambda key: (round(scored[key][0], 6), round(scored[key][1], 6), -key[0], -key[1]))
    return best, scored


# ------------------------------------------------------------------------------ abstention


THRESHOLD = "min_margin"  # the Params field the abstention threshold sets


def abstention_features(retriever: Retriever, q: Question, k: int = 5) -> dict:
    """The signals the retriever's abstention rule looks at, from its own hybrid search: the
    margin ("score"), the best cosine, an exact reference shown, the unknown states named."""
    s = retriever.search(q.question, k=k).signals
    return {"id": q.id, "lang": q.lang, "type": q.type, "in_scope": q.in_scope, "score": s.margin,
            "top_cos": s.top_cosine, "ref_exact": s.exact_reference, "shown": s.shown,
            "unknown_places": list(s.unknown_places)}  # fmt: skip


def decide(f: dict, threshold: float) -> bool:
    """The retriever's rule (fusion.answerable) on a question's features, at `threshold`."""
    signals = Signals(shown=f.get("shown", 1), exact_reference=f["ref_exact"], coverage=0.0, margin=f["score"],
                      unknown_places=tuple(f.get("unknown_places") or ()))  # fmt: skip
    return fusion.answerable(signals, "hybrid", Params(min_margin=threshold))


def balanced_accuracy(feats: list[dict], threshold: float) -> float:
    ins = [f for f in feats if f["in_scope"]]
    oos = [f for f in feats if not f["in_scope"]]
    tpr = sum(decide(f, threshold) for f in ins) / len(ins) if ins else 1.0
    tnr = sum(not decide(f, threshold) for f in oos) / len(oos) if oos else 1.0
    return (tpr + tnr) / 2


def fit_threshold(feats: list[dict]) -> tuple[float, float, tuple[float, float]]:
    """(threshold, balanced accuracy, best interval): midpoint of the widest best interval."""
    if not feats:
        raise ValueError("no questions to fit the threshold on")
    s = sorted({f["score"] for f in feats})  # exact values: the best interval can be narrow
    bounds = [s[0] - 0.05] + s + [s[-1] + 0.05]
    # a threshold in (bounds[i], bounds[i+1]] gives the same decisions: evaluate at the upper end
    ba = [balanced_accuracy(feats, bounds[i + 1]) for i in range(len(bounds) - 1)]
    best = max(ba)
    runs, start = [], None
    for i, v in enumerate(ba + [None]):
        if v is not None and abs(v - best) < 1e-12:
            start = i if start is None else start
        elif start is not None:
            runs.append((bounds[start], bounds[i]))  # thresholds in (lo, hi] are all best
            start = None
    lo, hi = max(runs, key=lambda r: r[1] - r[0])
    return round((lo + hi) / 2, 6), best, (lo, hi)


def abstention_report(feats: list[dict], threshold: float) -> dict:
    ins = [f for f in feats if f["in_scope"]]
    oos = [f for f in feats if not f["in_scope"]]
    return {
        "in_scope_answerable": sum(decide(f, threshold) for f in ins) / len(ins) if ins else None,
        "out_of_scope_abstained": sum(not decide(f, threshold) for f in oos) / len(oos) if oos else None,
        "balanced_accuracy": balanced_accuracy(feats, threshold),
    }


# ------------------------------------------------------------------------------ folds


def two_folds(questions: list[Question]) -> tuple[set[str], set[str]]:
    """A deterministic split, stratified by (language, type), on a hash of the id."""
    a, b = set(), set()
    strata: dict[tuple[str, str], list[str]] = {}
    for q in questions:
        strata.setdefault((q.lang, q.type), []).append(q.id)
    for ids in strata.values():
        for i, qid in enumerate(sorted(ids, key=lambda x: hashlib.sha1(x.encode()).hexdigest())):
            (a if i % 2 == 0 else b).add(qid)
    return a, b


def fit(runs: dict, feats: list[dict], ids: set[str], k: int) -> dict:
    (w, p), _ = choose_fusion(runs, ids, k)
    t, _, _ = fit_threshold([f for f in feats if f["id"] in ids])
    return {"lexical_weight": w, "coverage_power": p, THRESHOLD: t}


def measure(runs: dict, feats: list[dict], params: dict, ids: set[str], k: int) -> dict:
    rows = [r for r in runs[(params["lexical_weight"], params["coverage_power"])] if r["id"] in ids]
    out = {}
    for lang in LANGS:
        s = summarise([r for r in rows if r["lang"] == lang], k)
        out[f"mrr_{lang}"], out[f"recall@{k}_{lang}"] = s["mrr"], s[f"recall@{k}"]
    out.update(abstention_report([f for f in feats if f["id"] in ids], params[THRESHOLD]))
    return out


# ------------------------------------------------------------------------------ check sets

FUSION_FIELDS = ("lexical_weight", "coverage_power")
ABSTENTION_METRICS = ("in_scope_answerable", "out_of_scope_abstained")


def check_metrics(retriever: Retriever, questions: list[Question], values: dict, k: int) -> dict[str, float]:
    """Hybrid metrics of the retriever run with `values`: MRR over all questions, recall@k per
    language, and the shares of in-scope questions answered and out-of-scope ones abstained."""
    with params_set(retriever, **values):
        metrics = evaluate(retriever, questions, k=k, modes=("hybrid",), timed=False)["metrics"]["hybrid"]
    found = {"mrr all": metrics["all"]["mrr"]}
    found.update({f"recall@{k} {lang}": metrics[lang][f"recall@{k}"] for lang in LANGS})
    found.update({name: metrics["all"][name] for name in ABSTENTION_METRICS})
    return {name: val for name, val in found.items() if val is not None}


def fallen(before: dict[str, float], after: dict[str, float], names: tuple[str, ...]) -> list[str]:
    """The metrics (whose name starts with one of `names`) that are lower after than before."""
    return [f"{m} {before[m]:.3f} -> {after[m]:.3f}" for m in before
            if m.split(" ")[0] in names and m in after and after[m] < before[m] - 1e-9]  # fmt: skip


def guard(
    retriever: Retriever, chosen: dict, current: dict | None, checks: list[tuple[str, list[Question]]], k: int, say=print
) -> tuple[dict, list[dict]]:
    """`chosen`, with the current fusion weights and/or threshold kept where the chosen ones do
    worse on a check set; also the per-set comparison. Without `current` values or check sets,
    `chosen` as it is."""
    if current is None or not checks:
        return chosen, []
    name = THRESHOLD
    old = {key: current.get(key, chosen[key]) for key in chosen}
    new_fusion = {**old, **{f: chosen[f] for f in FUSION_FIELDS}}
    new_threshold = {**old, name: chosen[name]}
    ranking = ("mrr", f"recall@{k}")
    fusion_fell, threshold_fell, rows = [], [], []
    for label, questions in checks if old != chosen else ():  # nothing to hold against when the fit changes nothing
        before = check_metrics(retriever, questions, old, k)
        fusion_after = check_metrics(retriever, questions, new_fusion, k) if new_fusion != old else before
        threshold_after = check_metrics(retriever, questions, new_threshold, k) if new_threshold != old else before
        fusion_fell += [f"{label}: {m}" for m in fallen(before, fusion_after, ranking)]
        threshold_fell += [f"{label}: {m}" for m in fallen(before, threshold_after, ABSTENTION_METRICS)]
        rows.append({"set": label, "current": before, "fitted_fusion": fusion_after, "fitted_threshold": threshold_after})
    result = dict(chosen)
    for fields, fell, what in ((FUSION_FIELDS, fusion_fell, "fusion weights"), ((name,), threshold_fell, "threshold")):
        was = ", ".join(f"{f}={old[f]:g}" for f in fields)
        now = ", ".join(f"{f}={chosen[f]:g}" for f in fields)
        if all(old[f] == chosen[f] for f in fields):
            say(f"  {what}: fitted = current ({was})")
        elif fell:
            result.update({f: old[f] for f in fields})
            say(f"  {what}: kept the current {was}; the fitted {now} does worse on: " + "; ".join(fell))
        else:
            say(f"  {what}: {was} -> {now} (no check set does worse)")
    return result, rows


# ------------------------------------------------------------------------------ main


def calibrate(
    retriever: Retriever, questions: list[Question], k: int = 5, say=print,
    checks: list[tuple[str, list[Question]]] = (), current: dict | None = None,
) -> dict:  # fmt: skip
    """Fit on all questions, report the choice and a 2-fold check, then hold the fitted values
    against `current` on the check sets (see `guard`); "chosen" in the result is what to write."""
    say(f"Model {retriever.encoder.name}, {len(questions)} questions, k={k}")
    runs = fusion_runs(retriever, questions, k)
    feats = [abstention_features(retriever, q, k) for q in questions]
    all_ids = {q.id for q in questions}

    (w, p), scored = choose_fusion(runs, all_ids, k)
    say("\nFusion grid: hybrid MRR averaged over nl/en (recall@%d averaged)" % k)
    say("  weight " + " ".join(f"power {pw:g}".rjust(16) for pw in COVERAGE_POWERS))
    for wt in LEXICAL_WEIGHTS:
        cells = [f"{scored[(wt, pw)][0]:.3f} ({scored[(wt, pw)][1]:.3f})".rjust(16) for pw in COVERAGE_POWERS]
        mark = "  <- chosen" if wt == w else ""
        say(f"  {wt:6.2f} " + " ".join(cells) + mark)
    say(f"Chosen: lexical_weight={w}, coverage_power={p:g} (best language-averaged MRR "
        f"{scored[(w, p)][0]:.3f}; ties -> higher recall, then the smaller weight).")  # fmt: skip

    name = THRESHOLD
    t, ba, (lo, hi) = fit_threshold(feats)
    say("\nAbstention: threshold on the margin of the best passage over the best background text, maximising balanced accuracy")
    ins = sorted(f["score"] for f in feats if f["in_scope"] and not f["ref_exact"])
    oos = sorted(f["score"] for f in feats if not f["in_scope"])
    if ins and oos:
        say(f"  score, in scope (without exact reference): min {ins[0]:.4f} p5 {np.percentile(ins, 5):.4f} "
            f"median {np.median(ins):.4f};  out of scope: min {oos[0]:.4f} median {np.median(oos):.4f} max {oos[-1]:.4f}")  # fmt: skip
    rep = abstention_report(feats, t)
    say(f"Chosen: {name}={t} (midpoint of the best interval ({lo:.4f}, {hi:.4f}], width {hi - lo:.4f}) -> "
        f"in scope answerable {rep['in_scope_answerable']:.3f}, out of scope abstained "
        f"{rep['out_of_scope_abstained']:.3f}, balanced accuracy {rep['balanced_accuracy']:.3f}")  # fmt: skip
    for f in sorted((f for f in feats if decide(f, t) != f["in_scope"]), key=lambda f: f["score"]):
        say(f"    misjudged: {f['id']:36} score {f['score']:+.4f} (cos {f['top_cos']:.4f}) "
            f"{'in scope, abstains' if f['in_scope'] else 'out of scope, answers'}")  # fmt: skip
    chosen = {"lexical_weight": w, "coverage_power": p, name: t}

    a, b = two_folds(questions)
    say("\n2-fold check (fit on one half, measure on the other; 'full fit' = the values above on the same half):")
    folds = []
    by_id = {q.id: q for q in questions}
    for fold, train, test in (("A->B", a, b), ("B->A", b, a)):
        kinds = [{by_id[i].in_scope for i in half} for half in (train, test)]
        if any(kind != {True, False} for kind in kinds):
            say(f"  {fold}: skipped (each half needs in-scope and out-of-scope questions)")
            continue
        fitted = fit(runs, feats, train, k)
        held = measure(runs, feats, fitted, test, k)
        full = measure(runs, feats, chosen, test, k)
        folds.append({"fold": fold, "fitted": fitted, "held_out": held, "full_fit": full})
        say(f"  {fold}: fitted {fitted}")
        for label, m in (("held out", held), ("full fit", full)):
            say(f"    {label:9} " + "  ".join(f"{key} {val:.3f}" if val is not None else f"{key} n/a" for key, val in m.items()))
    fitted = chosen
    if checks and current is None:
        say("\nCheck sets: not used; this model has no values of its own yet, so its first fit is taken.")
    elif checks:
        say(f"\nCheck sets ({', '.join(label for label, _ in checks)}): the fitted values must do no worse than the current ones")
    chosen, check_rows = guard(retriever, fitted, current, list(checks), k, say)
    return {"model": retriever.encoder.name, "chosen": chosen, "fitted": fitted, "checks": check_rows, "folds": folds,
            "features": feats, "fusion_grid": {f"{kk[0]}/{kk[1]}": v for kk, v in scored.items()}}  # fmt: skip


def write_calibration(
    model: str, chosen: dict, questions_file: Path, n: int, path: Path = CALIBRATION, checks: tuple[Path, ...] = ()
) -> None:
    """Store the values under the model name, starting from "default"; keep every other entry and
    the model's confidence model (fitted by retrieval.confidence, not here)."""
    data = read_calibration(path)
    default = data.setdefault("default", {})
    entry = {key: val for key, val in default.items() if key in Params.__dataclass_fields__}
    if (data.get(model) or {}).get("confidence") is not None:
        entry["confidence"] = data[model]["confidence"]
    entry.update(chosen)
    entry["fitted_on"] = f"{_shown(questions_file)} ({n} questions), {dt.date.today().isoformat()}, python -m retrieval.calibrate"
    if checks:
        entry["checked_on"] = ", ".join(str(_shown(c)) for c in checks)
    data[model] = entry
    fusion.write_calibration(data, path)


def _shown(path: Path) -> Path:
    """`path` relative to the repository when it is inside it."""
    try:
        return path.resolve().relative_to(REPO)
    except ValueError:
        return path


def _load_check(path: Path) -> list[Question]:
    try:
        return load_questions(path)
    except ValueError as exc:
        raise ValueError(f"{exc} (a check set: name others with --check FILE, or fit without them with --no-checks)") from None


def main(argv: list[str] | None = None) -> int:
    from indexer.config import default_index_dir
    from retrieval.retriever import RetrievalError

    ap = argparse.ArgumentParser(prog="python -m retrieval.calibrate", description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, default=None, help="index folder (default: BELEIDSWIJZER_INDEX or ./index)")
    ap.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS, help="question file")
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--dry-run", action="store_true", help="print the choice, do not write calibration.json")
    ap.add_argument("--force", action="store_true", help="also write for the fake test encoder")
    ap.add_argument("--json", type=Path, default=None, help="write the calibration report here")
    ap.add_argument("--check", type=Path, action="append", default=None, metavar="FILE",
                    help="a check set the fitted values must do no worse on (repeatable; default: "
                         + ", ".join(str(_shown(c)) for c in DEFAULT_CHECKS) + ")")  # fmt: skip
    ap.add_argument("--no-checks", action="store_true", help="take the fitted values without check sets")
    args = ap.parse_args(argv)
    check_files = () if args.no_checks else tuple(args.check or DEFAULT_CHECKS)
    try:
        questions = load_questions(args.questions)
        checks = [(c.name, _load_check(c)) for c in check_files]
        retriever = Retriever(args.index or default_index_dir())
    except (RetrievalError, RuntimeError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    model = retriever.encoder.name
    report = calibrate(retriever, questions, args.k, checks=checks, current=Params.calibrated(model))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1), encoding="utf-8")
    if args.dry_run:
        print(f"\n--dry-run: {CALIBRATION} not changed.")
    elif model.startswith("fake") and not args.force:
        print(f"\nNot written: '{model}' is the test encoder, and unit tests rely on the 'default' entry. Use --force to write it anyway.")
    else:
        write_calibration(model, report["chosen"], args.questions, len(questions), checks=check_files)
        print(f"\nWritten to {CALIBRATION} under '{model}'.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
