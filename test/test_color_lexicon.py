# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The colour lexicon (``language.color_lexicon``): lookup, token features, the model path.

The decisive check: two instructions that differ only in a colour word the encoder does not
know ('cerulean' and 'vermilion' are both ``<unk>`` to the word encoder) give the same action
without the lexicon, and different actions with it.
"""

import json

import pytest
import torch

from vla_fusion_ros.model import CheckpointError, FusionModel, load_checkpoint, ModelConfig
from vla_fusion_ros.model import save_checkpoint
from vla_fusion_ros.model.checkpoint import read_header
from vla_fusion_ros.model.fusion import FiLMFusion
from vla_fusion_ros.model.language import color_features, create_tokenizer, text_inputs
from vla_fusion_ros.sim import color_lexicon as cl

torch.set_num_threads(1)


def config(kind='words', lexicon=True, **fusion):
    return ModelConfig.from_dict({
        'vision': {'image_size': 32, 'width': 16, 'norm_groups': 4},
        'language': {'kind': kind, 'width': 16, 'heads': 2, 'max_length': 12,
                     'color_lexicon': lexicon},
        'fusion': {'dim': 16, 'heads': 2, **fusion},
        'head': {'hidden': 32, 'queries': 2}})


def test_lookup_tolerates_case_punctuation_and_doubled_letters():
    assert cl.lookup('Vermilion') == 'vermillion'  # the survey spells it with two l
    assert cl.lookup('navy blue') == 'navy blue' and cl.lookup('NAVY') == 'navy'
    assert cl.lookup('darkred') == 'darkred'  # CSS4 fills what the survey lacks
    assert cl.lookup('square') == '' and cl.lookup('go') == ''
    text = 'Go to the navy blue ball, not the Vermilion one!'
    assert cl.find_colors(text) == [((10, 19), 'navy blue'), ((34, 43), 'vermillion')]


def test_features_describe_the_colour():
    red, green = cl.feature('red'), cl.feature('green')
    assert len(red) == cl.WIDTH and red[0] == 1.0
    assert red[2] > 0.3 > green[2]  # CIELAB a: red is positive, green negative
    assert red[4] > 0.5 and green[4] < 0  # s*cos(hue)
    assert cl.digest() == cl.digest() and len(cl.digest()) == 64


@pytest.mark.parametrize('kind', ['words', 'minilm'])
def test_tokens_of_a_colour_name_get_its_feature(kind):
    cfg = config(kind).language
    tokenizer = create_tokenizer(cfg)
    texts = ['go to the cerulean circle', 'hello, the navy blue ball!', 'go to the object']
    colors = color_features(tokenizer, texts)  # [3, 12, C]
    assert colors.shape == (3, 12, cl.WIDTH)
    ids, _ = tokenizer.encode(texts)
    flagged = [[i for i in range(12) if colors[row, i, 0]] for row in range(3)]
    if kind == 'words':
        assert flagged == [[3], [2, 3], []]
    else:  # [CLS] go to the ce ##ru ##lean circle: every piece of the word
        pieces = tokenizer.tokens(texts[0])
        assert [pieces[i] for i in flagged[0]] == tokenizer.tokens('cerulean')[1:-1]
        assert [tokenizer.tokens(texts[1])[i] for i in flagged[1]] == ['navy', 'blue']
        assert flagged[2] == []
    assert torch.equal(colors[0, flagged[0][0]], torch.tensor(cl.feature('cerulean')))
    assert torch.equal(colors[1, flagged[1][0]], torch.tensor(cl.feature('navy blue')))


def test_an_unknown_colour_word_acts_through_the_lexicon_only():
    images = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    images[1] = images[0]
    texts = ['go to the cerulean circle', 'go to the vermilion circle']  # <unk> both
    for lexicon in (False, True):
        cfg = config(lexicon=lexicon)
        torch.manual_seed(0)  # an unseeded init made the lexicon's effect 5e-4 once in CI
        model = FusionModel(cfg).eval()
        with torch.no_grad():
            for module in model.modules():
                if isinstance(module, FiLMFusion):  # FiLM starts as the identity
                    torch.nn.init.normal_(module.film.weight, std=0.5)
            inputs = text_inputs(create_tokenizer(cfg.language), texts, cfg.language)
            assert torch.equal(inputs['token_ids'][0], inputs['token_ids'][1])
            actions = model(images, **inputs)
        difference = (actions[0] - actions[1]).abs().max().item()
        assert difference > 1e-3 if lexicon else difference < 1e-6, (lexicon, difference)


@pytest.mark.parametrize('operator', ['film', 'cross_attention', 'bidirectional'])
def test_the_colour_projection_trains_and_the_cache_matches(operator):
    cfg = config(operator=operator)
    model = FusionModel(cfg).train()
    inputs = text_inputs(create_tokenizer(cfg.language), ['go to the ruby square'] * 2,
                         cfg.language)
    model(torch.rand(2, 3, 32, 32), **inputs).square().mean().backward()
    assert all(a.color.weight.grad is not None and a.color.weight.grad.any()
               or operator == 'film' for a in model.adapters)
    model.eval()
    with torch.no_grad():
        cache = model.encode_text(**inputs)
        direct = model(torch.zeros(2, 3, 32, 32), **inputs)
        cached = model(torch.zeros(2, 3, 32, 32),
                       cache={k: cache[k] for k in (*model.cache_keys, 'mask')})
    assert torch.equal(direct, cached)


def test_missing_or_unexpected_colours_are_refused():
    with_lexicon, without = FusionModel(config()), FusionModel(config(lexicon=False))
    ids, mask = torch.ones(1, 12, dtype=torch.long), torch.ones(1, 12, dtype=torch.bool)
    with pytest.raises(ValueError, match='color_lexicon is true: pass the colour features'):
        with_lexicon.encode_text(ids, mask)
    with pytest.raises(ValueError, match='color_lexicon is false'):
        without.encode_text(ids, mask, torch.zeros(1, 12, cl.WIDTH))


def test_checkpoint_records_the_lexicon(tmp_path, monkeypatch):
    cfg = config('words')
    model = FusionModel(cfg)
    path = str(tmp_path / 'lexicon.safetensors')
    save_checkpoint(path, model, create_tokenizer(cfg.language), cfg)
    loaded, tokenizer, loaded_cfg, _ = load_checkpoint(path)
    assert loaded_cfg.language.color_lexicon
    inputs = text_inputs(tokenizer, 'go to the jade circle', loaded_cfg.language)
    image = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(loaded(image, **inputs), model.eval()(image, **inputs))
    with open(path, 'rb') as handle:
        stored = json.loads(read_header(path, handle.read())['language_encoder'])
    assert stored == {'kind': 'words', 'color_lexicon_sha256': cl.digest()}
    monkeypatch.setattr(cl, 'digest', lambda: '0' * 64)  # another matplotlib's tables
    with pytest.raises(CheckpointError, match='matplotlib whose colour tables'):
        load_checkpoint(path)


def test_mask_colors_hides_every_colour_name_from_the_encoder():
    masked, names = cl.mask_colors('Go to the Navy Blue square, ruby!')
    assert masked == 'Go to the [MASK] square, [MASK]!'
    assert names == [((10, 16), 'navy blue'), ((25, 31), 'ruby')]
    assert all(masked[a:b] == cl.PLACEHOLDER for (a, b), _ in names)
    assert cl.mask_colors('go to the square') == ('go to the square', [])


@pytest.mark.parametrize('kind', ['words', 'minilm'])
def test_masked_colours_reach_the_model_only_through_the_lexicon(kind):
    """'red' and 'ruby' read the same to the encoder; their lexicon features differ."""
    cfg = ModelConfig.from_dict({**config(kind).to_dict(), 'language': {
        **config(kind).to_dict()['language'], 'mask_colors': True}})
    texts = ['go to the red square', 'go to the ruby square', 'go to the blue square']
    inputs = text_inputs(create_tokenizer(cfg.language), texts, cfg.language)
    assert torch.equal(inputs['token_ids'][0], inputs['token_ids'][1])
    assert torch.equal(inputs['token_ids'][0], inputs['token_ids'][2])
    flags = inputs['colors'][..., 0]  # [B, T]: 1 on the placeholder's token
    assert flags.sum(1).tolist() == [1.0, 1.0, 1.0]
    row = inputs['colors'][0, flags[0].argmax()]
    assert torch.allclose(row, torch.tensor(cl.feature('red')))
    assert not torch.allclose(row, inputs['colors'][2, flags[2].argmax()])
    unmasked = text_inputs(create_tokenizer(cfg.language), texts, config(kind).language)
    assert not torch.equal(unmasked['token_ids'][0], unmasked['token_ids'][2])


def test_mask_colors_needs_the_lexicon():
    from vla_fusion_ros.model.config import ConfigError
    with pytest.raises(ConfigError, match='language.mask_colors: true needs'):
        ModelConfig.from_dict({'language': {'mask_colors': True}})
