# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The discretised action head (``head.bins``, ``model/action_bins.py``).

The reason it exists: on labels that disagree, regression learns their average, a policy that
is neither; the binned head learns both and acts on the more probable one.
"""

from hypothesis import given, settings, strategies as st
import numpy as np
import pytest
import torch

from vla_fusion_ros.model import action_bins, ConfigError, ModelConfig, VLAPolicy
from vla_fusion_ros.model.engines import onnxruntime_available
from vla_fusion_ros.train import losses
from vla_fusion_ros.train import train_config as tc

unit = st.floats(-1.0, 1.0, allow_nan=False, width=32)


@settings(max_examples=200, deadline=None)
@given(st.lists(unit, min_size=2, max_size=2), st.sampled_from([2, 5, 11, 21]))
def test_a_soft_label_decodes_back_to_its_action(action, bins):
    target = torch.tensor([action])
    labels = action_bins.soft_labels(target, bins)  # [1, K * K]
    assert labels.shape == (1, bins ** 2)
    assert torch.allclose(labels.sum(-1), torch.ones(1)) and (labels >= 0).all()
    decoded = action_bins.decode(torch.log(labels.clamp_min(1e-30)), bins, 2)
    assert torch.allclose(decoded, target, atol=1e-5)


def test_the_binned_loss_takes_a_mode_where_mse_averages():
    go, search = [1.0, 0.0], [0.0, 1.0]  # normalised [linear_x, angular_z]
    labels = torch.tensor([go] * 6 + [search] * 4)
    logits = torch.zeros(11 * 11, requires_grad=True)
    optimizer = torch.optim.Adam([logits], lr=0.05)
    loss = losses.action_loss({'action': 'mse', 'huber_delta': 0.05}, bins=11)
    for _ in range(300):
        optimizer.zero_grad()
        loss(logits.expand(len(labels), -1), labels).backward()
        optimizer.step()
    probs = torch.softmax(logits.detach(), -1)
    assert abs(probs.max().item() - 0.6) < 0.02  # it learnt the distribution: 0.6 and 0.4
    assert torch.allclose(action_bins.decode(logits.detach(), 11, 2), torch.tensor(go),
                          atol=1e-3)  # and acts on the majority, not on (0.6, 0.4)


def test_the_head_returns_logits_when_training_and_actions_otherwise():
    from conftest import tiny_model
    from vla_fusion_ros.model.network import FusionModel
    model = FusionModel(ModelConfig.from_dict(tiny_model(head={'bins': 5, 'hidden': 16,
                                                               'queries': 2})))
    images = torch.rand(3, 3, 64, 64)
    ids, mask = torch.randint(1, 20, (3, 8)), torch.ones(3, 8, dtype=torch.bool)
    assert model.train()(images, ids, mask).shape == (3, 1, 25)
    actions = model.eval()(images, ids, mask)
    assert actions.shape == (3, 1, 2) and actions.abs().max() <= 1.0


@pytest.mark.parametrize('bins, message', [(1, 'head.bins'), (-3, 'head.bins'),
                                           (True, 'head.bins'), (100, 'joint classes')])
def test_bad_bins_are_refused_by_name(bins, message):
    with pytest.raises(ConfigError, match=message):
        ModelConfig.from_dict({'head': {'bins': bins}})


def test_a_regression_loss_with_bins_is_refused_by_name():
    with pytest.raises(tc.TrainConfigError, match=r'loss\.action: must be mse with head\.bins'):
        tc.load_config('config/train_first_person.yaml',
                       ['model.head.bins=11', 'loss.action=huber'])


@pytest.mark.parametrize('backend', ['torchscript', 'onnxruntime'])
def test_a_binned_checkpoint_loads_and_exports(tmp_path, backend):
    assert backend != 'onnxruntime' or onnxruntime_available()
    from vla_fusion_ros.model import load_checkpoint, save_checkpoint
    config = ModelConfig.from_dict({'head': {'bins': 11}})
    policy = VLAPolicy.from_config(config)
    with torch.no_grad():
        for p in policy.model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    path = str(tmp_path / 'binned.safetensors')
    save_checkpoint(path, policy.model, policy.tokenizer, config)
    model, tokenizer, loaded, _ = load_checkpoint(path)
    assert loaded.head.bins == 11
    policy = VLAPolicy(loaded, tokenizer, model)
    frames = [np.random.default_rng(i).integers(0, 256, (64, 64, 3), dtype=np.uint8)
              for i in range(3)]
    expected = [policy.predict(f, 'go to the red circle') for f in frames]
    policy.warmup(backend=backend)
    assert policy.backend == backend
    for frame, want in zip(frames, expected):
        np.testing.assert_allclose(policy.predict(frame, 'go to the red circle'), want,
                                   atol=1e-5)


def test_a_run_trains_a_binned_head_and_validates_with_mse(tmp_path):
    from conftest import tiny_model, tiny_training_config
    from vla_fusion_ros.train import train
    config = tiny_training_config(tmp_path, tiny_model(head={'bins': 7, 'hidden': 16,
                                                             'queries': 2}))
    out = tmp_path / 'run'
    assert train.main(['--config', str(config), '--out', str(out), '--no-progress']) == 0
    logged = [line for line in (out / 'log.jsonl').read_text().splitlines() if 'val_loss' in line]
    assert logged  # validation reports the decoded actions' MSE
    from vla_fusion_ros.model import load_checkpoint
    assert load_checkpoint(str(out / 'model.safetensors'))[2].head.bins == 7
