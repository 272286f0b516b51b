# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The action loss (``loss.action``, ``train/losses.py``).

The reason it exists: on labels that disagree, MSE learns their average and Huber the majority.
"""

import pytest
import torch

from vla_fusion_ros.train import losses
from vla_fusion_ros.train import train_config as tc


def fit(loss, labels, steps=1500):
    """Return the constant action that minimises ``loss`` over ``labels`` [N, 2]."""
    action = torch.zeros(2, requires_grad=True)
    optimizer = torch.optim.Adam([action], lr=0.01)
    for _ in range(steps):
        optimizer.zero_grad()
        loss(action.expand_as(labels), labels).backward()
        optimizer.step()
    return action.detach()


def test_huber_takes_the_majority_where_mse_averages():
    go, search = [1.0, 0.0], [0.0, 1.0]  # normalised [linear_x, angular_z]
    labels = torch.tensor([go] * 6 + [search] * 4)
    mean = fit(losses.action_loss({'action': 'mse', 'huber_delta': 0.05}), labels)
    majority = fit(losses.action_loss({'action': 'huber', 'huber_delta': 0.05}), labels)
    assert torch.allclose(mean, torch.tensor([0.6, 0.4]), atol=0.02)  # neither: it creeps
    assert torch.allclose(majority, torch.tensor(go), atol=0.06)


@pytest.mark.parametrize('field, value', [('loss.action', 'l2'), ('loss.huber_delta', 0)])
def test_a_bad_loss_is_refused_by_name(field, value):
    with pytest.raises(tc.TrainConfigError, match=field.replace('.', r'\.')):
        tc.load_config('config/train_first_person.yaml', [f'{field}={value}'])


def test_a_run_trains_with_the_huber_loss_and_validates_with_mse(tmp_path):
    import yaml
    from conftest import tiny_training_config
    from vla_fusion_ros.train import train
    config = tiny_training_config(tmp_path, loss={'action': 'huber', 'huber_delta': 0.05})
    out = tmp_path / 'run'
    assert train.main(['--config', str(config), '--out', str(out), '--no-progress']) == 0
    saved = yaml.safe_load((out / 'config.yaml').read_text())
    assert saved['loss']['action'] == 'huber'
    logged = [line for line in (out / 'log.jsonl').read_text().splitlines() if 'val_loss' in line]
    assert logged  # validation still reports its MSE
