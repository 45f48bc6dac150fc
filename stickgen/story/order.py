"""Order and simultaneity: connectors turn the prompt's actions into time-ordered units.

"then", commas and sentence ends start a new unit; "and"/"while" keep actions in one unit (they
may run together); "after X" / "before X" clauses move X before or after their main clause.
"""

from __future__ import annotations

from dataclasses import dataclass

from stickgen.schema import ACTION_SPECS, Layer
from stickgen.story.grammar import Event, Link, Reading


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
        elif gap.joined and _arrives(r, clauses[-1].events[-1], event):
            clauses.append(_Clause([event]))  # "walks to the fridge and drinks a beer"
        else:
            clauses[-1].events.append(event)
    return clauses


_DESTINATIONS = frozenset(("to", "into", "towards", "toward", "onto", "inside"))


def _arrives(r: Reading, moving: Event, then: Event) -> bool:
    """Whether `moving` travels somewhere named before "and" `then` ("walks to the fridge and
    drinks a beer"): it arrives first, so the two come one after the other."""
    if ACTION_SPECS[moving.action].layer is not Layer.LOWER:
        return False
    return any(r.tokens[j].text in _DESTINATIONS for j in range(moving.end, then.start))


def order_events(r: Reading) -> list[list[Event]]:
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
