"""Repetition: "twice", "three times", "a few times", "again", "once more", "over and over".

A count right after an action repeats it ("jumps twice": two jump segments). "again" (and "once
more", "one more time") next to its own verb changes nothing ("jumps, then jumps again"); with no
verb of its own ("kicks the ball, then does it again") it repeats the action before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from stickgen.story.lexer import Token
from stickgen.story.vocabulary import (
    MAX_REPEAT,
    NUMBER_WORDS,
    ONCE_WORDS,
    REPEAT_PHRASES,
    REPEAT_VERBS,
    TIMES_WORDS,
    VAGUE_COUNTS,
)


@dataclass(frozen=True)
class Count:
    """A repetition over tokens [start, end): `times` in all, or `times` more when `extra`."""

    start: int
    end: int
    times: int
    extra: bool = False

    @property
    def text(self) -> str:
        return f"+{self.times}" if self.extra else f"x{self.times}"


def _text(tokens: Sequence[Token], i: int) -> str:
    return tokens[i].text if 0 <= i < len(tokens) else ""


def _amount(tokens: Sequence[Token], i: int) -> tuple[float, int] | None:
    word = _text(tokens, i)
    if i < len(tokens) and tokens[i].kind == "num":
        try:
            return float(word), i + 1
        except ValueError:
            return None
    if word in NUMBER_WORDS:
        return NUMBER_WORDS[word], i + 1
    if word in ("a", "an") and _text(tokens, i + 1) in VAGUE_COUNTS:  # a few, a couple of
        j = i + 2 + (_text(tokens, i + 2) == "of")
        return VAGUE_COUNTS[_text(tokens, i + 1)], j
    if word in VAGUE_COUNTS and word != "couple":  # several, many, few
        return VAGUE_COUNTS[word], i + 1
    return None


def _clamp(times: float) -> int:
    return max(1, min(MAX_REPEAT, round(times)))


def match_count(tokens: Sequence[Token], i: int) -> Count | None:
    """The repetition starting at token i, if any."""
    word = _text(tokens, i)
    for phrase, (times, extra) in REPEAT_PHRASES.items():
        if tuple(_text(tokens, i + k) for k in range(len(phrase))) == phrase:
            return Count(i, i + len(phrase), times, extra)
    if word in ONCE_WORDS:
        if word == "once" and _text(tokens, i + 1) in ("done", "finished", "there"):
            return None
        return Count(i, i + 1, ONCE_WORDS[word])
    if word in REPEAT_VERBS:
        return Count(i, i + 1 + (_text(tokens, i + 1) in ("it", "that", "this")), 1, True)
    amount = _amount(tokens, i)
    if amount is None:
        return None
    value, j = amount
    extra = _text(tokens, j) == "more"
    j += extra
    if _text(tokens, j) not in TIMES_WORDS or value <= 0:
        return None
    return Count(i, j + 1, _clamp(value), extra)
