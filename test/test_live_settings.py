# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Every parameter the fusion node lets you set at run time does what it says, at once.

In process: a real (unspun) node with the node's parameters and a FusionController around a
policy built from the default config; parameters are set through ``node.set_parameters``,
the same path the ``set_parameters`` service takes (test_live_parameters.py goes over DDS).
"""

import time

import numpy as np
import pytest
import rclpy
from rclpy.parameter import Parameter

from vla_fusion_ros.ros.node_settings import LIVE_PARAMETERS

pytestmark = pytest.mark.ros

#: A valid new value for every live parameter.
NEW_VALUES = {
    'max_image_age': 0.1, 'expected_image_rate': 15.0, 'accept_mono': True,
    'watchdog_timeout': 0.05, 'instruction': 'go to the green square',
    'max_instruction_length': 64, 'frame_id': 'base_footprint', 'max_linear': 0.2,
    'max_angular': 0.4, 'action_min': [-0.1, -0.2], 'action_max': [0.1, 0.2],
    'chunk_decay': 5.0, 'debug_image_rate': 1.0,
}


@pytest.fixture(scope='module')
def policy():
    """Build a policy from the shipped model config (untrained: no inference here)."""
    import os
    from vla_fusion_ros.model import ModelConfig, VLAPolicy
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return VLAPolicy.from_config(ModelConfig.from_yaml(
        os.path.join(repo, 'config', 'model_default.yaml')))


def _controller(policy, **params):
    from rclpy.context import Context
    from vla_fusion_ros.ros.fusion_core import FusionController
    from vla_fusion_ros.ros.node_settings import declare_fusion_parameters
    context = Context()
    rclpy.init(context=context, args=[])
    node = rclpy.create_node('live_settings_probe', context=context, parameter_overrides=[
        Parameter(k, value=v) for k, v in params.items()])
    holder = {}
    settings = declare_fusion_parameters(
        node, on_change=lambda new, changed: holder['ctl'].apply_settings(new, changed))
    holder['ctl'] = FusionController(node, settings, policy)
    return holder['ctl'], context


@pytest.fixture
def make(policy):
    """Yield a factory of controllers; each node is destroyed after the test."""
    made = []

    def _make(**params):
        ctl, context = _controller(policy, **params)
        made.append((ctl, context))
        return ctl
    yield _make
    for ctl, context in made:
        ctl.node.destroy_node()
        context.try_shutdown()


def _set(ctl, **values):
    results = ctl.node.set_parameters([Parameter(k, value=v) for k, v in values.items()])
    return [(r.successful, r.reason) for r in results]


def test_every_live_parameter_is_listed_here():
    assert set(NEW_VALUES) == set(LIVE_PARAMETERS)


@pytest.mark.parametrize('name', LIVE_PARAMETERS)
def test_a_set_updates_the_settings(make, name):
    ctl = make(output_type='float32_multi_array')
    assert _set(ctl, **{name: NEW_VALUES[name]}) == [(True, '')]
    value = getattr(ctl.settings, name)
    assert (list(value) if isinstance(value, list) else value) == NEW_VALUES[name]


def test_twist_limits_take_effect_at_once(make):
    ctl = make()
    assert ctl.output.limits.high.tolist() == [0.5, 1.5]
    _set(ctl, max_linear=0.05, max_angular=0.1)
    assert ctl.output.limits.high.tolist() == [0.05, 0.1]
    assert ctl.output.limits.clamp([0.3, -0.9])[0].tolist() == [0.05, -0.1]


def test_array_limits_follow_twist_limits_until_given(make, policy):
    ctl = make(output_type='float32_multi_array', max_linear=0.1, max_angular=0.3)
    assert policy.action_names[:2] == ['linear_x', 'angular_z']
    assert ctl.output.limits.high.tolist() == [0.1, 0.3]
    _set(ctl, max_linear=0.2)
    assert ctl.output.limits.high.tolist() == [0.2, 0.3]
    _set(ctl, action_max=[0.05, 0.05])   # one side given: the other still follows
    assert ctl.output.limits.high.tolist() == [0.05, 0.05]
    assert ctl.output.limits.low.tolist() == [-0.2, -0.3]
    # Limits that would exclude zero are refused, and the old ones stay.
    ok, reason = _set(ctl, action_min=[0.01, 0.0])[0]
    assert not ok and 'action_min' in reason
    assert ctl.output.limits.low.tolist() == [-0.2, -0.3]
    ok, reason = _set(ctl, action_min=[-1.0, -1.0, -1.0])[0]
    assert not ok and 'action_min' in reason


def test_watchdog_timeout_changes_the_timeout_and_the_timer(make):
    ctl = make()
    assert ctl.watchdog_timer.timer_period_ns == 20_000_000
    _set(ctl, watchdog_timeout=0.05)
    assert ctl.liveness.timeout == 0.05
    assert ctl.watchdog_timer.timer_period_ns == 5_000_000


def test_instruction_replaces_or_clears(make):
    ctl = make(instruction='go to the red circle')
    now = time.monotonic()
    ctl.queue.push(now, np.zeros((4, 2)))
    _set(ctl, instruction='go  to the blue\tsquare')
    assert ctl.instruction == 'go to the blue square' and len(ctl.queue) == 0
    _set(ctl, instruction='')
    assert ctl.instruction is None
    assert 'instruction cleared' in ctl.liveness.reasons(time.monotonic())[-1]
    ok, reason = _set(ctl, instruction='x' * 600)[0]
    assert not ok and '600 characters' in reason and ctl.instruction is None


def test_max_instruction_length_applies_to_the_next_instruction(make):
    ctl = make(instruction='go to the red circle')
    _set(ctl, max_instruction_length=10)
    assert ctl.instruction == 'go to the red circle'   # the current one stays
    ctl._set_instruction('go to the blue square', from_topic=True)
    assert ctl.instruction is None


def test_chunk_decay_reaches_the_queue(make):
    ctl = make()
    _set(ctl, chunk_decay=7.5)
    assert ctl.queue.decay == 7.5


def test_read_only_parameters_are_refused(make):
    ctl = make()
    ok, reason = _set(ctl, debug_image=True)[0]
    assert not ok and 'read-only' in reason
