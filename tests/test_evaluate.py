"""Evaluation and calibration helpers, on a four-document corpus indexed with the fake encoder.

The corpus is built so that every rank is known in advance, in all three modes:
- q1 repeats the words of the only bee passage, which holds the answer: rank 1.
- q2's words all occur in the first train paragraph, which does not hold the answer; the second
  train paragraph holds it and shares one of the words: rank 2.
- q4's words occur only in the two volcano paragraphs; its answer is in the cheese passage,
  which shares no word with it: not in the top 2.
- q3 shares no word with the corpus: out of scope.
With k=2 and q1, q4 Dutch, q2 English:
  nl: recall@1 1/2, recall@2 1/2, MRR (1 + 0)/2;  en: recall@1 0, recall@2 1, MRR 1/2;
  all: recall@1 1/3, recall@2 2/3, MRR (1 + 1/2 + 0)/3 = 1/2.
"""
from __future__ import annotations

import dataclasses
import json

import pytest

from indexer.build import build
from indexer.encoders.fake import FakeEncoder
from retrieval import calibrate as cal
from retrieval.evaluate import (
    DEFAULT_QUESTIONS,
    Question,
    QuestionFileError,
    _percentile,
    answers,
    evaluate,
    load_questions,
    main,
)
from retrieval.retriever import Retriever

DOCS = {
    "bijen.txt": """---
title: Notitie over bijen
language: nl
---
De bijenkoningin legt in het voorjaar tot tweeduizend eitjes per dag. Hoeveel eitjes zij legt hangt af van het voorjaar en van de dag.
""",
    "treinen.txt": """---
title: Note on trains
language: en
---
=== Operations ===

The locomotive timetable was changed at the platform. The platform timetable for every locomotive changed again, so each locomotive on the platform follows a changed timetable. Station staff check the locomotive timetable on the platform whenever the timetable is changed, and a changed platform means the locomotive waits.

=== History ===

Historic notes: the old locomotive fleet included many steam engines. Steam engines were retired from regular service in 1958 after a long period of gradual replacement by diesel and electric traction, which was cheaper to run and easier to maintain across the network. Museums now keep a few of those engines in working order for heritage excursions.
""",
    "vulkanen.txt": """---
title: Notitie over vulkanen
language: nl
---
=== Uitbarsting ===

De laatste uitbarsting van de krater kwam onverwacht. Lava stroomde uit de krater en de uitbarsting duurde drie dagen. Na de laatste uitbarsting kwam de lava tot stilstand aan de voet van de krater, waar de lava nog weken bleef gloeien en de krater rookte. Boeren in de vallei zagen de gloed van de lava elke nacht boven de krater.

=== Metingen ===

Vulkanologen meten bij elke krater de temperatuur van de lava. Een uitbarsting kwam in het verleden vaak na kleine aardbevingen; de laatste jaren kwam er meer meetapparatuur bij de krater, zodat een uitbarsting en de stroom van lava beter worden voorspeld. Het laatste rapport kwam uit in de zomer en beschrijft elke krater afzonderlijk.
""",
    "kaas.txt": """---
title: Notitie over kaas
language: nl
---
Goudse kaas rijpt minimaal vier weken in een koel pakhuis, waarna de kazen worden gekeurd en gestempeld.
""",
}

QUESTIONS = """questions:
- id: q1
  question: Hoeveel eitjes legt de bijenkoningin per dag in het voorjaar?
  lang: nl
  type: fact
  expect: [tot tweeduizend eitjes per dag]
- id: q2
  question: Was the locomotive timetable changed at the platform?
  lang: en
  type: paraphrase
  expect: [STEAM engines were   retired]
- id: q3
  question: Who painted the Mona Lisa?
  lang: en
  type: out-of-scope
- id: q4
  question: Wanneer kwam de laatste uitbarsting van de krater met lava?
  lang: nl
  type: reference
  expect: [rijpt minimaal vier weken]
"""


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("eval")
    corpus = root / "corpus"
    corpus.mkdir()
    for name, text in DOCS.items():
        (corpus / name).write_text(text, encoding="utf-8")
    build([corpus], root / "index", FakeEncoder())
    qfile = root / "questions.yaml"
    qfile.write_text(QUESTIONS, encoding="utf-8")
    retriever = Retriever(root / "index", FakeEncoder())
    field = cal.THRESHOLD
    retriever.params = dataclasses.replace(retriever.params, **{field: -2.0})  # dense/hybrid: always answer
    return retriever, load_questions(qfile), root


