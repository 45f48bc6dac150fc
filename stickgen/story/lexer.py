"""Split a prompt into lower-case tokens, keeping quoted speech aside as single tokens."""

from __future__ import annotations

import re
from dataclasses import dataclass

QUOTE = "\x00quote"  # token text that stands for one quoted passage

# "double", “curly”, and 'single' quotes; a single quote must not be an apostrophe (don't).
_QUOTED = re.compile(r'"(?P<d>[^"]*)"|“(?P<c>[^”]*)”|(?<![\w])[\'‘](?P<s>[^\'‘’]*?)[\'’](?![\w])')
_TOKEN = re.compile(
    r"(?P<quote>\x00)|(?P<num>\d+(?:\.\d+)?)|(?P<word>[^\W\d_]+(?:['’][^\W\d_]+)*)|(?P<punct>[.,;:!?&])"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class Token:
    """One token: `text` lower-cased for matching, `raw` as written (for speech)."""

    text: str
    raw: str
    kind: str  # "word", "num", "punct" or "quote"


def tokenize(prompt: str) -> list[Token]:
    """Tokens of `prompt`: words, numbers, punctuation and one QUOTE token per quoted passage."""
    text = _CONTROL.sub(" ", prompt)
    quotes: list[str] = []

    def stash(match: re.Match[str]) -> str:
        passage = next(g for g in match.groups() if g is not None)
        quotes.append(" ".join(passage.split()))
        return " \x00 "

    text = _QUOTED.sub(stash, text)
    tokens: list[Token] = []
    quote_index = 0
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        raw = match.group()
        if kind == "quote":
            passage = quotes[quote_index]
            quote_index += 1
            if passage:
                tokens.append(Token(QUOTE, passage, "quote"))
        else:
            tokens.append(Token(raw.lower().replace("’", "'"), raw, kind))
    return tokens
