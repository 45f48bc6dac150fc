"""Two people together: who an action is done with or to, and what the other one does meanwhile.

A partner is the person an action is done to or with ("hugs *his mother*", "throws the ball *to
Sam*", "gives *her* a high five", "talks *to a stranger*"), or the other half of a group doing
something together ("*two people* shake hands", "*they* hug", "the boxers fight *each other*").

What the partner does:

- mutual actions (hug, handshake, high five, dancing together): the same thing, at the same time;
- an action with a natural reply: the reply, timed to it (a throw is caught, a pitch is batted, a
  punch or a push is dodged);
- a fight ("fight", "spar", "brawl"), playing catch, or throwing or punching "each other": turns,
  one attacks while the other answers, then the other way round;
- anything else done to someone (talking, waving, whispering to them): the partner stands and
  listens, facing the speaker, unless the prompt gives the partner something of their own to do.

The two face each other at a distance that suits what they do (`DISTANCES`).
"""

from __future__ import annotations

from stickgen.schema import ActionType
from stickgen.story.cast import Cast
from stickgen.story.grammar import Event, Reading
from stickgen.story.vocabulary import FEMALE, MALE

A = ActionType

MUTUAL = frozenset({A.HUG, A.HANDSHAKE, A.HIGH_FIVE, A.DANCE})
# lead action -> (the partner's reply, seconds the reply starts after the lead)
REPLIES: dict[ActionType, tuple[ActionType, float]] = {
    A.THROW: (A.CATCH, 0.2),
    A.PITCH: (A.BAT, 0.6),
    A.PUNCH: (A.DODGE, 0.0),
    A.PUSH: (A.DODGE, 0.2),
}
# phrases that mean taking turns: (attack, answer)
EXCHANGE_PHRASES: dict[str, tuple[ActionType, ActionType]] = {
    **dict.fromkeys(("fight", "brawl", "spar"), (A.PUNCH, A.DODGE)),
    "play catch": (A.THROW, A.CATCH),
}
RECIPROCAL_EXCHANGES: dict[ActionType, tuple[ActionType, ActionType]] = {
    A.THROW: (A.THROW, A.CATCH),
    A.CATCH: (A.THROW, A.CATCH),
    A.PUNCH: (A.PUNCH, A.DODGE),
    A.FIGHT_STANCE: (A.PUNCH, A.DODGE),
}
# Actions done *to* someone named in the clause ("talks to a stranger", "waves at her"): the other
# person becomes a figure who faces them. Other actions ("dribbles past two defenders") leave
# the people they mention off the stage.
DIRECTED = frozenset(
    {A.TALK, A.SHOUT, A.WHISPER, A.SING, A.WAVE, A.POINT, A.BOW, A.LAUGH, A.CLAP, A.KICK}
)
SOCIAL = MUTUAL | DIRECTED | set(REPLIES) | set(RECIPROCAL_EXCHANGES)
# Actions a group of two or more does as a pair, face to face, even without "each other".
PAIRED_GROUP = MUTUAL | {A.FIGHT_STANCE, A.PUNCH, A.TALK, A.WHISPER, A.SHOUT, A.THROW, A.CATCH}
# Metres between the two hips while they do it.
DISTANCES: dict[ActionType, float] = {
    A.HUG: 0.5,
    A.HANDSHAKE: 1.0,
    A.HIGH_FIVE: 1.2,
    A.DANCE: 1.1,
    A.THROW: 3.0,
    A.CATCH: 3.0,
    A.PITCH: 5.0,
    A.BAT: 5.0,
    A.KICK: 3.0,
    A.PUNCH: 1.0,
    A.DODGE: 1.0,
    A.FIGHT_STANCE: 1.3,
    A.PUSH: 0.8,
    A.TALK: 1.1,
    A.WHISPER: 0.6,
    A.SHOUT: 1.6,
    A.WAVE: 2.5,
    A.POINT: 2.0,
    A.BOW: 1.4,
}
DEFAULT_DISTANCE = 1.4


def distance(action: ActionType) -> float:
    return DISTANCES.get(action, DEFAULT_DISTANCE)


def _clause_end(r: Reading, pos: int) -> int:
    while pos < len(r.tokens) and not r.boundary[pos]:
        pos += 1
    return pos


