# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
launch_testing: ``launch/fusion.launch.py`` with the simulated camera, checked over DDS.

The test brings up the package's launch file with ``use_sim:=true`` and an instruction with
spaces in it, then, from a probe node in this process:

0. receives motion on ``/cmd_vel`` from the launch argument's instruction alone, before
   anything is published on ``~/instruction``;
1. publishes an instruction and receives ``geometry_msgs/Twist`` on ``/cmd_vel`` within the
   default limits (``max_linear`` 0.5 m/s, ``max_angular`` 1.5 rad/s);
2. engages the latched e-stop: one zero command, then silence until it is cleared;
3. withdraws the instruction's publisher: the watchdog sends one zero within
   ``watchdog_timeout``, then stays silent, and actions resume with a new instruction;
4. stops the simulated camera through the launch service: the watchdog sends one zero, then
   silence;
5. feeds frames itself on the image topic: motion resumes, and the graph is shut down while
   the robot is driving;

and after shutdown asserts that every process exited cleanly and that the last command the
node sent, after motion, was a zero. The probe spins in a thread of its own from the first
test to the checks after shutdown, so that it hears the node's final command.

Run it as a ROS 2 package test (``colcon test``), with ``launch_test test/test_fusion_launch.py``
or with ``pytest`` where launch_testing's pytest plugin is installed (launch_testing releases
without the fix for ros2/launch#979 need pytest < 9). launch and launch_testing are not on
PyPI, so where they are missing the module is skipped and the skip says why.
The active tests run in order (unittest sorts them by name): each leaves the graph in the
state the next one expects.
"""

import math
import os
import threading
import time
import unittest

import pytest

# A launch test of nodes over DDS: every tested distribution (scripts/test: -m ros on Jazzy).
pytestmark = pytest.mark.ros

launch_testing = pytest.importorskip(
    'launch_testing',
    reason='launch_testing is not installed (not on PyPI; it comes with a ROS 2 install)')
pytest.importorskip(
    'launch_ros',
    reason='launch_ros is not installed (not on PyPI; it comes with a ROS 2 install)')
import rclpy  # noqa: E402, I100 (after the skip guards)

from geometry_msgs.msg import Twist  # noqa: E402, I100 (after the skip guards)
from launch import LaunchDescription  # noqa: E402
from launch.actions import IncludeLaunchDescription  # noqa: E402
from launch.events.process import matches_executable, ShutdownProcess  # noqa: E402
from launch.launch_description_sources import PythonLaunchDescriptionSource  # noqa: E402
import launch_testing.actions  # noqa: E402
import launch_testing.asserts  # noqa: E402
from rclpy.qos import (DurabilityPolicy, HistoryPolicy, QoSProfile,  # noqa: E402
                       ReliabilityPolicy)
from sensor_msgs.msg import Image  # noqa: E402
from std_msgs.msg import Bool, String  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAUNCH_FILE = os.path.join(REPO, 'launch', 'fusion.launch.py')
LAUNCH_INSTRUCTION = 'go to the red circle'   # given as a launch argument (spaces included)
TOPIC_INSTRUCTION = 'go to the blue square'   # published by the test
IMAGE_TOPIC = '/camera/image_raw'             # the launch file's default image_topic
MAX_LINEAR = 0.5      # config/fusion.yaml defaults
MAX_ANGULAR = 1.5
WATCHDOG_TIMEOUT = 0.5
# Slack for the stop time: one watchdog period, DDS delivery and a loaded CI machine.
STOP_SLACK = 0.5
FIRST_ACTION_TIMEOUT = 90.0   # process start, torch import and model construction
SILENCE = 1.5                 # how long "silence" is watched for


def _latched_qos():
    """Reliable, transient-local, depth 1: what the node uses for instruction and e-stop."""
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1,
                      reliability=ReliabilityPolicy.RELIABLE,
                      durability=DurabilityPolicy.TRANSIENT_LOCAL)


@pytest.mark.launch_test
def generate_test_description():
    """
    Include the package's launch file with the simulated camera.

    The node's own launch argument carries an instruction with spaces; the tests then replace
    it over the topic, so that the watchdog can see that instruction's publisher go away.
    """
    fusion_launch = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(LAUNCH_FILE),
        launch_arguments={
            'use_sim': 'true',
            'instruction': LAUNCH_INSTRUCTION,
            'device': 'cpu',
        }.items())
    return LaunchDescription([
        fusion_launch,
        # The probe needs no process of its own: tests may start as soon as launch has begun.
        launch_testing.actions.ReadyToTest(),
    ]), {}


class CommandProbe:
    """
    A node in its own rclpy context that records ``/cmd_vel`` and publishes inputs.

    It spins in a thread of its own until :meth:`close`, so it keeps recording while the
    launched processes shut down.
    """

    _shared = None

    @classmethod
    def shared(cls):
        """Return the probe of this test run, created on first use."""
        if cls._shared is None:
            cls._shared = cls()
        return cls._shared

    def __init__(self):
        self.context = rclpy.context.Context()
        rclpy.init(context=self.context)
        self.node = rclpy.create_node('fusion_launch_test_probe', context=self.context)
        self.executor = rclpy.executors.SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.lock = threading.Lock()
        self.commands = []   # (monotonic time, Twist)
        self.active_tests_ended = None
        self.node.create_subscription(
            Twist, '/cmd_vel', self._on_command,
            QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE))
        self.estop_pub = self.node.create_publisher(Bool, '/fusion_node/estop', _latched_qos())
        self.instruction_pub = None
        self.image_pub = None
        self.frames_sent = 0
        self._spinning = True
        self._thread = threading.Thread(target=self._spin, daemon=True)
        self._thread.start()

    def _spin(self):
        while self._spinning:
            self.executor.spin_once(timeout_sec=0.02)

    def feed_images(self, rate=30.0):
        """Publish synthetic frames on the image topic from now on, as a camera would."""
        from vla_fusion_ros.ros.image_conversion import array_to_image_msg
        from vla_fusion_ros.sim.shapes import SyntheticScene
        scene = SyntheticScene(160, 120, seed=3)
        self.image_pub = self.node.create_publisher(
            Image, IMAGE_TOPIC, QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT))

        def tick():
            msg = array_to_image_msg(scene.render(self.frames_sent), 'rgb8', Image)
            msg.header.stamp = self.node.get_clock().now().to_msg()
            self.image_pub.publish(msg)
            self.frames_sent += 1
        self.node.create_timer(1.0 / rate, tick)

    def _on_command(self, msg):
        with self.lock:
            self.commands.append((time.monotonic(), msg))

    def publish_instruction(self, text):
        """Publish a latched instruction from a publisher that lives until withdrawn."""
        if self.instruction_pub is None:
            self.instruction_pub = self.node.create_publisher(
                String, '/fusion_node/instruction', _latched_qos())
        self.instruction_pub.publish(String(data=text))

    def withdraw_instruction(self):
        """Destroy the instruction's publisher: to the node, the instruction has stalled."""
        self.node.destroy_publisher(self.instruction_pub)
        self.instruction_pub = None

    def spin_for(self, seconds):
        """Let the probe's thread process messages for ``seconds``."""
        time.sleep(seconds)

    def spin_until(self, predicate, timeout):
        """Wait until ``predicate()`` holds or ``timeout`` passes; return its last value."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.02)
        return predicate()

    def since(self, t0):
        """Commands received after monotonic time ``t0``."""
        with self.lock:
            return [(t, m) for t, m in self.commands if t > t0]

    def close(self):
        """Stop the spin thread, destroy the node and shut its context down."""
        self._spinning = False
        self._thread.join(timeout=5.0)
        self.executor.shutdown()
        self.node.destroy_node()
        rclpy.shutdown(context=self.context)


def _is_zero(msg):
    return all(v == 0.0 for v in (msg.linear.x, msg.linear.y, msg.linear.z,
                                  msg.angular.x, msg.angular.y, msg.angular.z))


def _is_moving(msg):
    return not _is_zero(msg)


class TestFusionLaunch(unittest.TestCase):
    """Active tests, run while the launched graph is up."""

    @classmethod
    def setUpClass(cls):
        """Start the probe node (it lives on for the checks after shutdown)."""
        cls.probe = CommandProbe.shared()

    @classmethod
    def tearDownClass(cls):
        """Mark the end of the active tests: shutdown begins after it."""
        cls.probe.active_tests_ended = time.monotonic()

    def _wait_for_actions(self, t0, count, timeout):
        ok = self.probe.spin_until(
            lambda: sum(_is_moving(m) for _, m in self.probe.since(t0)) >= count, timeout)
        self.assertTrue(ok, f'fewer than {count} non-zero commands on /cmd_vel within '
                            f'{timeout:g} s (got {len(self.probe.since(t0))} commands)')

    def _wait_for_flow(self, timeout=30.0):
        """
        Wait until the node is publishing motion right now.

        On a loaded machine the camera can stall for longer than the watchdog timeout by
        itself; an event is only triggered once commands flow again, so that the zero the
        test waits for is the one the event causes.
        """
        def flowing():
            now = time.monotonic()
            recent = self.probe.since(now - 0.5)
            return len(recent) >= 3 and all(_is_moving(m) for _, m in recent)
        self.assertTrue(self.probe.spin_until(flowing, timeout),
                        f'commands on /cmd_vel did not flow for {timeout:g} s')

    def _assert_zero_then_silence(self, t_event, deadline, what):
        """One zero command arrives by ``deadline`` seconds after ``t_event``, then nothing."""
        zero = self.probe.spin_until(
            lambda: any(_is_zero(m) for _, m in self.probe.since(t_event)), deadline + 2.0)
        self.assertTrue(zero, f'{what}: no zero command on /cmd_vel')
        t_zero = next(t for t, m in self.probe.since(t_event) if _is_zero(m))
        self.assertLessEqual(t_zero - t_event, deadline,
                             f'{what}: the zero came {t_zero - t_event:.3f} s after the event')
        moving_after = [m for t, m in self.probe.since(t_event) if t > t_zero and _is_moving(m)]
        self.assertEqual(moving_after, [], f'{what}: motion commands after the zero')
        self.probe.spin_for(SILENCE)
        later = self.probe.since(t_zero)
        self.assertEqual(later, [], f'{what}: {len(later)} commands after the zero; '
                                    'expected silence')
        return t_zero - t_event

    def test_0_launch_instruction_alone_moves(self, proc_output):
        """The launch argument's instruction drives the robot with nothing on ~/instruction."""
        # The launch argument (with spaces) reached the node as one string parameter.
        proc_output.assertWaitFor(f'instruction: "{LAUNCH_INSTRUCTION}"',
                                  timeout=FIRST_ACTION_TIMEOUT, stream='stderr')
        self.assertIsNone(self.probe.instruction_pub, 'nothing may be published on the topic')
        self._wait_for_actions(0.0, 10, FIRST_ACTION_TIMEOUT)

    def test_1_actions_within_limits(self, proc_output):
        """An instruction published on the topic yields commands within the limits."""
        t0 = time.monotonic()
        self.probe.publish_instruction(TOPIC_INSTRUCTION)
        proc_output.assertWaitFor(f'instruction: "{TOPIC_INSTRUCTION}"', timeout=30.0,
                                  stream='stderr')
        self._wait_for_actions(t0, 20, FIRST_ACTION_TIMEOUT)
        commands = [m for _, m in self.probe.since(t0)]
        for msg in commands:
            values = (msg.linear.x, msg.linear.y, msg.linear.z,
                      msg.angular.x, msg.angular.y, msg.angular.z)
            self.assertTrue(all(math.isfinite(v) for v in values), f'non-finite: {msg}')
            self.assertLessEqual(abs(msg.linear.x), MAX_LINEAR + 1e-6, str(msg))
            self.assertLessEqual(abs(msg.angular.z), MAX_ANGULAR + 1e-6, str(msg))
            self.assertEqual((msg.linear.y, msg.linear.z, msg.angular.x, msg.angular.y),
                             (0.0, 0.0, 0.0, 0.0), 'a unicycle command has two components')

    def test_2_estop_zeroes_and_holds(self):
        """The latched e-stop sends one zero and holds silence until it is cleared."""
        self._wait_for_flow()
        t_on = time.monotonic()
        self.probe.estop_pub.publish(Bool(data=True))
        self._assert_zero_then_silence(t_on, 1.0, 'e-stop')
        t_off = time.monotonic()
        self.probe.estop_pub.publish(Bool(data=False))
        self._wait_for_actions(t_off, 5, 30.0)

    def test_3_watchdog_instruction_withdrawn(self):
        """The instruction's publisher goes away: one zero within the timeout, then silence."""
        self._wait_for_flow()
        t_gone = time.monotonic()
        self.probe.withdraw_instruction()
        stop_time = self._assert_zero_then_silence(
            t_gone, WATCHDOG_TIMEOUT + STOP_SLACK, 'instruction withdrawn')
        print(f'watchdog stop after the instruction was withdrawn: {stop_time:.3f} s')
        t_back = time.monotonic()
        self.probe.publish_instruction(TOPIC_INSTRUCTION)
        self._wait_for_actions(t_back, 5, 30.0)

    def test_4_watchdog_camera_stopped(self, launch_service, proc_info):
        """The simulated camera stops: one zero within the timeout, then silence."""
        self._wait_for_flow()
        # Timed from the request (SIGINT within milliseconds): an upper bound on the stop time.
        t_stop = time.monotonic()
        launch_service.emit_event(ShutdownProcess(
            process_matcher=matches_executable('/sim_camera')))
        stop_time = self._assert_zero_then_silence(
            t_stop, WATCHDOG_TIMEOUT + STOP_SLACK, 'camera stopped')
        print(f'watchdog stop after the camera was stopped: {stop_time:.3f} s')
        proc_info.assertWaitForShutdown(process='sim_camera', timeout=15.0)

    def test_5_driving_when_shut_down(self):
        """Frames from the probe bring motion back; the graph shuts down while it drives."""
        t0 = time.monotonic()
        self.probe.feed_images()
        self._wait_for_actions(t0, 10, 30.0)
        self._wait_for_flow()


