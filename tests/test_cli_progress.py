"""CLI progress where stderr is a log file or a pipe: plain lines, throttled, and the last one."""

from __future__ import annotations

import subprocess
import sys

from stickgen.cli.app import progress_lines


def test_lines_are_throttled_and_the_last_state_is_always_shown(capsys) -> None:
    with progress_lines("training", every_s=3600) as update:
        for step in range(1, 101):
            update(step, 100, f"loss {1 / step:.3f}")
    lines = capsys.readouterr().err.splitlines()
    assert lines == ["training: 100/100 (100%) loss 0.010"]  # only the end within the hour

    with progress_lines("training", every_s=0) as update:
        update(1, 4, "epoch 1")
        update(2, 4, "epoch 2")
    lines = capsys.readouterr().err.splitlines()
    assert lines == ["training: 1/4 (25%) epoch 1", "training: 2/4 (50%) epoch 2"]


def test_failed_work_prints_no_final_line(capsys) -> None:
    try:
        with progress_lines("embedding", every_s=3600) as update:
            update(3, 10, "")
            raise RuntimeError("model out of reach")
    except RuntimeError:
        pass
    assert capsys.readouterr().err == ""


def test_a_command_piped_to_a_file_reports_progress(tmp_path) -> None:
    out = tmp_path / "data"
    result = subprocess.run(
        [sys.executable, "-m", "stickgen.cli", "data", "generate", "--out", str(out),
         "--num-base", "8", "--seed", "0"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "\x1b[" not in result.stderr  # no terminal control codes in a log
    assert "generating: 40/40 (100%)" in result.stderr, result.stderr
