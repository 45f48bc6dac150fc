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
    A.THROW: ("throw", "toss", "hurl", "fling", "lob", "pass ball", "pass it"),
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
    A.DRIBBLE: ("dribble", "bounce ball", "bounce basketball", "play basketball"),
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
        "throw hands in air",
        "throw arms in air",
        "raise arms",
        "raise both arms",
        "raise arms in victory",
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
    A.HUG: ("hug", "embrace", "cuddle", "=bear hug", "hug it out"),
    A.HANDSHAKE: ("shake hands", "shake hand", "=handshake", "=handshakes", "shake on it"),
    A.HIGH_FIVE: (
        "=high five",
        "=high fives",
        "=high fived",
        "=high fiving",
        "=high fiver",
        "=hi five",
        "=hi fives",
        "=high 5",
        "slap hands",
    ),
}

# More ways people say the same actions (kept apart from the core list above for reading).
MORE_VERB_PHRASES: dict[ActionType, tuple[str, ...]] = {
    A.IDLE: ("stay put", "stand motionless", "remain still", "freeze", "hold still", "stand idle"),
    A.WALK: (
        *words(
            "shuffle waddle totter stagger limp hobble trek meander mosey traipse sneak trudge "
            "stomp trundle tread wade enter exit approach arrive depart leave follow stumble"
        ),
        "make way",
        "walk away",
        "walk off",
        "walk over",
        "walk home",
        "walk in",
        "come home",
        "go home",
        "come in",
        "go for walk",
        "take walk",
        "sneak up",
        "pace around",
    ),
    A.RUN: (
        *words("scurry scamper scuttle lope chase"),
        "run around",
        "run over",
        "run home",
        "go for run",
        "leg it",
        "hurry off",
        "jog along",
    ),
    A.SPRINT: (*words("hurtle"), "race off", "make dash", "run for life", "dash off"),
    A.JUMP: (
        *words("bound spring hurdle cartwheel somersault backflip handspring pogo"),
        "do flip",
        "do cartwheel",
        "do somersault",
        "do backflip",
        "jump around",
    ),
    A.CLIMB: ("scale", "shin up", "climb over", "go up ladder", "climb down"),
    A.CRAWL: (*words("slither wriggle squirm"), "inch along", "go on all fours", "crawl along"),
    A.SWIM: (
        *words("dive splash snorkel backstroke breaststroke"),
        "take dip",
        "do backstroke",
        "go for swim",
        "go swimming",
    ),
    A.FLY: ("levitate", "take to skies", "flap wings", "fly away", "fly off"),
    A.WAVE: ("wave at", "wave bye", "wave goodbye to", "signal goodbye", "flag down"),
    A.TALK: (
        *words("ramble lecture gossip babble natter preach narrate debate chatter"),
        "chat away",
        "speak up",
        "make call",
        "make phone call",
        "give lecture",
        "give presentation",
    ),
    A.SHOUT: (
        *words("screech squeal bark howl argue quarrel bicker scold boo"),
        "call for help",
        "cry for help",
        "raise voice",
    ),
    A.WHISPER: (
        "hiss",
        "whisper in ear",
        "speak in hushed voice",
        "say quietly",
        "speak under breath",
    ),
    A.SING: (
        *words("warble trill rap carol"),
        "sing along",
        "do karaoke",
        "perform song",
        "sing aria",
        "perform aria",
    ),
    A.POINT: ("aim finger", "point out", "point to", "motion toward", "motion towards"),
    A.CLAP: (
        "give ovation",
        "give standing ovation",
        "clap along",
        "put hands together",
        "slow clap",
    ),
    A.LAUGH: (
        *words("guffaw titter snort"),
        "howl with laughter",
        "roar with laughter",
        "burst into laughter",
        "double over laughing",
        "laugh out loud",
    ),
    A.CRY: (
        *words("blubber whimper sniffle"),
        "shed tears",
        "shed tear",
        "break down crying",
        "break down in tears",
    ),
    A.KICK: (*words("boot volley dropkick"), "kick off", "score goal", "kick ball"),
    A.THROW: (
        *words("chuck launch sling pelt bowl juggle"),
        "skim stone",
        "throw ball",
        "skip stone",
    ),
    A.CATCH: (*words("snatch field receive"), "catch ball", "catch it"),
    A.BAT: (
        *words("smack putt"),
        "tee off",
        "serve ball",
        "play tennis",
        "play golf",
        "play cricket",
        "swing club",
        "swing racket",
        "hit forehand",
        "hit backhand",
    ),
    A.PITCH: ("throw fastball", "throw curveball", "pitch ball", "throw strike"),
    A.DRIBBLE: ("dribble ball", "dribble basketball"),
    A.SHOOT: (
        "sink basket",
        "sink shot",
        "sink three pointer",
        "shoot ball",
        "make layup",
        "do layup",
        "=layup",
        "=lay up",
        "=free throw",
        "=three pointer",
        "=slam dunk",
    ),
    A.PUNCH: (
        *words("pummel sock slug wallop clobber"),
        "throw hook",
        "throw left hook",
        "throw right hook",
        "beat up",
        "hit bag",
    ),
    A.DODGE: ("weave", "bob and weave", "duck out of way", "lean away", "dart aside", "dive aside"),
    A.FIGHT_STANCE: (
        "put dukes up",
        "raise guard",
        "put guard up",
        "get into stance",
        "trade blows",
        "exchange blows",
        "come to blows",
        "trade punches",
        "exchange punches",
    ),
    A.SIT: (
        "settle",
        "plop",
        "slump",
        "sit back",
        "settle down",
        "sink into",
        "have seat",
    ),
    A.STAND: (
        "get back on feet",
        "rise up",
        "stand back up",
        "pick self up",
        "get out of bed",
        "wake up",
    ),
    A.KNEEL: (
        "hide",
        "drop to knee",
        "drop to one knee",
        "genuflect",
        "hunker down",
        "bend knee",
        "get down on knees",
    ),
    A.LIE_DOWN: (
        *words("sprawl snooze lounge faint slip"),
        "curl up",
        "nod off",
        "drift off",
        "lie back",
        "lay back",
        "pass out",
        "trip and fall",
        "trip over",
    ),
    A.EAT: (
        *words("gobble feast graze lick swallow"),
        "wolf down",
        "scarf down",
        "chow down",
        "eat up",
        "have snack",
        "have supper",
    ),
    A.DRINK: (*words("chug guzzle swig"), "sip on", "have beer", "have soda", "down drink"),
    A.READ: (*words("skim browse peruse"), "pore over", "leaf through", "read through"),
    A.TYPE: (
        *words("code program text email"),
        "tap at keyboard",
        "tap away",
        "type away",
        "work at computer",
        "send email",
    ),
    A.LOOK_AROUND: (
        *words("gaze stare squint gawk gape inspect examine explore"),
        "look out",
        "look up",
        "check out",
        "look at",
    ),
    A.CELEBRATE: (*words("whoop party"), "go wild", "jump for joy", "pump fists", "=fist pump"),
    A.DANCE: (
        *words("tango salsa jive jig rumba shimmy disco pirouette"),
        "bust move",
        "do twist",
        "cha cha",
    ),
    A.BOW: ("take curtain call", "curtsey", "bow head", "nod", "nod head"),
    A.STRETCH: (
        *words("exercise"),
        "touch toes",
        "loosen up",
        "do stretches",
        "work out",
        "do calisthenics",
        "do pushups",
        "do push ups",
        "do situps",
        "do sit ups",
    ),
    A.PUSH: ("nudge", "ram", "propel", "press against", "push open", "heave against"),
    A.LIFT: (*words("deadlift lug haul bring"), "bench press", "hold up", "lift up"),
    A.SKIP: ("caper", "skip along", "skip around"),
    A.THINK: (
        *words("mull deliberate brood pray concentrate focus plan imagine remember recall"),
        "mull over",
        "rack brain",
        "figure out",
        "puzzle over",
        "weigh options",
    ),
    A.SHRUG: ("shrug off",),
    A.HUG: (
        *words("squeeze snuggle kiss"),
        "hold tight",
        "wrap arms around",
        "give squeeze",
        "hold close",
    ),
    A.HANDSHAKE: ("clasp hands", "shake on deal", "greet with handshake"),
    A.HIGH_FIVE: ("slap palms", "slap five", "give five", "=fist bump", "bump fists"),
}
# Everyday idioms and set phrases, a few per action (determiners and possessives inside them are
# skipped when matching: "hit sack" reads "hits the sack", "cry eyes out" "cries her eyes out").
IDIOMS: dict[ActionType, tuple[str, ...]] = {
    A.IDLE: ("kill time", "bide time", "stand by", "twiddle thumbs", "stand guard"),
    A.WALK: (
        "hit road",
        "hit trail",
        "stretch legs",
        "take stroll",
        "go for stroll",
        "take hike",
        "head home",
        "set off on foot",
        "walk dog",
        "make rounds",
    ),
    A.RUN: ("break into run", "break into jog", "go for jog", "pick up pace", "run for it"),
    A.SPRINT: ("run like wind", "make break for it", "go full tilt", "hotfoot it"),
    A.JUMP: ("take leap", "jump in air"),
    A.SWIM: ("hit water", "hit pool", "take plunge", "go for swim", "take swim", "swim laps"),
    A.FLY: ("take to air", "take to skies", "take wing"),
    A.WAVE: ("wave goodbye", "wave hello", "flag down", "wave down", "hail cab", "hail taxi"),
    A.TALK: (
        "have chat",
        "shoot breeze",
        "chew fat",
        "make small talk",
        "strike up conversation",
        "exchange words",
        "talk shop",
        "spin yarn",
    ),
    A.SHOUT: ("raise voice", "blow top", "fly off handle", "hit roof", "scream head off"),
    A.WHISPER: ("speak under breath", "mutter under breath", "lower voice"),
    A.SING: ("burst into song", "break into song", "sing heart out", "carry tune"),
    A.POINT: ("point way", "show way", "point out"),
    A.CLAP: ("give hand", "put hands together"),
    A.LAUGH: ("split sides", "laugh head off", "roar with laughter", "have laugh", "in stitches"),
    A.CRY: ("cry eyes out", "bawl eyes out", "shed tear", "shed tears", "turn on waterworks"),
    A.KICK: ("take penalty", "take free kick", "boot ball", "punt ball"),
    A.THROW: ("let fly", "toss ball", "lob ball"),
    A.CATCH: ("make catch", "field ball", "snag ball"),
    A.BAT: ("take swing", "step up to plate", "swing for fences", "hit homer"),
    A.PUNCH: ("throw punch", "land punch", "land blow", "take swing at"),
    A.DODGE: ("duck and cover", "get out of way", "jump out of way", "step aside", "sidestep"),
    A.FIGHT_STANCE: ("square up", "put up fists", "raise fists", "stand ground"),
    A.SIT: ("take load off", "put feet up", "grab seat", "have seat", "sink into", "plonk down"),
    A.STAND: ("get to feet", "rise to feet", "spring to feet", "jump to feet", "pick self up"),
    A.KNEEL: ("take knee", "bend knee", "drop to knees", "hunker down", "get down on one knee"),
    A.LIE_DOWN: (
        "hit sack",
        "hit hay",
        "hit pillow",
        "catch z's",
        "get shut eye",
        "get shuteye",
        "crash out",
        "conk out",
        "drift off",
        "drop off to sleep",
        "hit deck",
        "lie flat",
    ),
    A.EAT: ("grab bite", "have bite", "dig into", "tuck into", "pig out", "polish off"),
    A.DRINK: ("grab drink", "knock back", "down pint", "wet whistle", "take sip", "take swig"),
    A.READ: (
        "hit books",
        "bury nose in book",
        "leaf through",
        "thumb through",
        "pore over",
        "skim through",
    ),
    A.TYPE: ("tap away at keyboard", "bang away at keyboard", "hammer away at keyboard"),
    A.LOOK_AROUND: (
        "keep eye out",
        "keep lookout",
        "keep eyes peeled",
        "keep watch",
        "take look around",
        "have look around",
        "scan horizon",
        "search high and low",
    ),
    A.CELEBRATE: ("go nuts", "go crazy", "raise roof", "pump fist", "whoop"),
    A.DANCE: ("hit dance floor", "cut rug", "throw shapes", "strut stuff", "boogie"),
    A.BOW: ("take bow", "bow head", "tip hat"),
    A.STRETCH: ("limber up", "loosen up", "touch toes", "warm up"),
    A.PUSH: ("give push", "give shove", "push against"),
    A.LIFT: ("pump iron", "lift weights", "heave", "haul", "hoist", "heft", "lug"),
    A.SKIP: ("skip rope", "jump rope"),
    A.THINK: ("rack brains", "put thinking cap on", "chew over", "think over", "weigh up"),
    A.SHRUG: ("shrug shoulders", "give shrug"),
    A.HUG: ("throw arms around", "wrap in arms", "bear hug"),
    A.HANDSHAKE: ("press flesh", "shake on it"),
    A.HIGH_FIVE: ("slap hands",),
}
for _table in (MORE_VERB_PHRASES, IDIOMS):
    for _action, _phrases in _table.items():
        VERB_PHRASES[_action] = VERB_PHRASES[_action] + tuple(_phrases)

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
    "spring": (None, None, "sprang"),
    "sling": (None, None, "slung"),
    "sink": (None, None, "sank"),
    "tear": (None, None, "tore"),
    "shed": (None, "shedding", "shed"),
    "lead": (None, None, "led"),
    "bring": (None, None, "brought"),
    "hold": (None, None, "held"),
    "wake": (None, None, "woke"),
    "dive": (None, None, "dove"),
    "slip": (None, "slipping", "slipped"),
    "plop": (None, "plopping", "plopped"),
    "chat": (None, "chatting", "chatted"),
    "tap": (None, "tapping", "tapped"),
    "slap": (None, "slapping", "slapped"),
    "drop": (None, "dropping", "dropped"),
    "nod": (None, "nodding", "nodded"),
    "ram": (None, "ramming", "rammed"),
    "plan": (None, "planning", "planned"),
    "program": (None, "programming", "programmed"),
    "text": ("texts", None, None),
    "tango": ("tangos", None, None),
    "hide": (None, None, "hid"),
    "leave": (None, None, "leave"),  # its past, "left", is a direction
    "disco": ("discos", None, None),
    "sneak": (None, None, "snuck"),
    "bowl": ("bowls", None, None),
    "let": (None, "letting", "let"),
    "swig": (None, "swigging", "swigged"),
    "jig": (None, "jigging", "jigged"),
    "rap": (None, "rapping", "rapped"),
    "flag": (None, "flagging", "flagged"),
    "putt": (None, "putting", "putted"),
    "pelt": (None, None, None),
    "squeeze": (None, None, None),
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
# More words of feeling, mapped to the face that shows them best (tired and lonely look sad;
# scared, nervous and confused look surprised; bored and relaxed look neutral).
_MORE_EMOTIONS: dict[FacialExpression, str] = {
    FacialExpression.HAPPY: (
        "cheery cheerily jovial jovially blissful blissfully elated overjoyed jubilant "
        "jubilantly gleeful contented chirpy upbeat lighthearted merry amused amusedly "
        "grateful proud proudly hopeful hopefully confident confidently brave bravely silly "
        "goofy lovestruck romantic friendly warmly"
    ),
    FacialExpression.SAD: (
        "tired tiredly exhausted weary wearily sleepy sleepily drowsy fatigued lonely "
        "sorrowful grieving grief heartbroken despondent despairing despair forlorn "
        "disappointed disappointedly hurt sulky sulking sullen moody mopey hopeless "
        "hopelessly defeated ashamed guilty regretful embarrassed shy shyly sick ill sore "
        "solemn solemnly grim grimly homesick"
    ),
    FacialExpression.SURPRISED: (
        "nervous nervously anxious anxiously worried worriedly scared afraid frightened "
        "terrified fearful fearfully fear panicked panicky panic alarmed horrified horror "
        "bewildered confused confusedly puzzled baffled perplexed dumbfounded flabbergasted "
        "awestruck amazed uneasy jittery jumpy tense startled stunned speechless disbelief "
        "spooked petrified curious curiously suspicious suspiciously wary warily shaken "
        "shaky trembling"
    ),
    FacialExpression.ANGRY: (
        "livid fuming outraged irritated irritably frustrated frustration grouchy cranky "
        "hostile resentful bitter indignant indignantly seething crossly vexed "
        "menacing menacingly stern sternly impatient impatiently jealous jealously "
        "determined determinedly"
    ),
    FacialExpression.EXCITED: (
        "giddy pumped psyched stoked ecstatic buzzing animated animatedly eager "
        "elatedly delirious exhilarated breathless keen"
    ),
    FacialExpression.NEUTRAL: (
        "relaxed peaceful peacefully nonchalant nonchalantly indifferent indifferently "
        "unfazed bored boredly deadpan casual casually "
        "unbothered placid placidly serious seriously focused thoughtful thoughtfully"
    ),
}
# Thesaurus families of the six faces: adjectives, participles and nouns of feeling, written as
# general English synonym sets (not taken from any prompt); -ly adverbs of the adjectives are
# derived below ("morose" -> "morosely").
_FEELING_FAMILIES: dict[FacialExpression, str] = {
    FacialExpression.HAPPY: (
        "radiant glowing smiley beaming grinning chipper perky bubbly buoyant "
        "carefree untroubled gratified satisfied thankful tickled charmed enchanted "
        "heartened uplifted cheered contented lighthearted euphoric "
        "rapturous blithe genial "
        "jocular jocund mirthful sanguine optimistic pleasant pleased smug triumphant "
        "victorious relieved loving affectionate adoring "
        "merriment mirth cheerfulness gladness delight pleasure bliss "
        "contentment elation glee gaiety jollity amusement laughter rapture felicity "
        "satisfaction pride"
    ),
    FacialExpression.SAD: (
        "crestfallen downhearted disheartened dispirited discouraged despondent woeful "
        "woebegone doleful dolorous morose mournful rueful wistful pensive melancholic "
        "downbeat brokenhearted inconsolable "
        "disconsolate griefstricken distraught desolate bereft bereaved "
        "devastated hurt wounded pained anguished tormented troubled "
        "distressed sorry regretful remorseful contrite penitent apologetic sheepish "
        "humiliated mortified weepy teary lachrymose sniffly dismal dreary "
        "cheerless joyless sombre somber lonesome rejected unloved "
        "homesick nostalgic sluggish lethargic listless "
        "pooped bushed knackered jaded "
        "heartache heartbreak sorrow grief woe misery melancholy gloom despair despondency "
        "dejection anguish unhappiness sadness disappointment regret remorse loneliness "
        "tiredness weariness exhaustion fatigue"
    ),
    FacialExpression.SURPRISED: (
        "aghast appalled horrorstruck thunderstruck dumbstruck awestruck "
        "staggered astounded startled stupefied stunned floored gobsmacked agog "
        "incredulous disbelieving nonplussed mystified "
        "befuddled bemused confounded flummoxed stumped disoriented dazed "
        "dazzled overwhelmed flustered rattled unnerved unsettled disturbed distressed "
        "apprehensive fretful fretting frightful frightened fearful timid skittish edgy "
        "tense twitchy antsy restless agitated alarmed panicky "
        "petrified scared shocked awed amazed wonderstruck "
        "surprise astonishment amazement awe shock disbelief bewilderment "
        "confusion fright terror dread anxiety worry nervousness unease dismay "
        "trepidation suspense"
    ),
    FacialExpression.ANGRY: (
        "incensed infuriated enraged irate furious fuming seething livid raging wrathful "
        "irked peeved miffed nettled riled exasperated aggravated vexed galled affronted "
        "offended insulted indignant resentful spiteful vindictive vengeful malicious "
        "hateful bitter sullen surly sulky petulant cantankerous crabby crotchety "
        "curmudgeonly testy tetchy touchy snappy snappish "
        "hotheaded "
        "belligerent combative pugnacious truculent confrontational quarrelsome "
        "argumentative defiant rebellious stroppy ratty shirty huffy grumbling "
        "disgruntled displeased disgusted grouchy grumpy mad "
        "annoyed irritated frustrated impatient threatening murderous savage vicious "
        "ferocious anger rage fury wrath ire outrage indignation resentment "
        "annoyance irritation exasperation frustration hostility hatred spite "
        "disgust contempt scorn huff"
    ),
    FacialExpression.EXCITED: (
        "overjoyed elated exhilarated electrified enthused enthusiastic "
        "hyper hyperactive raring "
        "bouncy frisky lively spirited vivacious zestful zealous ardent "
        "passionate fervent avid jubilant exultant triumphant "
        "rapt breathless expectant anticipating impatient agog "
        "thrilled stoked psyched pumped buzzing hyped giddy ecstatic delirious "
        "excitement exhilaration enthusiasm eagerness anticipation expectation "
        "exuberance elation euphoria jubilation exultation zeal zest thrill frenzy "
        "fervour fervor passion"
    ),
    FacialExpression.NEUTRAL: (
        "unruffled unflustered unperturbed untroubled unmoved unemotional unexcited "
        "unimpressed undisturbed unworried "
        "equable imperturbable phlegmatic easygoing "
        "tranquil restful poised steadfast "
        "stony businesslike aloof "
        "disinterested uninterested apathetic listless "
        "dispassionate neutral chilled sedate staid stolid nonplussed "
        "tolerant "
        "calmness composure serenity tranquility tranquillity poise equanimity "
        "indifference boredom"
    ),
}
EMOTION_WORDS: dict[str, FacialExpression] = {
    word: expression for expression, names in _EMOTIONS.items() for word in words(names)
}
for _expression, _names in _MORE_EMOTIONS.items():
    for _word in words(_names):
        EMOTION_WORDS.setdefault(_word, _expression)
