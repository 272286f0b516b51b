# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The ``sim_world`` node as a real process, driven over DDS by a probe.

Every frame received is compared pixel for pixel with an in-process :class:`World` given the
same seed and the same commands: the node is the world, nothing more, nothing less.
"""

import json
import signal

from geometry_msgs.msg import Twist, TwistStamped
import numpy as np
import pytest
from rclpy.time import Time
from sensor_msgs.msg import Image
from std_msgs.msg import Int64, String

from vla_fusion_ros.ros.image_conversion import image_msg_to_array
from vla_fusion_ros.ros.qos import latched_qos, make_qos
from vla_fusion_ros.sim.world import World, WorldConfig

# Nodes over DDS: run on every tested distribution (scripts/test: -m ros on Jazzy).
pytestmark = pytest.mark.ros

SIZE = 48
TIMEOUT = 20.0


class Probe:
    """Subscribes to everything the world publishes; publishes commands and resets."""

    def __init__(self, node, cmd_type=Twist):
        self.node = node
        self.frames, self.instructions, self.reports = [], [], []
        node.create_subscription(Image, '/sim_world/image_raw', self.frames.append,
                                 make_qos('best_effort', 'keep_last', 10))
        node.create_subscription(String, '/sim_world/instruction',
                                 lambda m: self.instructions.append(m.data), latched_qos())
        node.create_subscription(String, '/sim_world/episode',
                                 lambda m: self.reports.append(json.loads(m.data)),
                                 latched_qos())
        self.cmd = node.create_publisher(cmd_type, '/cmd_vel', 10)
        self.reset = node.create_publisher(Int64, '/sim_world/reset', 10)

    def wait(self, predicate, what, proc):
        if not self.node.spin_until(predicate, timeout=TIMEOUT):
            proc.stop()
            pytest.fail(f'timed out waiting for {what}; node output:\n{proc.output}')

    def wait_connected(self, proc):
        self.wait(lambda: self.cmd.get_subscription_count() > 0
                  and self.reset.get_subscription_count() > 0, 'cmd_vel subscription', proc)

    def step(self, proc, v, w, stamp=None):
        """Send one command and return the frame it produces."""
        count = len(self.frames)
        if stamp is None:
            msg = Twist()
            twist = msg
        else:
            msg = TwistStamped()
            msg.header.stamp = stamp
            twist = msg.twist
        twist.linear.x, twist.angular.z = float(v), float(w)
        self.cmd.publish(msg)
        self.wait(lambda: len(self.frames) > count or self.reports, 'the next frame', proc)
        return self.frames[-1]


def pixels(msg):
    return np.array(image_msg_to_array(msg))


def test_lockstep_episode_matches_the_in_process_world(start_node, ros_probe):
    """Frames, instruction and report equal the in-process world's; the process exits 0."""
    probe = Probe(ros_probe)
    proc = start_node('sim_world', params={
        'seed': 3, 'episodes': 1, 'max_steps': 6, 'image_size': SIZE, 'resend_period': 5.0,
        'command_timeout': 30.0, 'exit_delay': 0.5,
        'frame_id': 'test_world'})
    reference = World(WorldConfig(max_steps=6, image_size=SIZE))
    reference.reset(3)

    probe.wait(lambda: probe.frames and probe.instructions, 'the first frame', proc)
    first = probe.frames[0]
    assert (first.width, first.height, first.encoding) == (SIZE, SIZE, 'rgb8')
    assert first.header.frame_id == 'test_world' and first.header.stamp.sec > 0
    assert probe.instructions == [reference.instruction]
    np.testing.assert_array_equal(pixels(first), reference.render())

    probe.wait_connected(proc)
    still = probe.step(proc, 0.0, 0.0)
    np.testing.assert_array_equal(pixels(still), pixels(first))     # zero keeps it still
    assert len(probe.frames) == 2
    reference.step([0.0, 0.0])
    actions = [(0.5, 0.0), (0.3, 1.0), (9.0, -9.0), (float('nan'), 0.2)]
    for v, w in actions:
        frame = probe.step(proc, v, w)
        reference.step([v, w])
        np.testing.assert_array_equal(pixels(frame), reference.render())
    assert not np.array_equal(pixels(probe.frames[-1]), pixels(first))  # commands move it

    probe.step(proc, 0.0, 0.0)                                       # the 6th and last step
    probe.wait(lambda: probe.reports, 'the episode report', proc)
    report = probe.reports[0]
    assert report['seed'] == 3 and report['instruction'] == reference.instruction
    assert report['steps'] == 6 and report['success'] is False and report['timeouts'] == 0
    assert report['aborted'] is False and report['reason'] == 'timeout'
    replay = World(WorldConfig(max_steps=6, image_size=SIZE))
    replay.reset(3)
    for action in report['actions']:  # the executed actions replay the episode exactly
        replay.step(action)
    np.testing.assert_array_equal(replay.pose, reference.pose)
    assert report['world'] == 'overhead' and report['absent'] == reference.target_absent
    assert proc.proc.wait(timeout=TIMEOUT) == 0, proc.stop()
    proc.stop()
    assert 'Traceback' not in proc.output, proc.output


