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
import os
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


def _per_prompt(prompts: list[str], repeats: int, **kwargs) -> list[tuple[float, float]]:
    """(wall, CPU) milliseconds per prompt for each pass over `prompts`. The CPU time is what the
    parse itself costs (the reader embeds on one thread); the wall time also counts the time other
    jobs on a shared machine hold the cores."""
    out = []
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        for prompt in prompts:
            parse_prompt(prompt, **kwargs)
        wall_ms = 1000 * (time.perf_counter() - start) / len(prompts)
        out.append((wall_ms, 1000 * (time.process_time() - cpu) / len(prompts)))
    return out


def _median(passes: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(p[0] for p in passes), statistics.median(p[1] for p in passes)


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
    first_pass = _per_prompt(leftovers, 1)
    cached = _per_prompt(leftovers, args.repeats)

    (rule_ms, rule_cpu), (first, first_cpu) = _median(rules), _median(first_pass)
    cached_ms, _ = _median(cached)
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (wall times grow "
          "with it; CPU times are this process's own)")  # fmt: skip
    print(
        f"rule path:    {rule_ms:.3f} ms per prompt wall, {rule_cpu:.3f} ms CPU "
        f"({len(sampled) + len(plain)} prompts, median of {args.repeats} passes); "
        f"goal < {RULE_GOAL_MS} ms: {'met' if rule_ms < RULE_GOAL_MS else 'NOT met'}"
    )
    print(f"text model:   loaded in {load:.2f} s (once per process)")
    print(f"meaning path: {first:.1f} ms per prompt wall, {first_cpu:.1f} ms CPU on first sight "
          f"({len(leftovers)} prompts with leftovers), {cached_ms:.2f} ms when the leftovers were "
          f"seen before; goal < {MEANING_GOAL_MS} ms: "
          f"{'met' if first < MEANING_GOAL_MS else 'NOT met'} (wall), "
          f"{'met' if first_cpu < MEANING_GOAL_MS else 'NOT met'} (CPU)")  # fmt: skip


if __name__ == "__main__":
    main()
