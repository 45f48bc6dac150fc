"""Timing: read duration hints ("for 2.5 seconds", "for half a second") and share out a clip.

Hints are `for <amount> <unit>` ("for" may be left out before a number: "a 3 second jump").
Amounts: digits, number words, "a"/"an", "half a", "... and a half", "a few", "several",
"a couple of"; units: seconds, secs, s, minutes, moments, milliseconds; also "for a while" (3 s),
"for a bit" (2 s) and "briefly" (1 s).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from stickgen.schema import MAX_DURATION
from stickgen.story.lexer import Token
from stickgen.story.vocabulary import (
    NUMBER_WORDS,
    TIME_UNITS,
    VAGUE_COUNTS,
    VAGUE_SPANS,
)

DEFAULT_DURATION = 10.0
MIN_SEGMENT = 0.4  # the least an untimed segment gets when hints crowd the clip
OPEN_SHARE = 0.5  # open-ended actions get at least this share of their typical time, or all scale
BRIEFLY = 1.0


@dataclass(frozen=True)
class Hint:
    """A duration hint covering tokens [start, end)."""

    start: int
    end: int
    seconds: float


def _text(tokens: Sequence[Token], i: int) -> str:
    return tokens[i].text if 0 <= i < len(tokens) else ""


def _number(tokens: Sequence[Token], i: int) -> tuple[float, int] | None:
    """A number at token i (digits or words, '... and a half'): (value, next index)."""
    token = tokens[i] if i < len(tokens) else None
    if token is None:
        return None
    if token.kind == "num":
        value = float(token.text)
    elif token.text in NUMBER_WORDS:
        value = NUMBER_WORDS[token.text]
        if value >= 20 and _text(tokens, i + 1) in NUMBER_WORDS:  # "twenty five"
            small = NUMBER_WORDS[_text(tokens, i + 1)]
            if 0 < small < 10:
                value, i = value + small, i + 1
    else:
        return None
    i += 1
    if [_text(tokens, i + k) for k in range(3)] == ["and", "a", "half"]:
        value, i = value + 0.5, i + 3
    return value, i


def _amount(tokens: Sequence[Token], i: int) -> tuple[float, int] | None:
    """An amount of units at token i: (count, next index)."""
    word = _text(tokens, i)
    if word == "half" and _text(tokens, i + 1) in ("a", "an"):
        return 0.5, i + 2
    if word in ("a", "an"):
        nxt = _text(tokens, i + 1)
        if nxt in VAGUE_COUNTS:  # "a few", "a couple of"
            j = i + 2 + (_text(tokens, i + 2) == "of")
            return VAGUE_COUNTS[nxt], j
        if nxt == "half":  # "a half second"
            return 0.5, i + 2
        return 1.0, i + 1
    if word in VAGUE_COUNTS:
        return VAGUE_COUNTS[word], i + 1 + (_text(tokens, i + 1) == "of")
    return _number(tokens, i)


def match_hint(tokens: Sequence[Token], i: int) -> Hint | None:
    """The duration hint starting at token i, if any."""
    word = _text(tokens, i)
    if word == "briefly":
        return Hint(i, i + 1, BRIEFLY)
    has_for = word == "for"
    j = i + 1 if has_for else i
    if has_for and _text(tokens, j) in ("a", "an") and _text(tokens, j + 1) in VAGUE_SPANS:
        return Hint(i, j + 2, VAGUE_SPANS[_text(tokens, j + 1)])
    if has_for and _text(tokens, j) == "some" and _text(tokens, j + 1) == "time":
        return Hint(i, j + 2, VAGUE_SPANS["while"])
    if not has_for and (j >= len(tokens) or tokens[j].kind != "num") and word not in NUMBER_WORDS:
        return None  # without "for" only a number starts a hint ("a 3 second jump")
    amount = _amount(tokens, j)
    if amount is None:
        return None
    count, j = amount
    unit = _text(tokens, j)
    if unit not in TIME_UNITS:
        return None
    seconds = count * TIME_UNITS[unit]
    if not math.isfinite(seconds) or seconds <= 0:
        return None
    return Hint(i, j + 1, min(seconds, MAX_DURATION))


@dataclass(frozen=True)
class Need:
    """What one planned segment asks of the clock."""

    typical: float  # seconds it usually takes
    open_ended: bool  # it can go on as long as the clip allows
    hint: float | None = None  # seconds the prompt asked for


def clip_duration(needs: Sequence[Need]) -> float:
    """The clip length when the caller gave none: 10 s, longer only if explicit hints ask for it."""
    hinted = sum(n.hint for n in needs if n.hint is not None)
    if hinted == 0:
        return DEFAULT_DURATION
    wanted = hinted + sum(n.typical for n in needs if n.hint is None)
    return min(max(DEFAULT_DURATION, wanted), MAX_DURATION)


def allocate(needs: Sequence[Need], total: float) -> tuple[list[float], float]:
    """Seconds per segment, and the time left over when every segment is timed and short.

    Hinted segments get their hint (scaled down if the hints alone overflow the clip). Untimed
    bounded actions get their typical time and untimed open-ended ones share the rest; when that
    would leave the open-ended ones less than half their typical time, or nothing is open-ended,
    the untimed segments share the time left in proportion to their typical durations.
    """
    if not needs:
        return [], total
    free = [i for i, n in enumerate(needs) if n.hint is None]
    room_for_hints = total - MIN_SEGMENT * len(free)
    if room_for_hints <= 0:  # too short a clip for the hints: ignore them
        free = list(range(len(needs)))
        room_for_hints = 0.0
    free_set = set(free)
    out = [0.0 if i in free_set else float(n.hint or 0.0) for i, n in enumerate(needs)]
    hinted = sum(out)
    if hinted > room_for_hints:
        scale = room_for_hints / hinted
        out = [d * scale for d in out]
        hinted = room_for_hints
    if not free:
        return out, total - hinted
    rest = total - hinted
    bounded = [i for i in free if not needs[i].open_ended]
    opened = [i for i in free if needs[i].open_ended]
    bounded_want = sum(needs[i].typical for i in bounded)
    open_weight = sum(needs[i].typical for i in opened)
    if opened and rest - bounded_want >= OPEN_SHARE * open_weight:
        for i in bounded:
            out[i] = needs[i].typical
        for i in opened:
            out[i] = (rest - bounded_want) * needs[i].typical / open_weight
    else:
        weight = sum(needs[i].typical for i in free)
        for i in free:
            out[i] = rest * needs[i].typical / weight
    return out, 0.0