for _expression, _names in _FEELING_FAMILIES.items():
    for _word in words(_names):
        EMOTION_WORDS.setdefault(_word, _expression)


def _adverb(adjective: str) -> str | None:
    """'morose' -> 'morosely', 'testy' -> 'testily', 'incredulous' -> 'incredulously'."""
    if "-" in adjective or len(adjective) < 4 or adjective.endswith(("ly", "ness", "ment")):
        return None
    if adjective.endswith("y") and adjective[-2] not in _VOWELS:
        return adjective[:-1] + "ily"
    if adjective.endswith("le") and adjective[-3] not in _VOWELS:
        return adjective[:-1] + "y"
    if adjective.endswith("ic"):
        return adjective + "ally"
    if adjective.endswith(("ed", "ous", "ful", "ent", "ant", "ive", "ish", "less", "al", "ing")):
        return adjective + "ly"
    return None


for _word, _expression in list(EMOTION_WORDS.items()):
    _form = _adverb(_word)
    if _form is not None:
        EMOTION_WORDS.setdefault(_form, _expression)

# Words naming people: word -> (identity key, is plural). Plural subjects make a group of figures.
_PEOPLE_SINGULAR = words(
    "person man woman boy girl kid child guy lady gentleman athlete player dancer fighter "
    "boxer runner singer performer friend figure stranger opponent partner teenager student "
    "teacher worker soldier robot ninja pirate knight clown chef hero superhero explorer "
    "adventurer hiker climber swimmer gymnast skater toddler baby king queen mother father "
    "mom dad grandma grandpa actor musician guest coach referee "
    # family and friends
    "grandmother grandfather granny grandson granddaughter grandchild brother sister son "
    "daughter husband wife boyfriend girlfriend uncle aunt cousin nephew niece twin sibling "
    "mum mummy mommy daddy papa mama neighbour neighbor buddy pal mate classmate teammate "
    "roommate colleague coworker boss employee bride groom fiance fiancee "
    # ages
    "teen adult infant youngster lad lass gal dude bloke fella youth senior elder kiddo "
    # work and roles
    "firefighter fireman firewoman policeman policewoman officer cop detective nurse doctor "
    "surgeon dentist farmer waiter waitress cashier clerk programmer coder developer engineer "
    "scientist professor lawyer judge pilot sailor captain driver mechanic plumber "
    "electrician carpenter builder janitor gardener baker butcher cook barber barista "
    "bartender librarian mailman postman courier astronaut cowboy cowgirl farmer fisherman "
    "photographer reporter journalist writer author poet artist painter sculptor designer "
    "businessman businesswoman salesman manager secretary receptionist customer tourist "
    "traveller traveler passenger shopper visitor spectator fan host hostess priest monk "
    "nun wizard witch princess prince emperor warrior samurai gladiator thief robber "
    "burglar spy villain monster zombie vampire ghost alien mime magician juggler acrobat "
    "comedian rapper drummer guitarist pianist violinist conductor dj gamer cheerleader "
    "mascot umpire goalie goalkeeper quarterback pitcher batter striker defender "
    "sprinter jogger cyclist surfer skier snowboarder skateboarder diver wrestler karateka "
    "ballerina lifeguard ranger soldier veteran champion winner loser contestant "
    "competitor rival enemy bully victim hostage prisoner guard servant butler maid nanny "
    "babysitter tutor pupil principal instructor trainer athlete yogi client patient "
    "partygoer dancer hunter shepherd sheriff deputy ranger sergeant general chief "
    "teammate opponent neighbor sailor swimmer"
)
_IRREGULAR_PLURALS = {
    "person": "people",
    "child": "children",
    "grandchild": "grandchildren",
    "fiance": "fiances",
    "fiancee": "fiancees",
}


