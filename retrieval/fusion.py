"""Ranking and abstention as pure functions of scores and parameters, used by the Retriever
and by calibration alike (calibration never keeps its own copy).

Hybrid ranking: the dense score (cosine, min-max scaled over the candidates) plus the BM25
score (scaled by the best BM25 of the query) weighted by the share of the question's terms
that the lexical index knows. An English question over Dutch text matches few terms, so the
dense ranking stands; a Dutch question that shares the corpus' words gains from BM25.
The candidate with the best cosine, and the one with the best BM25 score when the lexical side
knows at least half of the question's terms, are kept among the k shown where there is room
(keep_each_sides_best): a weighted sum can bury a passage that one side is sure of and the
other ranks deep. The fused best and the passages that are a named reference never give way.
References named in the question rank the passages that are that reference first.

Confidence in three levels: `high` (the passages answer the question), `low` (possibly
relevant: shown, labelled as such) and `none` (outside the corpus). A passage shown that is
exactly a reference the question names is `high`; a question that names only states the corpus
does not mention, when its best passage is about a foreign state, is `none` (retrieval/places.py).
Otherwise, in hybrid mode with a calibrated ConfidenceModel, a small logistic model combines the
signals of the search (the dense margin over the general-domain background texts, the best
cosine, the lexical term coverage, the agreement of the dense and lexical top 5) into the
probability that the corpus answers the question; without one (and in dense mode) the best
passage must be closer to the question than the nearest background text by `min_margin`, and in
lexical mode the lexical side must know enough of the question's terms. A question is answerable
unless its confidence is `none`.
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MODES = ("hybrid", "dense", "lexical")
CONFIDENCE = ("high", "low", "none")
CALIBRATION = Path(__file__).with_name("calibration.json")
FEATURES = ("margin", "top_cosine", "coverage", "agreement")  # what a ConfidenceModel may weigh


def read_calibration(path: Path = CALIBRATION) -> dict:
    """calibration.json: model name -> its calibrated values ({} when there is no file)."""
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def write_calibration(data: dict, path: Path = CALIBRATION) -> None:
    """calibration.json with one model's entry per line, so that a refit shows as a one-line change
    (retrieval.calibrate writes the fusion values and threshold, retrieval.confidence the model)."""
    text = "{\n" + ",\n".join(f"  {json.dumps(key)}: {json.dumps(val, ensure_ascii=False)}" for key, val in data.items()) + "\n}\n"
    path.write_text(text, encoding="utf-8")


@dataclass(frozen=True)
class ConfidenceModel:
    """A logistic model of P(the corpus answers the question) over standardised signals, and the
    probabilities from which a question is `high` and `low` (calibration.json, "confidence")."""

    features: tuple[str, ...]
    center: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    high: float
    low: float

    @classmethod
    def from_dict(cls, data: Mapping) -> "ConfidenceModel":
        unknown = [f for f in data["features"] if f not in FEATURES]
        if unknown:
            raise ValueError(f"unknown confidence feature(s) {', '.join(unknown)}; choose from {', '.join(FEATURES)}")
        n = len(data["features"])
        if not (len(data["center"]) == len(data["scale"]) == len(data["weights"]) == n):
            raise ValueError("a confidence model needs one center, scale and weight per feature")
        return cls(tuple(data["features"]), tuple(map(float, data["center"])), tuple(map(float, data["scale"])),
                   tuple(map(float, data["weights"])), float(data["bias"]), float(data["high"]), float(data["low"]))  # fmt: skip

    def to_dict(self) -> dict:
        return {"features": list(self.features), "center": list(self.center), "scale": list(self.scale),
                "weights": list(self.weights), "bias": self.bias, "high": self.high, "low": self.low}  # fmt: skip

    def probability(self, values: Sequence[float]) -> float:
        """P(answerable) for the feature values, in the order of `features`."""
        z = self.bias + sum(w * (v - c) / s for w, v, c, s in zip(self.weights, values, self.center, self.scale))
        return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0


@dataclass(frozen=True)
class Params:
    """Fusion and abstention parameters, calibrated per model (see calibration.json)."""

    lexical_weight: float = 0.6  # weight of scaled BM25 at full term coverage
    coverage_power: float = 1.0  # coverage ** power scales the lexical weight
    dense_candidates: int = 100
    lexical_candidates: int = 100
    # Abstain unless the best passage is closer to the question than the nearest general-domain
    # background text (indexer/background.yaml) by at least this cosine margin.
    min_margin: float = 0.0
    min_coverage_for_lexical_answer: float = 0.5  # lexical-only mode: share of terms matched
    confidence: ConfidenceModel | None = field(default=None, compare=False)  # hybrid mode, when calibrated

    @classmethod
    def calibrated(cls, model: str, path: Path = CALIBRATION) -> dict | None:
        """The values calibration.json holds for `model` (Params fields only); None without an entry."""
        entry = read_calibration(path).get(model)
        if not entry:
            return None
        values = {k: v for k, v in entry.items() if k in cls.__dataclass_fields__}
        if values.get("confidence") is not None:
            values["confidence"] = ConfidenceModel.from_dict(values["confidence"])
        return values

    @classmethod
    def for_model(cls, model: str) -> "Params":
        """The model's calibrated values, else the "default" entry's, else the field defaults."""
        return cls(**(cls.calibrated(model) or cls.calibrated("default") or {}))


def fuse(dense: np.ndarray, lexical: np.ndarray, coverage: float, mode: str, params: Params) -> np.ndarray:
    """One score per candidate from its cosine (`dense`) and BM25 score (`lexical`, 0 when none)."""
    if mode == "dense":
        return dense
    lxn = lexical / lexical.max() if len(lexical) and lexical.max() > 0 else lexical
    if mode == "lexical":
        return lxn
    d = dense
    dn = (d - d.min()) / (d.max() - d.min()) if len(d) and d.max() > d.min() else np.zeros_like(d)
    w = params.lexical_weight * coverage**params.coverage_power
    return dn + w * lxn


def keep_each_sides_best(order: list[int], best: list[int], k: int, keep: set[int] = frozenset()) -> list[int]:
    """`order` with the items of `best` among its first k where there is room: one that is not
    there takes the place of the lowest-ranked item that is neither the first of `order`, nor in
    `best`, nor in `keep` (reference matches), and is put last of the k. The order is otherwise
    unchanged; with k = 1 it is `order` itself.

    Measured with retrieval.evaluate (hybrid R@5): Dutch 0.909 -> 0.922 on eval/questions.yaml
    (the passage dense-only ranked first was 7th after fusion), unchanged on the held-out set;
    R@1 and abstention are unaffected. Keeping the lexical best also for questions whose terms
    the index mostly does not know would add an English question (0.926 -> 0.963), but there the
    BM25 ranking is weak evidence, so it is not kept.
    """
    if k < 2 or not order:
        return order
    top = order[:k]
    for b in dict.fromkeys(best):
        if b in top:
            continue
        out = next((j for j in range(len(top) - 1, 0, -1) if top[j] not in best and top[j] not in keep), None)
        if out is None:
            continue
        top = top[:out] + top[out + 1 :] + [b]
    chosen = set(top)
    return top + [i for i in order if i not in chosen]


def rank(
    dense: np.ndarray, lexical: np.ndarray, reference: np.ndarray, coverage: float, mode: str, k: int,
    params: Params, bare_reference: bool = False,
) -> tuple[list[int], np.ndarray]:  # fmt: skip
    """(order, fused scores) of candidates given per candidate its cosine (`dense`), BM25 score
    (`lexical`, 0 when none) and reference match strength (`reference`, 0 when none), in the
    order of their rows. The passages that are a named reference come first; a bare reference
    ("art. 43 Vw") shows its passages in document (row) order."""
    fused = fuse(dense, lexical, coverage, mode, params)
    n = len(fused)
    if bare_reference:
        return sorted(range(n), key=lambda i: (-reference[i], i)), fused
    order = sorted(range(n), key=lambda i: (-reference[i], -fused[i]))
    if mode == "hybrid" and n:
        sides_best = [max(range(n), key=lambda i: dense[i])]
        lex_best = max(range(n), key=lambda i: lexical[i])
        if lexical[lex_best] > 0 and coverage >= params.min_coverage_for_lexical_answer:
            sides_best.append(lex_best)
        order = keep_each_sides_best(order, sides_best, k, {i for i in order if reference[i]})
    return order, fused


def margin(top_cosine: float, background_best: float | None) -> float:
    """The best passage's cosine minus the best background text's (> 0: closer to the corpus);
    the best cosine itself when there are no background texts."""
    return float(top_cosine - background_best) if background_best is not None else top_cosine


@dataclass(frozen=True)
class Signals:
    """What the abstention decision looks at, for one question and mode."""

    shown: int  # passages shown
    exact_reference: bool  # a passage shown is exactly a reference the question names
    coverage: float  # share of the question's terms the lexical index knows (idf-weighted)
    margin: float | None  # fusion.margin of the best candidate; None without the dense side
    unknown_places: tuple[str, ...] = ()  # states the question names that no document mentions
    top_cosine: float | None = None  # the best candidate's cosine
    agreement: float = 0.0  # share of the dense top 5 that is also in the lexical top 5

    def value(self, feature: str) -> float:
        """A feature of ConfidenceModel (FEATURES); a side that did not run counts as 0."""
        v = getattr(self, feature)
        return 0.0 if v is None else float(v)


def probability(s: Signals, model: ConfidenceModel) -> float:
    """The model's probability that the corpus answers the question."""
    return model.probability([s.value(f) for f in model.features])


