# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Training colour synonyms, generated from the colour lexicon by hue.

Every name of the lexicon (:func:`vla_fusion_ros.sim.color_lexicon.lexicon`: the XKCD
survey, then CSS4) whose colour is unambiguously near one colour of the world's palette
(:data:`vla_fusion_ros.sim.shapes.COLORS`) is a training synonym of that colour:

- its HSV hue is within :data:`MAX_HUE_DISTANCE` degrees of that palette colour's hue, and at
  most :data:`MAX_HUE_RATIO` times its distance to the next palette hue (orange, halfway
  between red and yellow, is nobody's synonym);
- it is saturated and bright enough to have a hue at all (:data:`MIN_SATURATION`,
  :data:`MIN_VALUE`: greys, browns near black and pastels near white are left out);
- it names no other colour: no word of it contains another palette colour ('blue green',
  'greenblue' name two) or another of the basic colour terms of English
  (:data:`OTHER_BASIC_TERMS`: 'hot pink' and 'pinkish' are pink to their speakers, whatever
  the hue), and no word of it contains one of :data:`EXCLUDED_WORDS`.

:data:`EXCLUDED_WORDS` is the one fixed list here, written down with its reason: the colour
words of the held-out language suite (``heldout_language.yaml``, read only by evaluation), and
their other spellings, which training must never say so that the suite measures what a new
colour word does. This module does not read the suite; ``test/test_language_suite.py`` checks
that no word of the suite can come out of training.
"""

import functools
from typing import Dict, Tuple

from vla_fusion_ros.sim.color_lexicon import hsv, lexicon, squeeze
from vla_fusion_ros.sim.shapes import COLORS

#: Largest hue distance (degrees) from a palette colour for a synonym of it.
MAX_HUE_DISTANCE = 35.0
#: Largest ratio of the distance to the nearest palette hue over the distance to the next one.
MAX_HUE_RATIO = 0.5
#: Least HSV saturation and value of a synonym (below them the hue is not what one sees).
MIN_SATURATION, MIN_VALUE = 0.35, 0.2

#: Basic colour terms of English (Berlin and Kay's eleven) that are not palette colours.
OTHER_BASIC_TERMS: Tuple[str, ...] = ('black', 'white', 'grey', 'gray', 'brown', 'orange',
                                      'pink', 'purple')

#: Words training never says. Why: they are the held-out suite's colour synonyms (ruby,
#: vermilion, jade, mint, sapphire, cerulean, amber, mustard), kept out of training so that the
#: suite measures colour words the model never saw; 'vermillion' is the survey's spelling of
#: 'vermilion'. A lexicon name containing any of them ('mint green', 'mustard yellow') is left
#: out too.
EXCLUDED_WORDS: Tuple[str, ...] = ('ruby', 'vermilion', 'vermillion', 'jade', 'mint',
                                   'sapphire', 'cerulean', 'amber', 'mustard')


def _names(word: str, term: str) -> bool:
    """Return whether ``word`` names the colour ``term`` ('greenblue', 'bluish', 'purply')."""
    word, term = squeeze(word), squeeze(term)
    stem = term[:-1] if term.endswith('e') else term
    return term in word or (word.startswith(stem) and word[len(stem):] in _SUFFIXES)


_SUFFIXES = ('ish', 'y', 'ey', 'ly')


def _hue_distance(a: float, b: float) -> float:
    return abs((a - b + 180.0) % 360.0 - 180.0)


@functools.lru_cache(maxsize=None)
def _palette_hues() -> Dict[str, float]:
    return {name: hsv([c / 255.0 for c in rgb])[0] for name, rgb in COLORS.items()}


def palette_color(rgb) -> str:
    """Return the palette colour ``rgb`` is unambiguously near by the rules above, or ''."""
    hue, sat, val = hsv(rgb)
    if sat < MIN_SATURATION or val < MIN_VALUE:
        return ''
    distances = sorted((_hue_distance(hue, palette_hue), name)
                       for name, palette_hue in _palette_hues().items())
    (nearest, name), (second, _) = distances[0], distances[1]
    if nearest > MAX_HUE_DISTANCE or nearest > MAX_HUE_RATIO * second:
        return ''
    return name


@functools.lru_cache(maxsize=None)
def training_color_synonyms() -> Dict[str, Tuple[str, ...]]:
    """Return {palette colour: lexicon names that are its training synonyms}, sorted."""
    synonyms: Dict[str, list] = {name: [] for name in COLORS}
    for name, rgb in lexicon().items():
        words = name.split()
        if name in COLORS or any(_names(w, x) for x in EXCLUDED_WORDS for w in words):
            continue
        color = palette_color(rgb)
        others = (set(COLORS) - {color}) | set(OTHER_BASIC_TERMS)
        if color and not any(_names(word, term) for term in others for word in words):
            synonyms[color].append(name)
    return {color: tuple(sorted(names)) for color, names in synonyms.items()}
