"""English question -> Dutch search terms for the lexical side (dictionary-based query translation).

The corpus is Dutch; an English question shares almost no words with it, so BM25 sees nothing
and only the dense side ranks. With a bilingual lexicon of the corpus' frequent domain words
(`lexicon-en-nl.yaml`, made from the corpus vocabulary, not from evaluation questions), the
English words of the question are replaced by their Dutch equivalents before BM25 scoring,
term coverage and quote selection.

A Dutch question gets, for each of its words, the Dutch words that share an English
translation with it (pivot synonyms: afwijzing -> rejection -> afgewezen; bekendgemaakt ->
published -> gepubliceerd), when there are at most MAX_SYNONYMS of them: a word with many is
ambiguous and is left alone. Measured on both evaluation sets (eval/questions.yaml and the
held-out eval/holdout.yaml): Dutch R@5 0.870 -> 0.909 and 0.800 -> 0.850.

The lexicon first held the 600 most frequent content words; extending it to every content word
of the corpus (1,115 entries, each new one checked against its use in the corpus) raised hybrid
MRR on the held-out set from 0.634 to 0.656 (English R@5 0.667 -> 0.833) and on eval/blind.yaml,
written blind for this check, from 0.553 to 0.587 (Dutch R@5 0.750 -> 0.792); on
eval/questions.yaml Dutch R@5 went from 0.922 to 0.935 and MRR from 0.795 to 0.792.
MAX_SYNONYMS = 3 or 4 did better on that set only and worse on the other two, so it stays at 2.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Container, Iterable
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from indexer.analysis import tokenize
from indexer.text import STOPWORDS, WORD, fold, stem, words
from retrieval.thesaurus import Match, Thesaurus, terms_of
from retrieval.yamlfile import read_yaml

LEXICON = Path(__file__).with_name("lexicon-en-nl.yaml")
MAX_SYNONYMS = 2

# Function words that tell the two languages apart (none occurs in both lists).
_EN = frozenset(
    "the a an of is are was were be been what which who whom whose how when where why does do did can could "
    "should would will shall may must has have had to from with for this that these those there their his her "
    "its they he she it after before about into than any if".split()
)
_NL = frozenset(
    "de het een van is zijn was waren wat welke wie hoe wanneer waar waarom wordt worden werd kan kunnen moet "
    "moeten mag mogen heeft hebben had naar uit met voor deze dit die dat er hun zijn haar hij zij ze ook nog "
    "na bij tot dan als om aan".split()
)


def _function_words(question: str) -> tuple[int, int]:
    """(English, Dutch) function words in the question."""
    words = WORD.findall(question.lower())
    return sum(1 for w in words if w in _EN and w not in _NL), sum(1 for w in words if w in _NL and w not in _EN)


def question_languages(question: str) -> tuple[str, ...]:
    """('en',) for more English than Dutch function words, else ('nl',); ('nl', 'en') for a
    question without function words of either language."""
    en, nl = _function_words(question)
    return ("nl", "en") if en == nl == 0 else ("en",) if en > nl else ("nl",)


class Lexicon:
    """English phrase (folded words) -> Dutch words; longest phrase first when matching."""

    def __init__(self, terms: dict[str, list[str]], untranslated: Iterable[str] = ()):
        self.phrases: dict[tuple[str, ...], list[str]] = {}
        for dutch, english in terms.items():
            for phrase in english:
                key = tuple(words(phrase))
                # a lone English function word ('be', 'the') would add its Dutch word to nearly every question
                if key and not (len(key) == 1 and key[0] in _EN):
                    self.phrases.setdefault(key, [])
                    if dutch not in self.phrases[key]:
                        self.phrases[key].append(dutch)
        self.longest = max((len(k) for k in self.phrases), default=0)
        # Dutch stem -> the other Dutch words that share an English translation with it
        self.key_stems = frozenset(stem(fold(dutch)) for dutch in terms)
        # corpus words left without an entry on purpose (function words, names): not gaps
        self.untranslated_stems = frozenset(stem(fold(w)) for w in untranslated)
        self.synonyms: dict[str, set[str]] = {}
        for dutch_words in self.phrases.values():  # the Dutch words of one English phrase
            for a in dutch_words:
                sa = stem(fold(a))
                for b in dutch_words:
                    if stem(fold(b)) != sa:
                        self.synonyms.setdefault(sa, set()).add(b)

    @classmethod
    def load(cls, path: Path = LEXICON) -> "Lexicon":
        data = read_yaml(path) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{path}: the file must hold 'terms:', a mapping of Dutch words to lists of English words")
        terms = data.get("terms") or {}
        if not isinstance(terms, dict):
            raise ValueError(f"{path}: 'terms' must map Dutch words to lists of English words")
        untranslated = data.get("untranslated") or []
        if not isinstance(untranslated, list):
            raise ValueError(f"{path}: 'untranslated' must be a list of Dutch words")
        return cls({str(k): [str(v) for v in (vs or [])] for k, vs in terms.items()}, [str(w) for w in untranslated])

    def translate(self, question: str) -> tuple[str, int]:
        """The question with every English phrase of the lexicon replaced by its Dutch words,
        and the number of phrases replaced. Words without an entry stay as they are."""
        found_words = words(question)
        out: list[str] = []
        found = 0
        i = 0
        while i < len(found_words):
            for n in range(min(self.longest, len(found_words) - i), 0, -1):
                dutch = self.phrases.get(tuple(found_words[i : i + n]))
                if dutch:
                    out.extend(dutch)
                    found += 1
                    i += n
                    break
            else:
                out.append(found_words[i])
                i += 1
        return " ".join(out), found

    def expand(self, question: str) -> str:
        """The Dutch question followed by the pivot synonyms of its words (see module doc)."""
        extra: list[str] = []
        for w in words(question):
            found = self.synonyms.get(stem(w), set()) if w not in STOPWORDS else set()
            if len(found) <= MAX_SYNONYMS:
                extra += sorted(found)
        return f"{question} {' '.join(extra)}" if extra else question


@dataclass(frozen=True)
class Gap:
    """A Dutch word of the corpus whose stem has no lexicon entry."""

    word: str  # its most frequent form
    documents: int
    occurrences: int


def gaps(texts: Iterable[str], lexicon: Lexicon) -> list[Gap]:
    """The words of `texts` (one per document) that no lexicon entry reaches, most widespread first.

    An English question reaches such a word only through the dense side. Words are grouped by
    stem; stop words, words shorter than 3 letters, words with digits and the lexicon's
    `untranslated` words (function words and names left without an entry on purpose) are left out.
    """
    docs: Counter[str] = Counter()
    occurrences: Counter[str] = Counter()
    forms: dict[str, Counter[str]] = {}
    for text in texts:
        seen: set[str] = set()
        for w in words(text):
            if w in STOPWORDS or len(w) < 3 or any(c.isdigit() for c in w):
                continue
            s = stem(w)
            if s in lexicon.key_stems or s in lexicon.untranslated_stems:
                continue
            occurrences[s] += 1
            forms.setdefault(s, Counter())[w] += 1
            seen.add(s)
        docs.update(seen)
    order = sorted(occurrences, key=lambda s: (-docs[s], -occurrences[s], s))
    return [Gap(forms[s].most_common(1)[0][0], docs[s], occurrences[s]) for s in order]


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon | None:
    """The shipped lexicon, or None when the file is absent."""
    return Lexicon.load() if LEXICON.is_file() else None


@dataclass(frozen=True)
class LexicalQuery:
    """What the lexical side searches with, and the thesaurus concepts that added to it."""

    text: str
    thesaurus: tuple[Match, ...] = ()


def build_lexical_query(
    question: str, lexicon: Lexicon | None, thesaurus: Thesaurus | None, vocabulary: Container[str] | None = None
) -> LexicalQuery:
    """The Dutch translation of an English question, or the Dutch question with the pivot
    synonyms of its words; then the corpus words of the thesaurus concepts whose everyday
    expressions the question uses (retrieval/thesaurus.py).

    The thesaurus expressions tried are those of the question's language; a question without
    function words of either language ("draft dodgers asylum", "dienstweigeraars opvang") tries
    both. With the index's `vocabulary` (stemmed terms), an expression counts only when one of its
    words is one the lexical side cannot use by itself: not a term of the index and, for an
    English expression, not a one-word entry of the lexicon. An expression in words the index has
    ("niet onder het moratorium") adds nothing the question's own words do not find. Only the
    corpus words the index has are added (an index of some of the documents lacks the others).
    """
    languages = question_languages(question)
    english = languages == ("en",)
    if lexicon is None:
        query = question
    elif not english:
        query = lexicon.expand(question)
    else:
        translated, found = lexicon.translate(question)
        query = translated if found else question
    if thesaurus is None:
        return LexicalQuery(query)
    matches: list[Match] = []
    for language in languages:
        bridges = None if vocabulary is None else _bridges(language, lexicon, vocabulary)
        for m in thesaurus.matches(question, language, bridges):
            if vocabulary is not None:  # a word the index lacks would only lower the term coverage
                m = replace(m, terms=tuple(w for w in m.terms if all(t in vocabulary for t in tokenize(w))))
            if m.terms and m not in matches:
                matches.append(m)
    extra = terms_of(matches)
    return LexicalQuery(f"{query} {' '.join(extra)}" if extra else query, tuple(matches))


def _bridges(language: str, lexicon: Lexicon | None, vocabulary: Container[str]) -> Callable[[str], bool]:
    """Whether a word of a thesaurus expression is one the lexical side cannot use by itself."""
    translated = lexicon.phrases if lexicon is not None and language == "en" else {}
    return lambda word: (word,) not in translated and stem(word) not in vocabulary
