"""Prompt -> Scene: the rule-based reader of what the stick figures should do.

How a prompt is read:

- Actions come from verbs, their inflections and synonyms (`vocabulary.VERB_PHRASES`); unknown
  words are ignored. Negated verbs ("does not run") are dropped.
- Order: "then", "after that", "finally", commas and sentence ends make a sequence; "after X, Y"
  and "Y after X" put X first; "before X, Y" and "Y before X" put Y first.
- Simultaneity: "X and Y", "X while Y", "X as Y" layer an upper-body action (wave, talk...) on a
  lower-body or whole-body one (walk, sit...) in one segment (action=WALK, upper=WAVE). Two
  upper-body or two lower-body actions cannot share the body and become a sequence in text order,
  and so does an upper-body action next to a whole-body one that needs the arms (`ARMS_BUSY`:
  climb, swim, shoot, lift...). A lone upper-body action is the segment's `action` itself.
- Timing: see `timing.py`. Untimed segments share the time the hints leave.
- Emotions: an emotion word right after a verb ("walks happily") or right before one after a
  connector ("then happily sits") qualifies that segment; one before the first action ("Happily,
  he...") or on a person ("a happy man") applies to all of that person's segments.
- Speech: a quoted passage goes to the speaking action next to it (`says "hi"`); without quotes the
  words after a speaking verb are the speech (`whispers a secret` -> "a secret").
- People: actor 0 is the main subject. A second person becomes another actor when named as a
  subject ("... while a woman dances", "a woman who dances"); a plural subject ("two people
  fight") makes a group of figures doing the same thing. At most four actors.
- Directions: the motion is a side view; "to the left"/"turns left" sets `facing = -1` on the
  actor doing the nearby action ("right" sets +1). Otherwise a lone actor faces +1 and several
  actors face the middle of the stage.
- A prompt that names no action plans one IDLE segment: the figure stands and breathes (a quoted
  passage alone makes it talk).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from stickgen.errors import StickGenError
from stickgen.schema import (
    ACTION_SPECS,
    FPS,
    ActionSegment,
    ActionType,
    Actor,
    FacialExpression,
    Layer,
    Scene,
)
from stickgen.story.attach import attach
from stickgen.story.cast import Cast
from stickgen.story.grammar import Event, Reading, read_tokens
from stickgen.story.lexer import tokenize
from stickgen.story.order import order_events
from stickgen.story.timing import (
    MAX_DURATION,
    MIN_DURATION,
    Need,
    allocate,
    clip_duration,
)
from stickgen.story.vocabulary import (
    OPEN_ENDED,
    TYPICAL_SECONDS,
)

MAX_PROMPT_CHARS = 1000
MAX_SEGMENTS = 16  # per actor; further actions are dropped
# Whole-body actions that need the arms: an upper-body action cannot ride on them.
ARMS_BUSY = frozenset(
    {
        ActionType.CLIMB,
        ActionType.CRAWL,
        ActionType.SWIM,
        ActionType.FLY,
        ActionType.PITCH,
        ActionType.SHOOT,
        ActionType.PUSH,
        ActionType.LIFT,
        ActionType.CELEBRATE,
    }
)
ACTOR_SPACING = 1.2  # metres between neighbouring figures


def parse_prompt(prompt: str, duration: float | None = None) -> Scene:
    """Plan the Scene a prompt describes; `duration` None means 10 s or what timing hints ask."""
    text = _checked_prompt(prompt)
    if duration is not None:
        duration = _checked_duration(duration)
    reading = read_tokens(tokenize(text))
    if not reading.events:
        reading.events.append(_default_event(reading))
    cast = Cast(reading)
    attach(reading, cast)
    cast.assign_groups()
    units = order_events(reading)
    plans = {member: _slots(units, member) for member in cast.actor_keys()}
    if duration is None:
        duration = max(clip_duration([s.need() for s in slots]) for slots in plans.values())
    actors = [
        Actor(
            segments=_segments(slots, duration, cast.emotion.get(member)),
            name=member.split("#")[0],
        )
        for member, slots in plans.items()
    ]
    _place(actors, [cast.facing.get(member) for member in plans])
    return Scene(description=text, actors=actors, duration=duration)


def _default_event(r: Reading) -> Event:
    """No action named: talk if something is quoted, else stand idle."""
    if r.quotes:
        speech = " ".join(r.tokens[q].raw for q in r.quotes)
        return Event(ActionType.TALK, r.quotes[0], r.quotes[0] + 1, speech=speech)
    return Event(ActionType.IDLE, len(r.tokens), len(r.tokens))


def _checked_prompt(prompt: object) -> str:
    if not isinstance(prompt, str):
        raise StickGenError(f"the prompt must be text, not {type(prompt).__name__}")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise StickGenError(
            f"the prompt is {len(prompt)} characters long; the limit is {MAX_PROMPT_CHARS}"
        )
    text = " ".join(prompt.split())
    if not text:
        raise StickGenError(
            "the prompt is empty: describe what happens, e.g. 'a man walks then waves'"
        )
    return text


def _checked_duration(duration: object) -> float:
    try:
        value = float(duration)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise StickGenError(f"duration must be a number of seconds, not {duration!r}") from None
    if not math.isfinite(value) or not MIN_DURATION <= value <= MAX_DURATION:
        raise StickGenError(
            f"duration must be between {MIN_DURATION:g} and {MAX_DURATION:g} seconds, not {value:g}"
        )
    return value


# --- segments ----------------------------------------------------------------------------------


@dataclass
class _Slot:
    """One segment in the making: a main action and an optional upper-body layer."""

    base: Event | None = None
    upper: Event | None = None

    def events(self) -> list[Event]:
        return [e for e in (self.base, self.upper) if e is not None]

    def need(self) -> Need:
        events = self.events()
        hints = [e.hint for e in events if e.hint is not None]
        lead = self.base or self.upper
        assert lead is not None
        return Need(
            typical=max(TYPICAL_SECONDS[e.action] for e in events),
            open_ended=lead.action in OPEN_ENDED,
            hint=max(hints) if hints else None,
        )


def _is_upper(event: Event) -> bool:
    return ACTION_SPECS[event.action].layer is Layer.UPPER


def _can_carry(base: Event) -> bool:
    """Whether an upper-body action can ride on `base` (its arms are free)."""
    return base.action not in ARMS_BUSY


def _slots(units: list[list[Event]], member: str) -> list[_Slot]:
    slots: list[_Slot] = []
    for unit in units:
        unit_slots: list[_Slot] = []
        for event in unit:
            if member not in event.group:
                continue
            last = unit_slots[-1] if unit_slots else None
            if (
                last is not None
                and _is_upper(event)
                and last.upper is None
                and last.base is not None
                and _can_carry(last.base)
            ):
                last.upper = event
            elif (
                last is not None
                and not _is_upper(event)
                and last.base is None
                and _can_carry(event)
            ):
                last.base = event
            elif _is_upper(event):
                unit_slots.append(_Slot(upper=event))
            else:
                unit_slots.append(_Slot(base=event))
        slots += unit_slots
    return slots[:MAX_SEGMENTS]


def _segments(
    slots: list[_Slot], duration: float, emotion: FacialExpression | None
) -> list[ActionSegment]:
    seconds, leftover = allocate([s.need() for s in slots], duration)
    segments: list[ActionSegment] = []
    t = 0.0
    for slot, length in zip(slots, seconds, strict=True):
        events = slot.events()
        main = slot.base or slot.upper
        assert main is not None
        expression = next((e.expression for e in events if e.expression is not None), emotion)
        speech = next((e.speech for e in events if e.speech), None)
        upper = slot.upper.action if slot.base is not None and slot.upper is not None else None
        end = t + length
        segments.append(ActionSegment(main.action, t, end, upper, expression, speech))
        t = end
    last = segments[-1]
    resting = last.action is ActionType.IDLE and last.upper is None and last.speech is None
    if leftover >= 1.0 / FPS and not (resting and last.expression == emotion):
        segments.append(ActionSegment(ActionType.IDLE, t, duration, expression=emotion))
    segments[-1].end = duration
    return segments


def _place(actors: list[Actor], facing: list[int | None]) -> None:
    """Spread several figures across the stage, facing the middle unless told otherwise."""
    n = len(actors)
    for i, (actor, sign) in enumerate(zip(actors, facing, strict=True)):
        actor.start_x = 0.0 if n == 1 else (i - (n - 1) / 2) * ACTOR_SPACING
        default = 1 if actor.start_x <= 0 else -1
        actor.facing = sign if sign is not None else default
