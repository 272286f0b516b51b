# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Float32MultiArray commands follow max_linear/max_angular unless action_min/max are given.

The parameter descriptions promise it: with ``action_min``/``action_max`` left at ``[0.0]``,
the linear_x dimension is limited to ``max_linear`` and angular_z to ``max_angular``.
"""

import numpy as np
import pytest
from std_msgs.msg import Float32MultiArray

from integration_helpers import FrameFeeder, INSTRUCTION  # noqa: I100
from vla_fusion_ros.ros.qos import make_qos

pytestmark = pytest.mark.ros

MAX_LINEAR, MAX_ANGULAR = 0.1, 0.3


def test_float32_multi_array_defaults_to_the_twist_limits(start_node, ros_probe):
    got = []
    ros_probe.create_subscription(Float32MultiArray, '/cmd_vel', got.append,
                                  make_qos('reliable', 'keep_last', 100))
    FrameFeeder(ros_probe)
    node = start_node('fusion_node', params={
        'output_type': 'float32_multi_array', 'max_linear': MAX_LINEAR,
        'max_angular': MAX_ANGULAR, 'instruction': INSTRUCTION})
    assert ros_probe.spin_until(lambda: len(got) >= 20, timeout=60.0), \
        f'{len(got)} commands; node output:\n{node.stop()} {node.output}'
    values = np.array([m.data for m in got], dtype=np.float64)
    assert values.shape[1] == 2 and np.all(np.isfinite(values))
    # The shipped model names its dimensions linear_x, angular_z (in that order).
    limits = np.array([MAX_LINEAR, MAX_ANGULAR])
    assert np.all(np.abs(values) <= limits + 1e-7), \
        f'beyond [{MAX_LINEAR}, {MAX_ANGULAR}]: {values[np.any(np.abs(values) > limits, 1)][:5]}'
