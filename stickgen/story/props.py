"""What a figure sits or lies on: "sits on a bench" (a seat, hip at 0.45 m), "lies on the bed"
(0.5 m), "sits on the floor" (the ground).

A sitting action takes the seat named after it in its clause ("sits down on a park bench", "sits at
her desk") or, failing that, a piece of furniture named earlier in the sentence ("walks to the
sofa and sits down"). Sitting on something not listed is sitting on a seat of ordinary height;
sitting with no seat named, or on the floor, grass, sand..., is sitting on the ground. Lying is
raised only on a bed, couch, bench and the like.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from stickgen.schema import ActionType
from stickgen.story.vocabulary import DETERMINERS, words

SEAT_HEIGHT = 0.45  # metres: an ordinary chair or bench

# Things to sit on -> seat height, metres.
SEATS: dict[str, float] = {
    **dict.fromkeys(words("chair chairs bench benches seat seats throne swing pew"), SEAT_HEIGHT),
    **dict.fromkeys(words("sofa sofas couch couches armchair armchairs recliner beanbag"), 0.42),
    **dict.fromkeys(words("stool stools barstool barstools"), 0.65),
    **dict.fromkeys(words("bed beds bunk cot hammock"), 0.5),
    **dict.fromkeys(words("rock rocks boulder box crate chest trunk suitcase"), 0.4),
    **dict.fromkeys(words("log stump tire tyre bucket"), 0.35),
    **dict.fromkeys(words("step steps stair stairs stairway doorstep curb kerb"), 0.2),
    **dict.fromkeys(words("wall ledge fence railing counter table desk bar windowsill"), 0.6),
}
# Things to lie on -> height, metres.
BEDS: dict[str, float] = {
    **dict.fromkeys(words("bed beds bunk cot daybed"), 0.5),
    **dict.fromkeys(words("couch couches sofa sofas recliner"), 0.42),
    **dict.fromkeys(words("bench benches"), SEAT_HEIGHT),
    **dict.fromkeys(words("hammock"), 0.6),
    **dict.fromkeys(words("table tables stretcher"), 0.7),
    **dict.fromkeys(words("lounger sunbed sunlounger deckchair"), 0.35),
    **dict.fromkeys(words("mattress futon"), 0.25),
}
# Surfaces that are the ground.
GROUND = frozenset(
    words(
        "floor floors ground grass lawn sand beach carpet rug mat mats blanket towel pavement "
        "sidewalk road street dirt earth mud snow ice field meadow park deck tiles tile "
        "floorboards stage ring yard garden path trail hill shore riverbank"
    )
)
# "sits at the desk": furniture one sits at, on a chair.
SIT_AT = frozenset(
    words(
        "table desk counter bar piano computer laptop keyboard workbench organ drums easel "
        "sewing loom typewriter"
    )
)
_ON = frozenset(words("on onto upon atop"))
_IN = frozenset(words("in into inside"))
_AT = frozenset(words("at by beside"))
_PREPOSITIONS = _ON | _IN | _AT
_OF = frozenset(words("of"))
SITTING = frozenset({ActionType.SIT})
LYING = frozenset({ActionType.LIE_DOWN})


@dataclass(frozen=True)
class Support:
    """What the figure is on: `height` metres (0 = the ground), the noun that named it (if any),
    and the tokens [start, end) that said so."""

    height: float
    prop: str | None
    start: int
    end: int


def _noun_phrase(texts: Sequence[str], i: int, stop: Sequence[bool]) -> tuple[list[str], int]:
    """Words of the noun phrase at `i` (determiners dropped, 'of' kept as a joint), its end."""
    found: list[str] = []
    j = i
    while j < len(texts) and not stop[j] and len(found) < 5:
        word = texts[j]
        if word in _PREPOSITIONS and found:
            break
        if word not in DETERMINERS:
            found.append(word)
        j += 1
    while found and found[-1] in _OF:
        found.pop()
    return found, j


def _judge(action: ActionType, prep: str, nouns: list[str]) -> tuple[float, str | None] | None:
    """(height, prop) for `action` + preposition + noun phrase, or None when it says nothing."""
    if not nouns:
        return None
    table = BEDS if action in LYING else SEATS
    known = [w for w in nouns if w in table or w in GROUND or (prep in _AT and w in SIT_AT)]
    head = known[-1] if known else None
    if head is not None and head in GROUND and not (prep in _AT and head in SIT_AT):
        return 0.0, head
    if action in SITTING:
        if prep in _AT:
            return (SEAT_HEIGHT, head) if head is not None else None
        if head is not None:
            return SEATS.get(head, SEAT_HEIGHT), head
        if prep in _ON:  # on something: a rock, a crate, the edge of a fountain...
            return SEAT_HEIGHT, nouns[-1]
        return None
    if head is not None and head in BEDS:
        return BEDS[head], head
    return None


def find_support(
    action: ActionType, texts: Sequence[str], start: int, stop: Sequence[bool]
) -> Support | None:
    """The seat or bed `action` (sit or lie down) takes from the words after token `start`, up to
    the next `stop` token (a connector, punctuation or another action)."""
    if action not in SITTING and action not in LYING:
        return None
    j = start
    while j < len(texts) and not stop[j]:
        if texts[j] in _PREPOSITIONS:
            nouns, end = _noun_phrase(texts, j + 1, stop)
            judged = _judge(action, texts[j], nouns)
            if judged is not None:
                return Support(judged[0], judged[1], j, end)
        j += 1
    return None


def furniture(action: ActionType, texts: Sequence[str], before: int) -> Support | None:
    """A seat (or bed) named earlier in the prompt than token `before` ("walks to the bench and
    sits down"): the last one, or None."""
    table = BEDS if action in LYING else SEATS if action in SITTING else None
    if table is None:
        return None
    for j in range(before - 1, -1, -1):
        if texts[j] in table and texts[j] not in GROUND:
            return Support(table[texts[j]], texts[j], j, j + 1)
    return None


def phrase_support(action: ActionType, phrase: str) -> tuple[float, str | None]:
    """(height, prop) a sampled phrase implies ("sit on a bench" -> 0.45, "bench")."""
    texts = phrase.lower().split()
    found = find_support(action, texts, 0, [False] * len(texts))
    if found is None and "seat" in texts and action in SITTING:  # "take a seat"
        return SEAT_HEIGHT, "seat"
    return (found.height, found.prop) if found is not None else (0.0, None)
