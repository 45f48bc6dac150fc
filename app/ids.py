"""Ids as people type them: a full 32-character id or any unambiguous prefix of at least
`MIN_PREFIX` characters (the page shows 8). An ambiguous prefix is a 409 naming the matches."""

from __future__ import annotations

import re
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.problems import ProblemError

MIN_PREFIX = 8
FULL = 32
ID_OR_PREFIX = rf"^[0-9a-f]{{{MIN_PREFIX},{FULL}}}$"
_HEX = re.compile(ID_OR_PREFIX)
Row = TypeVar("Row")


def find(session: Session, model: type[Row], text: str) -> Row | None:
    """The row whose id is `text` or starts with it; None when there is none (or `text` is no
    id); ProblemError 409 when the prefix fits several."""
    text = text.strip().lower()
    if not _HEX.match(text):
        return None
    if len(text) == FULL:
        return session.get(model, text)
    column: Any = model.id  # type: ignore[attr-defined]
    rows = list(session.scalars(select(model).where(column.startswith(text)).limit(3)))
    if len(rows) > 1:
        shown = ", ".join(row.id for row in rows[:2])  # type: ignore[attr-defined]
        raise ProblemError(
            409,
            "ambiguous-id",
            "Ambiguous id",
            f"{text!r} is the start of several ids ({shown}{', ...' if len(rows) > 2 else ''}); "
            "give more characters",
        )
    return rows[0] if rows else None
