"""The story engine's words: verbs and their inflections, emotions, people, numbers, durations.

Verb phrases are written in their base form ("sit down", "swing bat"); `conjugate` derives the
third-person, -ing and past forms of the first word. A phrase written with a leading "=" is a fixed
noun phrase and is not inflected. Determiners and possessives ("a", "the", "his"...) are left out
of phrases: the matcher skips them in the text.
"""

from __future__ import annotations

from stickgen.schema import ActionType, FacialExpression

A = ActionType


def words(text: str) -> tuple[str, ...]:
    """The blank-separated words of `text` (keeps long word lists readable)."""
    return tuple(text.split())


VERB_PHRASES: dict[ActionType, tuple[str, ...]] = {
    A.IDLE: (
        "idle",
        "stand still",
        "stay still",
        "stand there",
        "stand around",
        "hang around",
        "wait",
        "pause",
        "loiter",
        "linger",
        "stop",
        "keep still",
        "do nothing",
    ),
    A.WALK: (
        "walk",
        "stroll",
        "amble",
        "wander",
        "stride",
        "march",
        "pace",
        "hike",
        "saunter",
        "trudge",
        "plod",
        "tiptoe",
        "roam",
        "step",
        "strut",
        "take step",
    ),
    A.RUN: ("run", "jog", "trot", "run away", "run off"),
    A.SPRINT: (
        "sprint",
        "dash",
        "race",
        "bolt",
        "rush",
        "hurry",
        "zoom",
        "charge",
        "flee",
        "run fast",
        "run quickly",
        "run as fast",
    ),
    A.JUMP: ("jump", "leap", "hop", "bounce", "vault", "jump up"),
    A.CLIMB: ("climb", "clamber", "ascend", "scramble up", "climb up"),
    A.CRAWL: ("crawl", "creep", "crawl on all fours"),
    A.SWIM: ("swim", "paddle", "do breaststroke", "tread water"),
    A.FLY: ("fly", "soar", "glide", "hover", "float", "take off", "take flight"),
    A.WAVE: (
        "wave",
        "greet",
        "beckon",
        "salute",
        "raise hand",
        "wave hello",
        "wave goodbye",
    ),
    A.TALK: (
        "talk",
        "say",
        "chat",
        "speak",
        "tell",
        "converse",
        "explain",
        "chatter",
        "ask",
        "reply",
        "answer",
        "announce",
        "call",
        "discuss",
        "have conversation",
        "give speech",
    ),
    A.SHOUT: (
        "shout",
        "yell",
        "scream",
        "holler",
        "cry out",
        "call out",
        "roar",
        "bellow",
        "shriek",
        "exclaim",
    ),
    A.WHISPER: (
        "whisper",
        "murmur",
        "mutter",
        "mumble",
        "speak softly",
        "speak quietly",
        "talk softly",
        "talk quietly",
    ),
    A.SING: ("sing", "hum", "serenade", "chant", "croon", "yodel", "belt out"),
    A.POINT: ("point", "gesture", "indicate"),
    A.CLAP: ("clap", "applaud", "=round of applause"),
    A.LAUGH: (
        "laugh",
        "giggle",
        "chuckle",
        "cackle",
        "chortle",
        "snicker",
        "crack up",
        "burst out laughing",
    ),
    A.CRY: ("cry", "sob", "weep", "bawl", "wail", "burst into tears", "=in tears"),
    A.KICK: ("kick", "punt", "play soccer", "play football"),
    A.THROW: ("throw", "toss", "hurl", "fling", "lob"),
    A.CATCH: ("catch", "grab", "snag", "play catch"),
    A.BAT: (
        "bat",
        "swing",
        "swing bat",
        "hit ball",
        "hit baseball",
        "hit home run",
        "play baseball",
    ),
    A.PITCH: ("pitch", "throw pitch", "deliver pitch"),
    A.DRIBBLE: ("dribble", "bounce ball", "play basketball"),
    A.SHOOT: (
        "shoot",
        "dunk",
        "shoot basket",
        "shoot hoops",
        "take shot",
        "make shot",
        "score basket",
        "=jump shot",
    ),
    A.PUNCH: (
        "punch",
        "jab",
        "strike",
        "hit",
        "=boxing",
        "uppercut",
        "throw punch",
        "throw jab",
    ),
    A.DODGE: (
        "dodge",
        "duck",
        "evade",
        "sidestep",
        "avoid",
        "swerve",
        "step aside",
        "jump aside",
        "jump out of way",
        "leap aside",
    ),
    A.FIGHT_STANCE: (
        "fight",
        "brawl",
        "spar",
        "square up",
        "raise fists",
        "put up fists",
        "get ready to fight",
        "take stance",
        "=fighting stance",
        "=fight stance",
        "=boxing stance",
        "=stance",
        "=on guard",
        "=en garde",
    ),
    A.SIT: ("sit", "sit down", "take seat", "seat", "perch", "plop down", "be seated"),
    A.STAND: (
        "stand",
        "stand up",
        "get up",
        "rise",
        "get to feet",
        "rise to feet",
        "straighten up",
    ),
    A.KNEEL: (
        "kneel",
        "kneel down",
        "crouch",
        "crouch down",
        "squat",
        "get down on one knee",
        "drop to knees",
        "bend down",
    ),
    A.LIE_DOWN: (
        "lie",
        "lie down",
        "lay down",
        "recline",
        "sleep",
        "nap",
        "doze",
        "fall",
        "fall down",
        "fall asleep",
        "collapse",
        "take nap",
        "go to sleep",
    ),
    A.EAT: (
        "eat",
        "munch",
        "chew",
        "snack",
        "dine",
        "nibble",
        "devour",
        "bite",
        "have lunch",
        "have dinner",
        "have breakfast",
        "have meal",
        "take bite",
    ),
    A.DRINK: (
        "drink",
        "sip",
        "gulp",
        "slurp",
        "have drink",
        "have coffee",
        "have tea",
        "take sip",
    ),
    A.READ: ("read", "study", "flip through"),
    A.TYPE: (
        "type",
        "write",
        "use computer",
        "use laptop",
        "work on laptop",
        "work on computer",
    ),
    A.LOOK_AROUND: (
        "look",
        "look around",
        "look about",
        "glance",
        "glance around",
        "scan",
        "search",
        "peer",
        "peek",
        "survey",
        "watch",
        "observe",
    ),
    A.CELEBRATE: (
        "celebrate",
        "cheer",
        "rejoice",
        "pump fist",
        "=victory dance",
        "=high five",
        "=high fives",
        "=high fiving",
        "throw hands in air",
        "throw arms in air",
    ),
    A.DANCE: (
        "dance",
        "boogie",
        "groove",
        "twirl",
        "spin",
        "breakdance",
        "waltz",
        "moonwalk",
        "sway",
        "tap dance",
    ),
    A.BOW: ("bow", "curtsy", "take bow", "bow down"),
    A.STRETCH: (
        "stretch",
        "yawn",
        "warm up",
        "limber up",
        "reach up",
        "do yoga",
    ),
    A.PUSH: ("push", "shove"),
    A.LIFT: (
        "lift",
        "carry",
        "hoist",
        "heave",
        "raise",
        "pick up",
        "lift weights",
    ),
    A.SKIP: ("skip", "frolic", "prance", "gambol", "skip rope"),
    A.THINK: (
        "think",
        "ponder",
        "wonder",
        "contemplate",
        "consider",
        "daydream",
        "reflect",
        "muse",
        "meditate",
        "scratch head",
    ),
    A.SHRUG: ("shrug", "shrug shoulders", "throw up hands", "throw hands up"),
}