def _plural(noun: str) -> str:
    if noun in _IRREGULAR_PLURALS:
        return _IRREGULAR_PLURALS[noun]
    if noun.endswith("man") and noun not in ("shaman",):
        return noun[:-3] + "men"
    if noun.endswith("y") and noun[-2] not in "aeiou":
        return noun[:-1] + "ies"
    if noun.endswith(("s", "sh", "ch", "x", "z")):
        return noun + "es"
    return noun + "s"


PERSON_NOUNS: dict[str, tuple[str, bool]] = {}
for _noun in _PEOPLE_SINGULAR:
    PERSON_NOUNS[_noun] = (_noun, False)
    PERSON_NOUNS.setdefault(_plural(_noun), (_noun, True))
PERSON_NOUNS["someone"] = ("person", False)
PERSON_NOUNS["somebody"] = ("person", False)
PERSON_NOUNS["persons"] = ("person", True)
PERSON_NOUNS["couple"] = ("person", True)  # "a couple dances"; "a couple of ..." is a count

PERSON_NOUNS["folks"] = ("person", True)
PERSON_NOUNS["everyone"] = ("person", True)
PERSON_NOUNS["everybody"] = ("person", True)

MALE = frozenset(
    words(
        "man boy guy gentleman king father dad grandpa grandfather grandson brother son husband "
        "boyfriend uncle nephew daddy papa lad dude bloke fella fireman policeman businessman "
        "salesman waiter mailman postman fisherman cowboy prince emperor monk priest groom fiance "
        "butler"
    )
)
FEMALE = frozenset(
    words(
        "woman girl lady queen mother mom grandma grandmother granny granddaughter sister "
        "daughter wife girlfriend aunt niece mum mummy mommy mama lass gal firewoman policewoman "
        "businesswoman waitress hostess cowgirl princess nun bride fiancee ballerina witch maid "
        "nanny"
    )
)
SUBJECT_PRONOUNS = frozenset({"he", "she", "they"})
# Pronouns as objects: "hugs her", "gives him a high five", "throws it to them".
OBJECT_PRONOUNS: dict[str, str] = {"him": "he", "her": "she", "them": "they"}
# "each other", "one another", "together": two or more people doing something to one another.
RECIPROCAL = (
    ("each", "other"),
    ("each", "other's"),
    ("one", "another"),
    ("one", "another's"),
    ("together",),
    ("with", "each", "other"),
)