def test_corpus_has_the_intended_passages(setup):
    retriever, _, _ = setup
    assert sorted(p.doc_id for p in retriever.passages) == ["bijen", "kaas", "treinen", "treinen", "vulkanen", "vulkanen"]


@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_recall_and_mrr_per_language(setup, mode):
    retriever, questions, _ = setup
    report = evaluate(retriever, questions, k=2, modes=[mode], timed=False)
    ranks = {r["id"]: r["rank"] for r in report["rows"]}
    assert ranks == {"q1": 1, "q2": 2, "q3": None, "q4": None}
    m = report["metrics"][mode]
    assert (m["nl"]["recall@1"], m["nl"]["recall@2"], m["nl"]["mrr"]) == (0.5, 0.5, 0.5)
    assert (m["en"]["recall@1"], m["en"]["recall@2"], m["en"]["mrr"]) == (0.0, 1.0, 0.5)
    assert m["all"]["recall@1"] == pytest.approx(1 / 3)
    assert m["all"]["recall@2"] == pytest.approx(2 / 3)
    assert m["all"]["mrr"] == pytest.approx(0.5)
    assert "recall@3" not in m["all"]  # cut-offs above k are not reported
    assert (m["all"]["n_in_scope"], m["all"]["n_out_of_scope"]) == (3, 1)
    by_type = report["by_type"][mode]
    assert (by_type["fact"]["mrr"], by_type["paraphrase"]["mrr"], by_type["reference"]["mrr"]) == (1.0, 0.5, 0.0)


def test_abstention_figures(setup):
    retriever, questions, _ = setup
    report = evaluate(retriever, questions, k=2, timed=False)
    lex = report["metrics"]["lexical"]["all"]  # q3 matches no term -> abstains; the others match >= half
    assert (lex["abstention_precision"], lex["abstention_recall"], lex["in_scope_answerable"]) == (1.0, 1.0, 1.0)
    assert lex["out_of_scope_abstained"] == 1.0
    for mode in ("hybrid", "dense"):  # threshold set far below any score: everything is answered
        m = report["metrics"][mode]["all"]
        assert (m["abstention_precision"], m["abstention_recall"], m["in_scope_answerable"]) == (None, 0.0, 1.0)
    hard = {(f["id"], f["mode"], f["problem"]) for f in report["failures"]}
    assert ("q4", "lexical", "no answer in top 2") in hard
    assert ("q3", "hybrid", "answered although out of scope") in hard
    assert ("q2", "dense", "answer at rank 2") in hard
    assert not any(f["id"] == "q3" and f["mode"] == "lexical" for f in report["failures"])


def test_passage_length_and_latency_are_reported(setup):
    retriever, questions, _ = setup
    report = evaluate(retriever, questions, k=2, modes=["lexical"])
    rows = report["rows"]
    chars = [c for r in rows for c in r["passage_chars"]]
    m = report["metrics"]["lexical"]["all"]
    assert m["mean_passage_chars"] == pytest.approx(sum(chars) / len(chars))
    assert 0 <= m["latency_ms_median"] <= m["latency_ms_p95"]


def test_answers_ignores_case_diacritics_and_white_space():
    assert answers("Oorlog in  Oekraïne\nduurt voort", ["OEKRAINE duurt"])
    assert answers("spoor 2- zaken", ["Spoor 2-   zaken"])
    assert not answers("Oekraïne", ["Rusland", "Oekraïense"])


