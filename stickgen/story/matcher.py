"""Longest-match lookup of multi-word phrases in a token list, skipping determiners inside them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from stickgen.schema import ActionType
from stickgen.story.lexer import Token
from stickgen.story.vocabulary import DETERMINERS, VERB_PHRASES, phrase_forms

V = TypeVar("V")


class PhraseIndex(Generic[V]):
    """Phrases (token tuples) -> values, matched longest first at a token position.

    Inside a phrase the text may carry determiners the phrase leaves out: the phrase
    ("swing", "bat") matches "swings *a* bat" and "swung *his* bat".
    """

    def __init__(self, entries: Iterable[tuple[tuple[str, ...], V]]) -> None:
        by_head: dict[str, dict[tuple[str, ...], V]] = {}
        for phrase, value in entries:
            by_head.setdefault(phrase[0], {}).setdefault(phrase, value)
        self._by_head = {
            head: sorted(options.items(), key=lambda item: -len(item[0]))
            for head, options in by_head.items()
        }

    def match(self, tokens: Sequence[Token], i: int) -> tuple[V, int] | None:
        """(value, end index) of the longest phrase starting at token i, or None."""
        options = self._by_head.get(tokens[i].text)
        if not options:
            return None
        for phrase, value in options:
            end = _match_tail(tokens, i + 1, phrase[1:])
            if end is not None:
                return value, end
        return None


def _match_tail(tokens: Sequence[Token], j: int, tail: tuple[str, ...]) -> int | None:
    for word in tail:
        while j < len(tokens) and tokens[j].text in DETERMINERS and word not in DETERMINERS:
            j += 1
        if j >= len(tokens) or tokens[j].text != word:
            return None
        j += 1
    return j


@dataclass(frozen=True)
class VerbMatch:
    """What a verb phrase form names: its action, its base phrase, and whether it is a fixed noun
    phrase ("=high five") rather than an inflected verb."""

    action: ActionType
    phrase: str
    fixed: bool
    form: tuple[str, ...]


def verb_index() -> PhraseIndex[VerbMatch]:
    """Every inflected verb phrase of `VERB_PHRASES` -> its VerbMatch."""
    return PhraseIndex(
        (form, VerbMatch(action, phrase.lstrip("="), phrase.startswith("="), form))
        for action, phrases in VERB_PHRASES.items()
        for phrase in phrases
        for form in phrase_forms(phrase)
    )
