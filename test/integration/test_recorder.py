# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The ``recorder`` node as a real process: what is published over DDS is what the bags hold.

A probe publishes known frames, stamped commands, joint states, instructions and episode
events; the recorder writes them; the bags are read back with ``rosbags`` and compared field
by field. Also: a camera that stops leaves a gap the converter sees, and SIGINT in the middle
of an episode leaves a readable bag.
"""

import glob
import os
import signal
import time

from geometry_msgs.msg import TwistStamped
from nav_msgs.msg import Odometry
import numpy as np
import pyarrow.parquet as pq
import pytest
from rosbags.rosbag2 import Reader
from rosbags.typesys import get_typestore, Stores
from sensor_msgs.msg import JointState
from std_msgs.msg import String

from vla_fusion_ros.data import bag_to_lerobot
from vla_fusion_ros.data.lerobot_v3_validate import validate
from vla_fusion_ros.ros.image_conversion import array_to_image_msg
from vla_fusion_ros.ros.qos import make_qos

pytestmark = pytest.mark.ros

TYPES = get_typestore(Stores.LATEST)
TIMEOUT = 20.0


def read(path):
    """Return ``{topic: [(receive_ns, message)]}`` of a bag."""
    reader = Reader(path)
    reader.open()
    try:
        out = {}
        for connection, t, raw in reader.messages():
            out.setdefault(connection.topic, []).append(
                (t, TYPES.deserialize_cdr(raw, connection.msgtype)))
        return out
    finally:
        reader.close()


def closed_bags(folder):
    """Bags whose metadata is written (closed)."""
    return sorted(os.path.dirname(p) for p in glob.glob(os.path.join(folder, '*',
                                                                     'metadata.yaml')))


class Robot:
    """The probe's publishers: a camera, a teleoperator, joint states, instructions, events."""

    def __init__(self, probe, image_reliability='reliable'):
        self.probe = probe
        self.camera = probe.image_publisher('/camera/image_raw', image_reliability, depth=50)
        self.instruction = probe.instruction_publisher('/instruction')
        self.cmd = probe.create_publisher(TwistStamped, '/cmd_vel',
                                          make_qos('reliable', 'keep_last', 100))
        self.joints = probe.create_publisher(JointState, '/joint_states',
                                             make_qos('reliable', 'keep_last', 100))
        self.odom = probe.create_publisher(Odometry, '/odom',
                                           make_qos('reliable', 'keep_last', 100))
        self.events = probe.create_publisher(String, '/episode',
                                             make_qos('reliable', 'keep_last', 100))

    def wait_matched(self, proc, publishers):
        if not self.probe.spin_until(lambda: all(p.get_subscription_count() > 0
                                                 for p in publishers), TIMEOUT):
            pytest.fail(f'the recorder never subscribed; its output:\n{proc.output}')

    def frame(self, i, size=(32, 24)):
        """Publish frame ``i`` (every pixel ``i``), its command and a joint state."""
        stamp = self.probe.get_clock().now().to_msg()
        msg = array_to_image_msg(np.full((size[1], size[0], 3), i, np.uint8), 'rgb8',
                                 self.camera.msg_type)
        msg.header.stamp = stamp
        self.camera.publish(msg)
        cmd = TwistStamped()
        cmd.header.stamp = stamp
        cmd.twist.linear.x, cmd.twist.angular.z = 0.01 * i, -0.02 * i
        self.cmd.publish(cmd)
        self.joints.publish(JointState(header=cmd.header, name=['wheel'], position=[0.5 * i]))
        odom = Odometry(header=cmd.header)
        odom.pose.pose.position.x, odom.twist.twist.linear.x = 0.1 * i, 0.01 * i
        self.odom.publish(odom)
        return stamp.sec * 1_000_000_000 + stamp.nanosec

    def event(self, text, settle=0.3):
        """Publish an episode event between quiet spells (events and frames are separate)."""
        time.sleep(settle)
        self.events.publish(String(data=text))
        time.sleep(settle)


RECORDER = {'episode_topic': '/episode', 'command_type': 'twist_stamped',
            'image_qos_reliability': 'reliable', 'state_topic': '/joint_states',
            'state_type': 'joint_state', 'progress_period': 0.5}


def test_round_trip_what_is_published_is_what_the_bags_hold(start_node, ros_probe, tmp_path):
    """Two episodes over DDS become two bags holding exactly the published messages."""
    robot = Robot(ros_probe)
    out = str(tmp_path / 'bags')
    proc = start_node('recorder', params={**RECORDER, 'output_dir': out})
    robot.wait_matched(proc, [robot.camera, robot.cmd, robot.joints, robot.events,
                              robot.instruction])
    ros_probe.publish_instruction(robot.instruction, 'go to the red cube')
    sent = {}
    for episode, (count, outcome) in enumerate(((6, 'success'), (4, 'fail'))):
        if episode == 1:
            ros_probe.publish_instruction(robot.instruction, 'go to the blue ball')
        robot.event('start')
        sent[episode] = []
        for i in range(count):
            sent[episode].append((10 * episode + i, robot.frame(10 * episode + i)))
            time.sleep(0.03)
        robot.event(outcome)
    if not ros_probe.spin_until(lambda: len(closed_bags(out)) == 2, TIMEOUT):
        pytest.fail(f'two bags were not closed; recorder output:\n{proc.output}')
    assert proc.stop(signal.SIGINT) == 0
    bags = closed_bags(out)
    assert [os.path.basename(b) for b in bags] == ['episode_000000', 'episode_000001']
    for episode, (bag, instruction, outcome) in enumerate(zip(
            bags, ('go to the red cube', 'go to the blue ball'), ('success', 'fail'))):
        topics = read(bag)
        assert [m.data for _, m in topics['/episode']] == ['start', outcome]
        assert [m.data for _, m in topics['/instruction']][-1] == instruction
        frames = [m for _, m in topics['/camera/image_raw']]
        assert [(int(m.data[0]), m.header.stamp.sec * 10**9 + m.header.stamp.nanosec,
                 m.width, m.height, m.encoding) for m in frames] == [
            (i, stamp, 32, 24, 'rgb8') for i, stamp in sent[episode]]
        assert all(np.all(m.data == m.data[0]) for m in frames)
        commands = [m for _, m in topics['/cmd_vel']]
        assert [(m.header.stamp.sec * 10**9 + m.header.stamp.nanosec, m.twist.linear.x,
                 m.twist.angular.z) for m in commands] == [
            (stamp, 0.01 * i, -0.02 * i) for i, stamp in sent[episode]]
        assert [(list(m.name), list(m.position)) for _, m in topics['/joint_states']] == [
            (['wheel'], [0.5 * i]) for i, _ in sent[episode]]
        # Receive times: the events bracket the episode's messages.
        start, end = (t for t, _ in topics['/episode'])
        assert all(start < t < end for t, _ in topics['/camera/image_raw'])
    assert 'episode_000001: fail, 4 frames' in proc.output


