"""Score the story engine on a suite of prompts, each with the plan it should give.

A suite is a JSON Lines file, one prompt per line:

    {"prompt": "A man walks then waves happily", "actors": [["walk", "wave:happy"]]}
    {"prompt": "Two people shake hands", "actors": [["handshake"], ["handshake"]], "together": true}
    {"prompt": "blorp zint", "actors": [["idle"]], "understood": false}

- `actors`: one list per figure, each the actor's segments in order. A segment is
  `action[+upper][:expression][@seconds]`: "walk+wave" is walking while waving, ":sad" the face
  it shows, "@2" that it lasts 2 s (within 0.05 s). Alternatives are separated by "|"
  ("punch|fight_stance"). The expression compared is the one the face shows: the prompt's
  emotion, else the action's own (a segment without ":..." expects the action's own face).
  Plain idle segments (standing, nothing said or layered) are left out on both sides, unless the
  plan is nothing but idle. Figures may come in any order.
- `understood` (optional): whether the engine should report understanding anything; nonsense
  prompts expect false. Without it, the report must say something was understood unless the
  expected plan is only idle.
- `together` (optional): the first two figures face each other, the left one facing right.
- `seat` (optional): whether the first figure's first sitting or lying segment is on something
  raised (a chair, bench, bed...) rather than on the ground.
- `category`, `note` (optional): free text, used to group the results.

`check_suite` parses every prompt and returns per-prompt verdicts and the share that passed.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from stickgen.errors import StickGenError
from stickgen.schema import ACTION_SPECS, ActionSegment, ActionType, FacialExpression, Scene

SECONDS_TOLERANCE = 0.05
NEUTRAL = FacialExpression.NEUTRAL


@dataclass(frozen=True)
class Expected:
    """One expected segment: alternatives for the action, upper layer, face and length."""

    actions: frozenset[ActionType]
    upper: frozenset[ActionType | None]
    expression: frozenset[FacialExpression] | None  # None: the action's own face
    seconds: float | None = None
    text: str = ""

    @property
    def idle(self) -> bool:
        return self.actions == {ActionType.IDLE} and self.upper == {None}


@dataclass
class Case:
    prompt: str
    actors: list[list[Expected]]
    understood: bool | str | None = "default"  # None: not checked
    together: bool = False
    seat: bool | None = None
    category: str = ""
    line: int = 0


@dataclass
class Verdict:
    case: Case
    passed: bool
    reasons: list[str] = field(default_factory=list)
    got: str = ""
    understood: bool = True


@dataclass
class SuiteResult:
    verdicts: list[Verdict]
    seconds: float

    @property
    def passed(self) -> int:
        return sum(v.passed for v in self.verdicts)

    @property
    def share(self) -> float:
        return self.passed / len(self.verdicts) if self.verdicts else 0.0

    def by_category(self) -> dict[str, tuple[int, int]]:
        out: dict[str, tuple[int, int]] = {}
        for v in self.verdicts:
            done, total = out.get(v.case.category, (0, 0))
            out[v.case.category] = (done + v.passed, total + 1)
        return dict(sorted(out.items()))

    def nonsense(self) -> tuple[int, int]:
        """(flagged as not understood, count) over the prompts expected not to be understood."""
        cases = [v for v in self.verdicts if v.case.understood is False]
        return sum(not v.understood for v in cases), len(cases)


def _names(text: str, enum, what: str, line: int):
    out = set()
    for name in text.split("|"):
        name = name.strip().lower().replace(" ", "_").replace("-", "_")
        if what == "upper" and name in ("", "none"):
            out.add(None)
            continue
        try:
            out.add(enum[name.upper()])
        except KeyError:
            raise StickGenError(f"line {line}: {name!r} is not {what}") from None
    return frozenset(out)


def parse_segment(text: str, line: int = 0) -> Expected:
    """'walk+wave:happy@2' -> Expected."""
    body, _, seconds = text.partition("@")
    body, _, face = body.partition(":")
    main, _, upper = body.partition("+")
    try:
        length = float(seconds) if seconds else None
    except ValueError:
        raise StickGenError(f"line {line}: bad seconds in {text!r}") from None
    return Expected(
        actions=_names(main, ActionType, "an action", line),
        upper=_names(upper, ActionType, "upper", line) if upper else frozenset({None}),
        expression=_names(face, FacialExpression, "an expression", line) if face else None,
        seconds=length,
        text=text,
    )


def load_suite(path: str | Path) -> list[Case]:
    """The cases of a suite file (see the module docstring)."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise StickGenError(f"cannot read the suite {path}: {exc}") from None
    cases = []
    for number, raw in enumerate(lines, 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        try:
            item = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise StickGenError(f"{path} line {number}: not JSON ({exc.msg})") from None
        if not isinstance(item, dict) or "prompt" not in item or "actors" not in item:
            raise StickGenError(f"{path} line {number}: needs 'prompt' and 'actors'")
        actors = item["actors"]
        if not isinstance(actors, list) or not all(isinstance(a, list) for a in actors):
            raise StickGenError(f"{path} line {number}: 'actors' is a list of segment lists")
        cases.append(
            Case(
                prompt=str(item["prompt"]),
                actors=[[parse_segment(str(s), number) for s in actor] for actor in actors],
                understood=item.get("understood", "default"),
                together=bool(item.get("together", False)),
                seat=item.get("seat"),
                category=str(item.get("category", "")),
                line=number,
            )
        )
    if not cases:
        raise StickGenError(f"{path} holds no prompts")
    return cases


def shown_expression(seg: ActionSegment) -> FacialExpression:
    """The face a segment shows (`stickgen.face` rules): the prompt's emotion, else the main
    action's own, else (when that is neutral) a layered action's."""
    if seg.expression is not None:
        return seg.expression
    own = ACTION_SPECS[seg.action].expression
    if own is NEUTRAL and seg.upper is not None:
        return ACTION_SPECS[seg.upper].expression
    return own


def _plain_idle(seg: ActionSegment) -> bool:
    return seg.action is ActionType.IDLE and seg.upper is None and seg.speech is None


def _shown(segments: list[ActionSegment]) -> list[ActionSegment]:
    kept = [s for s in segments if not _plain_idle(s)]
    return kept or segments[:1]


def _expected(segments: list[Expected]) -> list[Expected]:
    kept = [s for s in segments if not s.idle]
    return kept or segments[:1]


def _segment_ok(want: Expected, got: ActionSegment) -> bool:
    if got.action not in want.actions or got.upper not in want.upper:
        return False
    face = shown_expression(got)
    if want.expression is None:
        if face != shown_expression(replace(got, expression=None)):
            return False
    elif face not in want.expression:
        return False
    return want.seconds is None or abs(got.duration - want.seconds) <= SECONDS_TOLERANCE


def _actor_ok(want: list[Expected], got: list[ActionSegment]) -> bool:
    want, got = _expected(want), _shown(got)
    return len(want) == len(got) and all(_segment_ok(w, g) for w, g in zip(want, got, strict=True))


def describe_plan(scene: Scene) -> str:
    """The plan in the suite's notation: 'walk+wave:happy | idle'."""
    actors = []
    for actor in scene.actors:
        parts = []
        for seg in _shown(actor.segments):
            text = seg.action.name.lower()
            if seg.upper is not None:
                text += f"+{seg.upper.name.lower()}"
            face = shown_expression(seg)
            if face is not shown_expression(replace(seg, expression=None)):
                text += f":{face.name.lower()}"
            parts.append(text)
        actors.append(", ".join(parts))
    return " | ".join(actors)


def judge(case: Case, scene: Scene) -> Verdict:
    """Whether `scene` is the plan `case` expects, and why not."""
    reasons = []
    got = [a.segments for a in scene.actors]
    if len(got) != len(case.actors):
        reasons.append(f"{len(got)} figures, expected {len(case.actors)}")
    elif not any(
        all(_actor_ok(w, g) for w, g in zip(case.actors, perm, strict=True))
        for perm in itertools.permutations(got)
    ):
        wanted = " | ".join(", ".join(s.text for s in actor) for actor in case.actors)
        reasons.append(f"plan differs (expected {wanted})")
    report = scene.understanding
    understood = report.understood if report is not None else True
    all_idle = all(s.idle for actor in case.actors for s in actor)
    default = None if all_idle else True
    expect = default if case.understood == "default" else case.understood  # None: not checked
    if expect is not None and understood != expect:
        reasons.append("understood" if understood else "not understood")
    if case.seat is not None:
        resting = [
            s for s in scene.actors[0].segments if s.action in (ActionType.SIT, ActionType.LIE_DOWN)
        ]
        raised = bool(resting) and resting[0].support > 0
        if not resting or raised != case.seat:
            reasons.append("on a seat" if raised else "not on a seat")
    if case.together and len(scene.actors) >= 2:
        a, b = sorted(scene.actors[:2], key=lambda actor: actor.start_x)
        if not (a.facing == 1 and b.facing == -1):
            reasons.append("the two do not face each other")
    return Verdict(case, not reasons, reasons, describe_plan(scene), understood)


def check_suite(
    cases: Iterable[Case],
    parse: Callable[[str], Scene] | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> SuiteResult:
    """Parse every case's prompt and judge the plan."""
    if parse is None:
        from stickgen.story import parse_prompt

        parse = parse_prompt
    cases = list(cases)
    verdicts = []
    start = time.perf_counter()
    for i, case in enumerate(cases):
        try:
            scene = parse(case.prompt)
        except StickGenError as exc:
            verdicts.append(Verdict(case, False, [f"error: {exc}"]))
        else:
            verdicts.append(judge(case, scene))
        if progress is not None:
            progress(i + 1, len(cases), "parsing")
    return SuiteResult(verdicts, time.perf_counter() - start)
