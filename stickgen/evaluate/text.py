"""The evaluator's own words: a tokenizer and a vocabulary built from the train split's
descriptions, so the evaluator's text side shares nothing with any generator's text model."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

import torch

PAD, UNKNOWN = "<pad>", "<unk>"
_TOKEN = re.compile(r"[a-z]+|\d|[^\sa-z\d]")


def tokenize(text: str) -> list[str]:
    """Lower-cased words, single digits (so every number is spelt with ten tokens) and
    punctuation marks, in order."""
    return _TOKEN.findall(text.lower())


@dataclass(frozen=True)
class Vocabulary:
    """Token -> id; id 0 pads, id 1 is every token the vocabulary does not hold."""

    words: tuple[str, ...]  # words[0] == PAD, words[1] == UNKNOWN

    def __post_init__(self) -> None:
        if self.words[:2] != (PAD, UNKNOWN) or len(set(self.words)) != len(self.words):
            raise ValueError("a vocabulary starts with <pad>, <unk> and holds each word once")

    @classmethod
    def build(cls, texts: Iterable[str], min_count: int = 2) -> Vocabulary:
        """The tokens that occur at least `min_count` times in `texts`, most frequent first
        (ties alphabetical): deterministic for the same texts."""
        counts = Counter(token for text in texts for token in tokenize(text))
        kept = sorted(
            (w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w)
        )
        return cls((PAD, UNKNOWN, *kept))

    def __len__(self) -> int:
        return len(self.words)

    def ids(self, text: str) -> list[int]:
        """Token ids of `text` (at least one: an empty text is one unknown token)."""
        index = self._index
        return [index.get(token, 1) for token in tokenize(text)] or [1]

    @cached_property
    def _index(self) -> dict[str, int]:
        return {w: i for i, w in enumerate(self.words)}

    def encode(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """int64 token ids `[N, L]` padded with 0 (L: the longest text) and lengths `[N]`."""
        rows = [self.ids(text) for text in texts]
        lengths = torch.tensor([len(r) for r in rows], dtype=torch.int64)
        ids = torch.zeros((len(rows), int(lengths.max()) if rows else 0), dtype=torch.int64)
        for i, row in enumerate(rows):
            ids[i, : len(row)] = torch.tensor(row)
        return ids, lengths

    def bag_of_words(self, ids: torch.Tensor) -> torch.Tensor:
        """float32 `[N, len(self)]` unit-length token counts of padded ids `[N, L]` (padding
        not counted): their dot products are the texts' bag-of-words cosines."""
        counts = torch.zeros((len(ids), len(self)), dtype=torch.float32)
        counts.scatter_add_(1, ids, torch.ones_like(ids, dtype=torch.float32))
        counts[:, 0] = 0.0
        return torch.nn.functional.normalize(counts, dim=-1)
