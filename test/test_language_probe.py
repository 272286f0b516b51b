# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The language probe: what the frozen MiniLM makes of held-out words, token and sentence."""

import pytest
import torch

from vla_fusion_ros.sim.instructions import TRAINING_SHAPE_SYNONYMS
from vla_fusion_ros.tools.language_probe import probe, readout_probe, sentence_probe

torch.set_num_threads(1)


@pytest.fixture(scope='module')
def encoder():
    from vla_fusion_ros.model.minilm import MiniLMModule, MiniLMTokenizer
    return MiniLMModule().eval(), MiniLMTokenizer(24)


def test_the_sentence_and_the_tokens_can_disagree(encoder):
    module, tokenizer = encoder
    test = {'circle': ['orb'], 'square': ['crate'], 'triangle': ['cone']}
    tokens = probe(module, tokenizer, TRAINING_SHAPE_SYNONYMS, test, 'shape')
    assert tokens['guesses']['cone'][-1] == 'triangle'  # the word's own token feature
    lines = sentence_probe(module, tokenizer, test)
    assert lines[0].startswith('| sentence with (is) |') and len(lines) == 2 + 3 + 1
    rows = {line.split(' (')[0][2:]: line for line in lines[2:-1]}
    assert rows['orb'].endswith('| circle |') and rows['crate'].endswith('| square |')
    # The sentence 'go to the red cone' is nearest 'go to the red circle'.
    assert rows['cone'].endswith('| ~~circle~~ |')
    assert lines[-1].endswith('| 67% |')


def test_a_linear_read_out_of_the_sentence_names_the_shape(encoder):
    from vla_fusion_ros.train.language_eval import Group
    module, tokenizer = encoder
    suite = {'templates': Group('templates', ['go to the {color} {shape}']),
             'shuffled': Group('shuffled', ['go to the {color} {shape}'],
                               shapes={'circle': ['square'], 'square': ['triangle'],
                                       'triangle': ['circle']})}
    accuracy = readout_probe(module, tokenizer, suite, count=300)
    assert accuracy['templates'] >= 0.9
    assert accuracy['shuffled'] <= 0.1  # the labels follow the names, not the words


@pytest.mark.parametrize('operator', ['film', 'cross_attention'])
def test_a_read_out_of_a_models_adapters_names_shapes_word_by_word(tmp_path, operator):
    from conftest import tiny_model
    from vla_fusion_ros.model import VLAPolicy
    from vla_fusion_ros.model.checkpoint import save_checkpoint
    from vla_fusion_ros.model.config import ModelConfig
    from vla_fusion_ros.train.language_eval import Group
    from vla_fusion_ros.tools.language_probe import adapter_features, fit_readout
    config = ModelConfig.from_dict(tiny_model(
        language={'kind': 'minilm', 'color_lexicon': True, 'mask_colors': True},
        fusion={'operator': operator, 'layers': [0, 1]}))
    policy = VLAPolicy.from_config(config)
    path = str(tmp_path / 'tiny.safetensors')
    save_checkpoint(path, policy.model, policy.tokenizer, config, {})
    features = adapter_features(path)
    assert features(['go to the red circle', 'find the blue box']).shape == (
        2, 2 * config.language.width)
    suite = {'synonyms': Group('synonyms', ['go to the {color} {shape}'],
                               shapes={'circle': ['ball'], 'square': ['cube'],
                                       'triangle': ['pyramid']})}
    right, words = fit_readout(features, suite, count=60)['synonyms']
    assert list(words) == ['ball', 'cube', 'pyramid'] and 0.0 <= right <= 1.0
    assert right == pytest.approx(sum(words.values()) / 3)


def test_a_missing_checkpoint_is_one_clear_error(tmp_path, capsys):
    from vla_fusion_ros.tools.language_probe import main
    assert main(['--checkpoint', str(tmp_path / 'none.safetensors')]) == 2
    assert 'no such file' in capsys.readouterr().err
