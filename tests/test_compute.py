"""Where and how training runs: device and precision choices, bf16 against fp32, data-parallel
processes against one, stopping and killing ranks, the background batch reader."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch
from children import writer_mid_write
from tiny_motion_data import embed_tiny_dataset, write_tiny_dataset

from stickgen import compute
from stickgen.errors import Cancelled, StickGenError
from stickgen.train import TrainConfig, load_checkpoint, train
from stickgen.train.batches import prefetch
from stickgen.train.distributed import Ranks

TINY = dict(preset="tiny", batch_size=8, lr=3e-3, warmup_epochs=1, checkpoint_every=1)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory, text_model_path):
    path = write_tiny_dataset(tmp_path_factory.mktemp("data") / "tiny", frames=50)
    return embed_tiny_dataset(path, text_model_path)


# ---- device and precision -----------------------------------------------------------------


def test_device_choices_and_refusals(monkeypatch):
    assert compute.resolve_device("cpu") == torch.device("cpu")
    for bad in ("tpu", "cuda:x", "gpu0"):
        with pytest.raises(StickGenError, match="unknown device"):
            compute.resolve_device(bad)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert compute.resolve_device("auto") == torch.device("cpu")
    with pytest.raises(StickGenError, match="no usable CUDA GPU"):
        compute.resolve_device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert compute.resolve_device("auto") == torch.device("cuda")
    assert compute.resolve_device("CUDA:1") == torch.device("cuda", 1)
    with pytest.raises(StickGenError, match="has 2 GPU"):
        compute.resolve_device("cuda:2")


def test_auto_precision_is_bf16_only_where_it_is_native(monkeypatch):
    cpu = torch.device("cpu")
    assert compute.resolve_precision("fp32", cpu) == "fp32"
    assert compute.resolve_precision("bf16", cpu) == "bf16"  # asked for: emulated if need be
    with pytest.raises(StickGenError, match="unknown precision"):
        compute.resolve_precision("fp16", cpu)
    monkeypatch.setattr(compute, "_cpu_flags", lambda: frozenset())
    assert compute.resolve_precision("auto", cpu) == "fp32"
    monkeypatch.setattr(compute, "_cpu_flags", lambda: frozenset({"avx512_bf16"}))
    assert compute.resolve_precision("auto", cpu) == "bf16"
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: False)
    assert compute.resolve_precision("auto", torch.device("cuda")) == "fp32"


def test_bf16_where_it_is_emulated_is_named_and_the_cli_warns(monkeypatch, tmp_path):
    from typer.testing import CliRunner

    import stickgen.cli.train  # noqa: F401  (registers the command)
    from stickgen.cli.app import app

    cpu = torch.device("cpu")
    monkeypatch.setattr(compute, "_cpu_flags", lambda: frozenset())  # an AVX2-only CPU
    assert compute.emulated_bf16("bf16", cpu) and not compute.emulated_bf16("fp32", cpu)
    args = ["train", str(tmp_path / "missing"), "--device", "cpu"]
    result = CliRunner().invoke(app, [*args, "--precision", "bf16"])
    assert result.exit_code != 0  # no dataset there
    assert "does not run bf16 natively" in result.output
    assert "does not run bf16" not in CliRunner().invoke(app, [*args, "--precision", "auto"]).output
    monkeypatch.setattr(compute, "_cpu_flags", lambda: frozenset({"amx_bf16"}))
    assert not compute.emulated_bf16("bf16", cpu)
    assert "does not run bf16" not in CliRunner().invoke(app, [*args, "--precision", "bf16"]).output


def test_bf16_autocast_computes_matmuls_in_bf16_and_fp32_leaves_them():
    x, w = torch.randn(4, 8), torch.randn(8, 8)
    cpu = torch.device("cpu")
    with compute.autocast(cpu, "bf16"):
        assert (x @ w).dtype == torch.bfloat16
    with compute.autocast(cpu, "fp32"):
        assert (x @ w).dtype == torch.float32


def _attention_ops(precision: str) -> set[str]:
    """The ops one CPU attention call runs under `compute.autocast(cpu, precision)`."""
    from torch.profiler import ProfilerActivity, profile

    q = torch.randn(2, 4, 51, 16)
    cpu = torch.device("cpu")
    with profile(activities=[ProfilerActivity.CPU]) as prof, compute.autocast(cpu, precision):
        torch.nn.functional.scaled_dot_product_attention(q, q, q)
    return {event.key for event in prof.key_averages()}


def test_bf16_attention_on_a_cpu_runs_the_math_kernel_not_the_fused_one():
    """The fused kernel's bf16 backward is 3-4x slower for short sequences (AMX or not)."""
    fused = "aten::_scaled_dot_product_flash_attention_for_cpu"
    assert fused in _attention_ops("fp32")
    bf16 = _attention_ops("bf16")
    assert fused not in bf16 and "aten::_scaled_dot_product_attention_math" in bf16


