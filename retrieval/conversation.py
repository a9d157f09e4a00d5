"""Follow-up questions: an elliptic question ("En tot wanneer?", "And for deserters?") is read
against the conversation and rewritten, deterministically, into a standalone question: the
question itself followed by the topic of the turn before it (its content words and the
references it names). The officer sees what was searched ("Opgevat als: ...").

A question is a follow-up when there is an earlier turn and it has at most MAX_OWN_TOPIC words
of its own topic, while it opens like a continuation ("En ...", "What about ...") or points back
("geldt dat", "does it"), or has no topic word at all ("Tot wanneer?"). A question that names a
reference or enough topic words of its own stands alone. Each turn is rewritten against the
rewritten turn before it, so a chain of follow-ups keeps its topic.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from indexer.text import STOPWORDS, WORD, fold
from retrieval.references import parse_references

MAX_OWN_TOPIC = 3  # a follow-up names at most this many topic words of its own

# Words that open a continuation of the conversation (folded; a phrase matches at the start).
OPENERS = (
    "en", "maar", "ook", "en als", "en wat als", "wat als", "hoe zit het met", "hoe zit dat met", "geldt dat",
    "geldt dit", "geldt het", "is dat", "is dit", "welk artikel", "welke bron", "waar staat",
    "and", "but", "also", "what about", "how about", "and what about", "what if", "and if", "does that",
    "does this", "does it", "is that", "is it", "same for", "which article", "where does it say",
)  # fmt: skip
# Words that point back to the earlier turn ("het", "die" and "deze" are left out: they are Dutch
# articles and relative pronouns too), and words that mark a question as continuing it ("ook",
# "the same", "as well").
ANAPHORA = frozenset(
    "dat dit daar daarvan daarvoor daarna hij zij ze hem haar hun zo ook zelfde dezelfde hetzelfde allemaal beide "
    "that this these those there it its they them he she his her such then too same well both".split()
)
# Words that ask where the earlier answer comes from ("Op grond van welk artikel?"): no topic of their own.
SOURCE_WORDS = frozenset("artikel artikelen grond bron bronnen paragraaf bepaling article articles source sources provision".split())
# Question words and verbs that carry no topic.
QUESTION_WORDS = frozenset(
    """wat wie wiens hoe hoelang hoeveel wanneer welke welk waarom waar waarvoor kan kunnen mag mogen moet moeten
    krijgt krijgen krijg geldt gelden gold golden gaat gaan gebeurt gebeurde zit staat stond is zijn was waren lang
    wordt worden werd heeft hebben had nog dan ook wel niet geen al alleen even precies eigenlijk
    what who whose how long much many when which why where can could may might must should shall will would
    get gets got apply applies applied happen happens happened go goes is are was were been be do does did
    has have had still then also just even exactly actually only about zegt zeggen regelt betekent say says mean
    means long""".split()
)


@dataclass(frozen=True)
class Reading:
    """How a question was read: `text` is what is searched; `follow_up` when it was rewritten."""

    question: str
    text: str
    follow_up: bool = False


def topic_words(question: str) -> list[str]:
    """The question's words that carry its topic, as written, in order (no question words,
    stop words, openers or pointers back; at least three letters or a number)."""
    out: list[str] = []
    for w in WORD.findall(question):
        f = fold(w)
        if f in STOPWORDS or f in QUESTION_WORDS or f in ANAPHORA or f in _OPENER_WORDS or f in SOURCE_WORDS:
            continue
        if len(f) >= 3 or f.isdigit():
            out.append(w)
    return out


_OPENER_WORDS = frozenset(w for o in OPENERS for w in o.split())


def _opens_as_continuation(question: str) -> bool:
    words = " ".join(WORD.findall(fold(question)))
    return any(words == o or words.startswith(o + " ") for o in OPENERS)


def _points_back(question: str) -> bool:
    return any(fold(w) in ANAPHORA for w in WORD.findall(question))


def is_follow_up(question: str) -> bool:
    """Whether the question needs the turn before it (see the module docstring)."""
    if parse_references(question):
        return False
    own = topic_words(question)
    if not own:
        return True
    return len(own) <= MAX_OWN_TOPIC and (_opens_as_continuation(question) or _points_back(question))


def read(question: str, history: Sequence[str] = ()) -> Reading:
    """The question as it is searched, given the earlier questions of the conversation (oldest
    first): a follow-up gets the topic of the turn before it, itself read the same way."""
    question = " ".join(question.split())
    previous: Reading | None = None
    for earlier in history:
        earlier = " ".join(earlier.split())
        if not earlier:
            continue
        previous = _read_one(earlier, previous)
    return _read_one(question, previous)


def _read_one(question: str, previous: Reading | None) -> Reading:
    if previous is None or not is_follow_up(question):
        return Reading(question, question)
    own = {fold(w) for w in topic_words(question)}
    refs = [r.text for r in parse_references(previous.text)]
    rest = previous.text
    for r in refs:
        rest = rest.replace(r, " ")
    carried = list(dict.fromkeys([w for w in topic_words(rest) if fold(w) not in own] + refs))
    if not carried:
        return Reading(question, question)
    return Reading(question, f"{question} ({' '.join(carried)})", follow_up=True)
