# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""VLAPolicy (the node's view of the model), device resolution and introspection."""

import time

import numpy as np
import pytest
import torch

from vla_fusion_ros.model import (ConfigError, count_flops, count_parameters, FusionModel,
                                  ModelConfig, resolve_device, VLAPolicy)

torch.set_num_threads(1)


@pytest.fixture(scope='module')
def policy():
    return VLAPolicy.from_config(ModelConfig())


def frame(seed=0, size=64):
    return np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype=np.uint8)


def test_attributes(policy):
    assert policy.image_size == (64, 64)
    assert policy.action_dim == 2 and policy.chunk_size == 1
    assert policy.action_names == ['linear_x', 'angular_z']
    assert policy.action_scale.dtype == np.float32
    assert policy.action_scale.tolist() == [0.5, 1.5]
    assert policy.identity == 'untrained:0'
    assert policy.device == torch.device('cpu')
    assert not policy.model.training


def test_predict_returns_physical_units(policy):
    actions = policy.predict(frame(), 'go to the red circle')
    assert actions.dtype == np.float32 and actions.shape == (1, 2)
    assert (np.abs(actions) <= policy.action_scale).all()
    with torch.no_grad():
        x = torch.from_numpy(frame()).permute(2, 0, 1)[None].float() / 255
        ids, mask = policy.tokenizer.encode(['go to the red circle'])
        normalised = policy.model(x, ids, mask)[0].numpy()
    np.testing.assert_allclose(actions, normalised * policy.action_scale, rtol=1e-6)


def test_predict_batch_matches_predict(policy):
    images = np.stack([frame(1), frame(2)])
    batch = policy.predict_batch(images, ['go to the red circle', 'find the blue square'])
    assert batch.shape == (2, 1, 2) and batch.dtype == np.float32
    np.testing.assert_allclose(batch[1], policy.predict(frame(2), 'find the blue square'),
                               atol=1e-6)
    with pytest.raises(ValueError, match='2 images but 1 instructions'):
        policy.predict_batch(images, ['red'])


def test_instruction_cache_is_bounded_and_reused(policy):
    policy.predict(frame(), 'drive to the green triangle')
    cached = policy.prepare('drive to the green triangle')
    encodes = policy.encodes
    for seed in range(5):  # frames of one instruction: the text encoder does not run again
        policy.predict(frame(seed), 'drive to the green triangle')
    assert policy.prepare('drive to the green triangle') is cached
    assert policy.encodes == encodes
    policy.predict_batch(np.stack([frame(1), frame(2)]), ['approach the yellow square now'] * 2)
    assert policy.encodes == encodes + 1  # one new instruction, encoded once
    for i in range(300):
        policy.predict(frame(), f'instruction {i}')
    assert len(policy._cache) <= 256


@pytest.mark.parametrize('bad', [
    np.zeros((64, 64, 3), dtype=np.float32),
    np.zeros((32, 32, 3), dtype=np.uint8),
    np.zeros((64, 64), dtype=np.uint8),
    np.zeros((64, 64, 4), dtype=np.uint8),
    np.zeros((1, 64, 64, 3), dtype=np.uint8),
    [[0]],
    None,
])
def test_predict_rejects_bad_frames(policy, bad):
    with pytest.raises(ValueError, match=r'expected .*uint8'):
        policy.predict(bad, 'red')


def test_non_contiguous_frames_are_accepted(policy):
    big = frame(size=128)
    view = big[::2, ::2]
    assert not view.flags['C_CONTIGUOUS']
    np.testing.assert_array_equal(policy.predict(view, 'red'),
                                  policy.predict(np.ascontiguousarray(view), 'red'))


def test_attention_map(policy):
    policy.predict(frame(), 'go to the red circle')
    heat = policy.attention_map()
    # FiLM starts as the identity, so an untrained model's map is flat (all zero).
    assert heat.shape == (64, 64) and heat.dtype == np.float32
    with torch.no_grad():
        for point in policy.model.fusion.values():
            torch.nn.init.normal_(point.operator.film.weight, std=0.5)
    policy.predict(frame(), 'go to the red circle')
    heat = policy.attention_map()
    assert heat.min() == 0.0 and heat.max() == pytest.approx(1.0)
    for mode in ('late', 'vision_only'):
        other = VLAPolicy.from_config(ModelConfig().with_overrides(mode=mode))
        other.predict(frame(), 'red')
        assert other.attention_map() is None
    fresh = VLAPolicy.from_config(ModelConfig().with_overrides(operator='cross_attention'))
    assert fresh.attention_map() is None
    fresh.predict(frame(), 'go to the red circle')
    assert fresh.attention_map().shape == (64, 64)


def test_warmup_and_latency(policy):
    policy.warmup()
    times = []
    for _ in range(20):
        start = time.perf_counter()
        policy.predict(frame(), 'go to the red circle')
        times.append(time.perf_counter() - start)
    # A few ms on one idle core; the bound is loose because CI machines are shared.
    assert sorted(times)[10] < 0.05


def test_resolve_device():
    assert resolve_device('cpu') == torch.device('cpu')
    assert resolve_device('auto').type in ('cpu', 'cuda')
    with pytest.raises(ValueError, match='valid: cpu, cuda, auto'):
        resolve_device('tpu')
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match='CUDA is not available'):
            resolve_device('cuda')
        with pytest.raises(ValueError, match='CUDA is not available'):
            VLAPolicy.from_config(ModelConfig(), device='cuda:0')


def test_policy_needs_rgb_and_a_vocabulary_that_fits():
    data = ModelConfig().to_dict()
    data['vision']['in_channels'] = 1
    with pytest.raises(ConfigError, match='vision.in_channels'):
        VLAPolicy.from_config(ModelConfig.from_dict(data))
    data = ModelConfig().to_dict()
    data['language']['vocab_size'] = 10
    with pytest.raises(ConfigError, match='language.vocab_size'):
        VLAPolicy.from_config(ModelConfig.from_dict(data))


def test_parameter_and_flop_counts():
    config = ModelConfig()
    model = FusionModel(config)
    assert count_parameters(config) == count_parameters(model) > 0
    flops = count_flops(config)
    # The default is cheap: about 12 MFLOP a frame.
    assert 5e6 < flops < 30e6
    heavier = config.with_overrides(operator='cross_attention', layers=[0, 1, 2, 3])
    assert count_flops(heavier) > flops
    assert count_parameters(heavier) > count_parameters(config)


@pytest.mark.parametrize('mode', ['early', 'late', 'late_tokens', 'vision_only'])
def test_every_baseline_is_counted(mode):
    config = ModelConfig().with_overrides(mode=mode)
    assert count_parameters(config) == count_parameters(FusionModel(config)) > 0
    assert count_flops(config) > 0
