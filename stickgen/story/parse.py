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
from bisect import bisect_left, bisect_right
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
from stickgen.story.grammar import Event, Link, Mention, Reading, read_tokens
from stickgen.story.lexer import tokenize
from stickgen.story.timing import (
    MAX_DURATION,
    MIN_DURATION,
    Need,
    allocate,
    clip_duration,
)
from stickgen.story.vocabulary import (
    DETERMINERS,
    FEMALE,
    MALE,
    MAX_SPEECH_WORDS,
    OPEN_ENDED,
    SPEAKING,
    SPEECH_STOPWORDS,
    TYPICAL_SECONDS,
)

MAX_PROMPT_CHARS = 1000
MAX_SEGMENTS = 16  # per actor; further actions are dropped
MAX_ACTORS = 4
DEFAULT_SUBJECT = ("person",)
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
    cast = _Cast(reading)
    _attach(reading, cast)
    cast.assign_groups()
    units = _order(reading)
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


# --- who does what -------------------------------------------------------------------------


class _Cast:
    """The people of a prompt: which group of figures does each event, their emotions, facing."""

    def __init__(self, reading: Reading) -> None:
        self.reading = reading
        self.emotion: dict[str, FacialExpression] = {}
        self.facing: dict[str, int] = {}
        self.lead_emotions: list[tuple[Event | None, FacialExpression]] = []
        self.directions: list[tuple[Event | None, int]] = []
        self.main: tuple[str, ...] | None = None

    def assign_groups(self) -> None:
        """Give every event the group that performs it; then resolve actor-level details."""
        r = self.reading
        items: list[tuple[int, int, object]] = []
        items += [(p, 0, "strong") for p in r.strong]
        items += [(m.pos, 1, m) for m in r.mentions]
        items += [(p, 1, ("pronoun", w)) for p, w in r.pronouns]
        items += [(e.start, 2, e) for e in r.events]
        items.sort(key=lambda item: (item[0], item[1]))
        history: list[tuple[str, ...]] = []
        current: tuple[str, ...] | None = None
        pending: Mention | tuple[str, ...] | None = None
        pending_members: tuple[str, ...] | None = None
        for pos, _, item in items:
            if item == "strong":
                pending_members, pending = None, None
                current = self.main
            elif isinstance(item, Mention):
                history.append(item.members)
                if item.emotion is not None:
                    for member in item.members:
                        self.emotion[member] = item.emotion
                if not item.subject:
                    continue
                if self._adopt(item.members):
                    current = item.members
                    continue
                if isinstance(pending, Mention) and self._joined(pending.pos, pos):
                    pending_members = _union(pending_members or (), item.members)
                else:
                    pending_members = item.members
                pending = item
            elif isinstance(item, tuple):
                resolved = _resolve_pronoun(item[1], history)
                pending, pending_members = (resolved, resolved) if resolved else (None, None)
            else:
                assert isinstance(item, Event)
                if pending_members is not None:
                    current = pending_members
                    pending, pending_members = None, None
                if current is None:
                    current = self.main or DEFAULT_SUBJECT
                if self.main is None:
                    self.main = current
                item.group = current
        if self.main is None:  # no events at all cannot happen: parse adds a default one
            self.main = DEFAULT_SUBJECT
        self._resolve_actor_details()

    def _adopt(self, members: tuple[str, ...]) -> bool:
        """A subject named after the first actions ("After jumping, a man sits") did them too."""
        if self.main != DEFAULT_SUBJECT or members == DEFAULT_SUBJECT:
            return False
        if any(e.group not in ((), DEFAULT_SUBJECT) for e in self.reading.events):
            return False
        for event in self.reading.events:
            if event.group == DEFAULT_SUBJECT:
                event.group = members
        self.main = members
        return True

    def _joined(self, first: int, second: int) -> bool:
        """'a man and a woman': two subject mentions joined by 'and' (or a comma)."""
        words = {t.text for t in self.reading.tokens[first + 1 : second]}
        return bool(words & {"and", "&", ","}) and not words - {"and", "&", ","} - DETERMINERS

    def _resolve_actor_details(self) -> None:
        main = self.main or DEFAULT_SUBJECT
        for event, expression in self.lead_emotions:
            for member in event.group if event is not None else main:
                self.emotion.setdefault(member, expression)
        for event, sign in self.directions:
            for member in event.group if event is not None else main:
                self.facing[member] = sign

    def actor_keys(self) -> list[str]:
        """Members in actor order: the main subject first, then others as their events come."""
        keys: list[str] = []
        for event in self.reading.events:
            for member in event.group:
                if member not in keys and len(keys) < MAX_ACTORS:
                    keys.append(member)
        main = [m for m in (self.main or ()) if m in keys]
        return main + [k for k in keys if k not in main]


