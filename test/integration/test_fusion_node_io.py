# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The fusion node's optional inputs and outputs, as a real process fed by the test over DDS.

TwistStamped commands carry the source frame's exact stamp; Float32MultiArray commands carry
every action dimension within limits; compressed images drive the node like raw ones; the
debug image shows the frame the model saw, upscaled, with the fusion map overlaid.
"""

import time

import cv2
from geometry_msgs.msg import Twist, TwistStamped
import numpy as np
import pytest
from sensor_msgs.msg import CompressedImage, Image
from std_msgs.msg import Float32MultiArray

from vla_fusion_ros.ros.image_conversion import array_to_image_msg
from vla_fusion_ros.ros.qos import make_qos
from vla_fusion_ros.sim.shapes import SyntheticScene

# Nodes over DDS: run on every tested distribution (scripts/test: -m ros on Jazzy).
pytestmark = pytest.mark.ros

INSTRUCTION = 'go to the blue circle'
SCENE = SyntheticScene(160, 120, seed=5)


def _feed(probe, compressed=False):
    """Publish frames to the node at 30 Hz from a timer of the probe; return stamps sent."""
    sent = []
    if compressed:
        pub = probe.create_publisher(CompressedImage, '/fusion_node/image_raw/compressed',
                                     make_qos('best_effort', 'keep_last', 1))
    else:
        pub = probe.create_publisher(Image, '/fusion_node/image_raw',
                                     make_qos('best_effort', 'keep_last', 1))

    def tick():
        frame = SCENE.render(len(sent))
        if compressed:
            ok, png = cv2.imencode('.png', cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
            msg = CompressedImage(format='png', data=png.tobytes())
        else:
            msg = array_to_image_msg(frame, 'bgr8', Image)
        msg.header.stamp = probe.get_clock().now().to_msg()
        sent.append((msg.header.stamp.sec, msg.header.stamp.nanosec))
        pub.publish(msg)

    probe.create_timer(1.0 / 30.0, tick)
    return sent


def test_twist_stamped_carries_the_frame_stamp(start_node, ros_probe):
    got = []
    ros_probe.create_subscription(TwistStamped, '/cmd_vel', got.append,
                                  make_qos('reliable', 'keep_last', 50))
    sent = _feed(ros_probe)
    start_node('fusion_node', params={'output_type': 'twist_stamped', 'frame_id': 'base',
                                      'instruction': INSTRUCTION})
    assert ros_probe.spin_until(lambda: len(got) >= 10, timeout=60.0)
    moving = [m for m in got if m.twist.linear.x or m.twist.angular.z]
    assert moving
    stamps = set(sent)
    assert all((m.header.stamp.sec, m.header.stamp.nanosec) in stamps for m in moving), \
        'a command is stamped with a time that no frame had'
    assert all(m.header.frame_id == 'base' for m in got)
    assert all(abs(m.twist.linear.x) <= 0.5 and abs(m.twist.angular.z) <= 1.5 for m in got)


def test_float32_multi_array_output(start_node, ros_probe):
    got = []
    ros_probe.create_subscription(Float32MultiArray, '/cmd_vel', got.append,
                                  make_qos('reliable', 'keep_last', 50))
    _feed(ros_probe)
    start_node('fusion_node', params={'output_type': 'float32_multi_array',
                                      'action_min': [-0.2, -0.3], 'action_max': [0.2, 0.3],
                                      'instruction': INSTRUCTION})
    assert ros_probe.spin_until(lambda: len(got) >= 10, timeout=60.0)
    values = np.array([m.data for m in got])
    assert values.shape[1] == 2 and np.all(np.isfinite(values))
    assert np.all(values >= [-0.2, -0.3]) and np.all(values <= [0.2, 0.3])
    assert got[-1].layout.dim[0].size == 2


def test_compressed_input_and_debug_image(start_node, ros_probe):
    commands, debug = [], []
    ros_probe.create_subscription(Twist, '/cmd_vel', commands.append,
                                  make_qos('reliable', 'keep_last', 50))
    ros_probe.create_subscription(Image, '/fusion_node/debug_image', debug.append,
                                  make_qos('reliable', 'keep_last', 5))
    _feed(ros_probe, compressed=True)
    node = start_node('fusion_node', params={'image_transport': 'compressed',
                                             'debug_image': True, 'instruction': INSTRUCTION})
    ok = ros_probe.spin_until(lambda: len(commands) >= 10 and debug, timeout=60.0)
    assert ok, f'{len(commands)} commands, {len(debug)} debug images; node:\n' + (
        node.stop() and node.output or node.output)
    image = debug[-1]
    assert image.encoding == 'rgb8' and image.width == 256 and image.height == 256
    time.sleep(0.1)
