"""The processes a test started, read from /proc (Linux)."""

from __future__ import annotations

import os
from pathlib import Path


def running_encoders() -> list[int]:
    """Live (not zombie) ffmpeg processes started by this process."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        state, ppid = text[text.rindex(")") + 2 :].split()[:2]
        if int(ppid) == os.getpid() and "ffmpeg" in name and state != "Z":
            found.append(int(stat.parent.name))
    return found
