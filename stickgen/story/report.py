"""The parse report: what the story engine recognised in a prompt, guessed, and ignored."""

from __future__ import annotations

from stickgen.schema import Guess, Recognised, Understanding
from stickgen.story.grammar import Reading
from stickgen.story.meaning import FUNCTION_WORDS
from stickgen.story.vocabulary import LIGHT_VERBS


def _span(r: Reading, start: int, end: int) -> str:
    return " ".join(t.raw for t in r.tokens[start:end] if t.kind != "quote")


def understanding(r: Reading, guesses: list[Guess]) -> Understanding:
    """The report for a reading, once rules and meaning have both had their say."""
    found: list[tuple[int, Recognised]] = []
    for event in r.events:
        if event.derived or event.score is not None:
            continue
        found.append(
            (event.start, Recognised(_span(r, event.start, event.end), "action", _name(event)))
        )
    for pos, expression in r.emotion_words:
        found.append((pos, Recognised(r.tokens[pos].raw, "expression", expression.name.lower())))
    for mention in r.mentions:
        meaning = "name" if mention.name is not None else mention.key
        if len(mention.members) > 1:
            meaning += f" x{len(mention.members)}"
        found.append((mention.pos, Recognised(r.tokens[mention.pos].raw, "person", meaning)))
    for hint in r.hints:
        found.append(
            (hint.start, Recognised(_span(r, hint.start, hint.end), "time", f"{hint.seconds:g} s"))
        )
    for count in r.counts:
        found.append(
            (count.start, Recognised(_span(r, count.start, count.end), "count", count.text))
        )
    for _, seat in r.seats:
        height = "the ground" if seat.height == 0 else f"{seat.prop} at {seat.height:g} m"
        text = _span(r, seat.start, seat.end) or (seat.prop or "")
        found.append((seat.start, Recognised(text, "seat", height)))
    for pos in r.quotes:
        found.append((pos, Recognised(f'"{r.tokens[pos].raw}"', "speech", "said")))
    for pos, sign in r.directions:
        found.append(
            (pos, Recognised(r.tokens[pos].raw, "direction", "left" if sign < 0 else "right"))
        )
    found.sort(key=lambda item: item[0])
    return Understanding(
        recognised=tuple(item for _, item in found),
        guessed=tuple(guesses),
        ignored=_ignored(r),
    )


def _name(event) -> str:
    return event.action.name.lower()


def _ignored(r: Reading) -> tuple[str, ...]:
    """Words that changed nothing: unknown ones and known ones with no effect ("slowly"),
    leaving out small function words."""
    quiet = set(r.quiet) | set(r.nouns) | set(r.compounds)
    out: list[str] = []
    for j, token in enumerate(r.tokens):
        if token.kind != "word":
            continue
        if r.claimed[j] and j not in quiet:
            continue
        if token.text in FUNCTION_WORDS or (token.text in LIGHT_VERBS and j not in quiet):
            continue
        out.append(token.raw)
    return tuple(dict.fromkeys(out))
