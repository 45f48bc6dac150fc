"""The story engine: prompts become Scene plans, and a sampler invents varied scenes to train on.

`parse_prompt(prompt, duration=None) -> Scene` reads a prompt; `sample_scene(rng, duration=10.0,
theme=None) -> Scene` invents a scene and its description; `THEMES` names the sampler's themes.
"""

from stickgen.schema import MAX_DURATION
from stickgen.story.parse import MAX_PROMPT_CHARS, parse_prompt
from stickgen.story.sampler import sample_scene
from stickgen.story.themes import THEMES
from stickgen.story.timing import DEFAULT_DURATION

VERSION = "2"  # bump when sampled scenes or parses change for the same input

__all__ = [
    "DEFAULT_DURATION",
    "MAX_DURATION",
    "MAX_PROMPT_CHARS",
    "THEMES",
    "VERSION",
    "parse_prompt",
    "sample_scene",
]