def _clause_start(r: Reading, pos: int) -> int:
    while pos > 0 and not r.boundary[pos - 1]:
        pos -= 1
    return pos


class _Partners:
    """Resolves the people an action is done to; invents one when a pronoun names nobody."""

    def __init__(self, r: Reading, cast: Cast) -> None:
        self.r = r
        self.cast = cast
        self.names = {m.key for m in r.mentions if m.name is not None}
        self.used = {member for m in r.mentions for member in m.members}
        self.used |= {member for e in r.events for member in e.group}

    def _new(self, key: str) -> tuple[str, ...]:
        candidate, k = key, 2
        while candidate in self.used:
            candidate, k = f"{key}#{k}", k + 1
        self.used.add(candidate)
        return (candidate,)

    def pronoun(self, pos: int, word: str, exclude: tuple[str, ...]) -> tuple[str, ...]:
        for mention in reversed([m for m in self.r.mentions if m.pos < pos]):
            members = mention.members
            if set(members) & set(exclude):
                continue
            single = len(members) == 1
            named = mention.key in self.names
            if word == "him" and single and (mention.key in MALE or named):
                return members
            if word == "her" and single and (mention.key in FEMALE or named):
                return members
            if word == "them" and not single:
                return members
        if word == "them":
            return self._new("person") + self._new("person")
        return self._new({"him": "man", "her": "woman"}[word])

    def _people(self, lo: int, hi: int, group: tuple[str, ...]) -> list[tuple[int, tuple]]:
        found: list[tuple[int, tuple[str, ...]]] = []
        for mention in self.r.mentions:
            if lo <= mention.pos < hi and not set(mention.members) & set(group):
                found.append((mention.pos, mention.members))
        for pos, word in self.r.objects:
            if lo <= pos < hi:
                found.append((pos, self.pronoun(pos, word, group)))
        return sorted(found)

    def find(self, event: Event) -> tuple[str, ...] | None:
        """The person `event` is done to or with, named in its clause."""
        found = self._people(event.start, _clause_end(self.r, event.end), event.group)
        return found[0][1] if found else None

    def before(self, event: Event) -> tuple[str, ...] | None:
        """The person named last before `event` in its sentence, other than its doers ("walks
        up to *his friend* and shakes his hand")."""
        lo = event.start
        while lo > 0 and self.r.tokens[lo - 1].text not in ".!?;":
            lo -= 1
        found = [
            (pos, members)
            for pos, members in self._people(lo, event.start, event.group)
            if not any(m.pos == pos and m.subject for m in self.r.mentions)
        ]
        return found[-1][1] if found else None


def _reciprocal(r: Reading, event: Event) -> bool:
    lo, hi = _clause_start(r, event.start), _clause_end(r, event.end)
    return any(lo <= pos < hi for pos in r.reciprocal)


def pair_up(r: Reading, cast: Cast) -> bool:
    """Give every action done with or to someone its partner and the partner's part; True when
    the prompt has any."""
    partners = _Partners(r, cast)
    paired = False
    for event in r.events:
        if event.derived or not event.group:
            continue
        reciprocal = _reciprocal(r, event)
        other = (
            partners.find(event)
            if event.action in SOCIAL or event.phrase in EXCHANGE_PHRASES
            else None
        )
        if other is None and event.action in MUTUAL and len(event.group) < 2:
            other = partners.before(event)
        exchange = EXCHANGE_PHRASES.get(event.phrase)
        if exchange is None and reciprocal:
            exchange = RECIPROCAL_EXCHANGES.get(event.action)
        if other is None:
            if len(event.group) < 2 or not (reciprocal or event.action in PAIRED_GROUP):
                continue
            lead, other = event.group[:1], event.group[1:2]
            if exchange is not None or event.action in REPLIES:
                event.group = lead + event.group[2:]  # the partner has a part of their own
            else:
                event.partner = other  # both do it, face to face
                paired = True
                continue
        event.partner = other
        if exchange is not None:
            event.exchange = True
            event.action, event.reply = exchange
            event.reply_delay = REPLIES.get(event.action, (None, 0.0))[1]
        elif event.action in MUTUAL:
            event.reply = event.action
        elif event.action in REPLIES:
            event.reply, event.reply_delay = REPLIES[event.action]
            event.once = True  # one throw and its catch, then both stand
        paired = True
    return paired