def confidence(s: Signals, mode: str, params: Params) -> str:
    """'high', 'low' or 'none' (see the module docstring)."""
    if not s.shown or s.unknown_places:
        return "none"
    if s.exact_reference:
        return "high"
    if mode == "hybrid" and params.confidence is not None:
        p = probability(s, params.confidence)
        return "high" if p >= params.confidence.high else "low" if p >= params.confidence.low else "none"
    if mode == "lexical":
        return "high" if s.coverage >= params.min_coverage_for_lexical_answer else "none"
    return "high" if s.margin is not None and s.margin >= params.min_margin else "none"


def answerable(s: Signals, mode: str, params: Params) -> bool:
    """Whether the corpus answers the question: any confidence but 'none'."""
    return confidence(s, mode, params) != "none"


def agreement(dense: Mapping[int, float], lexical: Mapping[int, float], n: int = 5) -> float:
    """The share of the n best rows by cosine that are also among the n best by BM25."""
    if not dense or not lexical:
        return 0.0
    top_dense = sorted(dense, key=lambda r: -dense[r])[:n]
    top_lexical = set(sorted(lexical, key=lambda r: -lexical[r])[:n])
    return sum(1 for r in top_dense if r in top_lexical) / n


def scores_by_row(rows: np.ndarray, scores: Mapping[int, float], missing: float) -> np.ndarray:
    """`scores` as an array over `rows` (float32), `missing` where a row has none."""
    return np.array([scores.get(int(r), missing) for r in rows], dtype=np.float32)
