"""Who does what: subjects, pronouns, groups ("two people") and relative clauses ("who dances").

Actor 0 is the main subject. Another person becomes an actor when named as a subject after a
connector or before "who"/"that"; "he"/"she"/"they" point back to the last matching person; a
sentence end hands the action back to the main subject.
"""

from __future__ import annotations

from stickgen.schema import FacialExpression
from stickgen.story.grammar import Event, Mention, Reading
from stickgen.story.vocabulary import DETERMINERS, FEMALE, MALE

DEFAULT_SUBJECT = ("person",)
THEY = ("person#1", "person#2")
MAX_ACTORS = 4


class Cast:
    """The people of a prompt: which group of figures does each event, their emotions, facing."""

    def __init__(self, reading: Reading) -> None:
        self.reading = reading
        self.emotion: dict[str, FacialExpression] = {}
        self.facing: dict[str, int] = {}
        self.lead_emotions: list[tuple[Event | None, FacialExpression]] = []
        self.directions: list[tuple[Event | None, int]] = []
        self.main: tuple[str, ...] | None = None
        self.names = frozenset(m.key for m in reading.mentions if m.name is not None)

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
        restore: tuple[str, ...] | None = None  # the subject before a one-action subject
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
                if item.local and (current is not None or self.main is not None):
                    restore = current or self.main
                    pending, pending_members = item, item.members
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
                resolved = _resolve_pronoun(item[1], history, self.names)
                if resolved is None and item[1] == "they" and self.main is None:
                    resolved = THEY  # "they hug": two people nobody named
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
                if restore is not None:
                    current, restore = restore, None
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
        """Members in actor order: the main subject first, then others as their events come
        (the people actions are done to or with among them)."""
        keys: list[str] = []
        for event in self.reading.events:
            for member in (*event.group, *event.partner):
                if member not in keys and len(keys) < MAX_ACTORS:
                    keys.append(member)
        main = [m for m in (self.main or ()) if m in keys]
        return main + [k for k in keys if k not in main]

    def display_name(self, member: str) -> str:
        """The actor's name: a proper name as written ("Sam"), else the noun ("man")."""
        key = member.split("#")[0]
        for mention in self.reading.mentions:
            if mention.name is not None and mention.key == key:
                return mention.name
        return key


def _union(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    return a + tuple(m for m in b if m not in a)


def _resolve_pronoun(
    word: str, history: list[tuple[str, ...]], names: frozenset[str] = frozenset()
) -> tuple[str, ...] | None:
    for members in reversed(history):
        key = members[0].split("#")[0]
        if word == "he" and (key in MALE or key in names) and len(members) == 1:
            return members
        if word == "she" and (key in FEMALE or key in names) and len(members) == 1:
            return members
        if word == "they" and len(members) > 1:
            return members
    return None