def test_percentile_is_nearest_rank():
    assert _percentile([], 95) == 0.0
    assert _percentile([5.0], 95) == 5.0
    assert _percentile(list(map(float, range(1, 21))), 95) == 19.0
    assert _percentile(list(map(float, range(1, 21))), 50) == 10.0


@pytest.mark.parametrize(
    "entry, message",
    [
        ("- {id: a, question: Q, lang: de, type: fact, expect: [x]}", "lang 'de' is not one of nl, en"),
        ("- {id: a, question: Q, lang: nl, type: vague, expect: [x]}", "type 'vague' is not one of"),
        ("- {id: a, question: Q, lang: nl, type: fact}", "needs at least one 'expect'"),
        ("- {id: a, question: Q, lang: nl, type: out-of-scope, expect: [x]}", "has no 'expect'"),
        ("- {id: a, question: Q, lang: nl, type: fact, expect: [x]}\n- {id: a, question: R, lang: nl, type: fact, expect: [y]}", "duplicate id 'a'"),
        ("- {id: a, lang: nl, type: fact, expect: [x]}", "missing question"),
    ],
)
def test_load_questions_names_the_problem(tmp_path, entry, message):
    f = tmp_path / "q.yaml"
    f.write_text("questions:\n" + entry + "\n", encoding="utf-8")
    with pytest.raises(QuestionFileError, match=message.replace("(", r"\(")):
        load_questions(f)


def test_repository_question_set_is_valid_and_balanced():
    qs = load_questions(DEFAULT_QUESTIONS)
    count = lambda pred: sum(1 for q in qs if pred(q))  # noqa: E731
    assert len(qs) >= 70
    assert count(lambda q: q.lang == "nl" and q.type in ("fact", "paraphrase")) >= 35
    assert count(lambda q: q.lang == "en" and q.type in ("fact", "paraphrase")) >= 20
    assert count(lambda q: q.type == "reference") >= 8
    assert count(lambda q: q.type == "out-of-scope") >= 10
    assert count(lambda q: q.type == "paraphrase") >= 10


