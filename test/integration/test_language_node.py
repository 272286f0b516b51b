# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
A fusion node serving a MiniLM model over DDS: the instruction changes the action, at once.

The node runs a small ``language.kind: minilm`` checkpoint (cross-attention, so every word
matters) on one repeated 640x480 frame. The actions that two instructions give on that frame
are computed in this process from the same checkpoint; after each switch of ``~/instruction``
the node's commands must become the new instruction's action, within a second (the
benchmark's measurement, :func:`vla_fusion_ros.tools.bench_language.changes`, run small).
"""

import pytest
import torch

from vla_fusion_ros.model import FusionModel, ModelConfig, save_checkpoint
from vla_fusion_ros.model.language import create_tokenizer
from vla_fusion_ros.tools import bench_language, bench_model
from vla_fusion_ros.tools.bench_ros import Harness

from conftest import tiny_model  # noqa: I100 (the tests' own)

pytestmark = pytest.mark.ros


def test_instruction_changes_reach_the_commands(tmp_path):
    config = ModelConfig.from_dict(tiny_model(language={'kind': 'minilm'},
                                              fusion={'operator': 'cross_attention'}))
    model = FusionModel(config)
    with torch.no_grad():  # trained-like weights: the instruction moves the action
        for parameter in model.parameters():
            parameter.add_(0.3 * torch.randn_like(parameter))
    path = str(tmp_path / 'minilm.safetensors')
    save_checkpoint(path, model, create_tokenizer(config.language), config)
    harness = Harness(bench_model.WIDTH, bench_model.HEIGHT, frames=1)
    try:
        result = bench_language.changes(harness, bench_language.REPO, path,
                                        str(tmp_path / 'node.log'), count=4)
    finally:
        harness.close()
    assert result['changes'] == 4
    assert result['missed'] == 0, result
    assert result['latency']['n'] == 4 and result['latency']['max'] < 1000.0, result
    assert result['pair'][0] != result['pair'][1]
