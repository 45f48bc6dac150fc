"""Misspelt words: "jumpped", "dancng happly" read as "jumped", "dancing happily".

A word is corrected only when it is not an English word, judged by the text model's own word list
(the WordPiece vocabulary of the bundled MiniLM, a plain file read once: no model is loaded), and
a word the story engine knows (an action word or a word of feeling) is within one edit of it (two
for words of eight letters or more; an edit is an insertion, deletion, substitution or swap of
neighbouring letters). Real words the vocabulary lacks ("pint", "walker") are never changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from stickgen.schema import Guess
from stickgen.story.lexer import Token
from stickgen.story.vocabulary import EMOTION_WORDS, PERSON_NOUNS, VERB_PHRASES, phrase_forms

MIN_LENGTH = 4


@cache
def _english() -> frozenset[str]:
    """Whole words of the text model's vocabulary (empty when the model is not a local folder)."""
    from stickgen.story.meaning import default_model
    from stickgen.textmodels import local_dir

    folder = local_dir(default_model())
    path = folder / "vocab.txt" if folder is not None else None
    if path is None or not path.is_file():
        return frozenset()
    with open(path, encoding="utf-8") as fh:
        return frozenset(w for w in (line.strip() for line in fh) if w.isalpha())


@cache
def _meanings() -> dict[str, str]:
    """Every word the story engine knows -> what it means (an action or an expression name)."""
    meanings: dict[str, str] = {}
    later: set[str] = set()
    for action, phrases in VERB_PHRASES.items():
        for phrase in phrases:
            for form in phrase_forms(phrase):
                meanings.setdefault(form[0], action.name)
                later.update(form[1:])
    for word in later:
        meanings.setdefault(word, "")
    for word, expression in EMOTION_WORDS.items():
        meanings.setdefault(word, expression.name)
    return meanings


@cache
def _known() -> dict[str, tuple[str, ...]]:
    """Words the story engine knows, by first letter."""
    by_letter: dict[str, list[str]] = {}
    for word in _meanings():
        if len(word) >= MIN_LENGTH - 1 and word.isalpha():
            by_letter.setdefault(word[0], []).append(word)
    return {k: tuple(sorted(v)) for k, v in by_letter.items()}


def _prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def distance(a: str, b: str, limit: int) -> int:
    """Edit distance with swaps of neighbouring letters (limit + 1 when larger than `limit`)."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = ca != cb
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def _fix(word: str) -> tuple[str, int] | None:
    """The known word `word` most likely misspells: fewest edits, then the longest shared
    start; None when two equally likely ones mean different things."""
    limit = 1 if len(word) < 8 else 2
    found = []
    for candidate in _known().get(word[0], ()):
        d = distance(word, candidate, limit)
        if d <= limit:
            found.append((d, -_prefix(word, candidate), candidate))
    if not found:
        return None
    found.sort()
    best = found[0]
    rivals = [f for f in found if f[:2] == best[:2]]
    meanings = _meanings()
    if len({meanings[f[2]] for f in rivals}) > 1:
        return None
    return best[2], best[0]


def _english_word(word: str, english: frozenset[str]) -> bool:
    """In the word list (or the story engine's own), as it is or as the stem of an -s, -es,
    -ed, -ing or -er form ("hiker" is not a misspelt "hike")."""
    if word in english or word in PERSON_NOUNS:
        return True
    for ending in ("r", "er", "rs", "ers"):
        if word.endswith(ending) and word[: -len(ending)] in _meanings():
            return True
    for ending in ("s", "es", "d"):
        if word.endswith(ending) and word[: -len(ending)] in english:
            return True
    for ending in ("ed", "ing"):  # "played", "baking"; not "stoped", "runing", "danceing"
        stem = word[: -len(ending)]
        if not word.endswith(ending) or stem.endswith("e"):
            continue
        if stem in _meanings() and _doubles(stem):
            return False  # "runing": an action verb missing its doubled letter
        if stem + "e" in english or (stem in english and not _doubles(stem)):
            return True
    return False


def _doubles(stem: str) -> bool:
    """Stems whose last consonant doubles before -ed and -ing ("run", "stop", "sit")."""
    from stickgen.story.vocabulary import conjugate

    return conjugate(stem)[1] != stem + "ing"


# Endings people commonly misspell, and their right form ("crieing" -> "crying", "cryed" ->
# "cried", "danceing" -> "dancing" is caught by the edit distance already).
_ENDINGS = (("ieing", "ying"), ("yed", "ied"), ("eing", "ing"))


def _fix_ending(word: str) -> tuple[str, int] | None:
    """A known word reached by fixing a commonly misspelt ending, then by one more edit."""
    for wrong, right in _ENDINGS:
        if word.endswith(wrong) and len(word) > len(wrong) + 1:
            candidate = word[: -len(wrong)] + right
            if candidate in _meanings():
                return candidate, 1
            fixed = _fix(candidate)
            if fixed is not None:
                return fixed[0], fixed[1] + 1
    return None


def correct_spelling(tokens: Sequence[Token]) -> tuple[list[Token], list[Guess]]:
    """Tokens with misspelt known words corrected, and a guess for each correction."""
    english = _english()
    known = _known()
    out: list[Token] = []
    fixes: list[Guess] = []
    for token in tokens:
        word = token.text
        if (
            not english
            or token.kind != "word"
            or len(word) < MIN_LENGTH
            or not word.isalpha()
            or _english_word(word, english)
            or word in known.get(word[0], ())
        ):
            out.append(token)
            continue
        fixed = _fix(word) or _fix_ending(word)
        if fixed is None:
            out.append(token)
            continue
        right, edits = fixed
        out.append(Token(right, token.raw, token.kind))
        fixes.append(Guess(token.raw, "spelling", right, 1.0 - edits / len(word)))
    return out, fixes