def _union(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    return a + tuple(m for m in b if m not in a)


def _resolve_pronoun(word: str, history: list[tuple[str, ...]]) -> tuple[str, ...] | None:
    for members in reversed(history):
        key = members[0].split("#")[0]
        if word == "he" and key in MALE and len(members) == 1:
            return members
        if word == "she" and key in FEMALE and len(members) == 1:
            return members
        if word == "they" and len(members) > 1:
            return members
    return None


# --- what qualifies which action -------------------------------------------------------------


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


def _attach(r: Reading, cast: _Cast) -> None:
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


# --- order and simultaneity ------------------------------------------------------------------


@dataclass
class _Gap:
    """What lies between one event and the next."""

    strong: bool = False  # then, finally, '.', ...
    comma: bool = False
    joined: bool = False  # and, plus
    marker: Link | None = None  # AFTER / BEFORE / WHILE opening the next clause
    marker_leads: bool = False  # the marker opens a sentence ("After X, Y")
    simul: bool = False  # meanwhile, at the same time
    subject: bool = False  # a new subject is named ("..., he sits")


@dataclass
class _Clause:
    events: list[Event]
    marker: Link | None = None
    leads: bool = False  # a leading subordinate clause: belongs to the clause after it
    after_comma: bool = False


def _gaps(r: Reading) -> list[_Gap]:
    marks: dict[int, object] = {}
    for p in r.commas:
        marks[p] = ","
    for p in r.strong:
        marks[p] = "strong"
    for p, link in r.links:
        marks[p] = "strong" if link is Link.SEQ else link
    for m in r.mentions:
        if m.subject:
            marks.setdefault(m.pos, "subject")
    for p, _ in r.pronouns:
        marks.setdefault(p, "subject")
    gaps = []
    previous_end = 0
    for event in r.events:
        gap = _Gap()
        for p in range(previous_end, event.start):
            mark = marks.get(p)
            if mark == "strong":
                gap.strong, gap.marker = True, None
            elif mark == ",":
                gap.comma = True
            elif mark == "subject":
                gap.subject = True
            elif mark is Link.AND:
                gap.joined = True
            elif mark is Link.SIMUL:
                gap.simul = True
            elif mark in (Link.AFTER, Link.BEFORE, Link.WHILE):
                gap.marker, gap.marker_leads = mark, gap.strong or gap.joined
        gaps.append(gap)
        previous_end = max(previous_end, event.end)
    return gaps


def _clauses(r: Reading) -> list[_Clause]:
    clauses: list[_Clause] = []
    in_leading = False
    for event, gap in zip(r.events, _gaps(r), strict=True):
        if not clauses:
            clauses.append(_Clause([event], gap.marker, leads=gap.marker is not None))
            in_leading = gap.marker is not None
        elif gap.marker is not None:
            leads = gap.marker_leads
            clauses.append(_Clause([event], gap.marker, leads=leads))
            in_leading = leads
        elif gap.simul:
            clauses.append(_Clause([event], Link.SIMUL))
            in_leading = False
        elif in_leading and (gap.comma or gap.subject or gap.strong):
            clauses.append(_Clause([event]))
            in_leading = False
        elif gap.strong or gap.comma:
            clauses.append(_Clause([event], after_comma=gap.comma and not gap.strong))
        elif gap.joined and clauses[-1].after_comma:  # "X, Y and Z": the end of a list
            clauses.append(_Clause([event]))
        else:
            clauses[-1].events.append(event)
    return clauses


def _order(r: Reading) -> list[list[Event]]:
    """Events grouped into time-ordered units; the events of one unit may run together.

    `anchor` is the unit of the last main clause: trailing "after X" / "before X" / "while X"
    clauses place themselves relative to it.
    """
    units: list[list[Event]] = []
    anchor: int | None = None
    pending: _Clause | None = None
    for clause in _clauses(r):
        if clause.marker is not None and clause.leads:
            if pending is not None:
                units.append(pending.events)
                anchor = len(units) - 1
            pending = clause
            continue
        if clause.marker is not None and anchor is not None:  # trailing
            if clause.marker is Link.AFTER:
                units.insert(anchor, clause.events)
                anchor += 1
            elif clause.marker is Link.BEFORE:
                units.insert(anchor + 1, clause.events)
            else:
                units[anchor] = units[anchor] + clause.events
            continue
        if pending is None:
            units.append(clause.events)
        elif pending.marker is Link.AFTER:
            units += [pending.events, clause.events]
        elif pending.marker is Link.BEFORE:
            units += [clause.events, pending.events]
        else:
            units.append(clause.events + pending.events)
        anchor = len(units) - (2 if pending is not None and pending.marker is Link.BEFORE else 1)
        pending = None
    if pending is not None:
        units.append(pending.events)
    return units


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
