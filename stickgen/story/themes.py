"""Themes for the scene sampler: plausible action mixes, people, places and lines to say.

Pools list `ACTION_NAME:weight` pairs. The weights are tuned so that, over all themes, every
action gets a fair share of frames (see tests/test_story.py: no action below 0.5 %).
"""

from __future__ import annotations

from dataclasses import dataclass

from stickgen.schema import ActionType


@dataclass(frozen=True)
class Theme:
    """What tends to happen in one kind of scene."""

    name: str
    pool: tuple[tuple[ActionType, float], ...]
    subjects: tuple[str, ...]
    places: tuple[str, ...]
    lines: tuple[str, ...]


def _pool(spec: str) -> tuple[tuple[ActionType, float], ...]:
    pairs = []
    for item in spec.split():
        name, _, weight = item.partition(":")
        pairs.append((ActionType[name.upper()], float(weight or 1)))
    return tuple(pairs)


_GENERAL_SUBJECTS = (
    "a person",
    "someone",
    "a man",
    "a woman",
    "the man",
    "the woman",
    "a stick figure",
    "a figure",
    "the person",
    "a guy",
    "a girl",
    "a boy",
    "a kid",
    "an old man",
    "a young woman",
    "a tall man",
    "a little girl",
)

_THEMES = (
    Theme(
        "everyday",
        _pool(
            "walk:3 sit:2 stand:2 read:2 type:2 eat:2 drink:2 look_around:2 stretch:1.5 "
            "think:1.5 idle:2 talk:1 shrug:1 lift:1 lie_down:1 kneel:1 point:0.5 wave:1"
        ),
        ("an office worker", "a student", "a teacher", "a chef", "the worker"),
        ("in the kitchen", "at the office", "in the living room", "at home", "on the street"),
        ("Good morning.", "Hello!", "What time is it?", "I'm hungry.", "See you later."),
    ),
    Theme(
        "sports",
        _pool(
            "run:2 sprint:2 kick:2 dribble:2 shoot:2 pitch:2.5 bat:2.5 throw:2 catch:2 "
            "celebrate:2 jump:1 stretch:1 walk:0.5 clap:0.5 shout:0.5 high_five:1 handshake:0.5"
        ),
        ("an athlete", "a player", "the player", "a runner", "a coach", "the athlete"),
        ("on the field", "on the court", "at the stadium", "in the gym", "at the ballpark"),
        ("Go team!", "Pass it here!", "Nice shot!", "Let's win this!", "Over here!", "Goal!"),
    ),
    Theme(
        "party",
        _pool(
            "dance:2 sing:2 clap:2 laugh:2 drink:2 eat:1.5 talk:2 wave:1.5 celebrate:1 "
            "skip:1 jump:1 shout:1 whisper:1 bow:0.5 hug:1 high_five:1"
        ),
        ("a party guest", "a guest", "the guest", "a dancer"),
        ("at the party", "at a birthday party", "in the ballroom", "at the club"),
        ("Happy birthday!", "Cheers!", "What a party!", "This is fun!", "Hello everyone!"),
    ),
    Theme(
        "fight",
        _pool(
            "fight_stance:3 punch:3 kick:1.5 dodge:3 shout:1.5 push:1.5 point:1 kneel:0.5 "
            "lie_down:0.5 stand:0.5 jump:0.5 run:0.5 celebrate:0.5 cry:0.5"
        ),
        ("a fighter", "a boxer", "the fighter", "a ninja", "a knight", "the boxer"),
        ("in the ring", "in the dojo", "in an alley", "in the arena"),
        ("Come on!", "Is that all you've got?", "Stop!", "Back off!", "Bring it on!"),
    ),
    Theme(
        "adventure",
        _pool(
            "climb:3 crawl:3 swim:3 fly:3 jump:1 run:1 look_around:1.5 walk:1 sprint:1 "
            "kneel:0.5 point:1 push:0.5 lift:0.5 dodge:0.5 shout:0.5"
        ),
        ("an explorer", "an adventurer", "a hiker", "a superhero", "the explorer", "a pirate"),
        ("in the jungle", "in a cave", "on the mountain", "in the river", "in the desert"),
        ("Follow me!", "We made it!", "Help!", "What is that?", "Onward!", "Over here!"),
    ),
    Theme(
        "performance",
        _pool(
            "sing:2 dance:2 bow:3 wave:1.5 clap:1 talk:1 point:1 stretch:0.5 jump:0.5 skip:0.5 "
            "laugh:0.5 whisper:1 shrug:0.5 celebrate:0.5"
        ),
        ("a performer", "a singer", "a dancer", "the singer", "a clown", "an actor"),
        ("on stage", "in the theater", "at the concert", "in the studio"),
        ("Thank you!", "Good evening, everyone!", "La la la", "Encore!", "This one is for you."),
    ),
    Theme(
        "social",
        _pool(
            "wave:2 talk:2 whisper:2 point:2 laugh:1 cry:1 shrug:2 think:1 walk:1 sit:1 "
            "stand:1 idle:1 clap:0.5 bow:1 hug:2.5 handshake:2.5 high_five:2"
        ),
        ("a friend", "the friend", "a stranger", "a teenager"),
        ("in the park", "at the cafe", "on the sidewalk", "in the hallway"),
        ("Hi there!", "How are you?", "Nice to meet you.", "Goodbye!", "Guess what?"),
    ),
    Theme(
        "playground",
        _pool(
            "skip:3 jump:2 run:1.5 crawl:1 climb:1 laugh:1.5 cry:1 throw:1 catch:1 kick:1 "
            "swim:0.5 fly:0.5 dance:0.5 shout:0.5 sit:0.5"
        ),
        ("a kid", "a child", "a little boy", "a little girl", "a toddler", "the kid"),
        ("on the playground", "in the backyard", "at school", "at the beach"),
        ("Catch me!", "Wheee!", "Look at me!", "My turn!", "Ready or not!"),
    ),
    Theme(
        "workout",
        _pool(
            "stretch:2 lift:3 push:3 run:1 jump:1 skip:1 climb:0.5 crawl:0.5 kneel:1.5 "
            "lie_down:1 sprint:1 walk:0.5 drink:1 idle:0.5"
        ),
        ("an athlete", "a gymnast", "a climber", "the gymnast"),
        ("in the gym", "at the track", "in the studio", "on the mat"),
        ("One more!", "Keep going!", "Feel the burn!", "Almost there!", "Let's stretch."),
    ),
    Theme(
        "emotional",
        _pool(
            "cry:3 laugh:2 shout:1 shrug:2 think:2 sit:1 walk:1 kneel:1 lie_down:1 "
            "whisper:1 celebrate:1 look_around:1 stand:1 idle:0.5 talk:0.5"
        ),
        ("a teenager", "a stranger", "the stranger"),
        ("in the rain", "at the window", "in the garden", "by the lake"),
        ("I can't believe it!", "Why me?", "I'm so glad!", "Oh no...", "It's fine.", "Whatever."),
    ),
)

THEMES: tuple[str, ...] = tuple(t.name for t in _THEMES)
THEME_BY_NAME: dict[str, Theme] = {t.name: t for t in _THEMES}
GENERAL_SUBJECTS = _GENERAL_SUBJECTS