# Irregular forms: base -> (third person, -ing, past). None keeps the regular form.
IRREGULAR: dict[str, tuple[str | None, str | None, str | None]] = {
    "run": (None, None, "ran"),
    "swim": (None, None, "swam"),
    "fly": (None, None, "flew"),
    "sit": (None, None, "sat"),
    "stand": (None, None, "stood"),
    "kneel": (None, None, "knelt"),
    "lie": (None, "lying", "lay"),
    "lay": (None, None, "laid"),
    "eat": (None, None, "ate"),
    "drink": (None, None, "drank"),
    "read": (None, None, "read"),
    "throw": (None, None, "threw"),
    "catch": (None, None, "caught"),
    "shoot": (None, None, "shot"),
    "sing": (None, None, "sang"),
    "say": (None, None, "said"),
    "tell": (None, None, "told"),
    "speak": (None, None, "spoke"),
    "fight": (None, None, "fought"),
    "take": (None, None, "took"),
    "get": (None, "getting", "got"),
    "go": ("goes", None, "went"),
    "do": ("does", None, "did"),
    "have": ("has", None, "had"),
    "be": ("is", "being", "was"),
    "leap": (None, None, "leapt"),
    "creep": (None, None, "crept"),
    "swing": (None, None, "swung"),
    "hit": (None, "hitting", "hit"),
    "strike": (None, None, "struck"),
    "think": (None, None, "thought"),
    "fall": (None, None, "fell"),
    "spin": (None, None, "spun"),
    "bend": (None, None, "bent"),
    "bite": (None, None, "bit"),
    "write": (None, None, "wrote"),
    "rise": (None, None, "rose"),
    "make": (None, None, "made"),
    "put": (None, "putting", "put"),
    "burst": (None, None, "burst"),
    "sleep": (None, None, "slept"),
    "give": (None, None, "gave"),
    "uppercut": (None, "uppercutting", "uppercut"),
    "sidestep": (None, "sidestepping", "sidestepped"),
    "tiptoe": (None, "tiptoeing", "tiptoed"),
    "frolic": (None, "frolicking", "frolicked"),
    "panic": (None, "panicking", "panicked"),
}

