# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Instruction templates: round trips through the parser, the vocabulary, and bad input."""

import numpy as np
import pytest

from vla_fusion_ros.sim.instructions import (all_instructions, make_instruction,
                                             parse_instruction, TEMPLATES, VOCABULARY)
from vla_fusion_ros.sim.shapes import COLORS, SHAPES


@pytest.mark.parametrize('color', list(COLORS))
@pytest.mark.parametrize('shape', SHAPES)
def test_every_instruction_parses_back(color, shape):
    texts = all_instructions(color, shape)
    assert len(texts) == len(TEMPLATES)
    for text in texts:
        assert parse_instruction(text) == (color, shape)
        assert set(text.split()) <= VOCABULARY
        assert text == text.lower().strip() and '  ' not in text


def test_sampled_instructions_cover_the_templates_and_are_seeded():
    texts = [make_instruction('red', 'circle', np.random.default_rng(s)) for s in range(200)]
    assert set(texts) == set(all_instructions('red', 'circle'))
    again = [make_instruction('red', 'circle', np.random.default_rng(s)) for s in range(200)]
    assert texts == again


def test_canonical_form():
    assert make_instruction('blue', 'square') == 'go to the blue square'
    rng = np.random.default_rng(0)
    assert make_instruction('blue', 'square', rng, canonical=True) == 'go to the blue square'


def test_vocabulary_is_exactly_the_words_used():
    words = {w for c in COLORS for s in SHAPES for t in all_instructions(c, s) for w in t.split()}
    assert words == VOCABULARY


@pytest.mark.parametrize('text, expected', [
    ('Go to the RED circle!', ('red', 'circle')),
    ('please, head for the yellow triangle now', ('yellow', 'triangle')),
    ('the green square, the green square', ('green', 'square')),
    ('go to the red blue circle', None),
    ('go to the red circle and the red square', None),
    ('go to the circle', None),
    ('', None),
])
def test_parser_edge_cases(text, expected):
    assert parse_instruction(text) == expected


def test_unknown_names_are_rejected():
    with pytest.raises(ValueError, match='color'):
        make_instruction('purple', 'circle')
    with pytest.raises(ValueError, match='shape'):
        make_instruction('red', 'hexagon')


def test_model_tokenizer_knows_every_instruction_word():
    from vla_fusion_ros.model import tokenizer
    assert VOCABULARY <= set(tokenizer.DEFAULT_WORDS)
