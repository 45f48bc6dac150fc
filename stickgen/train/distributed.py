"""Data-parallel training with `torch.distributed`: the ranks of one run, and the launcher.

Every rank runs the same `train` loop on its share of each global batch (DistributedDataParallel
averages the gradients; gloo on CPU, NCCL on CUDA); rank 0 alone writes checkpoints and reports.
`launch` starts N local ranks through torch's elastic launcher (`python -m torch.distributed.run`,
what `torchrun` runs) and relays rank 0's progress and checkpoints to its caller through an
events file; a stop file asks the ranks to stop after their current step. Several machines: run
`torchrun` with its rendezvous options around `stick-gen train` (see the README); `train` then
joins the process group from the launcher's environment.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from stickgen.compute import available_cores
from stickgen.errors import Cancelled, StickGenError
from stickgen.progress import Progress
from stickgen.train.config import TrainConfig

POLL_S = 0.2


@dataclass(frozen=True)
class Share:
    """One rank's part of a global batch whose rows are in ascending order."""

    rows: np.ndarray  # the sample indices this rank reads
    start: int  # where they sit in the batch (a rank with no rows reads row 0 ...)
    stop: int
    weight: float  # ... with weight 0; else its share of the batch times the world size


@dataclass(frozen=True)
class Ranks:
    """This process's place in a run: rank r of `world` processes (1: no process group)."""

    rank: int = 0
    world: int = 1

    @property
    def main(self) -> bool:
        return self.rank == 0

    def share(self, rows: int) -> tuple[int, int]:
        """This rank's contiguous slice (start, stop) of `rows` rows (sizes differ by <= 1)."""
        bounds = np.linspace(0, rows, self.world + 1).round().astype(int)
        return int(bounds[self.rank]), int(bounds[self.rank + 1])

    def take(self, batch: np.ndarray) -> Share:
        """This rank's share of a global batch: scaling the share's mean loss by its weight makes
        the ranks' averaged gradients those of the whole batch's mean loss."""
        rows = np.sort(batch)
        start, stop = self.share(len(rows))
        weight = (stop - start) * self.world / len(rows)
        if stop == start:
            start, stop = 0, 1
        return Share(rows[start:stop], start, stop, weight)

    def sum(self, values: torch.Tensor) -> torch.Tensor:
        """Element-wise sum of `values` over the ranks (float64 on the CPU)."""
        if self.world == 1:
            return values
        return self._reduce(values, dist.ReduceOp.SUM)

    def spread(self, value: float) -> float:
        """Largest minus smallest of `value` over the ranks (0 in one process)."""
        if self.world == 1:
            return 0.0
        high, negated_low = self._reduce(torch.tensor([value, -value]), dist.ReduceOp.MAX)
        return float(high + negated_low)

    def _reduce(self, values: torch.Tensor, op: dist.ReduceOp) -> torch.Tensor:
        device = "cuda" if dist.get_backend() == "nccl" else "cpu"
        out = values.to(device=device, dtype=torch.float64)
        dist.all_reduce(out, op=op)
        return out.cpu()


def join_from_environment(device: torch.device) -> Ranks:
    """Join the process group that a `torchrun`-style launcher describes in the environment
    (WORLD_SIZE, RANK, MASTER_ADDR, ...); a single process without one is rank 0 of 1."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Ranks()
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend)
    return Ranks(dist.get_rank(), dist.get_world_size())


def local_device(device: torch.device) -> torch.device:
    """A CUDA device without an index becomes this local rank's GPU."""
    if device.type == "cuda" and device.index is None and "LOCAL_RANK" in os.environ:
        return torch.device("cuda", int(os.environ["LOCAL_RANK"]))
    return device


# ---- the launcher ------------------------------------------------------------------------------

EVENTS = "events.jsonl"
STOP = "stop"
SPEC = "spec.json"