_VOWELS = frozenset("aeiou")


def _vowel_groups(word: str) -> int:
    groups, previous = 0, False
    for ch in word:
        vowel = ch in _VOWELS
        if vowel and not previous:
            groups += 1
        previous = vowel
    return groups


def _doubles_final_consonant(word: str) -> bool:
    """One-syllable consonant-vowel-consonant verbs double it: run -> running, shrug -> shrugged."""
    if len(word) < 3 or _vowel_groups(word) != 1:
        return False
    c1, v, c2 = word[-3], word[-2], word[-1]
    return c1 not in _VOWELS and v in _VOWELS and c2 not in _VOWELS and c2 not in "wxy"


def conjugate(base: str) -> tuple[str, str, str]:
    """(third person, -ing, past) of an English verb, regular rules plus `IRREGULAR`."""
    third, ing, past = IRREGULAR.get(base, (None, None, None))
    double = _doubles_final_consonant(base)
    if third is None:
        if base.endswith(("s", "sh", "ch", "x", "z", "o")):
            third = base + "es"
        elif base.endswith("y") and len(base) > 1 and base[-2] not in _VOWELS:
            third = base[:-1] + "ies"
        else:
            third = base + "s"
    if ing is None:
        if base.endswith("ie"):
            ing = base[:-2] + "ying"
        elif base.endswith("e") and not base.endswith(("ee", "ye", "oe")):
            ing = base[:-1] + "ing"
        elif double:
            ing = base + base[-1] + "ing"
        else:
            ing = base + "ing"
    if past is None:
        if base.endswith("e"):
            past = base + "d"
        elif base.endswith("y") and len(base) > 1 and base[-2] not in _VOWELS:
            past = base[:-1] + "ied"
        elif double:
            past = base + base[-1] + "ed"
        else:
            past = base + "ed"
    return third, ing, past


def third_person(phrase: str) -> str:
    """'sit down' -> 'sits down' (fixed '=' phrases are returned without the marker)."""
    if phrase.startswith("="):
        return phrase[1:]
    head, _, rest = phrase.partition(" ")
    return f"{conjugate(head)[0]} {rest}".strip()


def gerund(phrase: str) -> str:
    """'sit down' -> 'sitting down'."""
    if phrase.startswith("="):
        return phrase[1:]
    head, _, rest = phrase.partition(" ")
    return f"{conjugate(head)[1]} {rest}".strip()


def phrase_forms(phrase: str) -> set[tuple[str, ...]]:
    """Every token sequence a verb phrase may appear as in a prompt."""
    if phrase.startswith("="):
        return {tuple(phrase[1:].split())}
    head, *rest = phrase.split()
    return {(form, *rest) for form in (head, *conjugate(head))}


# Determiners and possessives skipped inside multi-word phrases ("swings *his* bat").
DETERMINERS = frozenset(
    words("a an the his her their its my your our some this that these those one's")
)

# Words that cancel the verb right after them ("does not walk", "stops running").
NEGATORS = frozenset(
    words(
        "not never don't doesn't didn't won't can't cannot isn't aren't no "
        "stops stop stopped stopping quits quit quitting"
    )
)

