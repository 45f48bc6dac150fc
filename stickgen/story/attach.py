"""Hang hints, emotions, quotes, spoken objects and directions on the actions they qualify."""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from stickgen.story.cast import Cast
from stickgen.story.grammar import Event, Reading
from stickgen.story.vocabulary import (
    DETERMINERS,
    MAX_SPEECH_WORDS,
    SPEAKING,
    SPEECH_STOPWORDS,
)


class _Neighbours:
    """The events either side of a token position, and whether a connector separates them."""

    def __init__(self, reading: Reading) -> None:
        self.events = reading.events
        self.boundary = reading.boundary
        self.starts = [e.start for e in reading.events]
        self.ends = [e.end for e in reading.events]
        self.crossings = [0]
        for is_boundary in reading.boundary:
            self.crossings.append(self.crossings[-1] + is_boundary)

    def around(self, pos: int) -> tuple[Event | None, Event | None]:
        left = bisect_right(self.ends, pos) - 1
        right = bisect_left(self.starts, pos + 1)
        return (
            self.events[left] if left >= 0 else None,
            self.events[right] if right < len(self.events) else None,
        )

    def clear(self, a: int, b: int) -> bool:
        """No connector or punctuation among tokens [a, b)."""
        return a >= b or self.crossings[b] == self.crossings[a]

    def nearest(self, pos: int, end: int) -> Event | None:
        """The left neighbour if nothing separates it, else an unseparated right one; when
        both are separated, the right one if a connector opens the phrase, else the left."""
        left, right = self.around(pos)
        if left is not None and self.clear(left.end, pos):
            return left
        if right is not None and self.clear(end, right.start):
            return right
        if right is not None and (left is None or (pos > 0 and self.boundary[pos - 1])):
            return right
        return left


def attach(r: Reading, cast: Cast) -> None:
    """Hang hints, emotions, speech and directions on the events they qualify."""
    near = _Neighbours(r)
    for hint in r.hints:
        event = near.nearest(hint.start, hint.end)
        if event is not None and event.hint is None:
            event.hint = hint.seconds
    for pos, expression in r.emotions:
        left, _ = near.around(pos)
        if left is None:
            cast.lead_emotions.append((near.around(pos)[1], expression))
            continue
        event = near.nearest(pos, pos + 1)
        if event is not None and event.expression is None:
            event.expression = expression
    for pos, sign in r.directions:
        cast.directions.append((near.nearest(pos, pos + 1), sign))
    _attach_quotes(r, near)
    for event in r.events:
        if event.action in SPEAKING and event.speech is None:
            event.speech = _spoken_object(r, event.end)


def _attach_quotes(r: Reading, near: _Neighbours) -> None:
    for pos in r.quotes:
        passage = r.tokens[pos].raw
        left, right = near.around(pos)
        if left is not None and left.action in SPEAKING:
            target = left
        elif right is not None and right.action in SPEAKING:
            target = right
        else:
            continue
        target.speech = f"{target.speech} {passage}" if target.speech else passage


def _spoken_object(r: Reading, start: int) -> str | None:
    """The unquoted words a speaking verb takes: 'tells a joke' -> 'a joke'."""
    words: list[str] = []
    for j in range(start, len(r.tokens)):
        token = r.tokens[j]
        if (
            token.kind != "word"
            or r.claimed[j]
            or token.text in SPEECH_STOPWORDS
            or len(words) == MAX_SPEECH_WORDS
        ):
            break
        words.append(token.raw)
    if all(w.lower() in DETERMINERS for w in words):
        return None
    return " ".join(words)
