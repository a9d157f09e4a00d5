"""Retrieval with the fake encoder: fusion, references, quotes, abstention, validity, CLI."""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from indexer.build import build
from indexer.encoders.fake import FakeEncoder
from retrieval.quote import best_quote, sentences
from retrieval.references import EXACT, MENTION, parse_references
from retrieval import fusion
from retrieval.fusion import keep_each_sides_best
from retrieval.retriever import Retriever
from tests.conftest import REPO, fake_retriever

LAW = """---
title: Vreemdelingenwet 2000 — selectie
valid_from: 2022-10-01
valid_until: 2023-09-30
---
Artikel 43
1. Bij besluit van Onze Minister kan voor bepaalde categorieën vreemdelingen worden bepaald dat de termijn wordt verlengd.
2. Het besluit wordt bekendgemaakt in de Staatscourant.

Artikel 45
4. Onze Minister kan besluiten dat de verstrekkingen niet worden beëindigd.
"""
OLD_VC = """---
title: Vreemdelingencirculaire 2000 — oud
status: superseded
---
=== C2/3.2 Dienstweigering ===

De IND verleent een verblijfsvergunning aan de dienstweigeraar als aan de voorwaarden is voldaan, zie artikel 43 Vw.
"""
NOTE = """---
title: Nota moratorium
date: 2022-11-01
---
Kernpunten
Op 29 juni is een besluit- en vertrekmoratorium afgekondigd voor Russische dienstplichtigen van 18 tot en met 27 jaar. Dit gold een half jaar.

Mobilisatie
De gedeeltelijke mobilisatie in Rusland raakt reservisten. Zij worden in Oekraïne ingezet.
"""


class TopicEncoder(FakeEncoder):
    """A 'multilingual' fake: English and Dutch words of one topic map to the same axis,
    so dense retrieval understands an English question that shares no word with the text."""

    name = "topic-fake"
    TOPICS = {
        0: ("moratorium", "moratoria", "standstill", "conscripts", "dienstplichtigen"),
        1: ("mobilisatie", "mobilisation", "reservisten", "reservists"),
        2: ("termijn", "deadline", "verlengd", "extended", "staatscourant"),
        3: ("verstrekkingen", "reception", "beëindigd"),
        4: ("dienstweigeraar", "deserter", "verblijfsvergunning"),
    }

    def _one(self, text: str) -> np.ndarray:
        v = np.full(self.dim, 0.01, dtype=np.float32)
        low = text.lower()
        for axis, words in self.TOPICS.items():
            v[axis] += sum(low.count(w) for w in words)
        return v / np.linalg.norm(v)