@launch_testing.post_shutdown_test()
class TestFusionLaunchShutdown(unittest.TestCase):
    """Checks after the launched processes have exited."""

    @classmethod
    def tearDownClass(cls):
        """Stop the probe, which has recorded until now."""
        CommandProbe.shared().close()

    def test_final_command_is_zero(self):
        """The robot was driving when shutdown began; the node's last command is a zero."""
        probe = CommandProbe.shared()
        self.assertIsNotNone(probe.active_tests_ended, 'the active tests did not run')
        end = probe.active_tests_ended
        with probe.lock:
            before = [m for t, m in probe.commands if end - 0.5 <= t <= end]
            last = probe.commands[-1][1] if probe.commands else None
        self.assertTrue(before and all(_is_moving(m) for m in before),
                        'the node was not driving when the active tests ended')
        self.assertIsNotNone(last)
        self.assertTrue(_is_zero(last), f'the last command on /cmd_vel was not a zero: {last}')
        self.assertTrue(probe.since(end), 'no command at all after the active tests ended')

    def test_exit_codes(self, proc_info):
        """Every process (fusion node, simulated camera) exited cleanly."""
        launch_testing.asserts.assertExitCodes(proc_info)

    def test_no_tracebacks(self, proc_output):
        """No process printed a Python traceback."""
        for output in proc_output:
            self.assertNotIn('Traceback (most recent call last)', output.text.decode(),
                             f'{output.process_name} printed a traceback')
