"""Natural English for sampled scenes, written so that `parse_prompt` reads the same plan back.

Every phrase here parses to its own action alone (tests/test_story.py checks the round trip on
thousands of scenes). Descriptions never name a side: the dataset mirrors clips.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from stickgen.schema import ActionSegment, ActionType, FacialExpression
from stickgen.story.props import phrase_support
from stickgen.story.vocabulary import PERSON_NOUNS, SPEAKING, gerund, third_person, words

A = ActionType

# Base-form phrases per action. "verb|object" marks a spoken object: "tell|a story" is written
# "tells a story" and its speech is "a story".
_PHRASES: dict[ActionType, tuple[str, ...]] = {
    A.IDLE: ("stand still", "wait", "pause", "stand there", "stay still", "linger", "idle"),
    A.WALK: (
        "walk",
        "stroll",
        "wander",
        "march",
        "walk along",
        "stroll around",
        "pace",
        "hike",
        "tiptoe",
        "amble along",
        "walk forward",
    ),
    A.RUN: ("run", "jog", "trot", "run along", "jog forward", "run around"),
    A.SPRINT: ("sprint", "dash", "race", "bolt", "dash ahead", "sprint ahead", "run fast"),
    A.JUMP: ("jump", "leap", "hop", "jump up", "jump high", "leap into the air", "hop around"),
    A.CLIMB: ("climb", "climb a ladder", "climb up a wall", "climb a tree", "clamber up the rocks"),
    A.CRAWL: ("crawl", "crawl on all fours", "crawl forward", "creep along", "crawl slowly"),
    A.SWIM: ("swim", "swim across the pool", "paddle", "swim laps", "tread water"),
    A.FLY: ("fly", "soar", "glide", "fly through the air", "soar across the sky", "hover"),
    A.WAVE: (
        "wave",
        "wave hello",
        "wave goodbye",
        "wave at the crowd",
        "raise a hand",
        "greet the audience",
    ),
    A.TALK: (
        "talk",
        "chat",
        "speak",
        "chat away",
        "talk on the phone",
        "tell|a story",
        "tell|a joke",
        "give a speech",
    ),
    A.SHOUT: ("shout", "yell", "scream", "shout loudly", "yell for help", "shout|a warning"),
    A.WHISPER: ("whisper", "murmur", "whisper|a secret", "whisper quietly", "mumble"),
    A.SING: ("sing", "hum", "sing|a song", "hum|a tune", "sing loudly", "sing|a lullaby"),
    A.POINT: ("point", "point ahead", "point at something", "point at the sky", "gesture ahead"),
    A.CLAP: ("clap", "applaud", "clap along", "clap loudly", "clap the hands"),
    A.LAUGH: ("laugh", "giggle", "chuckle", "laugh out loud", "burst out laughing", "laugh hard"),
    A.CRY: ("cry", "sob", "weep", "burst into tears", "cry quietly"),
    A.KICK: ("kick", "kick a ball", "kick the ball", "kick high", "punt the ball"),
    A.THROW: ("throw", "throw a ball", "toss a ball", "hurl a rock", "throw a frisbee"),
    A.CATCH: ("catch", "catch a ball", "catch the ball", "grab the ball"),
    A.BAT: ("swing a bat", "swing the bat", "bat", "hit a home run", "hit the ball"),
    A.PITCH: ("pitch", "pitch a fastball", "throw a pitch", "pitch the ball"),
    A.DRIBBLE: ("dribble", "dribble a basketball", "dribble the ball", "bounce a ball"),
    A.SHOOT: ("shoot a basket", "shoot", "shoot hoops", "dunk", "take a shot", "shoot the ball"),
    A.PUNCH: ("punch", "jab", "throw a punch", "punch the air", "punch a bag"),
    A.DODGE: ("dodge", "duck", "dodge a punch", "step aside", "jump out of the way", "sidestep"),
    A.FIGHT_STANCE: (
        "take a fighting stance",
        "square up",
        "get ready to fight",
        "fight",
        "spar",
        "get into a fighting stance",
    ),
    A.SIT: (
        "sit",
        "sit down",
        "take a seat",
        "sit on a bench",
        "sit on the floor",
        "sit down on a chair",
        "sit on the sofa",
        "sit on a stool",
        "sit at a desk",
    ),
    A.STAND: ("stand up", "get up", "stand up straight", "rise"),
    A.KNEEL: ("kneel", "kneel down", "crouch", "crouch down", "squat"),
    A.LIE_DOWN: (
        "lie down",
        "lie on the ground",
        "lie down on the grass",
        "lie on a bed",
        "lie down on the couch",
        "take a nap",
        "fall asleep",
        "recline",
    ),
    A.EAT: ("eat", "eat a sandwich", "eat an apple", "munch", "have lunch", "nibble"),
    A.DRINK: ("drink", "drink water", "sip coffee", "have a drink", "take a sip"),
    A.READ: ("read", "read a book", "read the newspaper", "study a map"),
    A.TYPE: ("type", "type on a keyboard", "type on a laptop", "use a laptop"),
    A.LOOK_AROUND: ("look around", "glance around", "look about", "scan the area", "peer around"),
    A.CELEBRATE: ("celebrate", "cheer", "celebrate wildly", "pump a fist", "do a victory dance"),
    A.DANCE: ("dance", "dance around", "boogie", "groove", "twirl", "dance to the music", "sway"),
    A.BOW: ("bow", "take a bow", "bow deeply", "curtsy", "bow politely"),
    A.STRETCH: ("stretch", "stretch out", "warm up", "yawn", "do some yoga"),
    A.PUSH: ("push", "push a box", "push a cart", "shove a crate", "push against a wall"),
    A.LIFT: ("lift", "lift a box", "pick up a box", "lift weights", "carry a box"),
    A.SKIP: ("skip", "skip along", "prance", "frolic", "skip rope"),
    A.THINK: ("think", "ponder", "think hard", "wonder", "contemplate", "think deeply"),
    A.SHRUG: ("shrug", "shrug helplessly", "shrug the shoulders"),
    A.HUG: ("hug", "give a hug", "hug tightly", "give a warm hug", "embrace"),
    A.HANDSHAKE: ("shake hands", "shake hands firmly", "give a handshake", "shake hands politely"),
    A.HIGH_FIVE: ("give a high five", "give a big high five", "slap hands"),
}
assert set(_PHRASES) == set(ActionType)

# Quote-taking verbs per speaking action: 'says "hello"'.
_QUOTING: dict[ActionType, tuple[str, ...]] = {
    A.TALK: ("say", "say", "reply", "announce"),
    A.SHOUT: ("shout", "yell", "scream", "call out"),
    A.WHISPER: ("whisper", "murmur"),
    A.SING: ("sing",),
}

_ADJECTIVES: dict[FacialExpression, tuple[str, ...]] = {
    FacialExpression.HAPPY: ("happy", "cheerful", "joyful", "smiling"),
    FacialExpression.SAD: ("sad", "gloomy", "unhappy", "tearful"),
    FacialExpression.ANGRY: ("angry", "furious", "grumpy"),
    FacialExpression.SURPRISED: ("surprised", "startled", "shocked"),
    FacialExpression.EXCITED: ("excited", "eager", "thrilled", "energetic"),
    FacialExpression.NEUTRAL: ("calm", "serene"),
}
_ADVERBS: dict[FacialExpression, tuple[str, ...]] = {
    FacialExpression.HAPPY: ("happily", "cheerfully", "joyfully", "gleefully", "with a smile"),
    FacialExpression.SAD: ("sadly", "gloomily", "glumly", "with a frown"),
    FacialExpression.ANGRY: ("angrily", "furiously", "fiercely", "in anger"),
    FacialExpression.SURPRISED: ("in surprise", "in shock", "with astonishment"),
    FacialExpression.EXCITED: ("excitedly", "eagerly", "enthusiastically", "with excitement"),
    FacialExpression.NEUTRAL: ("calmly", "serenely", "with a blank face"),
}

_NUMBER_NAMES = words("zero one two three four five six seven eight nine ten")

Pick = Callable[[tuple[str, ...]], str]
Chance = Callable[[float], bool]


@dataclass(frozen=True)
class Phrase:
    """One way to say an action: third person, -ing form, the speech it implies, and the seat or
    bed it names (height in metres, 0 for the ground)."""

    third: str
    ing: str
    speech: str | None = None
    support: float = 0.0
    prop: str | None = None


def _phrase(spec: str, action: ActionType | None = None) -> Phrase:
    words, _, spoken = spec.partition("|")
    text = f"{words} {spoken}".strip()
    support, prop = phrase_support(action, text) if action is not None else (0.0, None)
    return Phrase(third_person(text), gerund(text), spoken or None, support, prop)


PHRASES: dict[ActionType, tuple[Phrase, ...]] = {
    action: tuple(_phrase(spec, action) for spec in specs) for action, specs in _PHRASES.items()
}
SPOKEN_OBJECTS: dict[ActionType, tuple[Phrase, ...]] = {
    action: tuple(p for p in PHRASES[action] if p.speech) for action in SPEAKING
}
QUOTING: dict[ActionType, tuple[Phrase, ...]] = {
    action: tuple(_phrase(verb) for verb in verbs) for action, verbs in _QUOTING.items()
}


@dataclass
class Planned:
    """A sampled segment and how to word it."""

    segment: ActionSegment
    phrase: Phrase
    upper_phrase: Phrase | None = None
    quote: str | None = None  # speech to write in quotes (after the speaking verb)
    timed: bool = False
    adverb: str | None = None


def pronoun_for(subject: str) -> str:
    """'he' / 'she' for gendered subjects, else 'the <noun>' (the parser keeps it one actor)."""
    noun = subject.split()[-1]
    key = PERSON_NOUNS.get(noun, ("person", False))[0]
    if noun in ("someone", "somebody"):
        noun = "person"
    if key in ("man", "boy", "guy"):
        return "he"
    if key in ("woman", "girl", "lady"):
        return "she"
    return f"the {noun}"


def article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def seconds_text(seconds: float, pick: Pick) -> str:
    """'for 2.5 seconds', 'for three seconds', 'for 4 s'..."""
    value = f"{seconds:g}"
    if value == "1":
        return pick(("for 1 second", "for one second", "for a second"))
    if seconds.is_integer() and seconds <= 10:
        word = _NUMBER_NAMES[int(seconds)]
        return pick((f"for {value} seconds", f"for {word} seconds", f"for {value} s"))
    return pick((f"for {value} seconds", f"for {value} s", f"for {value} secs"))


def adjective_for(expression: FacialExpression, pick: Pick) -> str:
    return pick(_ADJECTIVES[expression])


def adverb_for(expression: FacialExpression, pick: Pick) -> str:
    return pick(_ADVERBS[expression])


def finite(p: Planned, pick: Pick, chance: Chance, list_item: bool = False) -> str:
    """'walks happily while waving for 3 seconds'."""
    main = _with_extras(p.phrase.third, p)
    if p.upper_phrase is not None:
        upper = p.upper_phrase
        upper_quote = f' "{p.quote}"' if p.quote and p.segment.upper in SPEAKING else ""
        if list_item or chance(0.5):
            text = f"{main} while {upper.ing}{upper_quote}"
        else:
            text = f"{main} and {upper.third}{upper_quote}"
    else:
        text = main
    if p.timed:
        text = f"{text} {seconds_text(p.segment.duration, pick)}"
    return text


def progressive(p: Planned, pick: Pick) -> str:
    """'walking happily while waving' (the -ing form, for 'is ...ing' and 'after ...ing')."""
    text = _with_extras(p.phrase.ing, p)
    if p.upper_phrase is not None:
        upper_quote = f' "{p.quote}"' if p.quote and p.segment.upper in SPEAKING else ""
        text = f"{text} while {p.upper_phrase.ing}{upper_quote}"
    if p.timed:
        text = f"{text} {seconds_text(p.segment.duration, pick)}"
    return text


def _with_extras(verb_phrase: str, p: Planned) -> str:
    text = verb_phrase
    if p.quote and p.segment.action in SPEAKING:
        text = f'{text} "{p.quote}"'
    if p.adverb:
        text = f"{text} {p.adverb}"
    return text
