# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The watchdog's log line says what happened, from a node process over DDS.

Three stops, each with its own cause: the instruction's publisher leaves, the instruction is
refused (empty), the images stop. The log must name each, not "instruction stalled" for all.
"""

import time

import pytest
from std_msgs.msg import String

from integration_helpers import Commands, FrameFeeder, INSTRUCTION  # noqa: I100
from vla_fusion_ros.ros.qos import latched_qos

pytestmark = pytest.mark.ros

TOPIC = '/fusion_node/instruction'


def _watchdog_lines(output):
    return [line for line in output.splitlines() if 'watchdog:' in line]


def test_watchdog_says_why_it_stopped(start_node, ros_probe):
    commands = Commands(ros_probe)
    feeder = FrameFeeder(ros_probe)
    node = start_node('fusion_node', params={'watchdog_timeout': 0.5})

    def drive(text):
        publisher = ros_probe.create_publisher(String, TOPIC, latched_qos())
        publisher.publish(String(data=text))
        t0 = time.monotonic()
        assert ros_probe.spin_until(lambda: len(commands.moving_since(t0)) >= 5, 60.0), \
            f'no motion; node output:\n{node.stop()} {node.output}'
        return publisher

    def stopped_since(t0):
        return ros_probe.spin_until(
            lambda: any(c[1:] == (0.0, 0.0) for c in commands.since(t0)), timeout=10.0)

    # 1. The instruction's publisher leaves.
    publisher = drive(INSTRUCTION)
    t0 = time.monotonic()
    ros_probe.destroy_publisher(publisher)
    assert stopped_since(t0)
    # 2. An instruction that is refused (empty).
    publisher = drive(INSTRUCTION)
    t0 = time.monotonic()
    publisher.publish(String(data='   '))
    assert stopped_since(t0)
    # 3. Images stop.
    publisher.publish(String(data=INSTRUCTION))
    t0 = time.monotonic()
    assert ros_probe.spin_until(lambda: len(commands.moving_since(t0)) >= 5, 30.0)
    feeder.enabled = False
    t0 = time.monotonic()
    assert stopped_since(t0)
    ros_probe.spin_until(lambda: False, timeout=0.3)

    node.stop()
    lines = _watchdog_lines(node.output)
    assert len(lines) >= 3, node.output[-3000:]
    left, refused, images = lines[-3:]
    assert 'publisher' in left and TOPIC in left, left
    assert 'refused' in refused and 'empty' in refused, refused
    assert 'no image' in images and '0.5 s' in images, images
    for line in lines:
        assert 'zero sent' in line, line