def launch_spec(
    dataset_dir: str | Path,
    out_dir: str | Path,
    config: TrainConfig,
    nproc: int,
    *,
    threads: int | None,
    text_model: str | Path | None,
    **options: Any,
) -> dict[str, Any]:
    """The JSON spec of a run for `launch`: `train`'s arguments, each rank with its share of the
    cores unless `threads` says otherwise."""
    return {
        "dataset_dir": str(dataset_dir),
        "out_dir": str(out_dir),
        "config": config.to_dict(),
        "threads": threads or max(1, available_cores() // nproc),
        "text_model": str(text_model) if text_model is not None else None,
        **options,
    }


def launch(
    spec: dict[str, Any],
    nproc: int,
    progress: Progress,
    should_stop: Callable[[], bool] | None,
    on_checkpoint: Callable[[dict[str, Any]], None] | None,
) -> dict[str, Any]:
    """Run `spec` (`launch_spec`) on `nproc` local ranks and return
    rank 0's result; rank 0's progress and checkpoints reach the callbacks as they happen."""
    with tempfile.TemporaryDirectory(prefix="stickgen-ddp-") as tmp:
        folder = Path(tmp)
        (folder / SPEC).write_text(json.dumps(spec))
        (folder / EVENTS).touch()
        command = [
            sys.executable, "-m", "torch.distributed.run", "--standalone", "--nnodes", "1",
            "--nproc-per-node", str(nproc), "-m", "stickgen.train.distributed", str(folder),
        ]  # fmt: skip
        log = (folder / "launcher.log").open("w+")
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        result: dict[str, Any] | None = None
        error: str | None = None
        stopped = False
        with (folder / EVENTS).open() as events:
            while True:
                done = process.poll() is not None
                for line in events.readlines():
                    event = json.loads(line)
                    if event["type"] == "progress":
                        progress(*event["args"])
                    elif event["type"] == "checkpoint" and on_checkpoint is not None:
                        on_checkpoint(event["info"])
                    elif event["type"] == "result":
                        result = event["result"]
                    elif event["type"] in ("error", "cancelled"):
                        error, stopped = event["message"], event["type"] == "cancelled"
                if done:
                    break
                if should_stop is not None and not stopped and should_stop():
                    (folder / STOP).touch()
                time.sleep(POLL_S)
        log.seek(0)
        tail = log.read()[-2000:]
        log.close()
    if stopped:
        raise Cancelled(error or "training stopped")
    if process.returncode != 0 or result is None:
        raise StickGenError(error or f"distributed training failed:\n{tail.strip()}")
    return result


def _leave(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _rank_main(folder: Path) -> None:
    """One rank under the launcher: train as the spec says, rank 0 writing the events."""
    from stickgen.train.loop import train

    # the launcher stops the other ranks with SIGTERM when one dies: leave as an exception, so a
    # checkpoint being written is removed rather than left half-written
    signal.signal(signal.SIGTERM, _leave)
    spec = json.loads((folder / SPEC).read_text())
    rank = int(os.environ.get("RANK", "0"))
    stop_file = folder / STOP

    def emit(event: dict[str, Any]) -> None:
        if rank == 0:
            with (folder / EVENTS).open("a") as fh:
                fh.write(json.dumps(event) + "\n")

    config = TrainConfig.from_dict(spec.pop("config"))
    try:
        result = train(
            spec.pop("dataset_dir"),
            spec.pop("out_dir"),
            config,
            progress=lambda *args: emit({"type": "progress", "args": list(args)}),
            should_stop=stop_file.exists,
            on_checkpoint=lambda info: emit({"type": "checkpoint", "info": info}),
            **spec,
        )
    except Cancelled as exc:
        # a clean exit: a failed rank would make the launcher stop rank 0 while it saves
        # `last.pt`; the caller learns of the stop from this event
        emit({"type": "cancelled", "message": str(exc)})
        raise SystemExit(0) from None
    except StickGenError as exc:
        emit({"type": "error", "message": str(exc)})
        raise SystemExit(2) from None
    dist.barrier()  # leave together: a rank that exits early drops its peers' connections
    dist.destroy_process_group()
    emit({"type": "result", "result": result.to_dict()})


if __name__ == "__main__":
    _rank_main(Path(sys.argv[1]))
