# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
``ros2 param set`` on a running fusion node, through its real ``set_parameters`` service.

An operator who lowers the speed limit must see it take effect at once: every command that
follows a successful set respects the new limit. A longer watchdog_timeout takes effect for
the next stall. A parameter the node cannot change at run time is refused with a reason, and
so is an invalid value; every parameter the node lets you set is one it applies.
"""

import time

import pytest
from rcl_interfaces.srv import DescribeParameters, ListParameters

from integration_helpers import (call, Commands, FrameFeeder, get_parameters,  # noqa: I100
                                 INSTRUCTION, set_parameters)

pytestmark = pytest.mark.ros

NODE = 'fusion_node'
#: Below what the model commands for this scene: the set must visibly clip it.
LOW_LIMITS = {'max_linear': 0.05, 'max_angular': 0.1}


def _outside(commands, max_linear, max_angular):
    return [c for c in commands
            if abs(c[1]) > max_linear + 1e-9 or abs(c[2]) > max_angular + 1e-9]


def test_speed_limits_and_watchdog_apply_at_once(start_node, ros_probe):
    commands = Commands(ros_probe)
    feeder = FrameFeeder(ros_probe)
    node = start_node(NODE, params={'instruction': INSTRUCTION, 'max_linear': 0.5,
                                    'max_angular': 1.5, 'watchdog_timeout': 0.5})
    assert ros_probe.spin_until(lambda: len(commands.moving_since(0)) >= 15, timeout=60.0), \
        f'no motion; node output:\n{node.stop()} {node.output}'
    assert _outside(commands.since(0), **LOW_LIMITS), \
        'the model never exceeded the low limits: the test could not tell a change'

    results = set_parameters(ros_probe, NODE, **LOW_LIMITS)
    assert all(ok for ok, _ in results.values()), results
    changed = time.monotonic()
    assert ros_probe.spin_until(lambda: len(commands.moving_since(changed)) >= 15, 30.0)
    after = commands.since(changed)
    beyond = _outside(after, **LOW_LIMITS)
    assert not beyond, f'commands beyond the new limits after the set returned: {beyond[:5]}'
    values = get_parameters(ros_probe, NODE, 'max_linear')
    assert values['max_linear'].double_value == LOW_LIMITS['max_linear']

    # A longer watchdog_timeout holds for the next stall: no zero before it expires.
    assert set_parameters(ros_probe, NODE, watchdog_timeout=2.0)['watchdog_timeout'][0]
    ros_probe.spin_until(lambda: False, timeout=0.3)
    feeder.enabled = False
    stalled = time.monotonic()
    assert ros_probe.spin_until(
        lambda: any(c[1:] == (0.0, 0.0) for c in commands.since(stalled)), timeout=5.0)
    zero_at = min(c[0] for c in commands.since(stalled) if c[1:] == (0.0, 0.0))
    assert zero_at - stalled >= 1.8, \
        f'the watchdog fired {zero_at - stalled:.2f} s after the stall: the new timeout is 2 s'

    # Refusals carry a reason: a read-only parameter, an out-of-range value.
    refused = set_parameters(ros_probe, NODE, debug_image=True, max_linear=-1.0)
    assert not refused['debug_image'][0] and 'read-only' in refused['debug_image'][1]
    assert not refused['max_linear'][0] and 'max_linear' in refused['max_linear'][1]


def test_every_writable_parameter_is_applied_at_run_time(start_node, ros_probe):
    """The parameters the node lets you set are exactly those it applies while running."""
    from vla_fusion_ros.ros.node_settings import LIVE_PARAMETERS
    # The managed node declares the same parameters and needs no model to do so.
    name = 'lifecycle_fusion_node'
    start_node(name)
    names = call(ros_probe, ros_probe.create_client(ListParameters, f'/{name}/list_parameters'),
                 ListParameters.Request()).result.names
    descriptors = call(
        ros_probe, ros_probe.create_client(DescribeParameters, f'/{name}/describe_parameters'),
        DescribeParameters.Request(names=list(names))).descriptors
    # use_sim_time is rclpy's own, and rclpy applies it.
    writable = {d.name for d in descriptors if not d.read_only} - {'use_sim_time'}
    assert writable == set(LIVE_PARAMETERS), (
        f'writable but not applied: {sorted(writable - set(LIVE_PARAMETERS))}; '
        f'applied but read-only: {sorted(set(LIVE_PARAMETERS) - writable)}')
    for d in descriptors:
        if d.name in LIVE_PARAMETERS:
            assert 'read-only' not in d.additional_constraints, d
