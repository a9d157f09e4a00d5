"""Fit the confidence model (retrieval.fusion.ConfidenceModel) on the tuning sets and report it
on every evaluation set.

    python -m retrieval.confidence --index DIR [--dry-run]

The model is a logistic regression of "the corpus answers the question" (in scope) on signals
of the retriever's own hybrid search: the dense margin over the background texts and the best
cosine (FEATURES; the lexical coverage and the dense/lexical agreement added nothing in a 2-fold
split of the tuning questions, and coverage is low for every English question). It is fitted
on every question of the tuning sets of eval/sets.yaml that the model decides (not those an
exact reference or an unknown state decides), with the features standardised on those
questions, class-balanced weights (in-scope questions outnumber the others) and an L2 penalty
on the weights.

The levels are operating points with a stated meaning, not an accuracy optimum: `none` only
below the probability under which at most MISSED (5 %) of the in-scope tuning questions fall
(a false refusal is what officers complain of), `high` only above the one that at most
OVERCONFIDENT (5 %) of the out-of-scope tuning questions reach; `low` (possibly relevant)
between. A 2-fold split of the tuning questions shows how the fit carries over; the check
sets, never fitted on, show it too. The model is written into retrieval/calibration.json under
the encoder's name ("confidence").
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from retrieval import fusion
from retrieval.evalsets import check_sets, tune_sets
from retrieval.evaluate import LANGS, Question, load_questions
from retrieval.fusion import CALIBRATION, ConfidenceModel, Signals, read_calibration
from retrieval.retriever import Retriever

FEATURES = ("margin", "top_cosine")  # the signals the model weighs (of fusion.FEATURES)
MISSED = 0.05  # share of in-scope tuning questions the model may call 'none'
OVERCONFIDENT = 0.05  # share of out-of-scope tuning questions the model may call 'high'
L2 = 1.0  # penalty on the standardised weights (not on the bias)


def signals_of(retriever: Retriever, questions: Sequence[Question], k: int = 5) -> list[Signals]:
    """The signals of each question's hybrid search."""
    return [retriever.search(q.question, k=k).signals for q in questions]


def decided_by_model(s: Signals) -> bool:
    """Whether the model decides the question (no hard rule does: exact reference, unknown state)."""
    return bool(s.shown) and not s.exact_reference and not s.unknown_places


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = L2, iterations: int = 50) -> tuple[np.ndarray, float]:
    """(weights, bias) of a class-balanced, L2-penalised logistic regression of y (0/1) on the
    standardised columns of x, by Newton's method."""
    n, d = x.shape
    pos = max(int(y.sum()), 1)
    neg = max(n - int(y.sum()), 1)
    sample = np.where(y == 1, n / (2 * pos), n / (2 * neg))
    design = np.hstack([x, np.ones((n, 1))])
    beta = np.zeros(d + 1)
    penalty = np.diag([l2] * d + [0.0])
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-np.clip(design @ beta, -30, 30)))
        gradient = design.T @ (sample * (p - y)) + penalty @ beta
        hessian = design.T @ (design * (sample * p * (1 - p))[:, None]) + penalty + 1e-9 * np.eye(d + 1)
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-10:
            break
    return beta[:d], float(beta[d])


def fit(signals: Sequence[Signals], in_scope: Sequence[bool], features: Sequence[str] = FEATURES) -> ConfidenceModel:
    """The confidence model of the questions the model decides."""
    rows = [i for i, s in enumerate(signals) if decided_by_model(s)]
    if not rows or len({in_scope[i] for i in rows}) < 2:
        raise ValueError("the confidence model needs in-scope and out-of-scope questions to fit on")
    raw = np.array([[signals[i].value(f) for f in features] for i in rows], dtype=np.float64)
    y = np.array([1.0 if in_scope[i] else 0.0 for i in rows])
    center = raw.mean(axis=0)
    scale = raw.std(axis=0)
    scale[scale == 0] = 1.0
    weights, bias = fit_logistic((raw - center) / scale, y)
    model = ConfidenceModel(tuple(features), tuple(round(float(c), 6) for c in center),
                            tuple(round(float(s), 6) for s in scale), tuple(round(float(w), 6) for w in weights),
                            round(bias, 6), 1.0, 0.0)  # fmt: skip
    p = np.array([model.probability(row) for row in raw])
    low = _quantile_floor(p[y == 1], MISSED)  # at most MISSED of the in-scope questions below it
    high = max(low, _quantile_ceiling(p[y == 0], OVERCONFIDENT))  # at most OVERCONFIDENT out of scope at or above
    # stored to 6 decimals, rounded outwards so that the stated shares still hold
    return replace(model, low=math.floor(low * 1e6) / 1e6, high=math.ceil(high * 1e6) / 1e6)


def _quantile_floor(values: np.ndarray, share: float) -> float:
    """The largest threshold that leaves at most `share` of `values` below it."""
    ordered = np.sort(values)
    return float(ordered[int(np.floor(share * len(ordered)))])


def _quantile_ceiling(values: np.ndarray, share: float) -> float:
    """The smallest threshold that at most `share` of `values` reach (just above the rest)."""
    ordered = np.sort(values)[::-1]
    allowed = int(np.floor(share * len(ordered)))
    return float(np.nextafter(ordered[allowed], 2.0)) if allowed < len(ordered) else 0.0


def levels(signals: Sequence[Signals], model: ConfidenceModel, params: fusion.Params) -> list[str]:
    """The confidence of each question under `model` (hybrid mode)."""
    with_model = replace(params, confidence=model)
    return [fusion.confidence(s, "hybrid", with_model) for s in signals]


