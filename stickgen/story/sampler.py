"""Random scenes for the dataset: a themed plan of 1-4 actions and a description of it.

`sample_scene` is a pure function of the generator's state. It draws one block of uniforms per
scene and indexes plain Python tuples, which keeps it at tens of thousands of scenes a second.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate
from typing import TypeVar

import numpy as np

from stickgen.errors import StickGenError
from stickgen.schema import ActionSegment, ActionType, Actor, FacialExpression, Scene
from stickgen.story.describe import (
    PHRASES,
    QUOTING,
    SPOKEN_OBJECTS,
    Phrase,
    Planned,
    adjective_for,
    adverb_for,
    article,
    finite,
    progressive,
    pronoun_for,
)
from stickgen.story.themes import GENERAL_SUBJECTS, THEME_BY_NAME, THEMES, Theme
from stickgen.story.vocabulary import PERSON_NOUNS, SPEAKING, TYPICAL_SECONDS

T = TypeVar("T")
A = ActionType

MIN_SEGMENT_SECONDS = 1.0
SEGMENT_COUNT_WEIGHTS = (0.2, 0.35, 0.3, 0.15)  # 1, 2, 3, 4 segments
WILDCARD = 0.1  # chance an action comes from all of them instead of the theme
UPPER_CHANCE = 0.3  # chance a segment that can carry an upper-body action gets one
SCENE_EMOTION = 0.15  # "a happy man ..."
SEGMENT_EMOTION = 0.15  # "... walks happily"
SPEECH_CHANCE = 0.65
QUOTE_CHANCE = 0.7  # of speech: quoted line (else an object like "a song")
TIMED_CHANCE = 0.25
PLACE_CHANCE = 0.3

# Upper-body actions that ride well on each base action.
_COMBOS: dict[ActionType, tuple[ActionType, ...]] = {
    A.WALK: (
        A.WAVE, A.TALK, A.SHOUT, A.SING, A.POINT, A.CLAP, A.LAUGH, A.CRY, A.EAT, A.DRINK,
        A.READ, A.THINK, A.LOOK_AROUND, A.WHISPER, A.DRIBBLE, A.THROW, A.SHRUG,
    ),
    A.RUN: (A.WAVE, A.SHOUT, A.LAUGH, A.DRIBBLE, A.POINT, A.CRY),
    A.SKIP: (A.WAVE, A.SING, A.LAUGH, A.CLAP),
    A.SIT: (
        A.READ, A.TYPE, A.EAT, A.DRINK, A.TALK, A.LAUGH, A.CRY, A.THINK, A.WAVE, A.CLAP,
        A.WHISPER, A.SING, A.SHRUG,
    ),
    A.KNEEL: (A.CRY, A.THINK, A.POINT, A.TALK, A.WHISPER, A.WAVE, A.LOOK_AROUND),
    A.LIE_DOWN: (A.READ, A.THINK, A.CRY, A.LAUGH, A.SING, A.TALK),
    A.DANCE: (A.SING, A.CLAP, A.LAUGH, A.SHOUT),
    A.JUMP: (A.CLAP, A.WAVE, A.SHOUT, A.CATCH, A.THROW),
    A.FIGHT_STANCE: (A.SHOUT, A.PUNCH, A.POINT),
}  # fmt: skip

_ALL_ACTIONS = tuple(ActionType)
_EXPRESSIONS = tuple(FacialExpression)
_THEMES = tuple(THEME_BY_NAME[name] for name in THEMES)
_COUNT_CUM = tuple(accumulate(SEGMENT_COUNT_WEIGHTS))


def _cumulative(pool: Sequence[tuple[ActionType, float]]) -> tuple[tuple[float, ...], float]:
    cum = tuple(accumulate(w for _, w in pool))
    return cum, cum[-1]


_POOL_CUM = {t.name: _cumulative(t.pool) for t in _THEMES}


class _Dice:
    """Uniform draws from one numpy Generator, fetched in blocks (scalar calls are slow)."""

    BLOCK = 64

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._values: list[float] = rng.random(self.BLOCK).tolist()
        self._i = 0

    def u(self) -> float:
        if self._i == len(self._values):
            self._values = self._rng.random(self.BLOCK).tolist()
            self._i = 0
        value = self._values[self._i]
        self._i += 1
        return value

    def chance(self, p: float) -> bool:
        return self.u() < p

    def pick(self, options: Sequence[T]) -> T:
        return options[int(self.u() * len(options))]


def sample_scene(
    rng: np.random.Generator, duration: float = 10.0, theme: str | None = None
) -> Scene:
    """A random themed scene (one actor, 1-4 segments) with a matching English description."""
    if not (isinstance(duration, int | float) and math.isfinite(duration) and duration > 0):
        raise StickGenError(f"duration must be a positive number of seconds, not {duration!r}")
    if theme is not None and theme not in THEME_BY_NAME:
        raise StickGenError(f"unknown theme {theme!r}; choose one of {', '.join(THEMES)}")
    dice = _Dice(rng)
    chosen = THEME_BY_NAME[theme] if theme is not None else dice.pick(_THEMES)
    duration = float(duration)
    actions = _actions(dice, chosen, _segment_count(dice, duration))
    bounds = _boundaries(dice, actions, duration)
    scene_emotion = dice.pick(_EXPRESSIONS) if dice.chance(SCENE_EMOTION) else None
    plans = [
        _plan(dice, chosen, action, bounds[i], bounds[i + 1], scene_emotion)
        for i, action in enumerate(actions)
    ]
    if len(plans) > 1:
        for plan in plans:
            plan.timed = dice.chance(TIMED_CHANCE)
        if all(plan.timed for plan in plans):
            dice.pick(plans).timed = False
    subject = dice.pick(chosen.subjects) if dice.chance(0.5) else dice.pick(GENERAL_SUBJECTS)
    description = _describe(dice, chosen, plans, subject, scene_emotion)
    name = PERSON_NOUNS.get(subject.split()[-1], ("person", False))[0]
    actor = Actor([p.segment for p in plans], name=name)
    return Scene(description, [actor], duration, theme=chosen.name)


def _segment_count(dice: _Dice, duration: float) -> int:
    most = max(1, min(len(_COUNT_CUM), int(duration // (1.5 * MIN_SEGMENT_SECONDS))))
    count = bisect_right(_COUNT_CUM, dice.u() * _COUNT_CUM[-1]) + 1
    return min(count, most)


def _actions(dice: _Dice, theme: Theme, count: int) -> list[tuple[ActionType, ActionType | None]]:
    cum, total = _POOL_CUM[theme.name]
    out: list[tuple[ActionType, ActionType | None]] = []
    previous = None
    for _ in range(count):
        action = previous
        for _ in range(4):
            if dice.chance(WILDCARD):
                action = dice.pick(_ALL_ACTIONS)
            else:
                action = theme.pool[bisect_right(cum, dice.u() * total)][0]
            if action != previous:
                break
        assert action is not None
        upper = None
        combos = _COMBOS.get(action)
        if combos and dice.chance(UPPER_CHANCE):
            upper = dice.pick(combos)
        out.append((action, upper))
        previous = action
    return out


def _boundaries(
    dice: _Dice, actions: list[tuple[ActionType, ActionType | None]], duration: float
) -> list[float]:
    """Segment start times plus the end: random lengths around typical ones, on a 0.1 s grid."""
    weights = [TYPICAL_SECONDS[a] * (0.4 + 1.2 * dice.u()) for a, _ in actions]
    least = min(MIN_SEGMENT_SECONDS, duration / len(actions))
    spare = duration - least * len(actions)
    total = sum(weights)
    bounds = [0.0]
    t = 0.0
    for w in weights[:-1]:
        t += least + spare * w / total
        bounds.append(round(t, 1))
    bounds.append(duration)
    for i in range(1, len(bounds) - 1):  # the grid must not swallow a short segment
        bounds[i] = min(max(bounds[i], bounds[i - 1] + least / 2), duration - least / 2)
    return bounds


def _plan(
    dice: _Dice,
    theme: Theme,
    actions: tuple[ActionType, ActionType | None],
    start: float,
    end: float,
    scene_emotion: FacialExpression | None,
) -> Planned:
    action, upper = actions
    expression, adverb = scene_emotion, None
    if scene_emotion is None and dice.chance(SEGMENT_EMOTION):
        expression = dice.pick(_EXPRESSIONS)
        adverb = adverb_for(expression, dice.pick)
    speaker = upper if upper in SPEAKING else action if action in SPEAKING else None
    speech = quote = None
    spoken_phrase: Phrase | None = None
    if speaker is not None and dice.chance(SPEECH_CHANCE):
        if dice.chance(QUOTE_CHANCE):
            speech = quote = dice.pick(theme.lines)
            spoken_phrase = dice.pick(QUOTING[speaker])
        else:
            spoken_phrase = dice.pick(SPOKEN_OBJECTS[speaker])
            speech = spoken_phrase.speech
    main_phrase = _plain_phrase(dice, action)
    upper_phrase = _plain_phrase(dice, upper) if upper is not None else None
    if spoken_phrase is not None:
        if speaker is upper:
            upper_phrase = spoken_phrase
        else:
            main_phrase = spoken_phrase
    segment = ActionSegment(action, start, end, upper, expression, speech)
    segment.support, segment.prop = main_phrase.support, main_phrase.prop
    return Planned(segment, main_phrase, upper_phrase, quote, adverb=adverb)


def _plain_phrase(dice: _Dice, action: ActionType) -> Phrase:
    """A phrase that implies no speech."""
    while True:
        phrase = dice.pick(PHRASES[action])
        if phrase.speech is None:
            return phrase


# --- wording -----------------------------------------------------------------------------------

_THEN = (", then ", " and then ", ", and then ", " then ", "; then ", ", after that ")
_THEN_SUBJECT = (
    ". Then {r} ",
    ". After that, {r} ",
    ". Next, {r} ",
    ". Later, {r} ",
    ", then {r} ",
)
_FINALLY = (", and finally ", ". Finally, {r} ", ", and eventually ", ", finally ")


def _subject_with(subject: str, adjective: str | None) -> str:
    if adjective is None:
        return subject
    words = subject.split()
    if words[0] in ("someone", "somebody"):
        words = ["a", "person"]
    if words[0] in ("a", "an"):
        return " ".join([article(adjective), adjective, *words[1:]])
    return " ".join([words[0], adjective, *words[1:]])


def _describe(
    dice: _Dice,
    theme: Theme,
    plans: list[Planned],
    subject: str,
    scene_emotion: FacialExpression | None,
) -> str:
    adjective = adjective_for(scene_emotion, dice.pick) if scene_emotion is not None else None
    s = _subject_with(subject, adjective)
    r = pronoun_for(subject)
    pick, chance = dice.pick, dice.chance
    n = len(plans)
    simple = all(p.upper_phrase is None for p in plans)
    style = dice.u()
    if n == 1:
        if style < 0.45:
            text = f"{s} {finite(plans[0], pick, chance)}"
        elif style < 0.75:
            text = f"{s} is {progressive(plans[0], pick)}"
        elif adjective is None:
            text = progressive(plans[0], pick)
        else:
            text = f"{s} {finite(plans[0], pick, chance)}"
    elif style < 0.12 and n == 2 and simple:
        text = f"{s} {finite(plans[1], pick, chance)} after {progressive(plans[0], pick)}"
    elif style < 0.24 and n == 2 and simple:
        text = f"{s} {finite(plans[0], pick, chance)} before {progressive(plans[1], pick)}"
    elif style < 0.34 and plans[0].upper_phrase is None:
        text = f"after {progressive(plans[0], pick)}, {s} {finite(plans[1], pick, chance)}"
        text += _sequence(dice, plans[2:], r)
    elif style < 0.42 and n == 2 and plans[1].upper_phrase is None:
        text = f"before {progressive(plans[1], pick)}, {s} {finite(plans[0], pick, chance)}"
    elif style < 0.52 and n >= 3:
        items = [finite(p, pick, chance, list_item=True) for p in plans]
        comma = "," if chance(0.5) else ""
        text = f"{s} {', '.join(items[:-1])}{comma} and {items[-1]}"
    elif style < 0.62:
        text = f"{s} is {progressive(plans[0], pick)}"
        for p in plans[1:]:
            text += f"{pick(_THEN)}{progressive(p, pick)}"
    elif style < 0.72:
        text = f"first, {s} {finite(plans[0], pick, chance)}" + _sequence(dice, plans[1:], r)
    else:
        text = f"{s} {finite(plans[0], pick, chance)}" + _sequence(dice, plans[1:], r)
    if chance(PLACE_CHANCE):
        place = pick(theme.places)
        text = f"{place}, {text}" if chance(0.4) else f"{text} {place}"
    text = text[0].upper() + text[1:]
    return text + "." if chance(0.8) else text


def _sequence(dice: _Dice, plans: list[Planned], r: str) -> str:
    text = ""
    for i, p in enumerate(plans):
        last = i == len(plans) - 1
        if last and len(plans) >= 2 and dice.chance(0.6):
            connector = dice.pick(_FINALLY)
        elif dice.chance(0.3):
            connector = dice.pick(_THEN_SUBJECT)
        else:
            connector = dice.pick(_THEN)
        text += connector.format(r=r) + finite(p, dice.pick, dice.chance)
    return text
