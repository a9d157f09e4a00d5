"""Fitting the confidence model (retrieval/confidence.py) and the conversations file
(retrieval/conversation_eval.py)."""
from __future__ import annotations

import numpy as np
import pytest

from retrieval import fusion
from retrieval.confidence import FEATURES, MISSED, OVERCONFIDENT, decided_by_model, fit, fit_logistic, levels, report
from retrieval.conversation_eval import ConversationFileError, load_conversations
from retrieval.evaluate import Question
from retrieval.fusion import Params, Signals


def sig(margin: float, coverage: float = 0.5, **kw) -> Signals:
    return Signals(**{"shown": 5, "exact_reference": False, "coverage": coverage, "margin": margin,
                      "top_cosine": 0.8 + margin, "agreement": 0.2, **kw})  # fmt: skip


def test_logistic_fit_separates_and_balances_the_classes():
    x = np.array([[-2.0], [-1.0], [-0.5], [0.5], [1.0], [2.0], [3.0], [4.0]])
    y = np.array([0, 0, 0, 1, 1, 1, 1, 1.0])
    w, b = fit_logistic(x, y, l2=1.0)
    assert w[0] > 0
    p = 1 / (1 + np.exp(-(x[:, 0] * w[0] + b)))
    assert (p[y == 1] > 0.5).all() and (p[y == 0] < 0.5).all()
    w_strong, _ = fit_logistic(x, y, l2=100.0)
    assert 0 < w_strong[0] < w[0]  # the penalty shrinks the weight


def test_the_model_is_fitted_only_on_questions_no_hard_rule_decides():
    signals = [sig(0.1), sig(0.08), sig(0.06), sig(-0.05), sig(-0.08), sig(0.5, exact_reference=True),
               sig(0.2, unknown_places=("Jemen",))]  # fmt: skip
    in_scope = [True, True, True, False, False, False, True]  # the last two contradict their signals
    assert [decided_by_model(s) for s in signals] == [True] * 5 + [False, False]
    model = fit(signals, in_scope)
    assert model.features == FEATURES and set(FEATURES) <= set(fusion.FEATURES)
    assert model.weights[0] > 0  # a larger margin means in scope
    assert 0 < model.low <= model.high < 1
    found = levels(signals, model, Params())
    assert found[0] in ("high", "low") and found[4] == "none"  # the clearest of each class
    assert found[5:] == ["high", "none"]  # the hard rules, whatever the model says
    with pytest.raises(ValueError, match="needs in-scope and out-of-scope"):
        fit(signals[:3], in_scope[:3])


def test_the_levels_are_operating_points_on_the_tuning_questions():
    rng = np.random.default_rng(0)
    margins_in = rng.normal(0.05, 0.03, 200)
    margins_out = rng.normal(-0.02, 0.03, 60)
    signals = [sig(float(m)) for m in (*margins_in, *margins_out)]
    in_scope = [True] * 200 + [False] * 60
    model = fit(signals, in_scope)
    found = levels(signals, model, Params())
    refused = sum(1 for c, i in zip(found, in_scope) if i and c == "none") / 200
    overconfident = sum(1 for c, i in zip(found, in_scope) if not i and c == "high") / 60
    assert refused <= MISSED and overconfident <= OVERCONFIDENT
    assert refused >= MISSED - 0.01  # the 'none' level is as wide as the stated share allows


def test_report_counts_answered_and_none_per_language():
    qs = [Question("a", "q", "nl", "fact", ("x",)), Question("b", "q", "nl", "out-of-scope"),
          Question("c", "q", "en", "fact", ("x",)), Question("d", "q", "en", "fact", ("x",))]  # fmt: skip
    r = report(qs, ["low", "none", "none", "high"])
    assert r["nl"]["in_scope_answered"] == 1.0 and r["nl"]["out_of_scope_none"] == 1.0
    assert r["en"]["in_scope_answered"] == 0.5 and r["en"]["out_of_scope_none"] is None
    assert r["all"]["in_scope_high"] == pytest.approx(1 / 3) and r["all"]["in_scope_low"] == pytest.approx(1 / 3)


def test_a_malformed_conversations_file_names_the_entry(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("conversations:\n- {id: c1, lang: nl, turns: ['Wat is het BVM?'], expect: [x]}\n", encoding="utf-8")
    with pytest.raises(ConversationFileError, match=r"entry 1 \(c1\): 'turns' must list at least two questions"):
        load_conversations(f)
    f.write_text("conversations:\n- {id: c1, lang: nl, turns: ['Wat is het BVM?', 'Tot wanneer?'], expect: [x]}\n", encoding="utf-8")
    [c] = load_conversations(f)
    assert c.turns == ("Wat is het BVM?", "Tot wanneer?") and c.expect == ("x",)
