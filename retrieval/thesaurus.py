"""Everyday expressions -> the corpus' own words, for the lexical side (query expansion).

The documents use legal vocabulary ("dienstweigering", "van rechtswege"); an officer's question
often uses everyday words for the same idea ("weigeren te vechten", "automatisch", "refuse to
fight"). The English-Dutch lexicon (retrieval/lexicon.py) translates words one by one and cannot
bridge that: the everyday words are not words of the corpus. `thesaurus.yaml` lists, per
concept of the corpus, the corpus words and the Dutch and English expressions that point to them.

An expression matches a question when all of its content words (stemmed; stop words left out,
but not the negations niet/not) are words of the question, in any order. The Dutch stemmer
leaves the -t of a verb's present tense on (weigert -> weigert, weigeren -> weiger), so a
question's stem of five letters or more that ends in -t also counts without it. Searching, an
expression counts only when it bridges: one of its words is not a term of the index (nor, for
English, a word the lexicon translates; retrieval.lexicon.build_lexical_query). The concept's
corpus words are then added to the question's lexical query, as the lexicon's pivot synonyms
are, and count in its term coverage (which sets the lexical side's weight in the fusion) as
the question's own words do. The dense side is unchanged.
The file was drafted from the documents alone (not from evaluation questions) and needs review
by officers before it is extended.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from indexer.text import STOPWORDS, stem_words, words
from retrieval.yamlfile import read_yaml

THESAURUS = Path(__file__).with_name("thesaurus.yaml")
LANGUAGES = ("nl", "en")


# A negation is a stop word for the index, but 'not admissible' is not 'admissible'.
_NEGATIONS = frozenset({"niet", "not"})
_SKIPPED = STOPWORDS - _NEGATIONS


def content_words(text: str) -> list[str]:
    """The folded words of `text` that are not stop words; negations are kept."""
    return [w for w in words(text) if w not in _SKIPPED]


def content_stems(text: str, language: str) -> frozenset[str]:
    """The stems of the content words of `text` (negations kept), in `language` ('nl' or 'en')."""
    return frozenset(stem_words(content_words(text), language))


@dataclass(frozen=True)
class Concept:
    label: str
    corpus: tuple[str, ...]  # words as the documents write them: what the search adds
    expressions: dict[str, tuple[str, ...]] = field(hash=False)  # language -> everyday expressions


@dataclass(frozen=True)
class _Entry:
    stems: frozenset[str]  # content stems, for matching a question in the expression's language
    words: tuple[str, ...]  # folded content words, negations left out
    concept: int
    expression: str


@dataclass(frozen=True)
class Match:
    """A concept whose `expression` was found in a question, and the corpus words it adds."""

    concept: Concept
    expression: str
    terms: tuple[str, ...]  # the concept's corpus words; those the index has, when it is known


class Thesaurus:
    def __init__(self, concepts: Iterable[Concept]):
        self.concepts = list(concepts)
        self.entries: dict[str, list[_Entry]] = {lang: [] for lang in LANGUAGES}
        for i, c in enumerate(self.concepts):
            for lang in LANGUAGES:
                for expression in c.expressions.get(lang, ()):
                    stems = content_stems(expression, lang)
                    if stems:  # an expression of stop words only would match every question
                        bridging = tuple(w for w in content_words(expression) if w not in _NEGATIONS)
                        self.entries[lang].append(_Entry(stems, bridging, i, expression))

    @classmethod
    def load(cls, path: Path = THESAURUS) -> "Thesaurus":
        data = read_yaml(path) or {}
        items = data.get("concepts") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise ValueError(f"{path}: the file must hold 'concepts:', a list of concepts (concept, corpus, nl, en)")
        concepts = []
        for n, item in enumerate(items, 1):
            if not isinstance(item, dict) or not item.get("corpus"):
                raise ValueError(f"{path}: concept {n} must be a mapping with a non-empty 'corpus' list")
            for key in ("corpus", *LANGUAGES):
                value = item.get(key) or []
                if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
                    raise ValueError(f"{path}: '{key}' of concept {n} ({item.get('concept')}) must be a list of words, "
                                     f"written [word, word]")  # fmt: skip
            concepts.append(
                Concept(
                    label=str(item.get("concept") or f"concept {n}"),
                    corpus=tuple(item["corpus"]),
                    expressions={lang: tuple(item.get(lang) or ()) for lang in LANGUAGES},
                )
            )
        return cls(concepts)

    def matches(self, question: str, language: str, bridges: Callable[[str], bool] | None = None) -> list[Match]:
        """The concepts one of whose expressions in `language` lies wholly in the question and,
        when `bridges` is given, has a word (negations aside) for which it is true; with the
        first such expression of each."""
        words = content_stems(question, language)
        if language == "nl":  # weigert -> weiger (see the module doc)
            words |= {w[:-1] for w in words if len(w) >= 5 and w.endswith("t")}
        found: dict[int, str] = {}
        for e in self.entries[language]:
            if e.concept not in found and e.stems <= words and (bridges is None or any(map(bridges, e.words))):
                found[e.concept] = e.expression
        return [Match(self.concepts[i], expression, self.concepts[i].corpus) for i, expression in found.items()]


def terms_of(matches: Iterable[Match]) -> list[str]:
    """The words the matches add, each once, in order."""
    out: list[str] = []
    for m in matches:
        out += [w for w in m.terms if w not in out]
    return out


def expansion_text(pairs: Iterable[tuple[str, Iterable[str]]]) -> str:
    """"‘expression’ → word, word; ‘…’ → …" for (expression found, corpus words) pairs: how
    the search was widened, shown with the results. An expression's words are listed once."""
    terms: dict[str, list[str]] = {}
    for expression, words in pairs:
        listed = terms.setdefault(expression, [])
        listed += [w for w in words if w not in listed]
    return "; ".join(f"‘{e}’ → {', '.join(ws)}" for e, ws in terms.items())


@lru_cache(maxsize=1)
def default_thesaurus() -> Thesaurus | None:
    """The shipped thesaurus, or None when the file is absent."""
    return Thesaurus.load() if THESAURUS.is_file() else None