def test_cli_writes_json(setup, tmp_path, capsys):
    _, _, root = setup
    out = tmp_path / "report.json"
    assert main(["--index", str(root / "index"), "--questions", str(root / "questions.yaml"), "--k", "2", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "hybrid" in text and "MRR" in text and "Failures" in text
    data = json.loads(out.read_text(encoding="utf-8"))
    assert set(data["metrics"]) == {"hybrid", "dense", "lexical"}
    assert set(data["metrics"]["hybrid"]) == {"nl", "en", "all"}


def test_cli_missing_index_exits_2(tmp_path, capsys):
    assert main(["--index", str(tmp_path / "nope"), "--questions", str(DEFAULT_QUESTIONS)]) == 2
    assert "error:" in capsys.readouterr().err


# ------------------------------------------------------------------------------ calibration


def _feat(qid: str, score: float, in_scope: bool, ref: bool = False) -> dict:
    return {"id": qid, "lang": "nl", "type": "fact", "in_scope": in_scope, "score": score, "top_cos": score, "ref_exact": ref}


def test_threshold_is_the_midpoint_of_the_widest_best_interval():
    feats = [_feat("a", 0.5, True), _feat("b", 0.6, True), _feat("c", 0.7, True), _feat("x", 0.1, False), _feat("y", 0.2, False)]
    t, ba, (lo, hi) = cal.fit_threshold(feats)
    assert (lo, hi, ba) == (0.2, 0.5, 1.0)
    assert t == pytest.approx(0.35)


def test_threshold_balances_classes_and_counts_exact_references_as_answered():
    # one in-scope question scores like the out-of-scope ones but names an exact reference
    feats = [_feat("a", 0.6, True), _feat("b", 0.7, True), _feat("r", 0.1, True, ref=True),
             _feat("x", 0.2, False), _feat("y", 0.65, False)]  # fmt: skip
    t, ba, _ = cal.fit_threshold(feats)
    # 0.2 < t <= 0.6: TPR 1, TNR 1/2 -> 0.75;  0.65 < t <= 0.7: TPR 2/3 (r answers by reference), TNR 1 -> 5/6
    assert ba == pytest.approx(5 / 6)
    assert 0.65 < t <= 0.7  # balanced accuracy outweighs the wider but worse interval (0.2, 0.6]
    assert cal.abstention_report(feats, t)["out_of_scope_abstained"] == 1.0


def test_two_folds_are_disjoint_stratified_and_stable():
    qs = [Question(f"{lang}{t}{i}", "q", lang, t, ("x",) if t != "out-of-scope" else ())
          for lang in ("nl", "en") for t in ("fact", "out-of-scope") for i in range(4)]  # fmt: skip
    a, b = cal.two_folds(qs)
    assert a.isdisjoint(b) and a | b == {q.id for q in qs}
    for lang in ("nl", "en"):
        for t in ("fact", "out-of-scope"):
            assert sum(1 for q in qs if q.lang == lang and q.type == t and q.id in a) == 2
    assert cal.two_folds(qs) == (a, b)


def test_write_calibration_keeps_other_entries(tmp_path):
    path = tmp_path / "calibration.json"
    path.write_text(json.dumps({"default": {"lexical_weight": 0.6, "coverage_power": 1.0}, "other-model": {"lexical_weight": 0.3}}))
    cal.write_calibration("my-model", {"lexical_weight": 0.8, cal.THRESHOLD: 0.02}, tmp_path / "q.yaml", 10, path)
    data = json.loads(path.read_text())
    assert data["default"] == {"lexical_weight": 0.6, "coverage_power": 1.0}
    assert data["other-model"] == {"lexical_weight": 0.3}
    assert data["my-model"]["lexical_weight"] == 0.8 and data["my-model"]["coverage_power"] == 1.0
    assert data["my-model"][cal.THRESHOLD] == 0.02 and "10 questions" in data["my-model"]["fitted_on"]


def test_write_calibration_keeps_the_models_confidence_model(tmp_path):
    path = tmp_path / "calibration.json"
    model = {"features": ["margin"], "center": [0], "scale": [1], "weights": [1], "bias": 0, "high": 0.9, "low": 0.3}
    path.write_text(json.dumps({"default": {"lexical_weight": 0.6}, "m": {"lexical_weight": 0.4, "confidence": model}}))
    cal.write_calibration("m", {"lexical_weight": 0.8}, tmp_path / "q.yaml", 10, path)
    data = json.loads(path.read_text())
    assert data["m"]["confidence"] == model and data["m"]["lexical_weight"] == 0.8


def test_calibrate_runs_on_the_fake_index(setup):
    retriever, questions, _ = setup
    lines: list[str] = []
    report = cal.calibrate(retriever, questions, k=2, say=lines.append)
    chosen = report["chosen"]
    assert chosen["lexical_weight"] in cal.LEXICAL_WEIGHTS and chosen["coverage_power"] in cal.COVERAGE_POWERS
    assert cal.THRESHOLD in chosen
    assert any("2-fold check" in line for line in lines)
    assert len(report["folds"]) + sum("skipped" in line for line in lines) == 2
    assert any("min_margin=" in line for line in lines)


# ------------------------------------------------------------------------------ calibration: check sets


def test_check_metrics_are_the_adoption_rules_figures(setup):
    retriever, questions, _ = setup
    m = cal.check_metrics(retriever, questions, {}, k=2)
    # ranks q1 1, q2 2, q4 none (module docstring); the threshold answers every question
    assert m == {"mrr all": pytest.approx(0.5), "recall@2 nl": 0.5, "recall@2 en": 1.0,
                 "in_scope_answerable": 1.0, "out_of_scope_abstained": 0.0}  # fmt: skip


def test_guard_keeps_the_current_threshold_when_the_fitted_one_answers_less(setup):
    retriever, questions, _ = setup
    field = cal.THRESHOLD
    current = {"lexical_weight": 0.6, "coverage_power": 1.0, field: -2.0}
    lines: list[str] = []
    # a threshold no question reaches: every in-scope question abstains on the check set
    chosen, rows = cal.guard(retriever, {**current, field: 5.0}, current, [("check.yaml", questions)], 2, lines.append)
    assert chosen[field] == -2.0
    assert rows[0]["fitted_threshold"]["in_scope_answerable"] == 0.0
    assert any("kept the current" in line and "in_scope_answerable 1.000 -> 0.000" in line for line in lines)
    # a threshold that still answers every in-scope question is taken
    chosen, _ = cal.guard(retriever, {**current, field: -3.0}, current, [("check.yaml", questions)], 2, lines.append)
    assert chosen[field] == -3.0
    assert getattr(retriever.params, field) == -2.0  # the retriever's own values are restored


def test_guard_keeps_the_current_fusion_weights_when_a_check_set_ranks_worse(setup, monkeypatch):
    retriever, questions, _ = setup
    field = cal.THRESHOLD
    current = {"lexical_weight": 0.6, "coverage_power": 1.0, field: 0.02}
    fitted = {"lexical_weight": 0.8, "coverage_power": 2.0, field: 0.02}

    def metrics(_r, qs, values, k):  # the fitted weights lose one Dutch answer on the second set only
        worse = values["lexical_weight"] == 0.8 and qs == ["b"]
        return {"mrr all": 0.6, f"recall@{k} nl": 0.75 if worse else 0.8, f"recall@{k} en": 0.9}

    monkeypatch.setattr(cal, "check_metrics", metrics)
    lines: list[str] = []
    chosen, _ = cal.guard(retriever, fitted, current, [("a.yaml", ["a"]), ("b.yaml", ["b"])], 5, lines.append)
    assert chosen == current
    assert any("b.yaml: recall@5 nl 0.800 -> 0.750" in line for line in lines)
    assert not any("a.yaml" in line for line in lines)
    chosen, _ = cal.guard(retriever, fitted, current, [("a.yaml", ["a"])], 5, lines.append)
    assert chosen == fitted  # no check set does worse
    assert cal.guard(retriever, fitted, None, [("b.yaml", ["b"])], 5, lines.append)[0] == fitted  # nothing to keep


def test_calibrate_without_current_values_takes_the_first_fit(setup):
    retriever, questions, _ = setup
    lines: list[str] = []
    report = cal.calibrate(retriever, questions, k=2, say=lines.append, checks=[("c.yaml", questions)], current=None)
    assert report["chosen"] == report["fitted"] and report["checks"] == []
    assert any("first fit is taken" in line for line in lines)


def test_calibrate_cli_names_a_missing_check_set_and_the_way_out(setup, tmp_path, capsys):
    _, _, root = setup
    code = cal.main(["--index", str(root / "index"), "--questions", str(root / "questions.yaml"),
                     "--check", str(tmp_path / "missing.yaml"), "--dry-run"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert "missing.yaml" in err and "--no-checks" in err


def test_write_calibration_records_the_check_sets(tmp_path):
    path = tmp_path / "calibration.json"
    cal.write_calibration("m", {"lexical_weight": 0.6}, tmp_path / "q.yaml", 3, path, checks=(tmp_path / "h.yaml",))
    assert json.loads(path.read_text())["m"]["checked_on"].endswith("h.yaml")
    cal.write_calibration("m", {"lexical_weight": 0.6}, tmp_path / "q.yaml", 3, path)
    assert "checked_on" not in json.loads(path.read_text())["m"]


def test_guard_runs_no_check_set_when_the_fit_changes_nothing(setup, monkeypatch):
    retriever, _, _ = setup
    current = {"lexical_weight": 0.6, "coverage_power": 1.0, cal.THRESHOLD: 0.02}
    monkeypatch.setattr(cal, "check_metrics", lambda *a: pytest.fail("a check set was run"))
    lines: list[str] = []
    assert cal.guard(retriever, dict(current), current, [("a.yaml", ["a"])], 5, lines.append) == (current, [])
    assert all("fitted = current" in line for line in lines) and len(lines) == 2
