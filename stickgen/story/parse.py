"""Prompt -> Scene: the rule-based reader of what the stick figures should do.

How a prompt is read:

- Actions come from verbs, their inflections and synonyms (`vocabulary.VERB_PHRASES`), and from a
  light verb with an action noun ("does a little dance", "gives her a hug"). A verb word used as a
  noun ("a point guard", "the dance floor", "watches the dance") names no action. Negated verbs
  ("does not run") are dropped.
- What the rules leave unknown is read by meaning (`meaning.py`): a clause with no known action
  is compared with descriptions of every action, a word of feeling with descriptions of every
  expression, using the project's text embedder. Every parse carries a report of what was
  recognised, guessed and ignored (`Scene.understanding`).
- Repetition: "twice", "three times", "again" repeat a segment (`counts.py`).
- Seats: sitting on a chair, bench, sofa... is at seat height, with no seat on the floor; lying on a
  bed or couch is at its height (`props.py`).
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
  subject ("... while a woman dances", "a woman who dances") or as the one an action is done to
  or with ("hugs his mother", "throws the ball to Sam"); a plural subject ("two people dance")
  makes a group of figures doing the same thing. Proper names are people. At most four actors.
- Two people together (`pairs.py`): they face each other at a distance that suits the action,
  and the partner does their part in time: hugs back, catches the throw, dodges the punch; a
  fight is taken in turns. Such scenes are timed jointly, so both figures' parts line up
  (`Scene.interactions`).
- Directions: the motion is a side view; "to the left"/"turns left" sets `facing = -1` on the
  actor doing the nearby action ("right" sets +1). Otherwise a lone actor faces +1 and several
  actors face the middle of the stage.
- A prompt that names no action plans one IDLE segment: the figure stands and breathes (a quoted
  passage alone makes it talk).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from stickgen.errors import StickGenError
from stickgen.schema import (
    ACTION_SPECS,
    FPS,
    TRAVELS,
    ActionSegment,
    ActionType,
    Actor,
    Interaction,
    Layer,
    Scene,
    checked_duration,
)
from stickgen.story.attach import attach
from stickgen.story.cast import Cast
from stickgen.story.grammar import Event, Reading, finish_reading, only_things_act, read_tokens
from stickgen.story.lexer import tokenize
from stickgen.story.order import order_events
from stickgen.story.pairs import distance, pair_up
from stickgen.story.report import understanding
from stickgen.story.spelling import correct_spelling
from stickgen.story.timing import (
    Need,
    allocate,
    clip_duration,
)
from stickgen.story.vocabulary import (
    ONCE_SECONDS,
    OPEN_ENDED,
    TYPICAL_SECONDS,
)

if TYPE_CHECKING:
    from stickgen.story.meaning import Thresholds

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
APPROACH_SECONDS = 2.5  # walking up to someone before doing something together
# Upper-body actions done standing face to face: they never ride on walking or sitting.
STANDING_ONLY = frozenset({ActionType.HUG, ActionType.HANDSHAKE, ActionType.HIGH_FIVE})


def parse_prompt(
    prompt: str,
    duration: float | None = None,
    *,
    meaning: bool = True,
    thresholds: Thresholds | None = None,
) -> Scene:
    """Plan the Scene a prompt describes; `duration` None means 10 s or what timing hints ask.

    With `meaning` (the default) words the rules do not know are read by meaning with the text
    embedder (loaded on first need; `thresholds` overrides the accepted similarities); without
    it, they are only reported as ignored.
    """
    text = _checked_prompt(prompt)
    if duration is not None:
        duration = checked_duration(duration)
    tokens, guesses = correct_spelling(tokenize(text)) if meaning else (tokenize(text), [])
    reading = read_tokens(tokens)
    if meaning:
        from stickgen.story.meaning import read_meaning

        guesses += read_meaning(reading, thresholds)
    finish_reading(reading)
    if only_things_act(reading):  # "the price of gold fell sharply": nothing a figure does
        _forget_actions(reading)
        guesses = [g for g in guesses if g.kind not in ("action", "expression")]
    report = understanding(reading, guesses)
    if not reading.events:
        reading.events.append(_default_event(reading))
    cast = Cast(reading)
    attach(reading, cast)
    cast.assign_groups()
    together = pair_up(reading, cast)
    units = order_events(reading)
    if together:
        units = _exchanges(units)
        plan = _Joint(units, cast)
    else:
        plan = _Apart(units, cast)
    if duration is None:
        duration = plan.clip_duration()
    members = cast.actor_keys()
    actors = [
        Actor(segments=plan.segments(member, duration), name=cast.display_name(member))
        for member in members
    ]
    interactions = plan.interactions(members)
    _place(actors, [cast.facing.get(member) for member in members], interactions)
    return Scene(
        description=text,
        actors=actors,
        duration=duration,
        interactions=interactions,
        understanding=report,
    )


def _forget_actions(r: Reading) -> None:
    """Drop every action and feeling of a reading; their words are reported as ignored."""
    for event in r.events:
        for j in range(event.start, event.end):
            r.claimed[j] = False
    for j, *_ in (*r.emotions, *r.guessed_emotions):
        r.claimed[j] = False
    r.events, r.emotions, r.emotion_words, r.guessed_emotions, r.seats = [], [], [], [], []


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


# --- segments ----------------------------------------------------------------------------------


@dataclass
class _Slot:
    """One segment in the making: a main action and an optional upper-body layer."""

    base: Event | None = None
    upper: Event | None = None
    once: bool = False  # one of several repetitions: takes one repetition's time
    wait: float = 0.0  # seconds of standing before it (a reply waiting for its cue)

    def events(self) -> list[Event]:
        return [e for e in (self.base, self.upper) if e is not None]

    @property
    def lead(self) -> Event:
        lead = self.base or self.upper
        assert lead is not None
        return lead

    def need(self) -> Need:
        events = self.events()
        hints = [e.hint / max(1, e.count) for e in events if e.hint is not None]
        once = self.once or any(e.once for e in events)
        if once and not hints:
            hints = [max(ONCE_SECONDS.get(e.action, TYPICAL_SECONDS[e.action]) for e in events)]
        return Need(
            typical=max(TYPICAL_SECONDS[e.action] for e in events),
            open_ended=self.lead.action in OPEN_ENDED and not once,
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
                and event.action not in STANDING_ONLY
                and last.upper is None
                and last.base is not None
                and _can_carry(last.base)
                and not event.delay
            ):
                last.upper = event
            elif (
                last is not None
                and not _is_upper(event)
                and last.base is None
                and _can_carry(event)
                and last.lead.action not in STANDING_ONLY
                and not event.delay
                and not last.wait
            ):
                last.base = event
            elif _is_upper(event):
                unit_slots.append(_Slot(upper=event, wait=event.delay))
            else:
                unit_slots.append(_Slot(base=event, wait=event.delay))
        slots += _repeated(unit_slots)
    return slots[:MAX_SEGMENTS]


def _repeated(slots: list[_Slot]) -> list[_Slot]:
    """Each slot as many times as its actions are counted ("jumps twice")."""
    out: list[_Slot] = []
    for slot in slots:
        times = max(e.count for e in slot.events())
        if times <= 1:
            out.append(slot)
            continue
        out += [replace(slot, once=True, wait=slot.wait if k == 0 else 0.0) for k in range(times)]
    return out


def _segment(slot: _Slot, start: float, end: float, emotion) -> ActionSegment:
    events = slot.events()
    main = slot.lead
    expression = next((e.expression for e in events if e.expression is not None), emotion)
    speech = next((e.speech for e in events if e.speech), None)
    upper = slot.upper.action if slot.base is not None and slot.upper is not None else None
    return ActionSegment(
        main.action, start, end, upper, expression, speech, support=main.support, prop=main.prop
    )


def _idle(start: float, end: float, emotion) -> ActionSegment:
    return ActionSegment(ActionType.IDLE, start, end, expression=emotion)


def _with_waits(slots: list[_Slot]) -> list[_Slot | float]:
    """Slots with the standing time replies wait for their cue, as plain seconds."""
    out: list[_Slot | float] = []
    for slot in slots:
        if slot.wait > 0:
            out.append(slot.wait)
        out.append(slot)
    return out


def _needs(items: list[_Slot | float]) -> list[Need]:
    return [
        Need(typical=item, open_ended=False, hint=item) if isinstance(item, float) else item.need()
        for item in items
    ]


def _lay_out(
    items: list[_Slot | float], start: float, span: float, emotion
) -> tuple[list[ActionSegment], float]:
    """Segments for `items` from `start` over `span` seconds, and the time they leave over."""
    seconds, leftover = allocate(_needs(items), span)
    segments: list[ActionSegment] = []
    t = start
    for item, length in zip(items, seconds, strict=True):
        end = t + length
        if isinstance(item, float):
            segments.append(_idle(t, end, emotion))
        else:
            segments.append(_segment(item, t, end, emotion))
        t = end
    return segments, leftover


def _finish(segments: list[ActionSegment], duration: float, emotion) -> list[ActionSegment]:
    """Merge neighbouring plain idles, rest through the time left, end exactly at `duration`;
    each segment starts exactly where the one before it ends."""
    merged: list[ActionSegment] = []
    for seg in segments:
        if seg.end - seg.start <= 0:
            continue
        last = merged[-1] if merged else None
        if (
            last is not None
            and _plain_idle(last)
            and _plain_idle(seg)
            and (last.expression == seg.expression)
        ):
            last.end = seg.end
            continue
        merged.append(seg)
    if not merged:
        merged.append(_idle(0.0, duration, emotion))
    last = merged[-1]
    if duration - last.end >= 1.0 / FPS and not (_plain_idle(last) and last.expression == emotion):
        merged.append(_idle(last.end, duration, emotion))
    merged[-1].end = duration
    merged[0].start = 0.0
    for before, after in itertools.pairwise(merged):  # phases meet at sums rounded differently
        after.start = before.end
    return merged


def _plain_idle(seg: ActionSegment) -> bool:
    return seg.action is ActionType.IDLE and seg.upper is None and seg.speech is None


class _Apart:
    """Actors timed one by one: each one's actions share the whole clip."""

    def __init__(self, units: list[list[Event]], cast: Cast) -> None:
        self.cast = cast
        self.plans = {member: _slots(units, member) for member in cast.actor_keys()}

    def clip_duration(self) -> float:
        return max(clip_duration(_needs(_with_waits(s))) for s in self.plans.values())

    def segments(self, member: str, duration: float) -> list[ActionSegment]:
        emotion = self.cast.emotion.get(member)
        segments, _ = _lay_out(_with_waits(self.plans[member]), 0.0, duration, emotion)
        return _finish(segments, duration, emotion)

    def interactions(self, members: list[str]) -> list[Interaction]:
        return []


