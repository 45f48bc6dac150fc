"""Story engine parsing speed: the rule path and the meaning path, per prompt (run by hand).

    .venv/bin/python benchmarks/parse.py [--suite tests/data/story_dev.jsonl] [--repeats 5]

Rule path: prompts the rules read completely (the sampler's descriptions, and the development
suite's prompts that leave nothing unknown), parsed with `meaning=False` so no text model is
involved. Meaning path: the suite's prompts whose leftovers go to the text embedder, parsed once
the embedder is loaded; the first pass embeds each leftover (its cost is what a new prompt pays),
the later passes hit the reader's cache and are reported apart. Goals: rule path under 2 ms, meaning
path under 30 ms per prompt.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from stickgen.story import parse_prompt, sample_scene
from stickgen.story.check import load_suite
from stickgen.story.grammar import read_tokens
from stickgen.story.lexer import tokenize
from stickgen.story.meaning import find_candidates, reader

RULE_GOAL_MS = 2.0
MEANING_GOAL_MS = 30.0


def _per_prompt(prompts: list[str], repeats: int, **kwargs) -> list[float]:
    """Milliseconds per prompt for each pass over `prompts`."""
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        for prompt in prompts:
            parse_prompt(prompt, **kwargs)
        out.append(1000 * (time.perf_counter() - start) / len(prompts))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", type=Path, default=Path("tests/data/story_dev.jsonl"))
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    sampled = [sample_scene(rng).description for _ in range(1000)]
    suite = [case.prompt for case in load_suite(args.suite)]
    leftovers = [p for p in suite if find_candidates(read_tokens(tokenize(p)))]
    plain = [p for p in suite if p not in leftovers]

    rules = _per_prompt(sampled + plain, args.repeats, meaning=False)
    start = time.perf_counter()
    reader()
    load = time.perf_counter() - start
    first = _per_prompt(leftovers, 1)[0]
    cached = _per_prompt(leftovers, args.repeats)

    rule_ms = statistics.median(rules)
    verdict = "met" if rule_ms < RULE_GOAL_MS else "NOT met"
    print(f"rule path:    {rule_ms:.3f} ms per prompt ({len(sampled) + len(plain)} prompts, "
          f"median of {args.repeats} passes); goal < {RULE_GOAL_MS} ms: "
          f"{verdict} ({RULE_GOAL_MS / rule_ms:.0f}x under)")  # fmt: skip
    print(f"text model:   loaded in {load:.2f} s (once per process)")
    print(f"meaning path: {first:.1f} ms per prompt on first sight ({len(leftovers)} prompts with "
          f"leftovers), {statistics.median(cached):.2f} ms when the leftovers were seen before; "
          f"goal < {MEANING_GOAL_MS} ms: {'met' if first < MEANING_GOAL_MS else 'NOT met'} "
          f"({MEANING_GOAL_MS / first:.1f}x under)")  # fmt: skip


if __name__ == "__main__":
    main()