@pytest.fixture(scope="module")
def index(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("retr")
    c = root / "corpus"
    c.mkdir()
    (c / "vw.txt").write_text(LAW, encoding="utf-8")
    (c / "vc-oud.txt").write_text(OLD_VC, encoding="utf-8")
    (c / "nota.txt").write_text(NOTE, encoding="utf-8")
    build([c], root / "ix", TopicEncoder())
    return root / "ix"


@pytest.fixture
def retriever(index) -> Retriever:
    return Retriever(index, TopicEncoder())


def test_english_question_keeps_the_dense_result(retriever):
    res = retriever.search("Which deadline can be extended?", k=3)
    assert res.hits[0].passage.citation == "Vreemdelingenwet 2000, art. 43 lid 1"


def test_dutch_question_gains_from_lexical(retriever):
    # Dense alone cannot tell the two moratorium-topic passages apart; the shared words can.
    q = "moratorium voor dienstplichtigen van 18 tot en met 27 jaar"
    hybrid = retriever.search(q, k=2)
    assert "18 tot en met 27 jaar" in hybrid.hits[0].passage.text
    lex = retriever.search(q, k=2, mode="lexical")
    assert "18 tot en met 27 jaar" in lex.hits[0].passage.text


def test_lexical_weight_follows_term_coverage(retriever):
    cand = np.array([0, 1, 2])
    dense_scores = {0: 0.90, 1: 0.89, 2: 0.50}
    lex = {1: 10.0}
    d, lx = fusion.scores_by_row(cand, dense_scores, 0.0), fusion.scores_by_row(cand, lex, 0.0)
    full = fusion.fuse(d, lx, 1.0, "hybrid", retriever.params)
    none = fusion.fuse(d, lx, 0.0, "hybrid", retriever.params)
    assert none[0] > none[1]  # no matched terms: dense order stands
    assert full[1] > full[0]  # all terms matched: lexical evidence lifts passage 1
    assert full[1] - none[1] == pytest.approx(retriever.params.lexical_weight)


def test_each_sides_best_takes_the_place_of_the_lowest_other_item():
    order = [5, 4, 3, 2, 1, 0]
    assert keep_each_sides_best(order, [0], 3) == [5, 4, 0, 3, 2, 1]  # 3 leaves the top 3 for 0
    assert keep_each_sides_best(order, [0, 1], 3) == [5, 0, 1, 4, 3, 2]  # in the order of `best`
    assert keep_each_sides_best(order, [4, 0], 3) == [5, 4, 0, 3, 2, 1]  # 4 is already shown
    assert keep_each_sides_best(order, [0], 2, keep={5}) == [5, 0, 4, 3, 2, 1]  # a reference match stays
    assert keep_each_sides_best(order, [0], 3, keep={5, 4, 3}) == order  # nothing may leave: unchanged
    assert keep_each_sides_best(order, [0, 0], 3) == [5, 4, 0, 3, 2, 1]
    assert keep_each_sides_best(order, [0], 1) == order  # k = 1: the fused best stands


def _worst_first_fusion(retriever, monkeypatch, side: str) -> None:
    """Make fusion rank one side's best passage last, as a weighted sum can."""

    def fuse(dense, lexical, coverage, mode, params):
        return -(dense if side == "dense" else lexical)

    monkeypatch.setattr(fusion, "fuse", fuse)


@pytest.mark.parametrize("side, question", [("dense", "Which deadline can be extended?"),
                                            ("lexical", "moratorium voor dienstplichtigen van 18 tot en met 27 jaar")])
def test_hybrid_keeps_a_sides_best_passage_that_fusion_buried(retriever, monkeypatch, side, question):
    module = fusion

    best = retriever.search(question, k=1, mode=side).hits[0].passage.passage_id
    _worst_first_fusion(retriever, monkeypatch, side)
    fused_first = retriever.search(question, k=1).hits[0].passage.passage_id
    with monkeypatch.context() as m:
        m.setattr(module, "keep_each_sides_best", lambda order, *a, **kw: order)
        assert best not in {h.passage.passage_id for h in retriever.search(question, k=3).hits}  # buried
    shown = [h.passage.passage_id for h in retriever.search(question, k=3).hits]
    assert best in shown and shown[0] == fused_first  # kept, and the fused best still leads
    assert best not in [h.passage.passage_id for h in retriever.search(question, k=1).hits]  # k = 1: fused best only


def test_lexical_best_is_kept_only_when_half_the_question_terms_are_known(retriever, monkeypatch):
    module = fusion

    seen: list[int] = []
    real = module.keep_each_sides_best
    monkeypatch.setattr(module, "keep_each_sides_best", lambda order, best, *a, **kw: seen.append(len(best)) or real(order, best, *a, **kw))
    few = "moratorium quixotic zeppelin xylophone"  # one known term of four
    assert retriever.lexical.coverage(few) < retriever.params.min_coverage_for_lexical_answer
    retriever.search(few, k=3)
    retriever.search("moratorium voor dienstplichtigen van 18 tot en met 27 jaar", k=3)
    assert seen == [1, 2]  # the dense side's best only, then both sides' best


@pytest.mark.parametrize(
    "question, kind, article, lid, law, code",
    [
        ("art. 43 Vw", "article", "43", "", "vw", ""),
        ("Wat staat in artikel 45 lid 4?", "article", "45", "4", "", ""),
        ("artikel 45, vierde lid, Vreemdelingenwet 2000", "article", "45", "4", "vw", ""),
        ("art. 42 lid 4 onder b Vw", "article", "42", "4", "vw", ""),
        ("Article 31(3) of the Procedures Directive", "article", "31", "3", "procedurerichtlijn", ""),
        ("artikel 3.37a VV", "article", "3.37a", "", "vv", ""),
        ("Wanneer geldt 1F?", "article", "1", "F", "vluchtelingenverdrag", ""),
        ("article 1F Refugee Convention", "article", "1", "F", "vluchtelingenverdrag", ""),
        ("C2/3.2 Vc", "vc", "", "", "vc", "C2/3.2"),
        ("WBV 2022/22", "wbv", "", "", "", "2022/22"),
        ("Kamerstuk 19 637, nr. 3018", "kamerstuk", "", "", "", "19637/3018"),
        ("p. 3 nota", "page", "", "", "nota", "3"),
    ],
)
def test_reference_parsing(question, kind, article, lid, law, code):
    (ref,) = parse_references(question)
    assert (ref.kind, ref.article, ref.lid, ref.law, ref.code) == (kind, article, lid, law, code)


def test_plain_questions_name_no_reference():
    assert parse_references("Wat is de beslistermijn voor een asielaanvraag?") == []
    assert parse_references("Geldt het moratorium voor 27-jarigen in 2022?") == []


def test_reference_ranks_the_passage_that_is_the_reference_first(retriever):
    res = retriever.search("art. 43 Vw", k=4)
    top = [h.passage.citation for h in res.hits[:2]]
    assert top == ["Vreemdelingenwet 2000, art. 43 lid 1", "Vreemdelingenwet 2000, art. 43 lid 2"]
    assert [h.reference_match for h in res.hits[:2]] == [EXACT, EXACT]
    mention = next(h for h in res.hits if h.passage.doc_id == "vc-oud")
    assert mention.reference_match == MENTION  # cites "artikel 43 Vw" in its text
    assert res.answerable


def test_lookup_finds_vc_paragraph_without_a_model(retriever):
    refs, hits = retriever.lookup("C2/3.2 Vc")
    assert refs[0].code == "C2/3.2"
    assert hits[0].passage.doc_id == "vc-oud" and hits[0].reference_match == EXACT


@pytest.mark.parametrize(
    "question",
    ["moratorium dienstplichtigen", "Which deadline can be extended?", "termijn", "xyz onbekend", ""],
)
def test_quote_is_an_exact_substring_with_offsets(retriever, question):
    for hit in retriever.search(question or "?", k=5).hits:
        t = hit.passage.text
        assert t[hit.quote_start : hit.quote_end] == hit.quote and hit.quote.strip() == hit.quote


def test_quote_picks_the_matching_sentence():
    text = "Dit gold een half jaar. Op 29 juni is een moratorium afgekondigd voor dienstplichtigen. Verder niets."
    q = best_quote("wanneer is het moratorium afgekondigd", text)
    assert q.text == "Op 29 juni is een moratorium afgekondigd voor dienstplichtigen."
    assert text[q.start : q.end] == q.text


def test_quote_follows_the_index_terms_into_compounds():
    from indexer.lexical import Bm25Index

    text = "Het besluit is genomen. Het reguliere terugkeerproces blijft van toepassing. Verder niets."
    index = Bm25Index.build([text, "De terugkeer is een proces; de terugkeer in de praktijk is een ander proces."])
    q = "Wat betekent dit voor de terugkeerpraktijk?"
    assert best_quote(q, text).text == "Het besluit is genomen."  # plain terms: nothing shared
    assert best_quote(q, text, None, index.tokens).text == "Het reguliere terugkeerproces blijft van toepassing."


def test_sentences_do_not_split_enumerators_or_abbreviations():
    text = "1. Bij besluit kan worden bepaald. Op 29 juni jl. is er een BVM.\na. de aanvraag; zie nr. 3018."
    got = [text[a:b] for a, b in sentences(text)]
    assert got == ["1. Bij besluit kan worden bepaald.", "Op 29 juni jl. is er een BVM.", "a. de aanvraag; zie nr. 3018."]


def test_abstention_uses_the_calibrated_threshold(retriever):
    retriever.params = dataclasses.replace(retriever.params, min_margin=0.0)
    assert retriever.search("moratorium voor dienstplichtigen", k=3).answerable
    # no state named: the threshold, not the gazetteer (retrieval/places.py), decides
    out = retriever.search("Hoe verleng ik mijn rijbewijs?", k=3)
    assert not out.answerable and out.hits and not out.unknown_places  # nearest passages still listed
    assert not retriever.search("Hoe verleng ik mijn rijbewijs?", k=3, mode="lexical").answerable
    assert retriever.search("art. 45 lid 4 Vw", k=3).answerable  # a found reference answers


def test_validity_filter_and_status(retriever):
    all_docs = retriever.search("artikel 43 Vw verblijfsvergunning dienstweigeraar", k=10)
    statuses = {h.passage.doc_id: h.status for h in all_docs.hits}
    assert statuses["vc-oud"] == "superseded"
    assert statuses["vw"] == "expired"  # valid until 2023-09-30, today is later
    on = dt.date(2022, 12, 1)
    filtered = retriever.search("artikel 43 Vw verblijfsvergunning dienstweigeraar", k=10, on=on)
    docs = {h.passage.doc_id for h in filtered.hits}
    assert docs == {"vw", "nota"}  # the superseded circular is never passed off as valid
    assert all(h.status == "current" for h in filtered.hits)
    before = retriever.search("termijn", k=10, on=dt.date(2022, 9, 1))
    assert "vw" not in {h.passage.doc_id for h in before.hits}  # not yet valid
    assert "nota" not in {h.passage.doc_id for h in before.hits}  # dated 2022-11-01


def test_json_shape(retriever):
    d = retriever.search("art. 43 Vw", k=1).to_dict()
    p = d["passages"][0]
    assert set(d) >= {"question", "answerable", "passages"}
    assert set(p) >= {"text", "quote", "document_title", "file", "page", "section", "citation", "score",
                      "status", "valid_from", "valid_until"}  # fmt: skip
    assert p["citation"] == "Vreemdelingenwet 2000, art. 43 lid 1" and p["file"] == "vw.txt" and p["page"] is None


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "retrieval", "ask", *args], cwd=REPO, capture_output=True, text=True)


