"""BM25 terms: Dutch compound splitting on both the passage and the question side (indexer/lexical.py)."""
from __future__ import annotations

import json

from indexer import store
from indexer.analysis import Analyzer, Decompounder, tokenize
from indexer.lexical import Bm25Index

PASSAGES = [
    "Het reguliere terugkeerproces zal gewoon van toepassing zijn voor de terugkeer van vreemdelingen.",
    "De beslistermijn van de aanvraag wordt verlengd; de praktijk van de IND blijft gelijk.",
    "Het vertrekmoratorium geldt. Het vertrekmoratorium eindigt. Het vertrekmoratorium is verlengd. "
    "Een moratorium; vertrek.",
    "Onderzoek naar dienstweigering.",
]


def test_compound_of_two_corpus_words_is_split():
    d = Decompounder.from_texts(PASSAGES)
    assert d.split("terugkeerpraktijk") == ("terugkeer", "praktijk")  # not in the corpus as a whole
    assert d.split("terugkeerproces") is None  # "proces" is no word of this corpus
    assert d.split("moratorium") is None  # no two parts of 4+ letters


def test_word_more_frequent_than_its_parts_stays_whole():
    d = Decompounder({"vertrekmoratorium": 9, "vertrek": 1, "moratorium": 4})
    assert d.split("vertrekmoratorium") is None  # sqrt(1 * 4) = 2 < 9
    assert Decompounder({"vertrekmoratorium": 1, "vertrek": 4, "moratorium": 9}).split("vertrekmoratorium") == (
        "vertrek", "moratorium")  # fmt: skip


def test_linking_s_and_stopword_parts():
    d = Decompounder({"dienst": 5, "weigering": 5, "onder": 50, "zoek": 50})
    assert d.split("dienstsweigering") == ("dienst", "weigering")  # the linking -s- is dropped
    assert d.split("onderzoek") is None  # "onder" is a function word, not a compound part


def test_analyzer_adds_stemmed_parts_after_the_whole_words():
    d = Decompounder.from_texts(PASSAGES)
    terms = Analyzer(d).terms("Wat betekent de terugkeerpraktijk?")
    assert terms[: len(tokenize("Wat betekent de terugkeerpraktijk?"))] == tokenize("Wat betekent de terugkeerpraktijk?")
    assert set(tokenize("terugkeer praktijk")) <= set(terms)
    assert Analyzer().terms("Wat betekent de terugkeerpraktijk?") == tokenize("Wat betekent de terugkeerpraktijk?")


def test_compound_question_finds_passage_with_another_compound_of_the_same_word():
    index = Bm25Index.build(PASSAGES)
    rows, scores, matched = index.scores("Wat betekent de terugkeerpraktijk?")
    best = int(rows[scores.argmax()])
    assert PASSAGES[best].startswith("Het reguliere terugkeerproces")
    plain = Bm25Index(index.weights, index.vocab, Analyzer())  # the same index without splitting the question
    assert plain.scores("Wat betekent de terugkeerpraktijk?")[2] == 0
    assert index.coverage("Wat betekent de terugkeerpraktijk?") > plain.coverage("Wat betekent de terugkeerpraktijk?")


def test_saved_index_keeps_its_word_table_and_an_old_one_loads_without(tmp_path):
    index = Bm25Index.build(PASSAGES)
    store.write_lexical(tmp_path, index)
    again = store.read_lexical(tmp_path)
    assert again.analyzer.decompounder.freq == index.analyzer.decompounder.freq
    assert again.tokens("terugkeerpraktijk") == index.tokens("terugkeerpraktijk")
    (tmp_path / store.LEXICAL_WORDS).unlink()  # an index written before compound splitting
    old = store.read_lexical(tmp_path)
    assert old.analyzer.decompounder is None and old.tokens("terugkeerpraktijk") == tokenize("terugkeerpraktijk")
    assert json.loads((tmp_path / store.LEXICAL_VOCAB).read_text(encoding="utf-8")) == index.vocab


def test_passage_compound_is_found_by_its_part():
    texts = ["Het terugkeerproces is gestart.", "De terugkeer van vreemdelingen.", "Een proces bij de rechter.",
             "Het proces en de terugkeer."]  # fmt: skip
    index = Bm25Index.build(texts)
    assert index.analyzer.decompounder.split("terugkeerproces") == ("terugkeer", "proces")  # sqrt(2 * 2) > 1
    rows, _, _ = index.scores("proces")
    assert 0 in rows.tolist()  # the passage has "proces" only inside its compound
    plain = Bm25Index.build(texts, Analyzer.from_texts([]))  # no corpus words: nothing is split
    assert 0 not in plain.scores("proces")[0].tolist()


def test_index_counts_a_title_once_not_once_per_passage(tmp_path):
    from tests.conftest import fake_retriever

    doc = "---\ntitle: Nota terugkeerproces\n---\n" + "\n\n".join(
        f"Kop {i}\nDe terugkeer van vreemdelingen is geregeld in deze passage nummer {i} van de nota." for i in range(3)
    )
    r = fake_retriever(tmp_path, {"nota.txt": doc})
    assert len(r.passages) == 3
    words = json.loads((store.current_build(tmp_path / "ix") / store.LEXICAL_WORDS).read_text(encoding="utf-8"))
    assert words["terugkeerproces"] == 1 and words["terugkeer"] == 3
    assert words["nota"] == 4  # the title once and the three passage texts


def test_retriever_warns_about_an_index_from_before_compound_splitting(tmp_path, caplog):
    from retrieval.retriever import Retriever
    from tests.conftest import fake_retriever

    r = fake_retriever(tmp_path, {"a.txt": "De terugkeer van vreemdelingen is in deze passage geregeld voor de test."})
    manifest_path = store.current_build(tmp_path / "ix") / store.MANIFEST
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    del manifest["lexical_version"]
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    with caplog.at_level("WARNING", logger="retrieval.retriever"):
        Retriever(tmp_path / "ix", r.encoder)
    assert "older version" in caplog.text and "python -m indexer build" in caplog.text
