# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Which model the fusion node serves when fusion overrides are set (policy_loader.load_policy).

The parameters are declared on a real (unspun) node, as the node does, then the loader runs:

- a checkpoint trained with fusion at [1, 2] accepts ``fusion_layers: [2, 1]`` (the same set);
- overrides without ``checkpoint`` and ``model_config`` apply to the shipped trained model:
  equal values load it, other values are refused (never an untrained model in its place);
- with ``model_config`` given, overrides build the untrained model the user asked for.
"""

import os

import pytest
import rclpy
from rclpy.parameter import Parameter

from vla_fusion_ros.ros.params import ParameterError

pytestmark = pytest.mark.ros

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL_CONFIG = os.path.join(REPO, 'config', 'model_default.yaml')


class _Log:
    def __init__(self):
        self.lines = []

    def info(self, text):
        self.lines.append(text)

    warning = info


def _load(**params):
    """Declare the node's parameters with ``params`` and run the loader."""
    from rclpy.context import Context
    from vla_fusion_ros.ros.node_settings import declare_fusion_parameters
    from vla_fusion_ros.ros.policy_loader import load_policy
    context = Context()
    rclpy.init(context=context, args=[])
    params.setdefault('inference_backend', 'torch')
    node = rclpy.create_node('loader_probe', context=context, parameter_overrides=[
        Parameter(name, value=value) for name, value in params.items()])
    try:
        log = _Log()
        return load_policy(declare_fusion_parameters(node), log), log
    finally:
        node.destroy_node()
        context.try_shutdown()


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    """Write a checkpoint of the default config with FiLM at layers [1, 2] (two layers)."""
    from vla_fusion_ros.model import ModelConfig, save_checkpoint, VLAPolicy
    config = ModelConfig.from_yaml(MODEL_CONFIG).with_overrides(operator='film', layers=[1, 2])
    assert list(config.fusion.layers) == [1, 2]
    policy = VLAPolicy.from_config(config)
    path = str(tmp_path_factory.mktemp('ckpt') / 'film12.safetensors')
    save_checkpoint(path, policy.model, policy.tokenizer, config)
    return path


def test_layer_order_does_not_matter(checkpoint):
    policy, _ = _load(checkpoint=checkpoint, fusion_layers=[2, 1])
    assert list(policy.config.fusion.layers) == [1, 2]


def test_duplicate_layers_are_refused(checkpoint):
    with pytest.raises(ParameterError, match=r"'fusion_layers'.*duplicate"):
        _load(checkpoint=checkpoint, fusion_layers=[1, 2, 2])


def test_overrides_that_match_the_shipped_model_load_it():
    from vla_fusion_ros.ros.policy_loader import default_checkpoint
    shipped = default_checkpoint()
    assert shipped, 'the package ships models/overhead.safetensors'
    # The shipped model's own values (config/model_default.yaml): hadamard at layer 0.
    policy, log = _load(fusion_layers=[0], fusion_operator='hadamard')
    assert any(shipped in line for line in log.lines), log.lines
    assert not any('UNTRAINED' in line for line in log.lines), log.lines
    assert list(policy.config.fusion.layers) == [0]
    assert policy.config.fusion.operator == 'hadamard'


@pytest.mark.parametrize('override', [{'fusion_layers': [0, 3]},
                                      {'fusion_operator': 'cross_attention'}])
def test_overrides_never_swap_the_shipped_model_for_an_untrained_one(override):
    with pytest.raises(ParameterError, match='model_config'):
        _load(**override)


def test_overrides_with_model_config_build_the_asked_model():
    policy, log = _load(model_config=MODEL_CONFIG, fusion_layers=[3, 0],
                        fusion_operator='cross_attention')
    assert list(policy.config.fusion.layers) == [0, 3]
    assert policy.config.fusion.operator == 'cross_attention'
    assert any('UNTRAINED' in line for line in log.lines)
