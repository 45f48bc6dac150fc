"""The processes a test starts or finds (Linux)."""

from __future__ import annotations

import os
import subprocess
import sys
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


def writer_mid_write(target: Path, prelude: str = "") -> subprocess.Popen:
    """A Python process that runs `prelude`, then is inside `stickgen.files.replacing(target)`
    with half its bytes written, waiting to be stopped; returned once it has got there."""
    script = (
        f"import sys, time\n{prelude}\n"
        "from stickgen.files import replacing\n"
        "with replacing(sys.argv[1]) as tmp:\n"
        "    tmp.write_bytes(b'half'); print('writing', flush=True); time.sleep(60)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script, str(target)], stdout=subprocess.PIPE)
    assert child.stdout is not None and child.stdout.readline() == b"writing\n"
    return child