def _exchanges(units: list[list[Event]]) -> list[list[Event]]:
    """A fight or a game of catch becomes two turns: the lead attacks, then the partner does."""
    out: list[list[Event]] = []
    for unit in units:
        turns = [e for e in unit if e.exchange and e.partner]
        if not turns:
            out.append(unit)
            continue
        second: list[Event] = []
        for event in turns:
            assert event.reply is not None
            back = Event(
                event.action,
                event.start,
                event.end,
                group=event.partner,
                partner=event.group,
                reply=event.reply,
                reply_delay=event.reply_delay,
                derived=True,
                count=event.count,
            )
            second.append(back)
        out += [unit, second]
    return out


def _approach(before: list[Event], after: list[Event]) -> None:
    """Walking or running up to someone takes a few seconds, not the rest of the clip."""
    meeting = any(e.partner for e in after)
    for event in before:
        travels = TRAVELS[event.action]
        if meeting and travels and event.hint is None and not event.partner:
            event.hint = APPROACH_SECONDS


def _meetings(unit: list[Event]) -> list[list[Event]]:
    """A unit split before each thing done together that cannot ride on what came before it
    ("walks up to his friend and shakes his hand": the handshake starts when the walk ends)."""
    parts: list[list[Event]] = [[]]
    for event in unit:
        apart = event.action in STANDING_ONLY or not _is_upper(event)
        if event.partner and apart and parts[-1]:
            parts.append([])
        parts[-1].append(event)
    return parts