def test_stamped_commands_timeouts_and_reset(start_node, ros_probe):
    """Only commands stamped with the frame's stamp count; timeouts step; reset aborts."""
    probe = Probe(ros_probe, TwistStamped)
    proc = start_node('sim_world', params={
        'seed': 5, 'cmd_type': 'twist_stamped', 'resend_period': 0.0, 'command_timeout': 1.5,
        'image_size': SIZE, 'stop_steps': 100})
    probe.wait(lambda: probe.frames, 'the first frame', proc)
    probe.wait_connected(proc)
    first = probe.frames[-1]

    stale = TwistStamped()
    stale.header.stamp.sec = 1
    stale.twist.linear.x = 0.5
    probe.cmd.publish(stale)
    ros_probe.spin_until(lambda: False, timeout=0.3)
    assert len(probe.frames) == 1, 'a command with a foreign stamp must not step the world'

    # The fusion node carries stamps as float seconds; the round trip must still match.
    seconds = first.header.stamp.sec + first.header.stamp.nanosec * 1e-9
    stamp = Time(nanoseconds=int(seconds * 1e9)).to_msg()
    moved = probe.step(proc, 0.5, 0.0, stamp=stamp)
    assert not np.array_equal(pixels(moved), pixels(first))
    count = len(probe.frames)
    probe.wait(lambda: len(probe.frames) > count, 'a timeout step', proc)
    np.testing.assert_array_equal(pixels(probe.frames[-1]), pixels(moved))  # zero command

    probe.reset.publish(Int64(data=42))
    probe.wait(lambda: probe.reports and len(probe.instructions) >= 2, 'the reset', proc)
    report = probe.reports[-1]
    assert report['seed'] == 5 and report['aborted'] is True and report['timeouts'] >= 1
    reference = World(WorldConfig(image_size=SIZE, stop_steps=100))
    reference.reset(42)
    assert probe.instructions[-1] == reference.instruction
    probe.wait(lambda: any(np.array_equal(pixels(f), reference.render())
                           for f in probe.frames[-3:]), 'the first frame of seed 42', proc)
    assert proc.stop(signal.SIGINT) == 0, proc.output
    assert 'Traceback' not in proc.output, proc.output


def test_realtime_mode_steps_without_commands_then_idles(start_node, ros_probe):
    """Realtime: the world steps at its rate, still without commands; idle waits for reset."""
    probe = Probe(ros_probe)
    proc = start_node('sim_world', params={
        'mode': 'realtime', 'rate': 25.0, 'episodes': 1, 'max_steps': 8, 'image_size': SIZE,
        'instruction_lead': 1.0, 'on_finish': 'idle', 'stop_steps': 100})
    probe.wait(lambda: probe.reports, 'the episode report', proc)
    assert probe.reports[0]['steps'] == 8 and probe.reports[0]['timeouts'] == 0
    for frame in probe.frames[1:]:
        np.testing.assert_array_equal(pixels(frame), pixels(probe.frames[0]))
    probe.wait_connected(proc)
    probe.reset.publish(Int64(data=9))
    probe.wait(lambda: len(probe.reports) == 2, 'the report of the reset episode', proc)
    assert probe.reports[1]['seed'] == 9 and probe.reports[1]['aborted'] is False
    assert proc.stop(signal.SIGINT) == 0, proc.output


def test_invalid_parameter_exits_with_one_line(start_node):
    """A world parameter that WorldConfig rejects names the parameter, exit status 2."""
    proc = start_node('sim_world', params={'num_objects': 11})
    proc.proc.wait(timeout=TIMEOUT)
    assert proc.stop() == 2
    assert "parameter 'num_objects'" in proc.output and 'Traceback' not in proc.output
