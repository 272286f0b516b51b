# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
A self-contained word-level tokenizer with a fixed vocabulary, saved with every checkpoint.

Text is lower-cased and split into runs of letters and digits (any script); everything else
(punctuation, whitespace, control characters) separates words. Known words map to their ids,
others to ``<unk>``. Sequences are padded with ``<pad>`` (id 0) to ``max_length`` and longer ones
are truncated. A text with no words at all encodes as one ``<unk>`` token, so every row has a
real token and attention never sees a fully masked row.
"""

import re
from typing import Any, Dict, Iterable, List, Sequence, Tuple, Union

import torch

PAD, UNK = '<pad>', '<unk>'
SPECIALS = (PAD, UNK)

#: Words of the default vocabulary: the simulated world's colours, shapes, verbs and fillers,
#: plus common synonyms, so reasonable phrasings of an instruction stay in-vocabulary.
DEFAULT_WORDS: Tuple[str, ...] = (
    # colours
    'red', 'green', 'blue', 'yellow', 'orange', 'purple', 'white', 'black', 'cyan', 'magenta',
    # shapes and objects
    'circle', 'square', 'triangle', 'disc', 'disk', 'ball', 'box', 'block', 'cube', 'star',
    'object', 'shape', 'thing', 'one', 'target', 'goal',
    # verbs
    'go', 'drive', 'move', 'head', 'navigate', 'approach', 'reach', 'find', 'get', 'steer',
    'turn', 'come', 'travel', 'stop', 'stay', 'wait', 'face', 'follow',
    # directions and prepositions
    'to', 'toward', 'towards', 'for', 'at', 'near', 'next', 'by', 'over', 'into', 'on', 'in',
    'left', 'right', 'forward', 'back', 'backward', 'ahead', 'there', 'here',
    # fillers
    'the', 'a', 'an', 'please', 'now', 'and', 'then', 'that', 'this', 'is', 'of', 'up',
    # the training language's synonyms and phrasings (vla_fusion_ros.sim.instructions)
    'crimson', 'scarlet', 'cherry', 'emerald', 'lime', 'navy', 'azure', 'cobalt', 'golden',
    'gold', 'lemon', 'pyramid', 'wedge', 'round', 'three', 'sided', 'which', 'your', 'i',
    'want', 'you', 'could', 'can', 'thank',
    # ... and the rest of its words but the colour names, which the colour lexicon grounds
    # (language.color_lexicon): here they would be a few of its ~400 words, the rest <unk>.
    'dot', 'ring', 'globe', 'circular', 'rectangle', 'four', 'boxy', 'quadrilateral',
    'arrowhead', 'pointy', 'cornered', 'delta', 'close', 'need', 'hello', 'hi', 'ok', 'so',
    'well', 'listen', 'pardon', 'just', 'kindly', 'greetings', 'good', 'morning', 'slowly',
    'gently', 'calmly', 'immediately', 'if', 'when', 'are', 'ready', 'once', 'straight',
    'away', 'without', 'delay',
)

_WORD = re.compile(r'[^\W_]+')


class Tokenizer:
    """Words -> (ids [B, T], mask [B, T]) with ``<pad>`` = 0, ``<unk>`` = 1 and T = max_length."""

    #: The ``language.kind`` this tokenizer feeds.
    kind = 'words'

    def __init__(self, words: Sequence[str] = DEFAULT_WORDS, max_length: int = 16):
        words = list(words)
        bad = [w for w in words if not isinstance(w, str) or _WORD.fullmatch(w) is None
               or w != w.lower()]
        if bad:
            raise ValueError(f'tokenizer words must be lower-case words, not {bad[0]!r}')
        if len(set(words)) != len(words):
            raise ValueError('tokenizer words must be distinct')
        if isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 1:
            raise ValueError(f'tokenizer max_length must be a positive integer, not '
                             f'{max_length!r}')
        self.vocab: List[str] = [*SPECIALS, *words]
        self.ids: Dict[str, int] = {w: i for i, w in enumerate(self.vocab)}
        self.max_length = max_length

    @classmethod
    def build(cls, texts: Iterable[str], max_length: int = 16) -> 'Tokenizer':
        """Build a tokenizer whose vocabulary is every word of ``texts``, sorted."""
        words = set()
        for text in texts:
            words.update(cls.split(text))
        return cls(sorted(words), max_length)

    @staticmethod
    def split(text: str, limit: int = -1) -> List[str]:
        """Lower-case ``text`` and return its words (at most ``limit`` if positive)."""
        words = []
        for match in _WORD.finditer(text):
            words.append(match.group().lower())
            if len(words) == limit:
                break
        return words

    def __len__(self) -> int:
        """Vocabulary size, special tokens included."""
        return len(self.vocab)

    def encode_one(self, text: str) -> List[int]:
        """Return the ids of the (at most ``max_length``) words of ``text``; never empty."""
        if not isinstance(text, str):
            raise TypeError(f'instruction must be a str, not {type(text).__name__}')
        ids = [self.ids.get(w, 1) for w in self.split(text, self.max_length)]
        return ids or [self.ids[UNK]]

    def encode(self, texts: Union[str, Sequence[str]]) -> Tuple[torch.Tensor, torch.Tensor]:
        """
        Encode a batch: ids LongTensor [B, max_length], mask BoolTensor (True = real token).

        A single ``str`` is treated as a batch of one.
        """
        if isinstance(texts, str):
            texts = [texts]
        ids = torch.zeros(len(texts), self.max_length, dtype=torch.long)  # [B, T]
        mask = torch.zeros(len(texts), self.max_length, dtype=torch.bool)  # [B, T]
        for row, text in enumerate(texts):
            encoded = self.encode_one(text)
            ids[row, :len(encoded)] = torch.tensor(encoded, dtype=torch.long)
            mask[row, :len(encoded)] = True
        return ids, mask

    def spans(self, texts: Sequence[str]) -> List[List[Tuple[int, int]]]:
        """
        Return where each token of each text lies in it: [(start, end)] per text.

        One span per token of :meth:`encode_one` (a text with no words: one empty span).
        """
        out = []
        for text in texts:
            spans = [m.span() for m, _ in zip(_WORD.finditer(text), range(self.max_length))]
            out.append(spans or [(0, 0)])
        return out

    def decode(self, ids: Sequence[int]) -> str:
        """Return the words of ``ids``, padding dropped (for logs and tests)."""
        return ' '.join(self.vocab[int(i)] for i in ids if int(i) != 0)

    def to_dict(self) -> Dict[str, Any]:
        """Return a JSON-safe description that :meth:`from_dict` turns back into a tokenizer."""
        return {'vocab': list(self.vocab), 'max_length': self.max_length}

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> 'Tokenizer':
        """Rebuild a tokenizer; a ValueError says what is wrong with ``data``."""
        if not isinstance(data, dict) or set(data) != {'vocab', 'max_length'}:
            raise ValueError('tokenizer data must have exactly the keys vocab and max_length')
        vocab = data['vocab']
        if not isinstance(vocab, list) or tuple(vocab[:2]) != SPECIALS:
            raise ValueError(f'tokenizer vocab must be a list starting with {PAD}, {UNK}')
        return cls(vocab[2:], data['max_length'])