# Adjectives and noun modifiers that may sit between a determiner and a person noun
# ("a tall man", "a party guest"); none says anything about the face (words of feeling there are
# emotions, or read by meaning).
PERSON_ADJECTIVES = frozenset(
    words(
        "old young little small big tall short strong "
        "stick tiny giant elderly skinny sporty clumsy cool other second "
        "party office basketball soccer football baseball tennis circus street ballet school "
        "rock pop opera"
    )
)

# Light verbs: with an action noun after a determiner they name that action ("does a dance",
# "gives her a hug", "takes a quick jog", "lets out a scream").
LIGHT_VERBS = frozenset(
    w
    for base in words(
        "do give take have make perform try attempt start begin practise practice execute share "
        "exchange bust pull let break get go throw"
    )
    for w in (base, *conjugate(base))
)
# Adjectives that may sit between a determiner and a noun use of a verb ("a little dance").
NOUN_MODIFIERS = frozenset(
    words(
        "little quick short long big small slow fast brief good nice great huge tiny gentle warm "
        "friendly deep low high final last first second third few quiet loud proper real silly "
        "funny wild crazy graceful clumsy careful tight firm warm long lovely bear brisk leisurely "
        "sudden hard soft light heavy strong weak massive mighty"
    )
)
# A verb word right before one of these is part of a name ("point guard", "dance floor",
# "swimming pool", "walking stick"), not an action.
COMPOUND_HEADS = frozenset(
    words(
        "guard guards floor floors pool pools class classes lesson lessons shoes shoe boots ring "
        "track stick sticks team teams partner partners suit suits room hall lane bag bags mat "
        "mats board boards rope ropes studio teacher instructor coach trunks gear machine "
        "contest competition match game games practice session sessions move moves style "
        "party parties trip routine step steps music song songs book books"
    )
)
# Small movements of the face, hands and legs that a stick figure does not show: recognised, so
# they are neither guessed as an action nor reported as ignored, and they change nothing ("takes a
# seat and *crosses her legs*", "lies down and *closes his eyes*").
DETAIL_PHRASES = (
    "cross legs",
    "uncross legs",
    "cross arms",
    "fold arms",
    "fold hands",
    "close eyes",
    "shut eyes",
    "open eyes",
    "rub eyes",
    "blink",
    "wink",
    "raise eyebrow",
    "raise eyebrows",
    "roll eyes",
    "purse lips",
    "lick lips",
    "bite lip",
    "clench jaw",
    "clench teeth",
    "grit teeth",
    "hold breath",
    "take deep breath",
    "take breath",
    "tilt head",
    "cock head",
    "shake head",
    "crack knuckles",
    "tap foot",
    "tap fingers",
    "drum fingers",
    "twiddle thumbs",
    "put hands in pockets",
)
# How someone moves, said without a verb of its own: with a verb the story engine does not know
# ("the baby moves *on all fours*", "bursts out of the blocks *at full speed*", "twists *out of the
# way*") the phrase names the action; with one it knows ("crawls on all fours") it adds nothing.
MANNER_ACTIONS: dict[ActionType, tuple[str, ...]] = {
    A.CRAWL: ("on all fours", "on hands and knees", "on belly", "on stomach"),
    A.WALK: ("on foot", "at walking pace", "at a walk", "at a stroll"),
    A.RUN: ("at a run", "at a jog", "at a trot", "at running pace", "at a jogging pace"),
    A.SPRINT: (
        "at full speed",
        "at top speed",
        "at full tilt",
        "full tilt",
        "flat out",
        "at breakneck speed",
        "at full pelt",
        "at a sprint",
        "at a gallop",
        "like the wind",
        "like lightning",
    ),
    A.DODGE: ("out of way", "out of path", "out of harm's way", "out of reach"),
    # An outburst: "erupts in jubilation", "dissolves into giggles", "shakes with laughter".
    A.LAUGH: (
        *(f"{p} {n}" for p in ("in", "into", "with") for n in words("laughter giggles mirth")),
        "into hysterics",
        "in hysterics",
    ),
    A.CRY: (*(f"{p} {n}" for p in ("in", "into", "with") for n in words("tears sobs")),),
    A.CELEBRATE: (
        *(f"{p} {n}" for p in ("in", "into") for n in words("jubilation celebration cheers")),
        "in triumph",
    ),
    A.CLAP: ("in applause", "into applause"),
    A.SING: ("into song", "in song"),
    A.SHOUT: (*(f"{p} {n}" for p in ("in", "into") for n in words("screams shrieks shouts")),),
}
# Things one goes up by climbing: a generic way of moving ("makes her way up") with "up" and one
# of these is a climb.
CLIMBABLE = frozenset(
    words(
        "wall walls cliff cliffs face rock rocks ladder rope tree trees mountain mountainside "
        "mast pole crag peak summit trellis drainpipe fence stairs staircase steps ridge slope "
        "hillside bank tower rigging scaffolding"
    )
)
# Manner adverbs the story engine knows say nothing about the face.
MANNER_WORDS = frozenset(
    words(
        "slowly quickly fast slow quietly loudly softly gently carefully suddenly deeply politely "
        "helplessly wildly hard high low forward forwards backward backwards ahead along around "
        "away back aloud briskly rapidly swiftly steadily lightly firmly tightly warmly briefly "
        "immediately quietly noisily gracefully clumsily awkwardly silently repeatedly finally "
        "again together still out up down over off on"
    )
)
# Repetition: "twice", "three times", "again", "once more".
ONCE_WORDS: dict[str, int] = {"once": 1, "twice": 2, "thrice": 3}
REPEAT_PHRASES: dict[tuple[str, ...], tuple[int, bool]] = {  # words -> (times, extra)
    ("again", "and", "again"): (3, False),
    ("over", "and", "over", "again"): (3, False),
    ("over", "and", "over"): (3, False),
    ("time", "after", "time"): (3, False),
    ("repeatedly",): (3, False),
    ("once", "again"): (1, True),
    ("once", "more"): (1, True),
    ("one", "more", "time"): (1, True),
    ("a", "second", "time"): (1, True),
    ("again",): (1, True),
}
TIMES_WORDS = frozenset({"times", "time"})
# Verbs that repeat the action before them ("does it again", "repeats").
REPEAT_VERBS = frozenset({"repeat", "repeats", "repeated", "repeating"})
MAX_REPEAT = 8

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
    A.HUG: 3.0,
    A.HANDSHAKE: 2.5,
    A.HIGH_FIVE: 1.6,
}

# Seconds one repetition takes, for counted actions ("jumps twice", "punches three times"): about
# one cycle of the action's motion. Actions not listed take their typical time per repetition.
ONCE_SECONDS: dict[ActionType, float] = {
    A.JUMP: 1.5,
    A.KICK: 1.8,
    A.THROW: 2.0,
    A.CATCH: 2.2,
    A.BAT: 2.4,
    A.PITCH: 2.6,
    A.SHOOT: 2.0,
    A.PUNCH: 0.5,
    A.DODGE: 1.0,
    A.CLAP: 0.5,
    A.BOW: 3.2,
    A.SHRUG: 1.5,
    A.EAT: 1.8,
    A.DRINK: 3.6,
    A.LIFT: 2.6,
    A.WAVE: 1.2,
    A.HIGH_FIVE: 1.6,
    A.HANDSHAKE: 2.0,
    A.HUG: 2.5,
    A.STAND: 1.5,
    A.SIT: 2.5,
    A.KNEEL: 2.0,
    A.LIE_DOWN: 3.0,
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
