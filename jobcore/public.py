"""What clients may see of server paths: nothing absolute. Error texts name files relative to
the data folder or the motion-capture folder, and any other absolute path by its last part."""

from __future__ import annotations

import re
from pathlib import Path

# an absolute path of two or more parts, not inside a word, a URL or a fraction ("1/8")
_ABSOLUTE = re.compile(r"(?<![\w./:~-])/(?:[^\s/'\"()<>:,;]+/)+([^\s/'\"()<>:,;]+)")


def public_text(text: str, roots: tuple[Path, ...]) -> str:
    """`text` with paths under `roots` made relative to them and any other absolute path cut
    to its file name (`…/name`)."""
    for root in sorted({str(r).rstrip("/") for r in roots if str(r) not in ("", "/")}, key=len,
                       reverse=True):  # fmt: skip
        text = text.replace(root + "/", "").replace(root, ".")
    return _ABSOLUTE.sub(lambda match: "…/" + match.group(1), text)
