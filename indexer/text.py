"""The one text normaliser: how every part of the project folds, splits, stems and compares text.

- `fold`: lower case without diacritics (Oekraïne -> oekraine), so spelling variants meet;
  `fold_with_origin` also maps each folded character back to the text (for highlighting).
- `words`: the folded words of a text; `STOPWORDS`: function words that carry no meaning for
  retrieval; `stem` / `stem_words`: the Snowball stemmer of a language.
- `squeeze`: a text without white space and hyphens, for finding one extraction of a sentence
  in another (a PDF page joins and hyphenates lines differently than its passage).
- `comparable`: a text as phrases are compared (case, diacritics, soft hyphens and white space
  do not count), e.g. an evaluation set's expected phrase in a passage.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

import Stemmer

WORD = re.compile(r"\w+", re.UNICODE)

# Function words that carry no meaning for retrieval (Dutch and English); kept short on purpose.
STOPWORDS = frozenset(
    """de het een en van in op te dat die is voor met zijn er aan als om door bij ook of dan
    niet wordt worden werd zij hij ze wat wie welke hoe waar deze dit naar over tot uit nog
    kan kunnen moet heeft hebben was waren mijn uw je jij ik we wij onder
    the a an and of in on to that is for with are be by as at or not it this what which who
    how where when does do did can was were from has have if""".split()
)
STEMMER_LANGUAGES = {"nl": "dutch", "en": "english"}

# squeeze drops these (hyphens, soft hyphen, and the control characters PDF extraction leaves at
# a hyphenated line end) and straightens typographic quotes
_SQUEEZE_DROP = frozenset({"-", "\u00ad", "\u2010", "\u2011", "\u2012", "\u2013", "\x02", "\ufffe"})
_STRAIGHT_QUOTES = {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00ab": '"', "\u00bb": '"'}
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})


def fold(text: str) -> str:
    """Lower-case and strip diacritics (Oekraïne -> oekraine) so spelling variants meet."""
    nfkd = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in nfkd if not unicodedata.combining(c))


def fold_with_origin(text: str) -> tuple[str, list[int]]:
    """fold(text) with typographic apostrophes made plain, and for each of its characters the
    index of the character of NFC(`text`) it comes from (folding may drop or add characters)."""
    out: list[str] = []
    origin: list[int] = []
    for i, c in enumerate(unicodedata.normalize("NFC", text)):
        f = fold(c).translate(_APOSTROPHES)
        out.append(f)
        origin += [i] * len(f)
    return "".join(out), origin


def words(text: str) -> list[str]:
    """The folded words of `text`, stop words included."""
    return WORD.findall(fold(text))


@lru_cache(maxsize=2)
def _stemmer(language: str) -> Stemmer.Stemmer:
    if language not in STEMMER_LANGUAGES:
        raise ValueError(f"no stemmer for language {language!r}; choose one of {', '.join(STEMMER_LANGUAGES)}")
    return Stemmer.Stemmer(STEMMER_LANGUAGES[language])


def stem(word: str, language: str = "nl") -> str:
    """The stem of one folded word."""
    return _stemmer(language).stemWord(word)


def stem_words(items: Iterable[str], language: str = "nl") -> list[str]:
    """The stems of folded words, in order."""
    return _stemmer(language).stemWords(list(items))


def squeeze(text: str) -> tuple[str, list[int]]:
    """`text` without white space and hyphens, NFKC-normalised and case-folded, with straight
    quotes; and for each kept character its index in `text`. Two extractions of one sentence
    then compare equal although they break lines and hyphenate differently."""
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        if ch.isspace() or ch in _SQUEEZE_DROP:
            continue
        ch = _STRAIGHT_QUOTES.get(ch, ch)
        for c in unicodedata.normalize("NFKC", ch).casefold():
            out.append(c)
            where.append(i)
    return "".join(out), where


def comparable(text: str) -> str:
    """Case-folded, diacritics stripped, soft hyphens removed, white space collapsed."""
    text = unicodedata.normalize("NFKD", text.replace("\u00ad", ""))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return re.sub(r"\s+", " ", text).strip()
