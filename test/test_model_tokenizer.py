# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Tokenizer: unknown words, empty input, case, punctuation, truncation, hostile strings."""

import time

from hypothesis import given, settings
from hypothesis import strategies as st
import pytest
import torch

from vla_fusion_ros.model import DEFAULT_WORDS, ModelConfig, Tokenizer

TOK = Tokenizer(max_length=8)


def words_of(text):
    ids, mask = TOK.encode([text])
    return TOK.decode(ids[0][mask[0]].tolist())


def test_specials_and_shapes():
    assert TOK.vocab[:2] == ['<pad>', '<unk>']
    ids, mask = TOK.encode(['go to the red circle', 'blue'])
    assert ids.dtype == torch.long and mask.dtype == torch.bool
    assert ids.shape == mask.shape == (2, 8)
    assert mask.sum(dim=1).tolist() == [5, 1]
    assert (ids[~mask] == 0).all() and (ids[mask] > 1).all()


def test_case_and_punctuation_are_ignored():
    assert words_of('Go to the RED circle!!!') == 'go to the red circle'
    assert words_of('go,to;the...red?circle') == 'go to the red circle'
    assert TOK.encode(['Go to the RED circle.'])[0].equal(TOK.encode(['go to the red circle'])[0])


def test_unknown_words_map_to_unk():
    assert words_of('go to the chartreuse dodecahedron') == 'go to the <unk> <unk>'
    assert words_of('café 東京 🚀 red') == '<unk> <unk> red'  # emoji is not a word


@pytest.mark.parametrize('text', ['', '   ', '!!!', '\n\t', '\x00\x07\x1b[31m'])
def test_text_without_words_is_one_unk_token(text):
    ids, mask = TOK.encode([text])
    assert mask[0].tolist() == [True] + [False] * 7
    assert ids[0, 0] == 1


def test_control_characters_separate_words():
    assert words_of('go\x00to\x1bthe\r\nred\x7fcircle') == 'go to the red circle'


def test_truncation_at_max_length():
    text = ' '.join(['red'] * 20)
    ids, mask = TOK.encode([text])
    assert mask.all() and ids.shape == (1, 8)


def test_one_megabyte_string_is_fast_and_truncated():
    text = 'go to the red circle ' * 50_000  # ~1 MB
    start = time.perf_counter()
    ids, mask = TOK.encode([text])
    assert time.perf_counter() - start < 0.5
    assert mask.all()
    junk = '!' * 1_000_000  # a megabyte with no word at all
    start = time.perf_counter()
    ids, mask = TOK.encode([junk])
    assert time.perf_counter() - start < 0.5 and mask.sum() == 1


def test_single_string_is_a_batch_of_one_and_bad_types_fail():
    ids, _ = TOK.encode('red')
    assert ids.shape == (1, 8)
    with pytest.raises(TypeError, match='str'):
        TOK.encode([b'red'])
    with pytest.raises(TypeError, match='str'):
        TOK.encode([None])


def test_empty_batch():
    ids, mask = TOK.encode([])
    assert ids.shape == (0, 8) and mask.shape == (0, 8)


def test_build_and_round_trip():
    tok = Tokenizer.build(['Drive to the green square.', 'go to the RED one'], max_length=4)
    assert tok.vocab == ['<pad>', '<unk>', 'drive', 'go', 'green', 'one', 'red', 'square',
                         'the', 'to']
    again = Tokenizer.from_dict(tok.to_dict())
    assert again.vocab == tok.vocab and again.max_length == 4
    assert again.encode(['go red'])[0].equal(tok.encode(['go red'])[0])


@pytest.mark.parametrize('data', [
    {'vocab': ['a', 'b'], 'max_length': 4},
    {'vocab': ['<pad>', '<unk>', 'a', 'a'], 'max_length': 4},
    {'vocab': ['<pad>', '<unk>', 'A'], 'max_length': 4},
    {'vocab': ['<pad>', '<unk>', 'two words'], 'max_length': 4},
    {'vocab': ['<pad>', '<unk>', '<pad>'], 'max_length': 4},
    {'vocab': ['<pad>', '<unk>'], 'max_length': 0},
    {'vocab': ['<pad>', '<unk>']},
    'not a dict',
])
def test_bad_tokenizer_data_is_rejected(data):
    with pytest.raises(ValueError):
        Tokenizer.from_dict(data)


def test_default_vocabulary_fits_the_default_config_and_covers_the_simulator():
    assert len(Tokenizer()) <= ModelConfig().language.vocab_size
    for word in ('red', 'green', 'blue', 'yellow', 'circle', 'square', 'triangle', 'go',
                 'drive', 'move', 'head', 'navigate', 'toward', 'towards', 'to', 'the', 'a',
                 'an', 'please'):
        assert word in DEFAULT_WORDS
    from vla_fusion_ros.sim import instructions
    missing = set(instructions.VOCABULARY) - set(DEFAULT_WORDS)
    assert not missing, f'simulator words missing from the default vocabulary: {missing}'


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_encodes_to_a_valid_row(text):
    ids, mask = TOK.encode([text])
    assert mask[0, 0] and mask[0].sum() >= 1
    # Real tokens form a prefix; padding is id 0.
    n = int(mask[0].sum())
    assert mask[0, :n].all() and not mask[0, n:].any() and (ids[0, n:] == 0).all()
    assert ((ids >= 0) & (ids < len(TOK))).all()
