# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Inference engines: each one agrees with eager PyTorch, and bad requests fail clearly."""

import numpy as np
import pytest
import torch

from vla_fusion_ros.model import ModelConfig, VLAPolicy
from vla_fusion_ros.model.engines import auto_backends, onnxruntime_available

INSTRUCTION = 'go to the red circle'


def _frame(seed=0):
    return np.random.default_rng(seed).integers(0, 256, (64, 64, 3), dtype=np.uint8)


CASES = [('words', {}), ('words', {'operator': 'cross_attention'}),
         ('words', {'operator': 'bidirectional'}), ('words', {'mode': 'vision_only'}),
         ('words', {'mode': 'early'}),
         # The pretrained encoder: the exported graph reads its cached language inputs.
         ('minilm', {}), ('minilm', {'operator': 'cross_attention'}),
         ('minilm', {'operator': 'bidirectional', 'layers': [0, 1, 2]}),
         ('minilm', {'mode': 'late'}), ('minilm', {'mode': 'early'})]


@pytest.mark.parametrize('kind,overrides', CASES, ids=[f'{k}-{o}' for k, o in CASES])
@pytest.mark.parametrize('backend', ['torchscript', 'onnxruntime'])
def test_engine_matches_eager(backend, kind, overrides):
    # onnxruntime and onnx are in scripts/requirements/common.txt: never skipped here
    assert backend != 'onnxruntime' or onnxruntime_available()
    config = ModelConfig.from_dict({'language': {'kind': kind}}).with_overrides(**overrides)
    policy = VLAPolicy.from_config(config)
    with torch.no_grad():  # give the zero-initialised fusion projections some effect
        for p in policy.model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    expected = [policy.predict(_frame(i), text) for i, text in enumerate(['', INSTRUCTION])]
    policy.warmup(backend=backend)
    assert policy.backend == backend and policy.engine is not None
    assert policy.engine.max_difference <= 1e-4
    for i, text in enumerate(['', INSTRUCTION]):
        got = policy.predict(_frame(i), text)
        assert got.dtype == np.float32 and got.shape == expected[i].shape
        np.testing.assert_allclose(got, expected[i], atol=1e-5)


def test_auto_prefers_onnxruntime_then_torchscript():
    policy = VLAPolicy.from_config(ModelConfig())
    chosen = policy.set_backend('auto')
    assert chosen == auto_backends(policy.device)[0]
    assert chosen == ('onnxruntime' if onnxruntime_available() else 'torchscript')


def test_engine_keeps_attention_map_and_input_checks():
    policy = VLAPolicy.from_config(ModelConfig().with_overrides(operator='cross_attention'))
    policy.warmup(backend='torchscript')
    assert policy.attention_map() is None  # nothing predicted yet (warm-up does not count)
    policy.predict(_frame(), INSTRUCTION)
    assert policy.attention_map().shape == (64, 64)
    with pytest.raises(ValueError, match='expected uint8 RGB images'):
        policy.predict(np.zeros((32, 32, 3), dtype=np.uint8), INSTRUCTION)


def test_bad_requests_fail_clearly():
    policy = VLAPolicy.from_config(ModelConfig())
    with pytest.raises(ValueError, match='unknown'):
        policy.set_backend('tensorrt')
    with pytest.raises(ValueError, match='fp16 needs device cuda'):
        policy.set_backend('torch', precision='fp16')
    assert policy.set_backend('torch') == 'torch' and policy.engine is None
