"""Data contracts shared by every part of Stick-Gen.

The integer order of `ActionType`, `FacialExpression`, `EyeType` and `MouthShape` is a stable
contract: the values are stored per frame in datasets and predicted by the model. Append new members
at the end; never reorder.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

from stickgen.errors import StickGenError

FPS = 25
CLIP_SECONDS = 10.0
CLIP_FRAMES = 250
MIN_DURATION = 0.5  # seconds: the shortest and longest clip anything makes (library, CLI, API)
MAX_DURATION = 60.0
MOTION_DIM = 20  # 5 segments x (x1, y1, x2, y2)
PHYSICS_DIM = 6  # vx, vy, ax, ay, px, py of the centre of mass
FACE_DIM = 7  # see FaceFeatures.to_vector


def checked_duration(duration: object) -> float:
    """`duration` in seconds, or a StickGenError unless it is a number in MIN..MAX_DURATION."""
    if isinstance(duration, bool) or not isinstance(duration, numbers.Real | str):
        raise StickGenError(f"duration must be a number of seconds, not {duration!r}")
    try:
        value = float(duration)
    except ValueError:
        raise StickGenError(f"duration must be a number of seconds, not {duration!r}") from None
    if not math.isfinite(value) or not MIN_DURATION <= value <= MAX_DURATION:
        raise StickGenError(
            f"duration must be between {MIN_DURATION:g} and {MAX_DURATION:g} seconds, not {value:g}"
        )
    return value


class ActionType(IntEnum):
    """Per-frame action label. The index is the label stored in datasets."""

    IDLE = 0
    WALK = 1
    RUN = 2
    SPRINT = 3
    JUMP = 4
    CLIMB = 5
    CRAWL = 6
    SWIM = 7
    FLY = 8
    WAVE = 9
    TALK = 10
    SHOUT = 11
    WHISPER = 12
    SING = 13
    POINT = 14
    CLAP = 15
    LAUGH = 16
    CRY = 17
    KICK = 18
    THROW = 19
    CATCH = 20
    BAT = 21
    PITCH = 22
    DRIBBLE = 23
    SHOOT = 24
    PUNCH = 25
    DODGE = 26
    FIGHT_STANCE = 27
    SIT = 28
    STAND = 29
    KNEEL = 30
    LIE_DOWN = 31
    EAT = 32
    DRINK = 33
    READ = 34
    TYPE = 35
    LOOK_AROUND = 36
    CELEBRATE = 37
    DANCE = 38
    BOW = 39
    STRETCH = 40
    PUSH = 41
    LIFT = 42
    SKIP = 43
    THINK = 44
    SHRUG = 45
    HUG = 46
    HANDSHAKE = 47
    HIGH_FIVE = 48


NUM_ACTIONS = len(ActionType)


class FacialExpression(IntEnum):
    NEUTRAL = 0
    HAPPY = 1
    SAD = 2
    SURPRISED = 3
    ANGRY = 4
    EXCITED = 5


class EyeType(IntEnum):
    DOTS = 0  # relaxed, neutral
    ARCS = 1  # closed upward arcs: smiling eyes
    DROOPY = 2  # half-closed, sad
    WIDE = 3  # open circles: surprise, excitement
    NARROW = 4  # squinting slits: anger


class MouthShape(IntEnum):
    CLOSED = 0
    SMILE = 1
    FROWN = 2
    OPEN = 3
    WIDE_OPEN = 4
    SMALL_O = 5
    SINGING = 6


class Category(IntEnum):
    LOCOMOTION = 0
    SOCIAL = 1
    SPORTS = 2
    COMBAT = 3
    EVERYDAY = 4
    EMOTION = 5


class Layer(IntEnum):
    """Which part of the body an action drives; upper-body actions can ride on a lower-body one."""

    FULL = 0  # the whole figure (jump, sit, crawl...)
    LOWER = 1  # legs and travel; arms free to swing or be overridden (walk, run...)
    UPPER = 2  # arms only; legs stand or keep doing the lower action (wave, talk...)


@dataclass(frozen=True)
class ActionSpec:
    """Static facts about one action."""

    category: Category
    layer: Layer
    speed: float  # horizontal travel, m/s, along the facing direction
    expression: FacialExpression
    mouth: MouthShape
    speech_hz: float = 0.0  # mouth open/close cycles per second while speaking, 0 = silent
    airborne: bool = False  # feet may leave the ground


_E = FacialExpression
_M = MouthShape
_C = Category
_L = Layer

ACTION_SPECS: dict[ActionType, ActionSpec] = {
    ActionType.IDLE: ActionSpec(_C.LOCOMOTION, _L.FULL, 0.0, _E.NEUTRAL, _M.CLOSED),
    ActionType.WALK: ActionSpec(_C.LOCOMOTION, _L.LOWER, 1.4, _E.NEUTRAL, _M.CLOSED),
    ActionType.RUN: ActionSpec(_C.LOCOMOTION, _L.LOWER, 3.5, _E.NEUTRAL, _M.OPEN, airborne=True),
    ActionType.SPRINT: ActionSpec(_C.LOCOMOTION, _L.LOWER, 6.5, _E.EXCITED, _M.OPEN, airborne=True),
    ActionType.JUMP: ActionSpec(_C.LOCOMOTION, _L.FULL, 0.0, _E.EXCITED, _M.OPEN, airborne=True),
    ActionType.CLIMB: ActionSpec(_C.LOCOMOTION, _L.FULL, 0.0, _E.NEUTRAL, _M.CLOSED, airborne=True),
    ActionType.CRAWL: ActionSpec(_C.LOCOMOTION, _L.FULL, 0.4, _E.NEUTRAL, _M.CLOSED),
    ActionType.SWIM: ActionSpec(_C.LOCOMOTION, _L.FULL, 0.8, _E.NEUTRAL, _M.CLOSED, airborne=True),
    ActionType.FLY: ActionSpec(_C.LOCOMOTION, _L.FULL, 3.0, _E.EXCITED, _M.SMILE, airborne=True),
    ActionType.WAVE: ActionSpec(_C.SOCIAL, _L.UPPER, 0.0, _E.HAPPY, _M.SMILE),
    ActionType.TALK: ActionSpec(_C.SOCIAL, _L.UPPER, 0.0, _E.NEUTRAL, _M.OPEN, speech_hz=8.0),
    ActionType.SHOUT: ActionSpec(_C.SOCIAL, _L.UPPER, 0.0, _E.ANGRY, _M.WIDE_OPEN, speech_hz=6.0),
    ActionType.WHISPER: ActionSpec(
        _C.SOCIAL, _L.UPPER, 0.0, _E.NEUTRAL, _M.SMALL_O, speech_hz=10.0
    ),
    ActionType.SING: ActionSpec(_C.SOCIAL, _L.UPPER, 0.0, _E.HAPPY, _M.SINGING, speech_hz=4.0),
    ActionType.POINT: ActionSpec(_C.SOCIAL, _L.UPPER, 0.0, _E.NEUTRAL, _M.CLOSED),
    ActionType.CLAP: ActionSpec(_C.SOCIAL, _L.UPPER, 0.0, _E.HAPPY, _M.SMILE),
    ActionType.LAUGH: ActionSpec(_C.SOCIAL, _L.UPPER, 0.0, _E.HAPPY, _M.WIDE_OPEN),
    ActionType.CRY: ActionSpec(_C.SOCIAL, _L.UPPER, 0.0, _E.SAD, _M.FROWN),
    ActionType.KICK: ActionSpec(_C.SPORTS, _L.FULL, 0.0, _E.ANGRY, _M.CLOSED),
    ActionType.THROW: ActionSpec(_C.SPORTS, _L.UPPER, 0.0, _E.NEUTRAL, _M.CLOSED),
    ActionType.CATCH: ActionSpec(_C.SPORTS, _L.UPPER, 0.0, _E.SURPRISED, _M.SMALL_O),
    ActionType.BAT: ActionSpec(_C.SPORTS, _L.UPPER, 0.0, _E.NEUTRAL, _M.CLOSED),
    ActionType.PITCH: ActionSpec(_C.SPORTS, _L.FULL, 0.0, _E.NEUTRAL, _M.CLOSED),
    ActionType.DRIBBLE: ActionSpec(_C.SPORTS, _L.UPPER, 0.0, _E.NEUTRAL, _M.CLOSED),
    ActionType.SHOOT: ActionSpec(_C.SPORTS, _L.FULL, 0.0, _E.EXCITED, _M.CLOSED, airborne=True),
    ActionType.PUNCH: ActionSpec(_C.COMBAT, _L.UPPER, 0.0, _E.ANGRY, _M.CLOSED),
    ActionType.DODGE: ActionSpec(_C.COMBAT, _L.FULL, 0.0, _E.SURPRISED, _M.SMALL_O),
    ActionType.FIGHT_STANCE: ActionSpec(_C.COMBAT, _L.FULL, 0.0, _E.ANGRY, _M.CLOSED),
    ActionType.SIT: ActionSpec(_C.EVERYDAY, _L.FULL, 0.0, _E.NEUTRAL, _M.CLOSED),
    ActionType.STAND: ActionSpec(_C.EVERYDAY, _L.FULL, 0.0, _E.NEUTRAL, _M.CLOSED),
    ActionType.KNEEL: ActionSpec(_C.EVERYDAY, _L.FULL, 0.0, _E.NEUTRAL, _M.CLOSED),
    ActionType.LIE_DOWN: ActionSpec(_C.EVERYDAY, _L.FULL, 0.0, _E.NEUTRAL, _M.CLOSED),
    ActionType.EAT: ActionSpec(_C.EVERYDAY, _L.UPPER, 0.0, _E.HAPPY, _M.OPEN),
    ActionType.DRINK: ActionSpec(_C.EVERYDAY, _L.UPPER, 0.0, _E.NEUTRAL, _M.SMALL_O),
    ActionType.READ: ActionSpec(_C.EVERYDAY, _L.UPPER, 0.0, _E.NEUTRAL, _M.CLOSED),
    ActionType.TYPE: ActionSpec(_C.EVERYDAY, _L.UPPER, 0.0, _E.NEUTRAL, _M.CLOSED),
    ActionType.LOOK_AROUND: ActionSpec(_C.EVERYDAY, _L.UPPER, 0.0, _E.SURPRISED, _M.CLOSED),
    ActionType.CELEBRATE: ActionSpec(
        _C.EMOTION, _L.FULL, 0.0, _E.EXCITED, _M.WIDE_OPEN, airborne=True
    ),
    ActionType.DANCE: ActionSpec(_C.EMOTION, _L.FULL, 0.0, _E.HAPPY, _M.SMILE, airborne=True),
    ActionType.BOW: ActionSpec(_C.SOCIAL, _L.FULL, 0.0, _E.NEUTRAL, _M.CLOSED),
    ActionType.STRETCH: ActionSpec(_C.EVERYDAY, _L.UPPER, 0.0, _E.HAPPY, _M.SMALL_O),
    ActionType.PUSH: ActionSpec(_C.EVERYDAY, _L.FULL, 0.3, _E.ANGRY, _M.CLOSED),
    ActionType.LIFT: ActionSpec(_C.EVERYDAY, _L.FULL, 0.0, _E.NEUTRAL, _M.CLOSED),
    ActionType.SKIP: ActionSpec(_C.LOCOMOTION, _L.LOWER, 1.8, _E.HAPPY, _M.SMILE, airborne=True),
    ActionType.THINK: ActionSpec(_C.EVERYDAY, _L.UPPER, 0.0, _E.NEUTRAL, _M.CLOSED),
    ActionType.SHRUG: ActionSpec(_C.SOCIAL, _L.UPPER, 0.0, _E.NEUTRAL, _M.FROWN),
    ActionType.HUG: ActionSpec(_C.SOCIAL, _L.UPPER, 0.0, _E.HAPPY, _M.SMILE),
    ActionType.HANDSHAKE: ActionSpec(_C.SOCIAL, _L.UPPER, 0.0, _E.HAPPY, _M.SMILE),
    ActionType.HIGH_FIVE: ActionSpec(_C.SOCIAL, _L.UPPER, 0.0, _E.EXCITED, _M.OPEN),
}
assert len(ACTION_SPECS) == NUM_ACTIONS
# bool per action label: the action has a travel speed (the figure goes somewhere)
TRAVELS = np.array([ACTION_SPECS[ActionType(i)].speed > 0 for i in range(NUM_ACTIONS)])


def action_vocabulary() -> list[str]:
    """Lower-case action names in label order (stored in dataset manifests)."""
    return [a.name.lower() for a in ActionType]


@dataclass(frozen=True)
class FaceFeatures:
    """One frame of the face; `to_vector` gives the `[7]` row of the face track."""

    expression: FacialExpression = FacialExpression.NEUTRAL
    eye_type: EyeType = EyeType.DOTS
    eyebrow_angle: float = 0.0  # degrees; positive raises the inner ends (worry), negative = frown
    mouth_shape: MouthShape = MouthShape.CLOSED
    mouth_openness: float = 0.0  # 0..1
    speaking: bool = False
    speech_hz: float = 0.0

    def to_vector(self) -> np.ndarray:
        return np.array(
            [
                self.expression,
                self.eye_type,
                self.eyebrow_angle,
                self.mouth_shape,
                self.mouth_openness,
                float(self.speaking),
                self.speech_hz,
            ],
            dtype=np.float32,
        )

    @classmethod
    def from_vector(cls, row: np.ndarray) -> FaceFeatures:
        return cls(
            expression=FacialExpression(round(float(row[0]))),
            eye_type=EyeType(round(float(row[1]))),
            eyebrow_angle=float(row[2]),
            mouth_shape=MouthShape(round(float(row[3]))),
            mouth_openness=float(row[4]),
            speaking=bool(row[5] >= 0.5),
            speech_hz=float(row[6]),
        )


@dataclass
class ActionSegment:
    """One timed action of an actor. Times are seconds from the start of the scene.

    `upper` layers an upper-body action on top of `action` ("walking and waving": action=WALK,
    upper=WAVE). The per-frame label is `action` unless `action` is IDLE/STAND and `upper` is set.
    """

    action: ActionType
    start: float
    end: float
    upper: ActionType | None = None
    expression: FacialExpression | None = None  # overrides the action's default expression
    speech: str | None = None  # what is said while a speaking action runs
    support: float = 0.0  # metres: height of what the figure sits or lies on (0 = the ground)
    prop: str | None = None  # what it sits or lies on, as the prompt names it ("bench")

    @property
    def duration(self) -> float:
        return self.end - self.start

    @property
    def label(self) -> ActionType:
        if self.upper is not None and self.action in (ActionType.IDLE, ActionType.STAND):
            return self.upper
        return self.action


@dataclass
class Actor:
    """One stick figure: where it starts, which way it faces (+1 right, -1 left), what it does."""

    segments: list[ActionSegment]
    start_x: float = 0.0
    facing: int = 1
    name: str = "person"


@dataclass(frozen=True)
class Interaction:
    """Two actors doing something together from `start` to `end` seconds ("shake hands", "throws
    the ball to her"): they face each other `distance` metres apart, hip to hip, when it starts."""

    actors: tuple[int, int]
    start: float
    end: float
    distance: float
    kind: str  # the action that brings them together, lower-case ("handshake", "throw")


@dataclass(frozen=True)
class Recognised:
    """A word or phrase of the prompt the story engine knows: `text` -> `meaning` of `kind`
    ("action", "expression", "person", "count", "time", "seat", "speech", "direction")."""

    text: str
    kind: str
    meaning: str


@dataclass(frozen=True)
class Guess:
    """A phrase matched by meaning, not by the word list: the closest `meaning` and its cosine
    similarity `score` (accepted when at least the reader's threshold for that kind)."""

    text: str
    kind: str  # "action" or "expression"
    meaning: str
    score: float


# Kinds of recognised words that say what to animate (a person alone does not).
CONTENT_KINDS = frozenset({"action", "expression", "speech", "count", "seat"})


@dataclass(frozen=True)
class Understanding:
    """What the story engine made of a prompt: what it recognised, what it guessed by meaning,
    and the words it ignored. `understood` is False when nothing says what to animate."""

    recognised: tuple[Recognised, ...] = ()
    guessed: tuple[Guess, ...] = ()
    ignored: tuple[str, ...] = ()

    @property
    def understood(self) -> bool:
        guessed = any(g.kind in ("action", "expression") for g in self.guessed)
        return guessed or any(r.kind in CONTENT_KINDS for r in self.recognised)

    def to_json(self) -> dict:
        return {
            "understood": self.understood,
            "recognised": [
                {"text": r.text, "kind": r.kind, "meaning": r.meaning} for r in self.recognised
            ],
            "guessed": [
                {"text": g.text, "kind": g.kind, "meaning": g.meaning, "score": round(g.score, 3)}
                for g in self.guessed
            ],
            "ignored": list(self.ignored),
        }

    @classmethod
    def from_json(cls, data: dict) -> Understanding:
        return cls(
            tuple(Recognised(r["text"], r["kind"], r["meaning"]) for r in data["recognised"]),
            tuple(Guess(g["text"], g["kind"], g["meaning"], g["score"]) for g in data["guessed"]),
            tuple(data["ignored"]),
        )

    def summary(self) -> str:
        """One line: recognised / guessed / ignored, or a notice that nothing was understood."""
        parts = []
        shown = [r for r in self.recognised if r.kind in CONTENT_KINDS or r.kind == "person"]
        if shown:
            parts.append("recognised " + ", ".join(f"{r.text} -> {r.meaning}" for r in shown))
        if self.guessed:
            parts.append(
                "guessed "
                + ", ".join(f'"{g.text}" -> {g.meaning} ({g.score:.2f})' for g in self.guessed)
            )
        if self.ignored:
            parts.append("ignored " + ", ".join(self.ignored))
        line = "; ".join(parts) if parts else "no words"
        if not self.understood:
            return f"nothing understood, the figure stands idle ({line})"
        return line


@dataclass
class Scene:
    """A planned animation: the story engine's output, the motion engine's input.

    `interactions` pair up actors who do something together; `understanding` is the story
    engine's report on the prompt (None for scenes not read from a prompt).
    """

    description: str
    actors: list[Actor]
    duration: float = CLIP_SECONDS
    theme: str | None = None
    extras: dict[str, str] = field(default_factory=dict)
    interactions: list[Interaction] = field(default_factory=list)
    understanding: Understanding | None = None

    def num_frames(self, fps: int = FPS) -> int:
        return round(self.duration * fps)

    def _track(self, actor: int, fps: int, value, fill: int) -> np.ndarray:
        t = (np.arange(self.num_frames(fps)) + 0.5) / fps
        out = np.full(t.shape, fill, dtype=np.int64)
        for seg in self.actors[actor].segments:
            v = value(seg)
            if v is None:
                continue
            out[(t >= seg.start) & (t < seg.end)] = int(v)
        return out

    def action_track(self, actor: int = 0, fps: int = FPS) -> np.ndarray:
        """int64 `[T]` per-frame labels; frames not covered by a segment are IDLE."""
        return self._track(actor, fps, lambda s: s.label, int(ActionType.IDLE))

    def upper_track(self, actor: int = 0, fps: int = FPS) -> np.ndarray:
        """int64 `[T]` layered upper-body action per frame, -1 where none."""
        return self._track(actor, fps, lambda s: s.upper, -1)

    def expression_track(self, actor: int = 0, fps: int = FPS) -> np.ndarray:
        """int64 `[T]` emotion override per frame from the prompt, -1 where none."""
        return self._track(actor, fps, lambda s: s.expression, -1)


@dataclass
class MotionClip:
    """One figure's animation: what the motion engine or the learned model produces."""

    motion: np.ndarray  # float32 [T, 20]
    actions: np.ndarray  # int64 [T]
    physics: np.ndarray  # float32 [T, 6]
    fps: int = FPS

    @property
    def num_frames(self) -> int:
        return int(self.motion.shape[0])
