"""Token roles: which tokens are actions, connectors, emotions, people, hints or directions.

`read_tokens` walks the tokens once and returns what it found in text order; `parse.py` then
works out order, simultaneity, timing and who does what.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from functools import cache

from stickgen.schema import ActionType, FacialExpression
from stickgen.story.lexer import Token
from stickgen.story.matcher import PhraseIndex, verb_index
from stickgen.story.timing import Hint, match_hint
from stickgen.story.vocabulary import (
    COUNT_WORDS,
    DETERMINERS,
    EMOTION_WORDS,
    INTENSIFIERS,
    LOOK_FORMS,
    NEGATORS,
    NUMBER_WORDS,
    PERSON_ADJECTIVES,
    PERSON_NOUNS,
    SUBJECT_PRONOUNS,
    words,
)


class Link(Enum):
    """What a connector says about the clause it opens."""

    SEQ = "seq"  # then, afterwards, finally, ". " ...
    AND = "and"  # and, plus, also
    AFTER = "after"  # after X (X happens first)
    BEFORE = "before"  # before X (X happens later)
    WHILE = "while"  # while X, as X (at the same time as the clause it belongs to)
    SIMUL = "simul"  # meanwhile, at the same time (with the previous clause)


_CONNECTORS: dict[tuple[str, ...], Link] = {
    **{
        (w,): Link.SEQ
        for w in words(
            "then afterwards afterward next later finally eventually subsequently lastly "
            "thereafter first firstly initially until till but"
        )
    },
    ("after", "that"): Link.SEQ,
    ("after", "this"): Link.SEQ,
    ("after", "which"): Link.SEQ,
    ("after", "a", "while"): Link.SEQ,
    ("followed", "by"): Link.SEQ,
    ("at", "last"): Link.SEQ,
    ("at", "first"): Link.SEQ,
    ("in", "the", "end"): Link.SEQ,
    ("when", "done"): Link.SEQ,
    ("once", "done"): Link.SEQ,
    ("and",): Link.AND,
    ("&",): Link.AND,
    ("plus",): Link.AND,
    ("also",): Link.AND,
    ("as", "well", "as"): Link.AND,
    ("after",): Link.AFTER,
    ("as", "soon", "as"): Link.AFTER,
    ("right", "after"): Link.AFTER,
    ("before",): Link.BEFORE,
    ("right", "before"): Link.BEFORE,
    ("while",): Link.WHILE,
    ("whilst",): Link.WHILE,
    ("as",): Link.WHILE,
    ("during",): Link.WHILE,
    ("meanwhile",): Link.SIMUL,
    ("simultaneously",): Link.SIMUL,
    ("at", "the", "same", "time"): Link.SIMUL,
    ("in", "the", "meantime"): Link.SIMUL,
}
_STRONG_PUNCT = frozenset(".;!?")
_BODY_PARTS = frozenset(
    words("hand hands arm arms leg legs foot feet knee knees fist fists shoulder eye")
)
_DIRECTION_LEADS = frozenset(
    words(
        "the turn turns turned turning go goes went going head heads headed heading face faces "
        "facing faced"
    )
)
_DIRECTIONS = {
    "left": -1,
    "right": 1,
    "leftward": -1,
    "leftwards": -1,
    "rightward": 1,
    "rightwards": 1,
}
_RELATIVE = frozenset({"who", "that", "which"})


@dataclass
class Event:
    """One action the prompt names, at tokens [start, end)."""

    action: ActionType
    start: int
    end: int
    expression: FacialExpression | None = None
    hint: float | None = None
    speech: str | None = None
    group: tuple[str, ...] = ()  # who does it (member keys)


@dataclass
class Mention:
    """A person named in the prompt."""

    pos: int
    key: str
    members: tuple[str, ...]
    subject: bool  # in subject position (sentence start, after a connector, or before "who")
    emotion: FacialExpression | None = None  # "a happy man"


@dataclass
class Reading:
    """Everything `read_tokens` found, in text order."""

    tokens: list[Token]
    events: list[Event] = field(default_factory=list)
    hints: list[Hint] = field(default_factory=list)
    emotions: list[tuple[int, FacialExpression]] = field(default_factory=list)
    quotes: list[int] = field(default_factory=list)
    links: list[tuple[int, Link]] = field(default_factory=list)  # (position, link); "," = SEQ-weak
    commas: list[int] = field(default_factory=list)
    strong: list[int] = field(default_factory=list)  # positions of sentence ends and SEQ words
    mentions: list[Mention] = field(default_factory=list)
    pronouns: list[tuple[int, str]] = field(default_factory=list)
    directions: list[tuple[int, int]] = field(default_factory=list)
    relatives: list[int] = field(default_factory=list)
    boundary: list[bool] = field(default_factory=list)  # per token: a connector or punctuation
    claimed: list[bool] = field(default_factory=list)  # per token: part of something recognised


@cache
def _verbs() -> PhraseIndex:
    return verb_index()


@cache
def _connectors() -> PhraseIndex:
    return PhraseIndex(_CONNECTORS.items())


def _text(tokens: list[Token], i: int) -> str:
    return tokens[i].text if 0 <= i < len(tokens) else ""


def read_tokens(tokens: list[Token]) -> Reading:
    """Classify every token of the prompt."""
    r = Reading(tokens, boundary=[False] * len(tokens), claimed=[False] * len(tokens))
    verbs, connectors = _verbs(), _connectors()
    i, n = 0, len(tokens)
    while i < n:
        token = tokens[i]
        if token.kind == "quote":
            r.quotes.append(i)
            r.claimed[i] = True
            i += 1
            continue
        if token.kind == "punct":
            r.boundary[i] = r.claimed[i] = True
            if token.text in _STRONG_PUNCT:
                r.strong.append(i)
            elif token.text == ",":
                r.commas.append(i)
            elif token.text == "&":
                r.links.append((i, Link.AND))
            i += 1
            continue
        hint = match_hint(tokens, i)
        if hint is not None:
            r.hints.append(hint)
            _claim(r, hint.start, hint.end)
            i = hint.end
            continue
        link = connectors.match(tokens, i)
        if link is not None and not _is_direction(tokens, i):
            kind, end = link
            r.links.append((i, kind))
            if kind is Link.SEQ:
                r.strong.append(i)
            for j in range(i, end):
                r.boundary[j] = r.claimed[j] = True
            i = end
            continue
        verb = verbs.match(tokens, i)
        if verb is not None:
            action, end = verb
            if not _ignored_verb(r, tokens, i, end):
                r.events.append(Event(action, i, end))
            _claim(r, i, end)
            i = end
            continue
        i = _read_word(r, tokens, i)
    return r


def _claim(r: Reading, start: int, end: int) -> None:
    for j in range(start, end):
        r.claimed[j] = True


def _ignored_verb(r: Reading, tokens: list[Token], i: int, end: int) -> bool:
    """Negated ("does not walk"), an object ("eats a snack") or a copula ("looks happy")."""
    if _text(tokens, i - 1) in NEGATORS:
        return True
    if (
        _text(tokens, i - 1) in DETERMINERS
        and r.events
        and r.events[-1].end == i - 1
        and end == i + 1
    ):
        return True
    if tokens[i].text in LOOK_FORMS and end == i + 1:
        j = i + 1
        while _text(tokens, j) in INTENSIFIERS:
            j += 1
        return _text(tokens, j) in EMOTION_WORDS
    return False


def _is_direction(tokens: list[Token], i: int) -> bool:
    """'right' of 'right after' is a connector, but of 'to the right' a direction."""
    return tokens[i].text == "right" and _text(tokens, i - 1) == "the"


def _read_word(r: Reading, tokens: list[Token], i: int) -> int:
    word = tokens[i].text
    if word in EMOTION_WORDS:
        r.emotions.append((i, EMOTION_WORDS[word]))
        r.claimed[i] = True
    elif word in PERSON_NOUNS:
        r.mentions.append(_mention(r, tokens, i))
        r.claimed[i] = True
    elif word in SUBJECT_PRONOUNS:
        r.pronouns.append((i, word))
        r.claimed[i] = True
    elif word in _RELATIVE and r.mentions and r.mentions[-1].pos == i - 1:
        r.relatives.append(i)
        r.mentions[-1].subject = True
        r.boundary[i] = r.claimed[i] = True
    elif word in _DIRECTIONS and _direction_context(r, tokens, i):
        r.directions.append((i, _DIRECTIONS[word]))
        r.claimed[i] = True
    return i + 1


def _direction_context(r: Reading, tokens: list[Token], i: int) -> bool:
    if tokens[i].text.endswith(("ward", "wards")):
        return True
    if _text(tokens, i + 1) in _BODY_PARTS:
        return False
    after_verb = bool(r.events) and r.events[-1].end == i
    return after_verb or _text(tokens, i - 1) in _DIRECTION_LEADS


def _mention(r: Reading, tokens: list[Token], i: int) -> Mention:
    """A person noun: its identity, group size, emotion adjective, and whether it is a subject."""
    key, plural = PERSON_NOUNS[tokens[i].text]
    count = 2 if plural else 1
    emotion = None
    j = i - 1
    while j >= 0:
        word = tokens[j].text
        if word in COUNT_WORDS:
            count = COUNT_WORDS[word] if plural else count
        elif plural and (word in NUMBER_WORDS or tokens[j].kind == "num"):
            count = int(NUMBER_WORDS.get(word, 0) or _safe_int(word))
        elif word in EMOTION_WORDS:
            emotion = EMOTION_WORDS[word]
            r.emotions = [(p, e) for p, e in r.emotions if p != j]
        elif not (
            word in DETERMINERS or word in PERSON_ADJECTIVES or word in INTENSIFIERS or word == "of"
        ):
            break
        j -= 1
    subject = j < 0 or r.boundary[j]
    count = max(1, min(count, 4))
    members = tuple(f"{key}#{k + 1}" for k in range(count)) if plural else (key,)
    return Mention(i, key, members, subject, emotion)


def _safe_int(word: str) -> int:
    try:
        return int(float(word))
    except ValueError:
        return 2
