"""Follow-up questions read against the conversation (retrieval/conversation.py), in the search,
the CLI's --history and --conversations."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from indexer.build import build
from indexer.encoders.fake import FakeEncoder
from retrieval.conversation import is_follow_up, read, topic_words
from tests.conftest import REPO
from tests.test_retrieval import NOTE, index, retriever  # noqa: F401  (fixtures)

FIRST = "Wat is het besluit- en vertrekmoratorium voor Russische dienstplichtigen?"


@pytest.mark.parametrize("question", ["En tot wanneer gold het?", "Tot wanneer?", "And for deserters?",
                                      "Geldt dat ook voor gemobiliseerden?", "Welk artikel is dat?", "En in 2020?"])
def test_an_elliptic_question_is_a_follow_up_and_carries_the_topic(question):
    assert is_follow_up(question)
    r = read(question, [FIRST])
    assert r.follow_up and r.question == question
    assert r.text.startswith(question) and "vertrekmoratorium Russische dienstplichtigen" in r.text


@pytest.mark.parametrize("question", ["Wat is de beslistermijn van een asielaanvraag?", "art. 43 Vw",
                                      "Which deadline applies to an asylum application under the Aliens Act?"])
def test_a_question_with_its_own_topic_or_a_reference_stands_alone(question):
    assert not is_follow_up(question)
    assert read(question, [FIRST]).text == question


def test_without_history_nothing_is_rewritten_and_a_chain_keeps_its_topic():
    assert read("Tot wanneer?") .text == "Tot wanneer?"
    chain = read("En in 2020?", ["Wat is het BVM?", "Tot wanneer gold het?"])
    assert chain.text == "En in 2020? (BVM)"  # the middle turn was itself read as about the BVM
    assert read("En lid 4?", ["Wat zegt art. 45 Vw over opvang?"]).text == "En lid 4? (opvang art. 45 Vw)"


@pytest.mark.parametrize("question", ["Op grond van welk artikel?", "Does the EU directive have the same rule?",
                                      "Is er ook een decreet van Poetin?", "Vallen die allemaal onder het BVM?"])
def test_a_question_for_the_source_or_that_continues_the_last_is_a_follow_up(question):
    assert is_follow_up(question)


@pytest.mark.parametrize("question", ["Wanneer moet een statushouder het inburgeringsexamen hebben gehaald?",
                                      "Krijgen Russen die weigeren te vechten asiel?"])
def test_the_dutch_article_het_and_the_relative_die_do_not_point_back(question):
    assert not is_follow_up(question)


def test_topic_words_leave_out_question_words_stop_words_and_pointers():
    assert topic_words("Wat zegt het over dienstplichtigen van 18 jaar?") == ["dienstplichtigen", "18", "jaar"]


def test_the_search_reads_a_follow_up_and_says_how(retriever):  # noqa: F811
    alone = retriever.search("En tot wanneer?", k=2)
    assert alone.interpreted_as == "En tot wanneer?"
    followed = retriever.search("En tot wanneer?", k=2, history=["Wat is het moratorium voor dienstplichtigen?"])
    assert followed.question == "En tot wanneer?"
    assert followed.interpreted_as == "En tot wanneer? (moratorium dienstplichtigen)"
    assert "besluit- en vertrekmoratorium" in followed.hits[0].passage.text
    assert followed.to_dict()["interpreted_as"] == followed.interpreted_as


def test_cli_history_and_conversations(tmp_path):
    c = tmp_path / "c"
    c.mkdir()
    (c / "nota.txt").write_text(NOTE, encoding="utf-8")
    build([c], tmp_path / "ix", FakeEncoder())

    def ask(*args: str) -> list[dict]:
        out = subprocess.run([sys.executable, "-m", "retrieval", "ask", *args, "--index", str(tmp_path / "ix"), "--json"],
                             capture_output=True, text=True, cwd=REPO, timeout=120)  # fmt: skip
        assert out.returncode == 0, out.stderr
        return [json.loads(line) for line in out.stdout.splitlines()]

    [one] = ask("En tot wanneer?", "--history", "Wat is het moratorium voor dienstplichtigen?")
    assert one["interpreted_as"] == "En tot wanneer? (moratorium dienstplichtigen)"
    f = tmp_path / "conv.txt"
    f.write_text("Wat is het moratorium voor dienstplichtigen?\nEn tot wanneer?\n\nEn tot wanneer?\n", encoding="utf-8")
    rows = ask("--questions", str(f), "--conversations")
    assert [r["interpreted_as"] for r in rows] == [
        "Wat is het moratorium voor dienstplichtigen?", "En tot wanneer? (moratorium dienstplichtigen)",
        "En tot wanneer?",  # a blank line starts a new conversation
    ]  # fmt: skip
    plain = ask("--questions", str(f))  # without --conversations every line stands alone
    assert [r["interpreted_as"] for r in plain][1] == "En tot wanneer?"
