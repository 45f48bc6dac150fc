"""Sampling speed of the learned model (run by hand): model time for one 10 s clip at batch 1
(after load) and clips/s at batch 32, for the 20-step guided DDIM sampler and distilled ones.

Side by side, in one run, on the same weights (a freshly initialised preset: the time does not
depend on what the weights learnt, and a distilled model has its teacher's architecture):

- every pass:  the conditioning (plan embedding and timing, text MLP) recomputed in each of the
               20 x 2 guided passes, as the model sampled before `condition` / `denoise`
- cached:      the conditioning computed once per request (`StickGenModel.generate`)
- cached bf16: the same under bf16 autocast (only where the device runs bf16 natively)
- distilled N: a distilled model's sampler (`stickgen.train.distill`): N steps of one unguided
               pass each, the conditioning cached

Prints median milliseconds per clip at batch 1, clips/s at batch 32, and each ratio to "every
pass".

`--device cuda` times the same on a GPU (each timing ends with a synchronize; "cached bf16"
where the GPU runs bf16).

    .venv/bin/python benchmarks/sample.py [--preset small] [--threads N] [--repeats 5] [--device D]
"""

from __future__ import annotations

import argparse
import time


def _every_pass(model, text, plan, noise, steps):
    """DDIM with guidance where each pass runs the whole network, conditioning included."""
    import torch

    from stickgen import diffusion
    from stickgen.diffusion import GUIDANCE, Guidance
    from stickgen.model import motion_features

    guidance = Guidance.of(GUIDANCE)
    batch = text.shape[0]
    texts, plans = torch.cat([text, text]), torch.cat([plan, torch.full_like(plan, model.no_plan)])
    drop = torch.arange(2 * batch, device=text.device) >= batch  # the second half: no text

    def denoise(noisy, t):
        outputs = model(noisy.repeat(2, 1, 1), t.repeat(2), texts, plans, drop)
        outputs = {k: guidance.combine(v.chunk(2)) for k, v in outputs.items()}
        return motion_features(outputs), outputs

    return diffusion.sample(denoise, noise, steps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="small")
    parser.add_argument("--text-dim", type=int, default=384)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    args = parser.parse_args()

    import torch

    from stickgen.compute import autocast, available_cores, resolve_device, resolve_precision
    from stickgen.diffusion import UNGUIDED
    from stickgen.model import build_model, preset_config
    from stickgen.schema import CLIP_FRAMES, NUM_ACTIONS

    torch.set_num_threads(args.threads or available_cores())
    device = resolve_device(args.device)
    model = build_model(preset_config(args.preset, args.text_dim)).eval().to(device)
    native = resolve_precision("auto", device)
    gen = torch.Generator().manual_seed(0)

    def inputs(batch: int):
        text = torch.randn(batch, args.text_dim, generator=gen)
        plan = torch.randint(0, NUM_ACTIONS, (batch, CLIP_FRAMES), generator=gen)
        noise = torch.randn(model.noise_shape(batch, CLIP_FRAMES), generator=gen)
        return text.to(device), plan.to(device), noise.to(device)

    def finished() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    ways = {
        "every pass": lambda t, p, n: _every_pass(model, t, p, n, args.steps),
        "cached": lambda t, p, n: model.generate(t, p, noise=n, steps=args.steps),
    }
    if native == "bf16":

        def cached_bf16(t, p, n):
            with autocast(device, "bf16"):
                return model.generate(t, p, noise=n, steps=args.steps)

        ways["cached bf16"] = cached_bf16
    for steps in (4, 2, 1):
        ways[f"distilled {steps}"] = lambda t, p, n, steps=steps: model.generate(
            t, p, noise=n, steps=steps, guidance=UNGUIDED
        )

    print(
        f"{args.preset} preset, {args.steps} DDIM steps x 2 guided passes, 10 s clips "
        f"({CLIP_FRAMES} frames), "
        + (str(device) if device.type == "cuda" else f"{torch.get_num_threads()} threads")
    )
    baseline: dict[int, float] = {}
    for name, run in ways.items():
        row = []
        for batch in (1, 32):
            text, plan, noise = inputs(batch)
            with torch.inference_mode():
                run(text, plan, noise)  # warm-up
                finished()
                times = []
                for _ in range(args.repeats if batch == 1 else max(2, args.repeats // 2)):
                    start = time.perf_counter()
                    run(text, plan, noise)
                    finished()
                    times.append(time.perf_counter() - start)
            seconds = sorted(times)[len(times) // 2]
            baseline.setdefault(batch, seconds)
            ratio = baseline[batch] / seconds
            if batch == 1:
                row.append(f"{seconds * 1000:7.0f} ms per clip at batch 1 ({ratio:.2f}x)")
            else:
                row.append(f"{batch / seconds:6.1f} clips/s at batch 32 ({ratio:.2f}x)")
        print(f"  {name:>12}: " + "; ".join(row), flush=True)


if __name__ == "__main__":
    main()