# Intensifiers skipped between "looks" and an emotion ("looks very happy").
INTENSIFIERS = frozenset(words("very so really quite a bit rather extremely somewhat pretty too"))

# The base forms of "look": followed by an emotion word they are a copula ("looks sad").
LOOK_FORMS = frozenset({"look", *conjugate("look")})

# Emotion words (adjectives, adverbs, nouns and a few face verbs) -> expression override.
_EMOTIONS: dict[FacialExpression, str] = {
    FacialExpression.HAPPY: (
        "happy happily happiness joy joyful joyfully joyous joyously glad gladly cheerful "
        "cheerfully delighted delightedly merry merrily smiling smilingly smile smiles smiled "
        "grin grins grinning grinned beaming beams content contentedly pleased gleeful "
        "gleefully jolly playful playfully"
    ),
    FacialExpression.SAD: (
        "sad sadly sadness unhappy unhappily sorrow sorrowful sorrowfully gloomy gloomily "
        "miserable miserably depressed dejected dejectedly glum glumly tearful tearfully "
        "mournful mournfully melancholy downcast heartbroken upset frown frowns frowning "
        "frowned pout pouts pouting"
    ),
    FacialExpression.ANGRY: (
        "angry angrily anger furious furiously fury irate irately annoyed annoyance irritated "
        "enraged rage fierce fiercely aggressive aggressively grumpy grumpily scowl scowls "
        "scowling scowled mad"
    ),
    FacialExpression.SURPRISED: (
        "surprised surprise surprisedly shocked shock astonished astonishment amazed "
        "amazement startled stunned gasp gasps gasping gasped"
    ),
    FacialExpression.EXCITED: (
        "excited excitedly excitement enthusiastic enthusiastically enthusiasm eager eagerly "
        "thrilled ecstatic ecstatically energetic energetically exuberant exuberantly hyped"
    ),
    FacialExpression.NEUTRAL: (
        "calm calmly neutral neutrally blank blankly expressionless stoic stoically impassive "
        "impassively emotionless serene serenely composed"
    ),
}
EMOTION_WORDS: dict[str, FacialExpression] = {
    word: expression for expression, names in _EMOTIONS.items() for word in words(names)
}

# Words naming people: word -> (identity key, is plural). Plural subjects make a group of figures.
_PEOPLE_SINGULAR = words(
    "person man woman boy girl kid child guy lady gentleman athlete player dancer fighter "
    "boxer runner singer performer friend figure stranger opponent partner teenager student "
    "teacher worker soldier robot ninja pirate knight clown chef hero superhero explorer "
    "adventurer hiker climber swimmer gymnast skater toddler baby king queen mother father "
    "mom dad grandma grandpa actor musician guest coach referee"
)
_IRREGULAR_PLURALS = {
    "man": "men",
    "woman": "women",
    "person": "people",
    "child": "children",
    "lady": "ladies",
    "baby": "babies",
    "gentleman": "gentlemen",
}
PERSON_NOUNS: dict[str, tuple[str, bool]] = {}
for _noun in _PEOPLE_SINGULAR:
    PERSON_NOUNS[_noun] = (_noun, False)
    PERSON_NOUNS[_IRREGULAR_PLURALS.get(_noun, _noun + "s")] = (_noun, True)
PERSON_NOUNS["someone"] = ("person", False)
PERSON_NOUNS["somebody"] = ("person", False)
PERSON_NOUNS["persons"] = ("person", True)

MALE = frozenset(words("man boy guy gentleman king father dad grandpa"))
FEMALE = frozenset(words("woman girl lady queen mother mom grandma"))
SUBJECT_PRONOUNS = frozenset({"he", "she", "they"})

# Adjectives and noun modifiers that may sit between a determiner and a person noun
# ("a tall man", "a party guest").
PERSON_ADJECTIVES = frozenset(
    words(
        "old young little small big tall short strong tired lonely brave nervous shy proud "
        "stick tiny giant elderly skinny curious sporty lazy busy clumsy cool other second "
        "party office basketball soccer football baseball tennis circus street ballet school "
        "rock pop opera"
    )
)

# Group sizes: "two people", "a couple of kids". Plural subjects without a count make two figures.
COUNT_WORDS: dict[str, int] = {"two": 2, "three": 3, "four": 4, "both": 2, "couple": 2, "pair": 2}
MAX_GROUP = 4