def test_a_checkpoint_loads_on_the_cpu_whatever_device_wrote_it(dataset, tmp_path):
    """Checkpoints are read with map_location='cpu': model and optimizer state come back as CPU
    tensors, whichever device wrote them."""
    result = train(dataset, tmp_path / "run", TrainConfig(epochs=1, **TINY), threads=1)
    payload = load_checkpoint(result.last_checkpoint)
    tensors = [v for v in payload["model"].values()]
    for state in payload["optimizer"]["state"].values():
        tensors += [v for v in state.values() if isinstance(v, torch.Tensor)]
    assert tensors and all(t.device.type == "cpu" for t in tensors)


# ---- bf16 against fp32; resume -------------------------------------------------------------


def test_a_bf16_run_follows_the_fp32_loss_curve(dataset, tmp_path):
    """Same data, draws and steps: each epoch's training loss within 5% of fp32's, and both fall
    by more than that (so the tolerance is not trivially met)."""
    curves = {}
    for precision in ("fp32", "bf16"):
        config = TrainConfig(epochs=6, precision=precision, **TINY)
        result = train(dataset, tmp_path / precision, config, threads=1)
        curves[precision] = [row["train_loss"] for row in result.history]
        assert load_checkpoint(result.last_checkpoint)["config"]["train"]["precision"] == precision
    for fp32, bf16 in zip(curves["fp32"], curves["bf16"], strict=True):
        assert bf16 == pytest.approx(fp32, rel=0.05)
    assert curves["fp32"][-1] < 0.8 * curves["fp32"][0]
    assert curves["bf16"] != curves["fp32"]  # it really ran in another precision


def test_resume_refuses_another_precision_and_auto_keeps_the_runs(dataset, tmp_path):
    out = tmp_path / "run"
    train(dataset, out, TrainConfig(epochs=1, precision="fp32", **TINY), threads=1)
    with pytest.raises(StickGenError, match=r"precision='fp32' \(now 'bf16'\)"):
        train(dataset, out, TrainConfig(epochs=2, precision="bf16", **TINY), resume=True)
    resumed = train(dataset, out, TrainConfig(epochs=2, **TINY), resume=True, threads=1)
    assert resumed.epochs_completed == 2
    assert load_checkpoint(resumed.last_checkpoint)["config"]["train"]["precision"] == "fp32"


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_resume_is_exact_within_a_precision(dataset, tmp_path, precision):
    config = TrainConfig(epochs=2, accumulate=2, batch_size=4, precision=precision, **{
        k: v for k, v in TINY.items() if k != "batch_size"
    })  # fmt: skip
    straight = train(dataset, tmp_path / "a", config, threads=1)
    calls = {"n": 0}

    def stop_midway() -> bool:
        calls["n"] += 1
        return calls["n"] == 6

    with pytest.raises(Cancelled):
        train(dataset, tmp_path / "b", config, threads=1, should_stop=stop_midway)
    resumed = train(dataset, tmp_path / "b", config, threads=1, resume=True)
    a, b = (load_checkpoint(r.last_checkpoint)["model"] for r in (straight, resumed))
    assert all(torch.equal(a[k], b[k]) for k in a)


# ---- data parallel ---------------------------------------------------------------------------


def test_two_processes_match_one_with_the_same_global_batch(dataset, tmp_path):
    """DDP over gloo on loopback: both ranks hold the same weights after every epoch
    (weights_spread 0), and the result matches one process to 1e-4 in every weight (float
    sums in another order), with the same loss history."""
    config = TrainConfig(epochs=2, accumulate=2, precision="fp32", **{
        k: v for k, v in TINY.items()
    })  # fmt: skip
    one = train(dataset, tmp_path / "one", config, threads=1)
    seen: list[tuple[int, int, str]] = []
    two = train(dataset, tmp_path / "two", config, nproc=2, threads=1,
                progress=lambda *args: seen.append(args))  # fmt: skip
    assert [row["weights_spread"] for row in two.history] == [0.0, 0.0]
    a, b = (load_checkpoint(r.last_checkpoint) for r in (one, two))
    assert a["step"] == b["step"] == one.steps
    worst = max(float((a["model"][k] - b["model"][k]).abs().max()) for k in a["model"])
    assert worst < 1e-4
    for ra, rb in zip(one.history, two.history, strict=True):
        assert rb["train_loss"] == pytest.approx(ra["train_loss"], rel=1e-4)
        assert rb["val_loss"] == pytest.approx(ra["val_loss"], rel=1e-4)
    assert seen and seen[-1][0] == seen[-1][1] == one.steps  # rank 0's progress came through


