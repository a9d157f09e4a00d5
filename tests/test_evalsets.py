"""eval/sets.yaml, the one list of the evaluation sets, and its reader (retrieval/evalsets.py)."""
from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.evalsets import SETS_FILE, EvalSet, EvalSetsError, check_sets, load_sets, tune_set
from retrieval.evaluate import LANGS, load_questions, summarise
from retrieval.fusion import MODES

EVAL = Path(__file__).resolve().parents[1] / "eval"


def test_the_list_holds_every_question_file_in_eval_once():
    assert SETS_FILE.parent == EVAL
    listed = [s.file for s in load_sets()]
    assert sorted(listed) == sorted(p.name for p in EVAL.glob("*.yaml") if p != SETS_FILE)
    assert tune_set().file == "questions.yaml"


def test_evaluate_and_calibrate_take_their_sets_from_the_list():
    from retrieval.calibrate import DEFAULT_CHECKS
    from retrieval.evaluate import DEFAULT_QUESTIONS

    assert DEFAULT_QUESTIONS == EVAL / "questions.yaml"
    assert DEFAULT_CHECKS == tuple(EVAL / s.file for s in check_sets())


@pytest.mark.parametrize("evalset", load_sets(), ids=lambda s: s.file)
def test_every_listed_set_is_a_valid_question_file(evalset: EvalSet):
    if evalset.role == "conversations":
        from retrieval.conversation_eval import load_conversations

        assert load_conversations(evalset.path)
    else:
        assert load_questions(evalset.path)


def test_every_check_set_has_floors_on_figures_that_evaluate_reports():
    from retrieval.conversation_eval import evaluate_conversations

    class NoSearch:  # evaluate_conversations of no conversations names its figures without searching
        pass

    reported = {"conversations": set(evaluate_conversations(NoSearch(), [], 5)["metrics"]["all"]), "tune": set(summarise([], 5))}
    reported["check"] = reported["tune"]
    assert check_sets()
    for s in load_sets():
        assert s.floors or s.role == "tune", s.file
        for mode, groups in s.floors.items():
            assert mode in MODES, (s.file, mode)
            for group, floors in groups.items():
                assert group in (*LANGS, "all"), (s.file, mode, group)
                assert set(floors) <= reported[s.role], (s.file, mode, group, set(floors) - reported[s.role])


def test_floors_name_the_figures_below_them():
    s = EvalSet("x.yaml", EVAL / "x.yaml", "check", "x", {"hybrid": {"nl": {"recall@5": 0.8}, "all": {"mrr": 0.5}}})
    ok = {"hybrid": {"nl": {"recall@5": 0.8}, "all": {"mrr": 0.6}}}
    assert s.below_floor(ok) == []
    low = {"hybrid": {"nl": {"recall@5": 0.79}, "all": {"mrr": None}}}
    assert s.below_floor(low) == ["hybrid nl recall@5: 0.79 < 0.8", "hybrid all mrr: None < 0.5"]


TUNE = "- {file: questions.yaml, role: tune, description: tuned on}"
FLOORS = "floors: {hybrid: {nl: {recall@5: 0.8}}}"


@pytest.mark.parametrize(
    "entry, message",
    [
        ("- questions.yaml", "entry 2 (?): each entry must be a mapping"),
        (f"- {{file: b.yaml, role: check, {FLOORS}}}", "entry 2 (b.yaml): missing description"),
        (f"- {{file: b.yaml, role: blind, description: d, {FLOORS}}}", "entry 2 (b.yaml): role 'blind' is not one of tune, check, conversations"),
        ("- {file: b.yaml, role: check, description: d, floor: 0.8}", "entry 2 (b.yaml): unknown key floor"),
        ("- {file: b.yaml, role: check, description: d}", "entry 2 (b.yaml): a check set needs floors"),
        ("- {file: b.yaml, role: check, description: d, floors: {hybrid: {nl: {recall@5: 80}}}}",
         "entry 2 (b.yaml): floor of hybrid nl recall@5 is 80, not a number between 0 and 1"),
        ("- {file: b.yaml, role: check, description: d, floors: {hybrid: 0.8}}", "entry 2 (b.yaml): floors of mode 'hybrid'"),
        (f"- {{file: ../b.yaml, role: check, description: d, {FLOORS}}}", "entry 2 (../b.yaml): file must be the name"),
        (f"- {{file: questions.yaml, role: check, description: d, {FLOORS}}}", "entry 2 (questions.yaml): questions.yaml is listed twice"),
    ],
    ids=["not-a-mapping", "no-description", "unknown-role", "unknown-key", "check-without-floors", "floor-above-1",
         "floors-not-nested", "file-in-another-folder", "file-twice"],
)
def test_reader_names_the_malformed_entry(tmp_path, entry, message):
    f = tmp_path / "sets.yaml"
    f.write_text(f"sets:\n{TUNE}\n{entry}\n", encoding="utf-8")
    with pytest.raises(EvalSetsError) as err:
        load_sets(f)
    assert str(err.value).startswith(f"{f}") and message in str(err.value)


def test_reader_needs_a_tuning_set(tmp_path):
    f = tmp_path / "sets.yaml"
    f.write_text(f"sets:\n- {{file: b.yaml, role: check, description: d, {FLOORS}}}\n", encoding="utf-8")
    with pytest.raises(EvalSetsError, match="at least one set must have role 'tune', found none"):
        load_sets(f)


def test_reader_names_a_file_without_sets(tmp_path):
    f = tmp_path / "sets.yaml"
    f.write_text("questions: []\n", encoding="utf-8")
    with pytest.raises(EvalSetsError, match="expected a list under 'sets:'"):
        load_sets(f)
    with pytest.raises(EvalSetsError, match="cannot read"):
        load_sets(tmp_path / "missing.yaml")
