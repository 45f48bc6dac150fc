"""Token roles: which tokens are actions, connectors, emotions, people, hints or directions.

`read_tokens` walks the tokens once and returns what it found in text order; `parse.py` then
works out order, simultaneity, timing and who does what.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from functools import cache

from stickgen.schema import ACTION_SPECS, ActionType, FacialExpression, Layer
from stickgen.story.counts import Count, match_count
from stickgen.story.lexer import Token
from stickgen.story.matcher import PhraseIndex, VerbMatch, verb_index
from stickgen.story.props import Support, find_support, furniture
from stickgen.story.timing import Hint, match_hint
from stickgen.story.vocabulary import (
    CLIMBABLE,
    COMPOUND_HEADS,
    COUNT_WORDS,
    DETAIL_PHRASES,
    DETERMINERS,
    EMOTION_WORDS,
    INTENSIFIERS,
    LIGHT_VERBS,
    LOOK_FORMS,
    MANNER_ACTIONS,
    MANNER_WORDS,
    MAX_GROUP,
    NEGATORS,
    NOUN_MODIFIERS,
    NUMBER_WORDS,
    OBJECT_PRONOUNS,
    PERSON_ADJECTIVES,
    PERSON_NOUNS,
    RECIPROCAL,
    SUBJECT_PRONOUNS,
    conjugate,
    phrase_forms,
    words,
)

A = ActionType


class Link(Enum):
    """What a connector says about the clause it opens."""

    SEQ = "seq"  # then, afterwards, finally, ". " ...
    AND = "and"  # and, plus, also
    AFTER = "after"  # after X (X happens first)
    BEFORE = "before"  # before X (X happens later)
    WHILE = "while"  # while X, as X (at the same time as the clause it belongs to)
    SIMUL = "simul"  # meanwhile, at the same time (with the previous clause)


_CONNECTORS: dict[tuple[str, ...], Link] = {
    **{
        (w,): Link.SEQ
        for w in words(
            "then afterwards afterward next later finally eventually subsequently lastly "
            "thereafter first firstly initially until till but"
        )
    },
    ("after", "that"): Link.SEQ,
    ("after", "this"): Link.SEQ,
    ("after", "which"): Link.SEQ,
    ("after", "a", "while"): Link.SEQ,
    ("followed", "by"): Link.SEQ,
    ("at", "last"): Link.SEQ,
    ("at", "first"): Link.SEQ,
    ("in", "the", "end"): Link.SEQ,
    ("when", "done"): Link.SEQ,
    ("once", "done"): Link.SEQ,
    ("and",): Link.AND,
    ("&",): Link.AND,
    ("plus",): Link.AND,
    ("also",): Link.AND,
    ("as", "well", "as"): Link.AND,
    ("after",): Link.AFTER,
    ("as", "soon", "as"): Link.AFTER,
    ("right", "after"): Link.AFTER,
    ("before",): Link.BEFORE,
    ("right", "before"): Link.BEFORE,
    ("while",): Link.WHILE,
    ("whilst",): Link.WHILE,
    ("as",): Link.WHILE,
    ("during",): Link.WHILE,
    ("meanwhile",): Link.SIMUL,
    ("simultaneously",): Link.SIMUL,
    ("at", "the", "same", "time"): Link.SIMUL,
    ("in", "the", "meantime"): Link.SIMUL,
}
_STRONG_PUNCT = frozenset(".;!?")
BODY_PARTS = frozenset(
    words(
        "hand hands arm arms leg legs foot feet knee knees fist fists shoulder shoulders eye eyes "
        "head face hair mouth lips cheek cheeks brow finger fingers toe toes palm palms"
    )
)
_DIRECTION_LEADS = frozenset(
    words(
        "the turn turns turned turning go goes went going head heads headed heading face faces "
        "facing faced"
    )
)
_DIRECTIONS = {
    "left": -1,
    "right": 1,
    "leftward": -1,
    "leftwards": -1,
    "rightward": 1,
    "rightwards": 1,
}
_RELATIVE = frozenset({"who", "that", "which"})


@dataclass
class Event:
    """One action the prompt names, at tokens [start, end)."""

    action: ActionType
    start: int
    end: int
    expression: FacialExpression | None = None
    hint: float | None = None
    speech: str | None = None
    group: tuple[str, ...] = ()  # who does it (member keys)
    count: int = 1  # repetitions ("twice")
    support: float = 0.0  # seat or bed height, metres
    prop: str | None = None  # the seat or bed, as named
    phrase: str = ""  # the base phrase that named it ("fight", "play catch")
    score: float | None = None  # cosine similarity when guessed by meaning
    partner: tuple[str, ...] = ()  # who it is done with or to (member keys)
    reply: ActionType | None = None  # what the partner does meanwhile, if anything
    reply_delay: float = 0.0  # seconds the partner's reply waits (a catch waits for the throw)
    delay: float = 0.0  # seconds this action waits for its cue (a reply)
    exchange: bool = False  # the two take turns: punch and dodge, then the other way round
    once: bool = False  # takes one repetition's time (a throw and its catch)
    derived: bool = False  # added by the parser (a repetition, a partner's part)


@dataclass
class Mention:
    """A person named in the prompt."""

    pos: int
    key: str
    members: tuple[str, ...]
    subject: bool  # in subject position (sentence start, after a connector, or before "who")
    emotion: FacialExpression | None = None  # "a happy man"
    name: str | None = None  # a proper name as written ("Sam"); None for a noun ("a man")
    local: bool = False  # subject of the one action right after it only ("sees her *arrive*")


@dataclass
class Reading:
    """Everything `read_tokens` found, in text order."""

    tokens: list[Token]
    events: list[Event] = field(default_factory=list)
    hints: list[Hint] = field(default_factory=list)
    emotions: list[tuple[int, FacialExpression]] = field(default_factory=list)
    quotes: list[int] = field(default_factory=list)
    links: list[tuple[int, Link]] = field(default_factory=list)  # (position, link); "," = SEQ-weak
    commas: list[int] = field(default_factory=list)
    strong: list[int] = field(default_factory=list)  # positions of sentence ends and SEQ words
    mentions: list[Mention] = field(default_factory=list)
    pronouns: list[tuple[int, str]] = field(default_factory=list)
    directions: list[tuple[int, int]] = field(default_factory=list)
    relatives: list[int] = field(default_factory=list)
    counts: list[Count] = field(default_factory=list)
    seats: list[tuple[Event, Support]] = field(default_factory=list)
    objects: list[tuple[int, str]] = field(default_factory=list)  # (position, him/her/them)
    reciprocal: list[int] = field(default_factory=list)  # "each other", "together"
    nouns: list[int] = field(default_factory=list)  # verb words read as nouns ("a point guard")
    compounds: list[int] = field(default_factory=list)  # ... as part of a name ("dance floor")
    quiet: list[int] = field(default_factory=list)  # known words that change nothing ("slowly")
    guessed_emotions: list[tuple[int, FacialExpression, float]] = field(default_factory=list)
    emotion_words: list[tuple[int, FacialExpression]] = field(default_factory=list)
    boundary: list[bool] = field(default_factory=list)  # per token: a connector or punctuation
    claimed: list[bool] = field(default_factory=list)  # per token: part of something recognised


@cache
def _verbs() -> PhraseIndex[VerbMatch]:
    return verb_index()


@cache
def _details() -> PhraseIndex[bool]:
    return PhraseIndex((form, True) for phrase in DETAIL_PHRASES for form in phrase_forms(phrase))


@cache
def _manners() -> PhraseIndex[ActionType]:
    return PhraseIndex(
        (tuple(w for w in phrase.split() if w not in DETERMINERS), action)
        for action, phrases in MANNER_ACTIONS.items()
        for phrase in phrases
    )


@cache
def _connectors() -> PhraseIndex:
    return PhraseIndex(_CONNECTORS.items())


def _text(tokens: list[Token], i: int) -> str:
    return tokens[i].text if 0 <= i < len(tokens) else ""


def read_tokens(tokens: list[Token]) -> Reading:
    """Classify every token of the prompt."""
    r = Reading(tokens, boundary=[False] * len(tokens), claimed=[False] * len(tokens))
    verbs, connectors = _verbs(), _connectors()
    manners: list[tuple[int, ActionType, int]] = []
    pairs = _binomials(tokens)
    i, n = 0, len(tokens)
    while i < n:
        token = tokens[i]
        if i in pairs:  # "and forth" of "back and forth": a manner, not a connector
            r.quiet.append(i)
            r.claimed[i] = True
            i += 1
            continue
        if token.kind == "quote":
            r.quotes.append(i)
            r.claimed[i] = True
            i += 1
            continue
        if token.kind == "punct":
            r.boundary[i] = r.claimed[i] = True
            if token.text in _STRONG_PUNCT:
                r.strong.append(i)
            elif token.text == ",":
                r.commas.append(i)
            elif token.text == "&":
                r.links.append((i, Link.AND))
            i += 1
            continue
        hint = match_hint(tokens, i)
        if hint is not None:
            r.hints.append(hint)
            _claim(r, hint.start, hint.end)
            i = hint.end
            continue
        count = match_count(tokens, i)
        if count is not None:
            r.counts.append(count)
            _claim(r, count.start, count.end)
            i = count.end
            continue
        link = connectors.match(tokens, i)
        if link is not None and _text(tokens, i - 1) in DETERMINERS and link[1] == i + 1:
            link = None  # "her first steps", "the next day": not a connector
        if link is not None and not _is_direction(tokens, i):
            kind, end = link
            r.links.append((i, kind))
            if kind is Link.SEQ:
                r.strong.append(i)
            for j in range(i, end):
                r.boundary[j] = r.claimed[j] = True
            i = end
            continue
        manner = _manners().match(tokens, i)
        if manner is not None:
            manners.append((i, *manner))
            for j in range(i, manner[1]):
                r.quiet.append(j)
                r.claimed[j] = True
            i = manner[1]
            continue
        detail = _details().match(tokens, i)
        if detail is not None:  # "crosses her legs": a detail no figure shows
            for j in range(i, detail[1]):
                r.quiet.append(j)
                r.claimed[j] = True
            i = detail[1]
            continue
        verb = verbs.match(tokens, i)
        if verb is not None:
            i = _read_verb(r, tokens, i, *verb)
            continue
        i = _read_word(r, tokens, i)
    _manner_events(r, manners)
    _climbs(r)
    _read_names(r)
    return r


# Word pairs joined by "and" that say how one moves ("paces back and forth", "jumps up and
# down"): the "and" links no actions.
_BINOMIALS = frozenset(
    {
        ("up", "down"),
        ("back", "forth"),
        ("to", "fro"),
        ("round", "round"),
        ("around", "around"),
        ("in", "out"),
        ("on", "off"),
        ("over", "over"),
        ("again", "again"),
        ("here", "there"),
        ("side", "side"),
        ("left", "right"),
        ("forward", "back"),
        ("forwards", "backwards"),
        ("backwards", "forwards"),
        ("down", "up"),
    }
)


def _binomials(tokens: list[Token]) -> set[int]:
    """Positions of the "and" and the second word of each pair like "back and forth"."""
    out: set[int] = set()
    for k in range(1, len(tokens) - 1):
        if tokens[k].text == "and" and (tokens[k - 1].text, tokens[k + 1].text) in _BINOMIALS:
            out.update((k, k + 1))
    return out


def _manner_verb(r: Reading, lo: int, start: int) -> int:
    """Where the action said by a manner phrase at `start` begins: at the verb the vocabulary
    does not know before it ("the team *erupts* in jubilation"), so that the verb is not taken
    for part of the subject; at the phrase itself when there is none."""
    tokens = r.tokens
    for j in range(lo + 1, start):
        word = tokens[j].text
        verb_like = (word.endswith("s") and not word.endswith("ss")) or word.endswith(("ed", "ing"))
        if (
            verb_like
            and not r.claimed[j]
            and tokens[j].kind == "word"
            and tokens[j - 1].text not in DETERMINERS
            and word not in PERSON_NOUNS
        ):
            return j
    return start


def _climbs(r: Reading) -> None:
    """'makes her way up the rock face': a generic way of moving, up something one climbs."""
    texts = [t.text for t in r.tokens]
    for event in r.events:
        if event.phrase != "make way":
            continue
        j = event.end
        while j < len(texts) and not r.boundary[j] and texts[j] in MANNER_WORDS - {"up"}:
            j += 1
        if j >= len(texts) or texts[j] != "up":
            continue
        k = j + 1
        while k < len(texts) and k < j + 5 and not r.boundary[k]:
            if texts[k] in CLIMBABLE:
                event.action = A.CLIMB
                break
            k += 1


def _manner_events(r: Reading, manners: list[tuple[int, ActionType, int]]) -> None:
    """A manner of moving names the action of a clause that has none ("moves on all fours")."""
    for start, action, end in manners:
        lo, hi = _clause_of(r, start)
        if any(lo <= e.start < hi for e in r.events):
            continue
        phrase = " ".join(t.text for t in r.tokens[start:end])
        r.events.append(Event(action, _manner_verb(r, lo, start), end, phrase=phrase))
        r.quiet = [j for j in r.quiet if not start <= j < end]
    r.events.sort(key=lambda e: e.start)


def finish_reading(r: Reading) -> None:
    """After every action is known (the rules' and the guessed ones): settle who the subjects
    are, hang counts and seats, and drop a guessed "stand still" when something else happens."""
    if len(r.events) > 1:
        r.events = [e for e in r.events if not (e.score is not None and e.action is A.IDLE)]
    _same_action_once(r)
    _joined_subjects(r)
    _unknown_subjects(r)
    _subjects_before_actions(r)
    _resolve_counts(r)
    _resolve_seats(r)


def _same_action_once(r: Reading) -> None:
    """Two words of one action close together in a clause are that action once ("drifts off *to
    sleep*", "lies down for a nap"); joined by "and" or a comma they stay two."""
    out: list[Event] = []
    for event in r.events:
        last = out[-1] if out else None
        if (
            last is not None
            and last.action is event.action
            and not last.derived
            and not event.derived
            and 0 <= event.start - last.end <= 3
            and not any(r.boundary[j] for j in range(last.end, event.start))
        ):
            last.end = max(last.end, event.end)
            last.count = max(last.count, event.count)
            continue
        out.append(event)
    r.events = out


def _subjects_before_actions(r: Reading) -> None:
    """A person right before an action does it ("a man waves to a woman dancing")."""
    starts = {e.start for e in r.events}
    for mention in r.mentions:
        j = mention.pos + 1
        while j < len(r.tokens) and j in r.quiet:
            j += 1
        if j in starts and not mention.subject:
            mention.subject = mention.local = True


_SUBJECT_DETERMINERS = frozenset(words("the a an this that these those"))
_NOT_PEOPLE = frozenset(
    words(
        "shoulders eyes head heads face faces hair body heart mouth lips cheeks tears ball balls "
        "sun rain wind snow water car cars bus train door doors clock phone music crowd's"
    )
)
_FUNCTIONAL = frozenset(
    words(
        "and or but to of in on at by for with from into is are was were be been it its this "
        "there here what who which that then"
    )
)


# Verbs that come before an action word ("keeps watch", "takes a nap", "starts dancing").
_VERBS_BEFORE_ACTIONS = LIGHT_VERBS | frozenset(
    w
    for base in words("keep stay continue stop decide want need like love seem finish")
    for w in conjugate(base)
)


def _unknown_subjects(r: Reading) -> None:
    """A noun phrase the vocabulary does not know that opens a clause and does its action ("the
    *sprinter* bursts out...", "while *the crowd* goes wild") is a person: plural-looking nouns
    ("the candidates") are two."""
    people = {m.pos for m in r.mentions} | {p for p, _ in r.pronouns}
    tokens = r.tokens
    for event in list(r.events):
        if event.derived:
            continue
        j = event.start - 1
        words_: list[int] = []
        while (
            j >= 0
            and len(words_) < 2
            and tokens[j].kind == "word"
            and not r.boundary[j]
            and j not in people
            and tokens[j].text not in DETERMINERS
            and tokens[j].text not in _FUNCTIONAL
            and tokens[j].text not in NUMBER_WORDS
            and (not r.claimed[j] or j in r.quiet)
        ):
            words_.append(j)
            j -= 1
        count = 0
        while j >= 0 and tokens[j].text in NUMBER_WORDS and words_:
            count = int(NUMBER_WORDS[tokens[j].text])  # "the two leaders"
            j -= 1
        if len(words_) == 2 and tokens[words_[0]].text in _VERBS_BEFORE_ACTIONS:
            words_ = words_[1:]  # "the sentry *keeps* watch": the verb is not part of a name
        if not words_ or j < 0 or tokens[j].text not in _SUBJECT_DETERMINERS or r.boundary[j]:
            continue  # "her shoulders bob": a body part or a belonging, not a new person
        if tokens[words_[0]].text in BODY_PARTS or tokens[words_[0]].text in _NOT_PEOPLE:
            continue
        if j > 0 and not r.boundary[j - 1]:
            continue  # not at the start of its clause: an object ("dribbles past the guard")
        head = tokens[words_[0]].text
        plural = head.endswith("s") and not head.endswith(("ss", "us", "is")) and len(head) > 3
        key = head[:-1] if plural else head
        size = max(2, min(count, MAX_GROUP)) if plural else 1
        members = tuple(f"{key}#{k + 1}" for k in range(size)) if plural else (key,)
        r.mentions.append(Mention(words_[-1], key, members, True))
        for k in words_:
            r.claimed[k] = True
        people.add(words_[-1])
    r.mentions.sort(key=lambda m: m.pos)


def _joined_subjects(r: Reading) -> None:
    """'The knight and the dragon-slayer spar': a noun the vocabulary does not know, joined by
    "and" to a person and followed by an action, is a person too."""
    starts = {e.start for e in r.events}
    tokens = r.tokens
    for start in sorted(starts):
        j = start - 1
        words = []
        while j >= 0 and len(words) < 2 and tokens[j].kind == "word" and not r.claimed[j]:
            if tokens[j].text in DETERMINERS:
                break
            words.append(j)
            j -= 1
        if not words or not (j >= 1 and tokens[j].text in DETERMINERS):
            continue
        link = j - 1
        if tokens[link].text not in ("and", "&") or not any(
            m.pos == link - 1 and m.subject for m in r.mentions
        ):
            continue
        first, head = words[-1], words[0]
        mention = Mention(first, tokens[head].text, (tokens[head].text,), True)
        r.mentions.append(mention)
        r.mentions.sort(key=lambda m: m.pos)
        for k in words:
            r.claimed[k] = True


def _read_verb(r: Reading, tokens: list[Token], i: int, match: VerbMatch, end: int) -> int:
    """An action word at token i: a verb, a light verb's noun ("does a dance"), or a noun that
    names no action here ("a point guard", "the dance floor")."""
    use, start = _verb_use(r, tokens, i, end, match)
    if use == "compound":
        r.compounds.append(i)
        return end
    if use == "noun":
        r.nouns.append(i)
        return end
    if use == "with":
        _with_action(r, Event(match.action, start, end, phrase=match.phrase))
        _claim(r, start, end)
        return end
    if not _ignored_verb(r, tokens, start, end) or use == "light":
        r.events.append(Event(match.action, start, end, phrase=match.phrase))
    _claim(r, start, end)
    return end


_PARTICLES = frozenset(words("for into out off in up"))
_INDIRECT = frozenset(words("him her them me us you it everyone everybody"))
_CONTRACTIONS = frozenset(
    words("he's she's it's that's there's what's who's let's here's where's how's")
)


def _is_determiner(r: Reading, tokens: list[Token], j: int) -> bool:
    if j < 0 or r.boundary[j]:
        return False
    word = tokens[j].text
    if word in DETERMINERS or word in NUMBER_WORDS or tokens[j].kind == "num":
        return True
    return word.endswith("'s") and word not in _CONTRACTIONS  # "the man's dance"


def _adjective_like(word: str) -> bool:
    """Words shaped like adjectives: "biggest", "wonderful", "graceful", "energetic"."""
    return len(word) > 4 and word.endswith(("est", "ful", "ous", "ive", "ic", "ish", "less"))


def _modifies(tokens: list[Token], j: int) -> bool:
    """Whether token j is a plain word an -ing form before it can describe ("ovation")."""
    if j >= len(tokens) or tokens[j].kind != "word":
        return False
    word = tokens[j].text
    return word not in _NOT_NOUNS and word not in DETERMINERS and not word.endswith("ly")


_NOT_NOUNS = frozenset(
    words(
        "and or but then to at in on with of for from by into onto over under up down off out "
        "around about across along away back again while as before after until is are was were "
        "he she they it him her them together"
    )
)


def _light_verb(r: Reading, tokens: list[Token], j: int) -> int | None:
    """Index of a light verb before the determiner at j ("gives *her* a hug"), or None."""
    k = j - 1
    skipped = 0
    while k >= 0 and skipped < 3 and not r.boundary[k]:
        word = tokens[k].text
        if word in LIGHT_VERBS:
            return k
        person = r.claimed[k] and (word in PERSON_NOUNS or tokens[k].raw[:1].isupper())
        if word in _PARTICLES or word in _INDIRECT or word in DETERMINERS or person:
            k -= 1
            skipped += 1
            continue
        if tokens[k].raw[:1].isupper() and k > 0:  # a name: "gives Sam a high five"
            k -= 1
            skipped += 1
            continue
        return None
    return None


def _verb_use(
    r: Reading, tokens: list[Token], i: int, end: int, match: VerbMatch
) -> tuple[str, int]:
    """("verb" | "light" | "with" | "noun" | "compound", first token of the event)."""
    word = tokens[i].text
    base = match.phrase.split()[0]
    plain = not match.fixed and end == i + 1
    if (
        plain
        and word == conjugate(base)[1]
        and i >= 2
        and _is_determiner(r, tokens, i - 2)
        and tokens[i - 1].kind == "word"
        and not r.claimed[i - 1]
        and i >= 3
        and not r.boundary[i - 3]
        and tokens[i - 3].kind == "word"
        and not r.claimed[i - 3]
    ):
        return "noun", i  # "sends the ball flying": the ball flies, not the subject
    if (
        plain
        and word == base
        and i >= 2
        and _is_determiner(r, tokens, i - 2)
        and tokens[i - 1].kind == "word"
        and not r.claimed[i - 1]
        and tokens[i - 1].text not in NOUN_MODIFIERS
        and not tokens[i - 1].text.endswith("s")
        and not _adjective_like(tokens[i - 1].text)
    ):
        return "noun", i  # "a curtain call", "the fire drill": the head of a name
    if plain and _text(tokens, end) in COMPOUND_HEADS and word in (base, conjugate(base)[1]):
        return "compound", i
    j = i - 1
    modifiers = 0
    while j >= 0 and modifiers < 3 and not r.boundary[j]:
        text = tokens[j].text
        if text in DETERMINERS:
            break
        if (
            text in NOUN_MODIFIERS
            or text in EMOTION_WORDS
            or text in INTENSIFIERS
            or (not r.claimed[j] and _adjective_like(text))
        ):
            j -= 1
            modifiers += 1
        else:
            break
    if not _is_determiner(r, tokens, j):
        return "verb", i
    if plain and word != base and word == conjugate(base)[1] and _modifies(tokens, end):
        return "compound", i  # "a standing ovation", "the swimming pool"
    light = _light_verb(r, tokens, j)
    if light is not None:
        return "light", light
    if j >= 1 and tokens[j].text in ("a", "an") and tokens[j - 1].text == "with":
        return "with", i  # "greets her with a hug", "answers with a shrug"
    if match.fixed:
        return "verb", i
    return "noun", i


def _with_action(r: Reading, event: Event) -> None:
    """An action noun after "with a" is what the verb before it does ("greets him with a hug" is a
    hug, "answers with a shrug" a shrug), unless that verb moves the figure along ("walks off
    with a wave": both)."""
    before = [e for e in r.events if e.end <= event.start]
    last = before[-1] if before else None
    apart = last is None or any(r.boundary[j] for j in range(last.end, event.start))
    if apart or ACTION_SPECS[last.action].layer is Layer.LOWER:
        r.events.append(event)
    else:
        last.action, last.phrase, last.end = event.action, event.phrase, event.end
    r.events.sort(key=lambda e: e.start)


def _claim(r: Reading, start: int, end: int) -> None:
    for j in range(start, end):
        r.claimed[j] = True


def _ignored_verb(r: Reading, tokens: list[Token], i: int, end: int) -> bool:
    """Negated ("does not walk") or a copula ("looks happy")."""
    if _text(tokens, i - 1) in NEGATORS:
        return True
    if tokens[i].text in LOOK_FORMS and end == i + 1:
        j = i + 1
        while _text(tokens, j) in INTENSIFIERS:
            j += 1
        word = _text(tokens, j)
        if word in EMOTION_WORDS:
            return True
        # "looks tired": a word of feeling the vocabulary does not know (read by meaning)
        return (
            j < len(tokens)
            and tokens[j].kind == "word"
            and word not in _NOT_COPULA_OBJECTS
            and word not in PERSON_NOUNS
            and _verbs().match(tokens, j) is None
            and word.endswith(_FEELING_ENDINGS)
        )
    return False


_NOT_COPULA_OBJECTS = frozenset(
    words(
        "around about at up down for into out over through back ahead left right towards toward "
        "to in on like the a an his her their its my your our this that some everywhere away "
        "behind under across along inside outside"
    )
)
_FEELING_ENDINGS = ("ed", "ful", "ous", "less", "ish", "ive", "y", "ic", "ent", "ant", "ing", "al")


def _is_direction(tokens: list[Token], i: int) -> bool:
    """'right' of 'right after' is a connector, but of 'to the right' a direction."""
    return tokens[i].text == "right" and _text(tokens, i - 1) == "the"


def _reciprocal(tokens: list[Token], i: int) -> int:
    """Length of "each other" / "one another" / "together" at token i, 0 if none."""
    for phrase in RECIPROCAL:
        if tuple(_text(tokens, i + k) for k in range(len(phrase))) == phrase:
            return len(phrase)
    return 0


_NOT_ADJECTIVES = frozenset(
    words("and or but to with at in on for from by then while as of is are was were be been")
)
_OBJECT_FOLLOWERS = frozenset(
    words(
        "to with back again tightly warmly goodbye hello and then while as for on in at before "
        "after until twice once gently firmly quickly hard"
    )
)


def _is_object_pronoun(tokens: list[Token], i: int) -> bool:
    """'him'/'them' always; 'her' unless a noun follows ("her hand")."""
    word = tokens[i].text
    if word != "her":
        return True
    nxt = tokens[i + 1] if i + 1 < len(tokens) else None
    return (
        nxt is None
        or nxt.kind != "word"
        or nxt.text in DETERMINERS
        or nxt.text in _OBJECT_FOLLOWERS
        or nxt.text in NUMBER_WORDS
    )


def _read_word(r: Reading, tokens: list[Token], i: int) -> int:
    word = tokens[i].text
    size = _reciprocal(tokens, i)
    if size:
        r.reciprocal.append(i)
        _claim(r, i, i + size)
        return i + size
    if word in OBJECT_PRONOUNS and _is_object_pronoun(tokens, i):
        r.objects.append((i, word))
        r.claimed[i] = True
        return i + 1
    if word in MANNER_WORDS:
        r.quiet.append(i)
        r.claimed[i] = True
        return i + 1
    if word in EMOTION_WORDS:
        r.emotions.append((i, EMOTION_WORDS[word]))
        r.emotion_words.append((i, EMOTION_WORDS[word]))
        r.claimed[i] = True
    elif word in PERSON_NOUNS and not (word in COUNT_WORDS and _text(tokens, i + 1) == "of"):
        r.mentions.append(_mention(r, tokens, i))
        r.claimed[i] = True
    elif word in SUBJECT_PRONOUNS:
        r.pronouns.append((i, word))
        r.claimed[i] = True
    elif word in _RELATIVE and r.mentions and r.mentions[-1].pos == i - 1:
        r.relatives.append(i)
        r.mentions[-1].subject = True
        r.boundary[i] = r.claimed[i] = True
    elif word in _DIRECTIONS and _direction_context(r, tokens, i):
        r.directions.append((i, _DIRECTIONS[word]))
        r.claimed[i] = True
    return i + 1


def _direction_context(r: Reading, tokens: list[Token], i: int) -> bool:
    if tokens[i].text.endswith(("ward", "wards")):
        return True
    if _text(tokens, i + 1) in BODY_PARTS:
        return False
    after_verb = bool(r.events) and r.events[-1].end == i
    return after_verb or _text(tokens, i - 1) in _DIRECTION_LEADS


def _mention(r: Reading, tokens: list[Token], i: int, name: str | None = None) -> Mention:
    """A person noun or name: its identity, group size, emotion adjective, and whether it is a
    subject."""
    key, plural = PERSON_NOUNS[tokens[i].text] if name is None else (name.lower(), False)
    count = 2 if plural else 1
    emotion = None
    j = i - 1
    pending = 0  # unknown words seen since the last known modifier ("a lonely old man")
    seen_determiner = False
    while j >= 0:
        word = tokens[j].text
        if word in COUNT_WORDS:
            count = COUNT_WORDS[word] if plural else count
            r.claimed[j] = r.claimed[j] or plural
        elif plural and (word in NUMBER_WORDS or tokens[j].kind == "num"):
            count = int(NUMBER_WORDS.get(word, 0) or _safe_int(word))
            r.claimed[j] = True
        elif word in EMOTION_WORDS:
            emotion = EMOTION_WORDS[word]
            r.emotions = [(p, e) for p, e in r.emotions if p != j]
        elif word in PERSON_ADJECTIVES and not r.claimed[j]:
            r.quiet.append(j)
            r.claimed[j] = True
        elif word in DETERMINERS or word in INTENSIFIERS or word == "of":
            pending, seen_determiner = 0, True
        elif (
            pending < 2
            and not seen_determiner
            and tokens[j].kind == "word"
            and not r.claimed[j]
            and not r.boundary[j]
            and word not in _NOT_ADJECTIVES
        ):
            pending += 1
        else:
            break
        j -= 1
    if j >= 0 and not r.boundary[j]:
        j += pending  # unknown words with no determiner before them are not this person's
    subject = j < 0 or r.boundary[j]
    count = max(1, min(count, 4))
    members = tuple(f"{key}#{k + 1}" for k in range(count)) if plural else (key,)
    return Mention(i, key, members, subject, emotion, name)


# Capitalised words that are not names even when the vocabulary does not know them.
_NOT_NAMES = frozenset(
    words(
        "i a an the this that these those it its my your our their his her him them we you "
        "there here what when where why how who which suddenly meanwhile also now today "
        "tonight yesterday tomorrow then next later soon first finally once again still "
        "everyone everybody someone somebody nobody people mr mrs ms dr miss sir madam "
        "monday tuesday wednesday thursday friday saturday sunday january february march april "
        "may june july august september october november december ok okay yes no oh hey hi "
        "hello wow please thanks"
    )
)


def _sentence_start(r: Reading, i: int) -> bool:
    return i == 0 or (r.tokens[i - 1].kind in ("punct", "quote") and r.tokens[i - 1].text != ",")


def _read_names(r: Reading) -> None:
    """Proper names ("Sam kicks the ball to Alex") become people. A capitalised word the
    vocabulary does not know is a name, except at a sentence start, where it must be followed by
    an action, "and" or a comma. Title-case prompts ("A Man Walks") have no names."""
    tokens = r.tokens
    candidates = [t for t in tokens if t.kind == "word" and len(t.text) > 3]
    if len(candidates) >= 3 and all(t.raw[:1].isupper() for t in candidates):
        return  # "A Man Walks Into A Bar": title case, no names
    starts = {e.start for e in r.events}
    added = False
    for i, token in enumerate(tokens):
        if (
            token.kind != "word"
            or r.claimed[i]
            or not token.raw[:1].isupper()
            or token.text in _NOT_NAMES
            or token.text in DETERMINERS
            or len(token.text) < 2
        ):
            continue
        if _sentence_start(r, i):
            nxt = _text(tokens, i + 1)
            acts = (i + 1) in starts or (nxt.endswith("ly") and (i + 2) in starts)
            if not (acts or nxt in ("and", "&", "who", "is", "was")):
                continue
        name = token.raw[:-2] if token.text.endswith("'s") else token.raw
        r.mentions.append(_mention(r, tokens, i, name=name))
        r.claimed[i] = True
        added = True
    if added:
        r.mentions.sort(key=lambda m: m.pos)


def _clause_of(r: Reading, pos: int) -> tuple[int, int]:
    """The [start, end) of the clause (tokens between boundaries) around token `pos`."""
    lo = pos
    while lo > 0 and not r.boundary[lo - 1]:
        lo -= 1
    hi = pos
    while hi < len(r.tokens) and not r.boundary[hi]:
        hi += 1
    return lo, hi


def _resolve_counts(r: Reading) -> None:
    """Hang each count on the action of its clause, or repeat the action before it."""
    for count in r.counts:
        lo, hi = _clause_of(r, count.start)
        own = [e for e in r.events if lo <= e.start < hi and not e.derived]
        before = [e for e in own if e.end <= count.start]
        target = before[-1] if before else (own[0] if own else None)
        if target is not None:
            if count.extra:
                target.count = max(target.count, count.times) if count.times > 1 else target.count
            else:
                target.count = count.times
            continue
        earlier = [e for e in r.events if e.end <= count.start]
        if not earlier:
            continue
        source = earlier[-1]
        copy = Event(source.action, count.start, count.end, phrase=source.phrase, derived=True)
        copy.count, copy.support, copy.prop = count.times, source.support, source.prop
        r.events.append(copy)
        r.events.sort(key=lambda e: e.start)


def _sentence_between(r: Reading, a: int, b: int) -> bool:
    return any(r.tokens[j].text in ".!?;" for j in range(a, b))


def _resolve_seats(r: Reading) -> None:
    """Sitting and lying actions take the seat or bed named after them (or earlier)."""
    texts = [t.text for t in r.tokens]
    starts = {e.start for e in r.events if e.score is None}
    stop = [b or (i in starts) for i, b in enumerate(r.boundary)]
    for event in r.events:
        if event.derived:
            continue
        after = event.end if event.score is None else event.start  # a guess spans its words
        found = find_support(event.action, texts, after, stop)
        if found is None and "seat" in texts[event.start : event.end]:  # "takes a seat"
            found = Support(0.45, "seat", event.start, event.end)
        if found is None:
            found = furniture(event.action, texts, event.start)
            used = {seat.start for _, seat in r.seats}
            if found is not None and (
                found.start in used or _sentence_between(r, found.start, event.start)
            ):
                found = None  # already sat on, or named in another sentence
        if found is None:
            continue
        event.support, event.prop = found.height, found.prop
        r.seats.append((event, found))
        _claim(r, found.start, found.end)


def _safe_int(word: str) -> int:
    try:
        return int(float(word))
    except ValueError:
        return 2


# Words that say a person is there even where no one is named ("I", "his", "someone").
_PERSONAL = frozenset(
    words(
        "i me my you your yours we us our his her hers him them their theirs someone somebody "
        "everyone everybody anyone anybody one yourself himself herself themselves myself"
    )
)
# Words that may come before an order's verb ("please sit down", "now jump", "let's dance").
_ORDER_LEADS = frozenset(
    words(
        "please let's lets let just now then first next also and so ok okay go come try start "
        "begin quickly slowly again finally"
    )
)


def only_things_act(r: Reading) -> bool:
    """Whether every action of a reading is done by a thing: no one is named or referred to
    anywhere in the prompt, and each action has words before it in its clause that are not an
    order's lead-in ("the price of gold *fell*", "interest rates *rose*", "the train *leaves*").
    An order ("kick the ball twice", "please sit down") has its verb first and is not."""
    if not r.events or r.mentions or r.pronouns or r.objects or r.reciprocal:
        return False
    tokens = r.tokens
    if any(t.kind == "word" and t.text in _PERSONAL for t in tokens):
        return False
    for event in r.events:
        if event.derived:
            continue
        lo, _ = _clause_of(r, event.start)
        lead = [
            j
            for j in range(lo, event.start)
            if tokens[j].kind == "word" and j not in r.quiet and tokens[j].text not in _ORDER_LEADS
        ]
        if not lead:
            return False
    return True