NUMBER_WORDS: dict[str, float] = {
    word: float(i)
    for i, word in enumerate(
        words(
            "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
            "fifteen sixteen seventeen eighteen nineteen twenty"
        )
    )
}
NUMBER_WORDS.update({"thirty": 30.0, "forty": 40.0, "fifty": 50.0, "sixty": 60.0})

# Time units -> seconds.
TIME_UNITS: dict[str, float] = {
    "second": 1.0,
    "seconds": 1.0,
    "sec": 1.0,
    "secs": 1.0,
    "s": 1.0,
    "minute": 60.0,
    "minutes": 60.0,
    "min": 60.0,
    "mins": 60.0,
    "moment": 1.0,
    "moments": 1.0,
    "ms": 0.001,
    "millisecond": 0.001,
    "milliseconds": 0.001,
}
# Vague amounts after "for a": "for a while", "for a bit".
VAGUE_SPANS: dict[str, float] = {"while": 3.0, "bit": 2.0, "beat": 1.0, "little": 2.0}
VAGUE_COUNTS: dict[str, float] = {"few": 3.0, "several": 4.0, "couple": 2.0, "many": 5.0}

# Typical seconds per action; OPEN_ENDED actions go on as long as the clip allows and absorb the
# time the bounded ones leave.
TYPICAL_SECONDS: dict[ActionType, float] = {
    A.IDLE: 2.0,
    A.WALK: 4.0,
    A.RUN: 3.0,
    A.SPRINT: 2.5,
    A.JUMP: 1.5,
    A.CLIMB: 4.0,
    A.CRAWL: 3.0,
    A.SWIM: 4.0,
    A.FLY: 4.0,
    A.WAVE: 2.0,
    A.TALK: 3.0,
    A.SHOUT: 2.0,
    A.WHISPER: 2.5,
    A.SING: 4.0,
    A.POINT: 1.5,
    A.CLAP: 2.0,
    A.LAUGH: 2.0,
    A.CRY: 3.0,
    A.KICK: 1.2,
    A.THROW: 1.2,
    A.CATCH: 1.2,
    A.BAT: 1.5,
    A.PITCH: 1.5,
    A.DRIBBLE: 3.0,
    A.SHOOT: 1.5,
    A.PUNCH: 1.0,
    A.DODGE: 1.0,
    A.FIGHT_STANCE: 2.0,
    A.SIT: 2.5,
    A.STAND: 1.5,
    A.KNEEL: 2.0,
    A.LIE_DOWN: 3.0,
    A.EAT: 3.0,
    A.DRINK: 2.0,
    A.READ: 4.0,
    A.TYPE: 4.0,
    A.LOOK_AROUND: 2.5,
    A.CELEBRATE: 2.5,
    A.DANCE: 4.0,
    A.BOW: 2.0,
    A.STRETCH: 3.0,
    A.PUSH: 2.5,
    A.LIFT: 2.0,
    A.SKIP: 3.0,
    A.THINK: 3.0,
    A.SHRUG: 1.5,
}
OPEN_ENDED = frozenset(
    {
        A.IDLE,
        A.WALK,
        A.RUN,
        A.SPRINT,
        A.CLIMB,
        A.CRAWL,
        A.SWIM,
        A.FLY,
        A.TALK,
        A.SING,
        A.DRIBBLE,
        A.FIGHT_STANCE,
        A.SIT,
        A.KNEEL,
        A.LIE_DOWN,
        A.READ,
        A.TYPE,
        A.DANCE,
        A.SKIP,
    }
)
assert set(TYPICAL_SECONDS) == set(ActionType)
assert set(VERB_PHRASES) == set(ActionType)

# Speaking actions take the words that follow them ('says "hi"', 'whispers a secret').
SPEAKING = frozenset({A.TALK, A.SHOUT, A.WHISPER, A.SING})
# Words that end a spoken object instead of starting one ("talks *to* a friend").
SPEECH_STOPWORDS = frozenset(
    words(
        "to at with about into in on for from toward towards loudly softly quietly aloud out back "
        "again over under across around along while as and then but or before after until he she "
        "by near inside outside through "
        "they it him them who which that's very really"
    )
)
MAX_SPEECH_WORDS = 8