@dataclass
class _Phase:
    """One time-ordered unit of a joint plan: every member's slots in it."""

    events: list[Event]
    slots: dict[str, list[_Slot | float]]

    def need(self) -> Need:
        wants = [_needs(items) for items in self.slots.values() if items]
        typical = max((sum(n.typical for n in need) for need in wants), default=0.5)
        hinted = [sum(n.hint or 0.0 for n in need) for need in wants if all(n.hint for n in need)]
        open_ended = any(any(n.open_ended for n in need) for need in wants)
        return Need(typical=typical, open_ended=open_ended, hint=max(hinted) if hinted else None)


class _Joint:
    """Actors timed together, unit by unit, so that what two people do together lines up."""

    def __init__(self, units: list[list[Event]], cast: Cast) -> None:
        self.cast = cast
        self.members = cast.actor_keys()
        parts = [part for unit in units for part in _meetings(unit)]
        for before, after in itertools.pairwise(parts):
            _approach(before, after)
        self.phases = [self._phase(part) for part in parts]
        self.spans: list[tuple[float, float]] = []

    def _phase(self, unit: list[Event]) -> _Phase:
        events = list(unit)
        busy = {member for e in unit for member in e.group}
        for event in unit:
            for member in event.partner:
                if member in busy:
                    continue  # the partner has something of their own to do
                reply = event.reply if event.reply is not None else ActionType.IDLE
                events.append(
                    Event(
                        reply,
                        event.start,
                        event.end,
                        group=(member,),
                        delay=event.reply_delay,
                        derived=True,
                        count=event.count,
                        once=event.once,
                    )
                )
                busy.add(member)
        slots = {m: _with_waits(_slots([events], m)) for m in self.members}
        return _Phase(events, slots)

    def clip_duration(self) -> float:
        return clip_duration([p.need() for p in self.phases])

    def _timing(self, duration: float) -> None:
        if self.spans and self.spans[-1][1] <= duration:
            return
        seconds, _ = allocate([p.need() for p in self.phases], duration)
        t, self.spans = 0.0, []
        for length in seconds:
            self.spans.append((t, t + length))
            t += length

    def segments(self, member: str, duration: float) -> list[ActionSegment]:
        self.spans = []
        self._timing(duration)
        emotion = self.cast.emotion.get(member)
        segments: list[ActionSegment] = []
        for phase, (start, end) in zip(self.phases, self.spans, strict=True):
            items = phase.slots[member]
            if not items:
                segments.append(_idle(start, end, emotion))
                continue
            laid, leftover = _lay_out(items, start, end - start, emotion)
            segments += laid
            if leftover > 0:
                segments.append(_idle(end - leftover, end, emotion))
        return _finish(segments, duration, emotion)

    def interactions(self, members: list[str]) -> list[Interaction]:
        index = {member: i for i, member in enumerate(members)}
        out: list[Interaction] = []
        for phase, (start, end) in zip(self.phases, self.spans, strict=True):
            for event in phase.events:
                if not event.partner or not event.group:
                    continue
                a, b = event.group[0], event.partner[0]
                if a not in index or b not in index or a == b:
                    continue
                kind = event.action.name.lower()
                pair = (index[a], index[b])
                out.append(Interaction(pair, start, end, distance(event.action), kind))
        return out


