"""Stills of two-person scenes and of sitting and lying on things, drawn by the project's renderer.

    .venv/bin/python docs/make_story_frames.py

Writes docs/two-people.png and docs/seats.png: one row per prompt (procedural engine, canonical
style), one column per time in seconds.
"""

from __future__ import annotations

from pathlib import Path

import cv2

from stickgen.animate import make_animation
from stickgen.render import scene_furniture
from stickgen.render_panels import Panel, panel_stills
from stickgen.schema import FPS

HERE = Path(__file__).parent
TWO_PEOPLE = [
    ("Two people shake hands", (0.2, 1.0, 1.6, 2.4)),
    ("A man and a woman hug", (0.1, 1.0, 2.0, 3.0)),
    ("The two friends give each other a high five", (0.1, 0.5, 0.8, 1.4)),
    ("Sam throws the ball to Alex", (0.1, 0.5, 0.8, 1.1)),
    ("two boxers fight", (0.3, 1.0, 5.3, 6.0)),
    ("The man walks up to his friend and shakes his hand", (0.0, 1.5, 3.0, 3.8)),
]
SEATS = [
    ("A man waits, then sits down on a bench", (2.0, 4.7, 5.3, 8.0)),
    ("A man waits, then sits down on the floor", (2.0, 4.7, 5.3, 8.0)),
    ("She walks to the sofa and sits down", (2.0, 4.7, 5.3, 8.0)),
    ("He sits on a bar stool", (0.3, 1.5, 3.0, 6.0)),
    ("Grandpa sits in his armchair and reads", (0.3, 1.5, 3.0, 6.0)),
    ("She waits, then lies down on the bed", (2.0, 4.5, 5.3, 8.0)),
    ("She waits, then lies down on the grass", (2.0, 4.5, 5.3, 8.0)),
]


def sheet(rows: list[tuple[str, tuple[float, ...]]], path: Path, size: int = 224) -> Path:
    strips = []
    for prompt, times in rows:
        animation = make_animation(prompt)
        panel = Panel(
            animation.motion(),
            prompt,
            animation.face(),
            [a.facing for a in animation.scene.actors],
            scene_furniture(animation.scene, animation.fps),
        )
        strips.append(panel_stills([panel], [round(t * FPS) for t in times], size, size))
        print(f"{prompt}: {animation.summary()}")
    width = max(s.shape[1] for s in strips)
    import numpy as np

    padded = [
        np.pad(s, ((0, 0), (0, width - s.shape[1]), (0, 0)), constant_values=255) for s in strips
    ]
    cv2.imwrite(str(path), cv2.cvtColor(np.concatenate(padded, axis=0), cv2.COLOR_RGB2BGR))
    return path


if __name__ == "__main__":
    print(sheet(TWO_PEOPLE, HERE / "two-people.png"))
    print(sheet(SEATS, HERE / "seats.png"))
