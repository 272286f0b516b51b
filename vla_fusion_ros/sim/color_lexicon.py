# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Colour words grounded in a colour lexicon (``language.color_lexicon``), for both text encoders.

No sentence encoder of MiniLM's size knows what 'cerulean' or 'vermilion' looks like
(``results/language/probe.md``: 12% right, chance 25%), and a word-level encoder trained from
scratch knows only the words it was trained on. The lexicon does: matplotlib's
``XKCD_COLORS`` (949 names from the XKCD colour survey, what people call a colour) and, for
names the survey lacks, ``CSS4_COLORS`` (148 web colour names), each with its sRGB value.

:func:`find_colors` finds colour names in a text (the longest name first: 'navy blue' before
'navy'; case, punctuation and a doubled or single consonant ignored, so 'vermilion' finds the
survey's 'vermillion'). :func:`feature` describes a colour in :data:`WIDTH` numbers: a flag (a
colour name is here), the colour's CIELAB lightness and opponent axes, its HSV hue as a
saturation-weighted (cos, sin) pair, saturation and value. The model gives each token of an
instruction the feature of the colour name it is part of (zeros for other tokens,
:func:`vla_fusion_ros.model.language.color_features`) and adds a learned projection of it to
the language features (:class:`vla_fusion_ros.model.language.LanguageAdapter`), so it learns
what colour a word's RGB means, and a colour name it never saw in training works if it is in
the lexicon. A word that is not in the lexicon (a misspelling beyond a doubled consonant, a
brand name, another language) has no colour feature: the encoder alone must know it, and it
usually does not.

It lives in ``sim/``, beside the world's other language (:mod:`.instructions`), because it
needs no torch: the simulated world's nodes parse instructions with the training synonyms it
makes (:mod:`.color_synonyms`).
"""

import colorsys
import functools
import hashlib
import json
import re
from typing import Dict, List, Sequence, Tuple

import numpy as np

#: Width of a token's colour feature: flag, L, a, b, s*cos(h), s*sin(h), s, v.
WIDTH = 8

Span = Tuple[int, int]
_WORD = re.compile(r'[^\W\d_]+')


def squeeze(word: str) -> str:
    """Return ``word`` with every run of a repeated letter made single ('vermillion' -> ...)."""
    return re.sub(r'(.)\1+', r'\1', word)


@functools.lru_cache(maxsize=None)
def lexicon() -> Dict[str, Tuple[float, float, float]]:
    """
    Return {name: (r, g, b) in [0, 1]}: the XKCD survey's names, then CSS4's missing ones.

    Names are lower-case words separated by single spaces ('robin's egg' -> 'robin s egg',
    'blue/green' -> 'blue green').
    """
    from matplotlib import colors as mcolors
    table: Dict[str, Tuple[float, float, float]] = {}
    for source in (mcolors.XKCD_COLORS, mcolors.CSS4_COLORS):
        for key, value in source.items():
            name = ' '.join(_WORD.findall(key.split(':', 1)[-1].lower()))
            if name and name not in table:
                table[name] = tuple(float(c) for c in mcolors.to_rgb(value))
    return table


@functools.lru_cache(maxsize=None)
def digest() -> str:
    """SHA-256 of the lexicon (names and RGB), recorded in checkpoints that read it."""
    text = json.dumps(sorted(lexicon().items()), separators=(',', ':'))
    return hashlib.sha256(text.encode()).hexdigest()


@functools.lru_cache(maxsize=None)
def _index() -> Tuple[Dict[Tuple[str, ...], str], int]:
    """{squeezed words: name} (exact spellings win over squeezed ones) and the longest name."""
    index: Dict[Tuple[str, ...], str] = {}
    for name in lexicon():
        index.setdefault(tuple(name.split()), name)
    for name in lexicon():
        index.setdefault(tuple(squeeze(w) for w in name.split()), name)
    return index, max(len(key) for key in index)


def lookup(phrase: str) -> str:
    """Return the lexicon name ``phrase`` spells ('' if none), e.g. 'Vermilion' -> 'vermillion'."""
    words = tuple(w.lower() for w in _WORD.findall(phrase))
    index, _ = _index()
    return index.get(words) or index.get(tuple(squeeze(w) for w in words), '')


def find_colors(text: str) -> List[Tuple[Span, str]]:
    """Return the colour names in ``text``, left to right: ((start, end) in ``text``, name)."""
    words = [(m.start(), m.end(), m.group().lower()) for m in _WORD.finditer(text)]
    index, longest = _index()
    found, i = [], 0
    while i < len(words):
        for n in range(min(longest, len(words) - i), 0, -1):
            chunk = [w for _, _, w in words[i:i + n]]
            name = index.get(tuple(chunk)) or index.get(tuple(squeeze(w) for w in chunk))
            if name:
                found.append(((words[i][0], words[i + n - 1][1]), name))
                i += n
                break
        else:
            i += 1
    return found


#: What the text encoder reads in place of a colour name with ``language.mask_colors``: BERT's
#: own mask token for MiniLM (one token), an unknown word for the word-level tokenizer.
PLACEHOLDER = '[MASK]'


def mask_colors(text: str) -> Tuple[str, List[Tuple[Span, str]]]:
    """
    Return ``text`` with each colour name replaced by :data:`PLACEHOLDER`, and the names.

    The names come as :func:`find_colors` gives them, but with the placeholders' spans in the
    returned text, so the colour features land on the placeholder's tokens.
    """
    pieces, names, cursor, shift = [], [], 0, 0
    for (start, end), name in find_colors(text):
        pieces.append(text[cursor:start])
        first = start + shift
        names.append(((first, first + len(PLACEHOLDER)), name))
        pieces.append(PLACEHOLDER)
        shift += len(PLACEHOLDER) - (end - start)
        cursor = end
    pieces.append(text[cursor:])
    return ''.join(pieces), names


def hsv(rgb: Sequence[float]) -> Tuple[float, float, float]:
    """Return (hue in degrees, saturation, value) of an sRGB colour in [0, 1]."""
    h, s, v = colorsys.rgb_to_hsv(*(float(c) for c in rgb))
    return h * 360.0, s, v


@functools.lru_cache(maxsize=4096)
def feature(name: str) -> Tuple[float, ...]:
    """Return the :data:`WIDTH` numbers that describe the lexicon colour ``name``."""
    import cv2
    rgb = lexicon()[name]
    lab = cv2.cvtColor(np.asarray([[rgb]], dtype=np.float32), cv2.COLOR_RGB2Lab)[0, 0]
    hue, sat, val = hsv(rgb)
    angle = np.deg2rad(hue)
    return (1.0, float(lab[0]) / 100.0, float(lab[1]) / 100.0, float(lab[2]) / 100.0,
            sat * float(np.cos(angle)), sat * float(np.sin(angle)), sat, val)