def _place(actors: list[Actor], facing: list[int | None], interactions: list[Interaction]) -> None:
    """Spread several figures across the stage, facing the middle unless told otherwise; two
    people doing something together face each other at its distance when it starts."""
    n = len(actors)
    for i, (actor, sign) in enumerate(zip(actors, facing, strict=True)):
        actor.start_x = 0.0 if n == 1 else (i - (n - 1) / 2) * ACTOR_SPACING
        default = 1 if actor.start_x <= 0 else -1
        actor.facing = sign if sign is not None else default
    if not interactions:
        return
    first = interactions[0]
    a, b = first.actors
    left, right = (a, b) if a < b else (b, a)
    half = first.distance / 2
    actors[left].start_x = -half - _travel(actors[left], first.start)
    actors[right].start_x = half + _travel(actors[right], first.start)
    actors[left].facing, actors[right].facing = 1, -1
    others = [i for i in range(n) if i not in (left, right)]
    for k, i in enumerate(others):
        side = -1 if k % 2 == 0 else 1
        edge = actors[left].start_x if side < 0 else actors[right].start_x
        actors[i].start_x = edge + side * ACTOR_SPACING * (1 + k // 2)
        actors[i].facing = -side


def _travel(actor: Actor, until: float) -> float:
    """Metres an actor's planned actions carry it forward before `until` (canonical style)."""
    metres = 0.0
    for seg in actor.segments:
        overlap = min(seg.end, until) - seg.start
        if overlap > 0:
            metres += ACTION_SPECS[seg.action].speed * overlap
    return metres