def test_cli_json_lines_in_order(tmp_path):
    c = tmp_path / "c"
    c.mkdir()
    (c / "vw.txt").write_text(LAW, encoding="utf-8")
    build([c], tmp_path / "ix", FakeEncoder())
    qfile = tmp_path / "q.txt"
    qfile.write_text("art. 45 lid 4 Vw\n\nart. 43 Vw\n", encoding="utf-8")
    out = _cli("--questions", str(qfile), "--index", str(tmp_path / "ix"), "--k", "2", "--json")
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["question"] for r in rows] == ["art. 45 lid 4 Vw", "art. 43 Vw"]
    assert rows[0]["passages"][0]["citation"] == "Vreemdelingenwet 2000, art. 45 lid 4"
    text = _cli("art. 43 Vw", "--index", str(tmp_path / "ix"), "--k", "1")
    assert "Vreemdelingenwet 2000, art. 43 lid 1" in text.stdout


def test_cli_unusable_index_exits_2_with_one_line(tmp_path):
    missing = _cli("vraag", "--index", str(tmp_path / "none"))
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1 and "python -m indexer build" in missing.stderr
    c = tmp_path / "c"
    c.mkdir()
    (c / "vw.txt").write_text(LAW, encoding="utf-8")
    build([c], tmp_path / "ix", FakeEncoder())
    from indexer.store import current_build

    (current_build(tmp_path / "ix") / "dense.faiss").write_bytes(b"garbage")
    damaged = _cli("vraag", "--index", str(tmp_path / "ix"))
    assert damaged.returncode == 2 and "damaged" in damaged.stderr and "python -m indexer build" in damaged.stderr


