"""Descriptions for imported motion: a caption file beside the motion, else the file name.

* HumanML3D: ``texts/<id>.txt`` (beside the motion folder) or ``<id>.txt`` beside the motion,
  one caption per line as ``caption#tokens#from#to`` (seconds; 0 0 = the whole motion).
* BABEL-style: ``<id>.json`` beside the motion with ``seq_ann`` / ``frame_ann`` ``labels``, each
  ``{"raw_label" or "proc_label", "start_t", "end_t"}`` (seconds; no times = the whole motion).
* Otherwise the file and folder names: "walk_run_01.bvh" -> "a person walks and runs".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stickgen.schema import ActionType


@dataclass(frozen=True)
class Caption:
    """One text about a recording; `start`/`end` in seconds, None = the whole recording."""

    text: str
    start: float | None = None
    end: float | None = None

    def overlaps(self, start: float, end: float) -> bool:
        if self.start is None or self.end is None:
            return True
        return self.start < end and self.end > start


def _humanml3d(path: Path) -> list[Caption]:
    captions = []
    for line in path.read_text(errors="replace").splitlines():
        parts = line.strip().split("#")
        if not parts[0].strip():
            continue
        start = end = None
        if len(parts) >= 4:
            try:
                start, end = float(parts[2]), float(parts[3])
            except ValueError:
                start = end = None
            if start is not None and end is not None and (end <= start or end == 0.0):
                start = end = None
        captions.append(Caption(_sentence(parts[0]), start, end))
    return captions


def _babel(path: Path) -> list[Caption]:
    try:
        data = json.loads(path.read_text(errors="replace"))
    except json.JSONDecodeError:
        return []
    if not isinstance(data, dict):
        return []
    captions = []
    for key in ("frame_ann", "seq_ann"):
        block = data.get(key) or {}
        for label in block.get("labels", []) if isinstance(block, dict) else []:
            text = label.get("raw_label") or label.get("proc_label")
            if not text:
                continue
            start, end = label.get("start_t"), label.get("end_t")
            timed = key == "frame_ann" and start is not None and end is not None
            captions.append(
                Caption(
                    _sentence(text), float(start) if timed else None, float(end) if timed else None
                )
            )
    return captions


def _sentence(text: str) -> str:
    text = " ".join(text.strip().split())
    return text[:1].lower() + text[1:] if text[:2].lower() in ("a ", "th") else text


def captions_for(motion_path: Path) -> list[Caption]:
    """Captions from a HumanML3D or BABEL-style file beside `motion_path` (empty if none)."""
    stem = motion_path.stem
    for candidate in (
        motion_path.with_suffix(".txt"),
        motion_path.parent.parent / "texts" / f"{stem}.txt",
    ):
        if candidate.is_file():
            captions = _humanml3d(candidate)
            if captions:
                return captions
    babel = motion_path.with_name(f"{stem}.json")
    if motion_path.suffix.lower() != ".json" and babel.is_file():
        return _babel(babel)
    return []


def choose_caption(
    captions: list[Caption], start: float, end: float, rng: np.random.Generator
) -> str | None:
    """A caption that applies to the clip `[start, end)` seconds; timed ones first."""
    timed = [c for c in captions if c.start is not None and c.overlaps(start, end)]
    whole = [c for c in captions if c.start is None]
    pool = timed or whole
    if not pool:
        return None
    return pool[int(rng.integers(len(pool)))].text


def verb_table() -> dict[str, tuple[str, ActionType]]:
    """word form (base, -s, -ing, past) -> (third person, action) for one-word verbs."""
    try:
        from stickgen.story.vocabulary import VERB_PHRASES, conjugate
    except ImportError:
        VERB_PHRASES = {a: (a.name.lower().replace("_", " "),) for a in ActionType}

        def conjugate(base: str) -> tuple[str, str, str]:
            return (
                base + ("es" if base.endswith(("s", "sh", "ch")) else "s"),
                base + "ing",
                base + "ed",
            )

    table: dict[str, tuple[str, ActionType]] = {}
    for action, phrases in VERB_PHRASES.items():
        for phrase in phrases:
            if " " in phrase or phrase.startswith("="):
                continue
            forms = conjugate(phrase)
            for form in (phrase, *forms):
                table.setdefault(form, (forms[0], action))
    return table


_EXTRA_VERBS = {
    "crouch": "crouches",
    "squat": "squats",
    "turn": "turns",
    "fall": "falls",
    "roll": "rolls",
}


def _words(name: str) -> list[str]:
    name = re.sub(r"([a-z])([A-Z])", r"\1 \2", name)
    return [w for w in re.split(r"[^a-zA-Z]+", name.lower()) if w]


def description_from_name(path: Path) -> str | None:
    """ "walk_run_01.bvh" -> "a person walks and runs"; None when the names hold no verb."""
    table = verb_table()
    verbs: list[str] = []
    for word in _words(path.stem) + _words(path.parent.name):
        third = table[word][0] if word in table else _EXTRA_VERBS.get(word)
        if third is None and word.endswith("ing") and word[:-3] in _EXTRA_VERBS:
            third = _EXTRA_VERBS[word[:-3]]
        if third and third not in verbs:
            verbs.append(third)
    if not verbs:
        return None
    listed = verbs[0] if len(verbs) == 1 else ", ".join(verbs[:-1]) + " and " + verbs[-1]
    return f"a person {listed}"


def _action_verbs() -> dict[ActionType, str]:
    """Third-person verb phrase per action: "looks around", "walks"."""
    try:
        from stickgen.story.vocabulary import VERB_PHRASES, third_person
    except ImportError:
        return {}
    return {a: third_person(p[0]) for a, p in VERB_PHRASES.items() if p and a != ActionType.IDLE}


def description_from_actions(actions: np.ndarray, fps: int = 25) -> str:
    """ "a person walks, then sits" from a label track, in order of first appearance; actions
    on fewer than one second of frames are left out."""
    verbs = {ActionType.IDLE: "stands still", **_action_verbs()}
    names = []
    values, starts = np.unique(actions, return_index=True)
    counts = np.bincount(actions, minlength=len(ActionType))
    for value in values[np.argsort(starts)]:
        if counts[value] < fps and len(values) > 1:
            continue
        action = ActionType(int(value))
        names.append(verbs.get(action, action.name.lower().replace("_", " ")))
    if not names:
        return "a person moves"
    return "a person " + ", then ".join(dict.fromkeys(names))
