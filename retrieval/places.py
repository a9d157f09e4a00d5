"""The states a question names, whether the corpus mentions them, and which passages are about
a foreign state.

A question about a state that no document mentions ("Geldt er een moratorium voor Jemen?") is
one the corpus cannot answer when its nearest passage is about another state's situation (a
policy note on Russia): the dense margin cannot see this, because the question is otherwise the
corpus' own topic. When the nearest passage is a general rule (an article of the law), the state
is incidental ("de asielaanvraag van een Afghaan": the decision period is the same for all), and
the question stays answerable.
`places.yaml` lists the world's states with their Dutch and English names, adjectives and
inhabitants. A question that names only states the corpus never mentions is not answerable when
its best passage is about a foreign state; one that also names a state the corpus mentions
("Russen die via Finland reizen") may be. A state also counts as mentioned when the corpus
speaks of a class it belongs to ("lidstaat": the law's general rule covers "als Duitsland
volgens Dublin verantwoordelijk is"). A passage is about a foreign state when its document's
title or its section heading names a state other than the Netherlands, whose law the corpus
holds ("Beleidsconsequenties mobilisatie Rusland", "C7/21 Het asielbeleid ten aanzien van
Rusland").
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from indexer.analysis import tokenize
from indexer.text import fold_with_origin
from retrieval.yamlfile import read_yaml

PLACES = Path(__file__).with_name("places.yaml")
HOME_STATE = "NL"  # the state whose law and policy the corpus holds: naming it is not foreign


@dataclass(frozen=True)
class Mention:
    state: str  # the key of places.yaml (ISO 3166-1 alpha-2)
    text: str  # as the question writes it


@dataclass(frozen=True)
class StateClass:
    label: str
    words: tuple[str, ...]  # the words that name the class ("lidstaat")
    members: frozenset[str]  # state codes


class Gazetteer:
    """States and the words that name them; finds them in a question as whole words or phrases."""

    def __init__(self, states: dict[str, Iterable[str]], classes: Iterable[StateClass] = ()):
        self.states = {code: tuple(forms) for code, forms in states.items()}
        self.classes = tuple(classes)
        for c in self.classes:
            if unknown := sorted(c.members - set(self.states)):
                raise ValueError(f"class '{c.label}' lists states that are not listed: {', '.join(unknown)}")
        self._state_of: dict[str, str] = {}
        for code, forms in self.states.items():
            for form in forms:
                key = fold_with_origin(form.strip())[0]
                if self._state_of.setdefault(key, code) != code:
                    raise ValueError(f"'{form}' names both {self._state_of[key]} and {code}")
        # longest first: at one position "wit-rusland" wins over "rus"
        words = sorted(self._state_of, key=len, reverse=True)
        self._pattern = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, words)) + r")(?!\w)") if words else None

    @classmethod
    def load(cls, path: Path = PLACES) -> "Gazetteer":
        data = read_yaml(path)
        items = data.get("places") if isinstance(data, dict) else None
        if not isinstance(items, dict):
            raise ValueError(f"{path}: the file must hold 'places:', a mapping of state code -> [word, word]")
        for code, forms in items.items():
            if not isinstance(code, str):
                raise ValueError(f"{path}: state key {code!r} must be a code in quotes (YAML reads NO as false)")
            if not _words(forms):
                raise ValueError(f"{path}: '{code}' must be a non-empty list of words, written [word, word]")
        classes = []
        for n, item in enumerate(data.get("classes") or [], 1):
            if not isinstance(item, dict) or not _words(item.get("words")) or not _words(item.get("members")):
                raise ValueError(f"{path}: class {n} must be a mapping with non-empty lists 'words' and 'members'")
            classes.append(StateClass(str(item.get("class") or f"class {n}"), tuple(item["words"]), frozenset(item["members"])))
        try:
            return cls(items, classes)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None

    def mentions(self, text: str) -> list[Mention]:
        """The states `text` names, in order, with the words as written."""
        if self._pattern is None:
            return []
        folded, origin = fold_with_origin(text)
        nfc = unicodedata.normalize("NFC", text)
        return [
            Mention(self._state_of[m.group()], nfc[origin[m.start()] : origin[m.end() - 1] + 1])
            for m in self._pattern.finditer(folded)
        ]

    def names_foreign_state(self, text: str) -> bool:
        """Whether `text` (a passage's document title and section heading) names a state other
        than the home state."""
        return any(m.state != HOME_STATE for m in self.mentions(text))

    def in_corpus(self, vocabulary: Collection[str]) -> frozenset[str]:
        """The states one of whose words (all its terms, for a phrase) is a term of the index,
        and the members of the classes one of whose words is."""
        known = {code for code, forms in self.states.items() if _any_in(forms, vocabulary)}
        for c in self.classes:
            if _any_in(c.words, vocabulary):
                known |= c.members
        return frozenset(known)


def _words(value: object) -> bool:
    """A non-empty list of non-empty strings."""
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) and v.strip() for v in value)


def _any_in(words: Iterable[str], vocabulary: Collection[str]) -> bool:
    """One of `words` (all its terms, for a phrase) is a term of the index."""
    return any((terms := tokenize(w)) and all(t in vocabulary for t in terms) for w in words)


def unknown_places(mentions: list[Mention], known: Collection[str]) -> tuple[str, ...]:
    """The words of the mentions when every state named is one the corpus never mentions; else
    () (nothing named, or a state the corpus knows is named too)."""
    if not mentions or any(m.state in known for m in mentions):
        return ()
    return tuple(dict.fromkeys(m.text for m in mentions))


def quoted(places: Iterable[str]) -> str:
    """‘Jemen’, ‘Belarus’: the places as the question wrote them, for the 'no answer' notice."""
    return ", ".join(f"‘{p}’" for p in places)


@lru_cache(maxsize=1)
def default_gazetteer() -> Gazetteer | None:
    """The shipped gazetteer, or None when the file is absent."""
    return Gazetteer.load() if PLACES.is_file() else None