def report(questions: Sequence[Question], found: Sequence[str]) -> dict:
    """Per language and all: in-scope answered (high or low), out-of-scope none, and the shares
    of high / low / none in and out of scope."""
    out = {}
    for group in (*LANGS, "all"):
        pairs = [(q, c) for q, c in zip(questions, found) if group == "all" or q.lang == group]
        ins = [c for q, c in pairs if q.in_scope]
        oos = [c for q, c in pairs if not q.in_scope]
        share = lambda xs, pred: (sum(1 for x in xs if pred(x)) / len(xs)) if xs else None  # noqa: E731
        out[group] = {
            "n_in_scope": len(ins), "n_out_of_scope": len(oos),
            "in_scope_answered": share(ins, lambda c: c != "none"),
            "out_of_scope_none": share(oos, lambda c: c == "none"),
            **{f"in_scope_{v}": share(ins, lambda c, v=v: c == v) for v in fusion.CONFIDENCE},
            **{f"out_of_scope_{v}": share(oos, lambda c, v=v: c == v) for v in fusion.CONFIDENCE},
        }  # fmt: skip
    return out


def two_folds(ids: Sequence[str]) -> tuple[set[int], set[int]]:
    """A deterministic split of positions by a hash of the question id."""
    import hashlib

    order = sorted(range(len(ids)), key=lambda i: hashlib.sha1(ids[i].encode()).hexdigest())
    return set(order[0::2]), set(order[1::2])


def _line(label: str, r: dict) -> str:
    fmt = lambda v: "n/a" if v is None else f"{v:.3f}"  # noqa: E731
    return (f"  {label:24} " + "   ".join(
        f"{g}: answered {fmt(r[g]['in_scope_answered'])} ({r[g]['n_in_scope']}), none {fmt(r[g]['out_of_scope_none'])} "
        f"({r[g]['n_out_of_scope']})" for g in (*LANGS, "all")))  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    from indexer.config import default_index_dir
    from retrieval.retriever import RetrievalError

    ap = argparse.ArgumentParser(prog="python -m retrieval.confidence", description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, default=None, help="index folder (default: BELEIDSWIJZER_INDEX or ./index)")
    ap.add_argument("--dry-run", action="store_true", help="print the model and its figures, do not write calibration.json")
    ap.add_argument("--json", type=Path, default=None, help="also write the report here")
    args = ap.parse_args(argv)
    try:
        retriever = Retriever(args.index or default_index_dir())
        tune = [(s.file, load_questions(s.path)) for s in tune_sets()]
        checks = [(s.file, load_questions(s.path)) for s in check_sets()]
    except (RetrievalError, RuntimeError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    questions = [q for _, qs in tune for q in qs]
    signals = signals_of(retriever, questions)
    in_scope = [q.in_scope for q in questions]
    model = fit(signals, in_scope)
    decided = sum(1 for s in signals if decided_by_model(s))
    print(f"Model {retriever.encoder.name}: fitted on {decided} of {len(questions)} tuning questions "
          f"({', '.join(f for f, _ in tune)}); the rest an exact reference or an unknown state decides.")  # fmt: skip
    print("Standardised weights: " + ", ".join(f"{f} {w:+.3f}" for f, w in zip(model.features, model.weights))
          + f"; bias {model.bias:+.3f}; low from P >= {model.low:.3f} (at most {MISSED:.0%} of in-scope tuning "
          f"questions below), high from P >= {model.high:.3f} (at most {OVERCONFIDENT:.0%} out of scope at or above)")  # fmt: skip
    result: dict = {"model": model.to_dict(), "sets": {}, "folds": []}
    print("\nTuning sets (fitted on):")
    offset = 0
    for name, qs in tune:
        r = report(qs, levels(signals[offset : offset + len(qs)], model, retriever.params))
        offset += len(qs)
        result["sets"][name] = r
        print(_line(name, r))
    print("\n2-fold check of the tuning questions (fit on one half, measured on the other):")
    a, b = two_folds([q.id for q in questions])
    for label, train, test in (("A->B", a, b), ("B->A", b, a)):
        half = fit([signals[i] for i in sorted(train)], [in_scope[i] for i in sorted(train)])
        held = [i for i in sorted(test)]
        r = report([questions[i] for i in held], levels([signals[i] for i in held], half, retriever.params))
        result["folds"].append({"fold": label, "held_out": r})
        print(_line(label + " held out", r))
    print("\nCheck sets (never fitted on):")
    for name, qs in checks:
        r = report(qs, levels(signals_of(retriever, qs), model, retriever.params))
        result["sets"][name] = r
        print(_line(name, r))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1), encoding="utf-8")
    if args.dry_run:
        print(f"\n--dry-run: {CALIBRATION} not changed.")
    elif retriever.encoder.name.startswith("fake"):
        print(f"\nNot written: '{retriever.encoder.name}' is the test encoder.")
    else:
        write_model(retriever.encoder.name, model)
        print(f"\nWritten to {CALIBRATION} under '{retriever.encoder.name}' (\"confidence\").")
    return 0


def write_model(model_name: str, model: ConfidenceModel, path: Path = CALIBRATION) -> None:
    """Store the model under the encoder's entry, keeping every other value and entry."""
    data = read_calibration(path)
    entry = data.setdefault(model_name, dict(data.get("default", {})))
    entry["confidence"] = model.to_dict()
    fusion.write_calibration(data, path)


if __name__ == "__main__":
    sys.exit(main())