def _rank_pids(rank: int) -> list[int]:
    """Processes of this machine running a training rank `rank` under the launcher."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes()
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"stickgen.train.distributed" in command and f"RANK={rank}".encode() in environ:
            found.append(int(entry.name))
    return found


def test_killing_a_rank_leaves_a_resumable_checkpoint(dataset, tmp_path):
    out = tmp_path / "run"
    config = TrainConfig(epochs=40, precision="fp32", **TINY)
    epochs_seen = threading.Event()

    def progress(done: int, total: int, message: str) -> None:
        if message.startswith("epoch 2/"):
            epochs_seen.set()

    errors: list[BaseException] = []

    def run() -> None:
        try:
            train(dataset, out, config, nproc=2, threads=1, progress=progress)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    assert epochs_seen.wait(120), "the run never reached its second epoch"
    victims = _rank_pids(1)
    assert victims
    for pid in victims:
        os.kill(pid, signal.SIGKILL)
    thread.join(120)
    assert not thread.is_alive() and errors and isinstance(errors[0], StickGenError)
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
    saved = load_checkpoint(out / "last.pt")  # whole and readable
    assert 1 <= saved["epoch"] < 40
    resumed = train(dataset, out, TrainConfig(epochs=saved["epoch"] + 1, **TINY),
                    resume=True, threads=1)  # fmt: skip
    assert resumed.epochs_completed == saved["epoch"] + 1


def test_a_rank_told_to_stop_by_its_launcher_removes_the_file_it_was_writing(tmp_path):
    """The launcher stops the surviving ranks with SIGTERM when one dies."""
    target = tmp_path / "last.pt"
    target.write_bytes(b"old")
    prelude = (
        "import signal\nfrom stickgen.train.distributed import _leave\n"
        "signal.signal(signal.SIGTERM, _leave)"
    )
    child = writer_mid_write(target, prelude)
    child.terminate()
    assert child.wait(20) == 128 + signal.SIGTERM
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]
    assert target.read_bytes() == b"old"


def test_a_stop_request_reaches_every_rank(dataset, tmp_path):
    started = time.monotonic()
    with pytest.raises(Cancelled, match="training stopped"):
        train(dataset, tmp_path / "run", TrainConfig(epochs=50, **TINY), nproc=2, threads=1,
              should_stop=lambda: time.monotonic() - started > 8)  # fmt: skip
    saved = load_checkpoint(tmp_path / "run" / "last.pt")
    assert saved["step"] > 0 and saved["epoch"] < 50


def test_rank_shares_cover_each_batch_once():
    for rows in (1, 2, 7, 64):
        for world in (1, 2, 3):
            shares = [Ranks(r, world).share(rows) for r in range(world)]
            assert shares[0][0] == 0 and shares[-1][1] == rows
            assert all(a[1] == b[0] for a, b in itertools.pairwise(shares))
            assert max(b - a for a, b in shares) - min(b - a for a, b in shares) <= 1


def test_nproc_and_batch_refusals(dataset, tmp_path):
    with pytest.raises(StickGenError, match="nproc must be at least 1"):
        train(dataset, tmp_path / "a", TrainConfig(epochs=1, **TINY), nproc=0)
    with pytest.raises(StickGenError, match="smaller than the 2 processes"):
        train(dataset, tmp_path / "b", TrainConfig(epochs=1, **{**TINY, "batch_size": 1}),
              nproc=2, threads=1)  # fmt: skip


# ---- the background batch reader -----------------------------------------------------------


def test_prefetch_keeps_order_raises_errors_and_stops_early():
    assert list(prefetch(iter(range(20)), depth=3)) == list(range(20))

    def failing():
        yield 1
        raise StickGenError("broken batch")

    reader = prefetch(failing())
    assert next(reader) == 1
    with pytest.raises(StickGenError, match="broken batch"):
        next(reader)
    produced = []

    def endless():
        for i in range(10_000):
            produced.append(i)
            yield i

    reader = prefetch(endless(), depth=2)
    assert next(reader) == 0
    reader.close()  # the consumer stops: the producer must not run on
    time.sleep(0.1)
    assert len(produced) < 10


def test_stick_gen_train_under_torchrun_joins_the_launchers_group(dataset, tmp_path):
    """The README's several-machines command, on one machine: torchrun's own rendezvous around
    `python -m stickgen.cli train`; every rank joins the group and rank 0 writes the run."""

    out = tmp_path / "run"
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nnodes", "1", "--nproc-per-node", "2",
        "--rdzv-backend", "c10d", "--rdzv-endpoint", "127.0.0.1:0", "-m", "stickgen.cli",
        "train", str(dataset), "--out", str(out), "--preset", "tiny", "--epochs", "1",
        "--batch-size", "8", "--threads", "1", "--precision", "fp32",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    saved = load_checkpoint(out / "last.pt")
    assert saved["epoch"] == 1 and saved["metrics"]["weights_spread"] == 0.0