@pytest.mark.parametrize(
    "code, section, expected",
    [
        ("c2/3.2", "c2/3.2 artikel 29 eerste lid > vervolging", True),
        ("c3/2", "c3 moratoria (c. 2015 text) > 2 besluitmoratorium", True),
        ("c3/2", "c3 moratoria (c. 2015 text) > 3 vertrekmoratorium", False),
        ("c7/21.1", "c7/21 het asielbeleid > 21.1 besluitmoratorium", True),
        ("c7/21.1", "c7/21 het asielbeleid > 21.10 iets anders", False),
        ("c2/3.2", "c2/3.20 andere paragraaf", False),
    ],
)
def test_vc_paragraph_codes_match_headings(code, section, expected):
    from retrieval.references import _in_vc_paragraph

    assert _in_vc_paragraph(code, section) is expected


def test_reference_hits_skip_letterheads(tmp_path):
    r = fake_retriever(tmp_path, {"brief.txt":
        "---\ntitle: Kamerbrief\nidentifier: Kamerstukken II 2022/23, 19 637, nr. 3018\n---\n"
        "19 637 Vreemdelingenbeleid\n\nAan de Voorzitter van de Tweede Kamer\n\nOp 29 juni jl. heb ik een besluit- en vertrekmoratorium voor een half jaar "
        "afgekondigd voor Russische dienstplichtigen van 18 tot en met 27 jaar.\n",
    })  # fmt: skip
    assert [p.text[:10] for p in r.passages] == ["19 637 Vre", "Op 29 juni"]
    hits = r.search("Kamerstuk 19 637, nr. 3018", k=3).hits
    assert [h.passage.text[:10] for h in hits] == ["Op 29 juni"]


class _CountingEncoder(TopicEncoder):
    """Records how many query encodings run at the same time."""

    def __init__(self, thread_safe: bool):
        super().__init__()
        self.thread_safe = thread_safe
        self.running = self.most = 0
        import threading

        self._count_lock = threading.Lock()

    def encode_queries(self, texts):
        import time

        with self._count_lock:
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(0.05)
        with self._count_lock:
            self.running -= 1
        return super().encode_queries(texts)


@pytest.mark.parametrize("thread_safe, concurrent", [(True, True), (False, False)])
def test_query_encoding_runs_concurrently_only_for_thread_safe_encoders(index, thread_safe, concurrent):
    from concurrent.futures import ThreadPoolExecutor

    enc = _CountingEncoder(thread_safe)
    r = Retriever(index, enc)
    questions = [f"moratorium vraag {i}" for i in range(8)]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda q: r.search(q, k=2), questions))
    assert all(res.hits for res in results)
    assert (enc.most > 1) is concurrent


@pytest.mark.parametrize(
    "text, cited",
    [
        ("zie artikel 31 vw", True), ("art. 31, tweede lid", True), ("art.31", True), ("article 31(3) of", True),
        ("artikel 310", False), ("art. 31.2", False), ("artikel 3.31", False), ("in 31 gevallen", False),
        ("het partikel 31", False),
    ],
)
def test_article_citations_are_found_by_number_and_the_word_before_it(text, cited):
    from retrieval.references import _cites_article

    assert _cites_article(text, "31") is cited