def test_a_camera_that_stops_leaves_a_gap_the_converter_counts(
        start_node, ros_probe, tmp_path, capsys):
    """Frames stop for a second: the recorder says so, and the dataset shows a hole."""
    robot = Robot(ros_probe)
    out = str(tmp_path / 'bags')
    proc = start_node('recorder', params={**RECORDER, 'output_dir': out,
                                          'image_timeout': 0.4, 'state_topic': '/odom',
                                          'state_type': 'odometry'})
    robot.wait_matched(proc, [robot.camera, robot.cmd, robot.events, robot.odom])
    ros_probe.publish_instruction(robot.instruction, 'go to the red cube')
    robot.event('start')
    for i in range(30):
        if not 10 <= i < 20:            # frames 10..19 never come: the camera is out
            robot.frame(i)
        time.sleep(0.1)
    robot.event('success')
    assert ros_probe.spin_until(lambda: len(closed_bags(out)) == 1, TIMEOUT), proc.output
    assert proc.stop(signal.SIGINT) == 0
    assert 'no image for' in proc.output and 'images again after' in proc.output
    receive = [t for t, _ in read(closed_bags(out)[0])['/camera/image_raw']]
    assert len(receive) == 20 and max(np.diff(receive)) > 0.9e9
    dataset = str(tmp_path / 'dataset')
    code = bag_to_lerobot.main([closed_bags(out)[0], '--out', dataset, '--fps', '10',
                                '--episode-topic', '/episode', '--clock', 'header',
                                '--action-tolerance', '0.05', '--state-topic', '/odom'])
    report = capsys.readouterr()
    assert code == 0, report.err
    assert validate(dataset) == []
    table = pq.read_table(glob.glob(os.path.join(dataset, 'data', '*', '*.parquet'))[0])
    timestamps = np.array(table.column('timestamp').to_pylist())
    assert len(timestamps) == 20 and np.diff(timestamps).max() > 0.9   # the hole, not filled
    # The odometry became the state: x and linear velocity of the frame's own message.
    state = np.array(table.column('observation.state').to_pylist())
    action = np.array(table.column('action').to_pylist())
    np.testing.assert_allclose(state[:, 0], 10 * action[:, 0], atol=1e-6)   # x = 0.1 i
    np.testing.assert_allclose(state[:, 3], action[:, 0], atol=1e-6)        # v = 0.01 i


def test_bad_settings_stop_the_recorder_and_the_teleop_with_one_line(start_node, tmp_path):
    """An unwritable output_dir, and teleop outside realtime: status 2 and one line each."""
    blocker = tmp_path / 'a_file'
    blocker.write_text('not a folder')
    recorder = start_node('recorder', params={'output_dir': str(blocker / 'bags')})
    world = start_node('sim_world', params={'teleop': 'expert', 'mode': 'lockstep'})
    assert recorder.wait(TIMEOUT) == 2 and world.wait(TIMEOUT) == 2
    for proc, text in ((recorder, "parameter 'output_dir': cannot write to"),
                       (world, "parameter 'teleop': expert needs mode realtime")):
        lines = [line for line in proc.output.splitlines() if line.strip()]
        assert len(lines) == 1 and 'cannot start' in lines[0] and text in lines[0], \
            proc.output


def test_sigint_in_the_middle_of_an_episode_leaves_a_readable_bag(
        start_node, ros_probe, tmp_path):
    """SIGINT while frames stream: exit 0, and the open bag is complete and readable."""
    robot = Robot(ros_probe, image_reliability='best_effort')
    out = str(tmp_path / 'bags')
    proc = start_node('recorder', params={**RECORDER, 'output_dir': out,
                                          'image_qos_reliability': 'best_effort'})
    robot.wait_matched(proc, [robot.camera, robot.events])
    robot.event('start')
    for i in range(40):
        robot.frame(i % 200, size=(320, 240))
        time.sleep(0.02)
    proc.send(signal.SIGINT)            # frames still on their way
    for i in range(10):
        robot.frame(i, size=(320, 240))
        time.sleep(0.02)
    assert proc.finish() == 0, proc.output
    bags = closed_bags(out)
    assert len(bags) == 1, proc.output
    topics = read(bags[0])
    assert [m.data for _, m in topics['/episode']] == ['start']        # never ended
    frames = len(topics['/camera/image_raw'])
    assert frames >= 30, f'only {frames} of 40+ frames in the bag'
    assert f'unknown, {frames} frames' in proc.output
