"""Where and in what precision tensors are computed: cores and threads, and the device and
precision choices shared by training, inference and embedding.

`device`: "auto" (the first CUDA GPU when there is one, else the CPU), "cpu", "cuda" or
"cuda:N". `precision`: "fp32", or "bf16" (autocast to bfloat16 for matmuls and convolutions;
weights, optimizer state and losses stay float32), or "auto": bf16 where the hardware runs it
natively (a CUDA GPU that supports it, a CPU with AVX512-BF16 or AMX), fp32 elsewhere.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
from collections.abc import Iterator
from pathlib import Path

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel

from stickgen.errors import StickGenError

DEVICES = ("auto", "cpu", "cuda", "cuda:N")
PRECISIONS = ("auto", "fp32", "bf16")
_CUDA = re.compile(r"cuda(:\d+)?")


def available_cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@contextlib.contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Run the block with torch using `count` intra-op threads, then restore the old value."""
    previous = torch.get_num_threads()
    torch.set_num_threads(max(1, count))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def resolve_device(spec: str = "auto") -> torch.device:
    """The `torch.device` for a device choice; a CUDA choice without a usable GPU is an error."""
    spec = spec.strip().lower()
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if spec == "cpu":
        return torch.device("cpu")
    if not _CUDA.fullmatch(spec):
        raise StickGenError(f"unknown device {spec!r}; choose one of {', '.join(DEVICES)}")
    if not torch.cuda.is_available():
        raise StickGenError(f"device {spec!r} asked for, but this machine has no usable CUDA GPU")
    device = torch.device(spec)
    if device.index is not None and device.index >= torch.cuda.device_count():
        raise StickGenError(
            f"device {spec!r} asked for, but this machine has {torch.cuda.device_count()} GPU(s)"
        )
    return device


@functools.cache
def _cpu_flags() -> frozenset[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    return frozenset(re.findall(r"\b(avx512_bf16|amx_bf16)\b", text))


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bfloat16 dot products in hardware (AVX512-BF16 or AMX)."""
    return bool(_cpu_flags())


def native_bf16(device: torch.device) -> bool:
    """Whether `device` runs bfloat16 matmuls natively."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return device.type == "cpu" and cpu_has_native_bf16()


def emulated_bf16(precision: str, device: torch.device) -> bool:
    """Whether `precision` asks for bf16 on a device that only emulates it (a CPU without
    AVX512-BF16 or AMX, where a bf16 step is several times slower than fp32)."""
    return precision == "bf16" and not native_bf16(device)


def resolve_precision(spec: str, device: torch.device) -> str:
    """ "fp32" or "bf16" for a precision choice on `device` (auto: bf16 where native)."""
    if spec not in PRECISIONS:
        raise StickGenError(f"unknown precision {spec!r}; choose one of {', '.join(PRECISIONS)}")
    if spec == "auto":
        return "bf16" if native_bf16(device) else "fp32"
    return spec


@contextlib.contextmanager
def autocast(device: torch.device, precision: str) -> Iterator[None]:
    """Run the enclosed forward passes in `precision` ("fp32": as they are).

    On a CPU, bf16 attention goes through the plain (math) kernel: for this model's 51-token
    sequences the fused CPU kernel's bf16 backward takes 3-4x as long, with AMX or without
    (`benchmarks/train.py`).
    """
    if precision != "bf16":
        yield
        return
    kernels = sdpa_kernel(SDPBackend.MATH) if device.type == "cpu" else contextlib.nullcontext()
    with torch.autocast(device.type, dtype=torch.bfloat16), kernels:
        yield
