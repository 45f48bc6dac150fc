"""The procedural motion engine: a scene plan in, the 5-segment figure's motion out.

`synthesize(scene)` animates one actor; `synthesize_batch(scenes)` animates actor 0 of many
scenes of equal length at once (vectorised over clips and frames: the dataset generator's path).
"""

from stickgen.motion.engine import synthesize, synthesize_batch

__all__ = ["synthesize", "synthesize_batch"]
