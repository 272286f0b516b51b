# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
What the fusion node's contract tests share: a frame feeder, a command recorder, parameter calls.

Everything here runs in the probe node of ``conftest.ros_probe`` and talks to a real node
process over DDS: frames go out on the node's image topic from a probe timer, commands and
``/diagnostics`` come back through subscriptions, and parameters are set through the node's
own ``set_parameters`` service, which is what ``ros2 param set`` calls.
"""

import os
import signal
import subprocess
import sys
import threading
import time

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from geometry_msgs.msg import Twist
import pytest
from rcl_interfaces.msg import Parameter, ParameterType, ParameterValue
from rcl_interfaces.srv import GetParameters, SetParameters
from sensor_msgs.msg import Image

from vla_fusion_ros.ros import diagnostic_keys as keys
from vla_fusion_ros.ros.image_conversion import array_to_image_msg
from vla_fusion_ros.ros.qos import make_qos
from vla_fusion_ros.sim.shapes import SyntheticScene

INSTRUCTION = 'go to the blue circle'
SCENE = SyntheticScene(160, 120, seed=5)


class Commands:
    """Every Twist on ``/cmd_vel`` as ``(receive time, linear.x, angular.z)``."""

    def __init__(self, probe):
        self.items = []
        self._lock = threading.Lock()
        probe.create_subscription(Twist, '/cmd_vel', self._on,
                                  make_qos('reliable', 'keep_last', 100))

    def _on(self, msg):
        with self._lock:
            self.items.append((time.monotonic(), msg.linear.x, msg.angular.z))

    def since(self, t0):
        """Commands received at or after ``t0``."""
        with self._lock:
            return [c for c in self.items if c[0] >= t0]

    def moving_since(self, t0):
        """Non-zero commands received at or after ``t0``."""
        return [c for c in self.since(t0) if c[1] != 0.0 or c[2] != 0.0]


class Diagnostics:
    """The node's ``/diagnostics`` statuses, newest last."""

    def __init__(self, probe, node_name='fusion_node'):
        self.items = []
        self._name = keys.status_name(node_name)
        probe.create_subscription(DiagnosticArray, '/diagnostics', self._on,
                                  make_qos('reliable', 'keep_last', 10))

    def _on(self, msg):
        for status in msg.status:
            if status.name == self._name:
                self.items.append((time.monotonic(), status))

    def since(self, t0):
        """Statuses received at or after ``t0``."""
        return [s for t, s in self.items if t >= t0]

    @staticmethod
    def level(status):
        """Return the status level as an int (a bytes field in rclpy)."""
        level = status.level
        return level[0] if isinstance(level, (bytes, bytearray)) else int(level)

    @staticmethod
    def values(status):
        """Return the status's key-value pairs as a dict."""
        return {kv.key: kv.value for kv in status.values}


LEVELS = {name: Diagnostics.level(DiagnosticStatus(level=getattr(DiagnosticStatus, name)))
          for name in ('OK', 'WARN', 'ERROR')}


class FrameFeeder:
    """
    Publish frames to the node at ``rate`` Hz from a probe timer.

    ``skip(k)`` is true for frames that are dropped before publishing (their stamps are
    skipped too, as a lossy transport would leave them). Stamps follow the ideal schedule of
    the source (first stamp + k / rate), so the only gaps are the skipped frames.
    """

    def __init__(self, probe, topic='/fusion_node/image_raw', rate=30.0, encoding='bgr8',
                 skip=None):
        self.probe = probe
        self.rate = rate
        self.encoding = encoding
        self.skip = skip or (lambda k: False)
        self.enabled = True
        self.sent = 0
        self._k = 0
        self._t0 = None
        self._pub = probe.create_publisher(Image, topic, make_qos('best_effort', 'keep_last',
                                                                  1))
        self.timer = probe.create_timer(1.0 / rate, self._tick)

    def _tick(self):
        if not self.enabled:
            return
        now = self.probe.get_clock().now().nanoseconds
        if self._t0 is None:
            self._t0 = now
        k = self._k
        self._k += 1
        if self.skip(k):
            return
        msg = array_to_image_msg(SCENE.render(k), self.encoding, Image)
        stamp = self._t0 + int(round(k * 1e9 / self.rate))
        msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(stamp, 1_000_000_000)
        self._pub.publish(msg)
        self.sent += 1


def _parameter_value(value):
    if isinstance(value, bool):
        return ParameterValue(type=ParameterType.PARAMETER_BOOL, bool_value=value)
    if isinstance(value, int):
        return ParameterValue(type=ParameterType.PARAMETER_INTEGER, integer_value=value)
    if isinstance(value, float):
        return ParameterValue(type=ParameterType.PARAMETER_DOUBLE, double_value=value)
    if isinstance(value, str):
        return ParameterValue(type=ParameterType.PARAMETER_STRING, string_value=value)
    return ParameterValue(type=ParameterType.PARAMETER_DOUBLE_ARRAY,
                          double_array_value=[float(v) for v in value])


def call(probe, client, request, timeout=30.0, resend_after=5.0):
    """
    Call an idempotent service from the probe and return the response.

    ``wait_for_service`` can return before the server's response writer has matched the
    client's reader; a request sent in that window is answered into the void (seen once in
    CI on a loaded machine). The request is therefore sent again every ``resend_after``
    seconds until one answer arrives: only for idempotent services (parameters, state).
    """
    assert client.wait_for_service(timeout_sec=timeout), f'{client.srv_name} not available'
    deadline = time.monotonic() + timeout
    futures = []
    while time.monotonic() < deadline:
        futures.append(client.call_async(request))
        wait = min(resend_after, max(0.0, deadline - time.monotonic()))
        if probe.spin_until(lambda: any(f.done() for f in futures), timeout=wait):
            return next(f for f in futures if f.done()).result()
    raise AssertionError(f'{client.srv_name} timed out after {timeout:.0f} s '
                         f'({len(futures)} request(s) sent)')


def set_parameters(probe, node_name, **values):
    """
    Set parameters through the node's ``set_parameters`` service (as ``ros2 param set``).

    Returns ``{name: (successful, reason)}``.
    """
    client = probe.create_client(SetParameters, f'/{node_name}/set_parameters')
    request = SetParameters.Request(parameters=[
        Parameter(name=name, value=_parameter_value(value)) for name, value in values.items()])
    response = call(probe, client, request)
    return {name: (r.successful, r.reason) for name, r in zip(values, response.results)}


def get_parameters(probe, node_name, *names):
    """Return ``{name: ParameterValue}`` from the node's ``get_parameters`` service."""
    client = probe.create_client(GetParameters, f'/{node_name}/get_parameters')
    response = call(probe, client, GetParameters.Request(names=list(names)))
    return dict(zip(names, response.values))


def require_launch(module):
    """
    Skip the test module ``module`` (its ``__name__``), saying why, where launch is missing.

    The reason names the module: pytest-xdist reports one of several collection skips whose
    text is the same, and each skipped module should show in the run's summary.
    """
    for name in ('launch', 'launch_ros'):
        pytest.importorskip(name, reason=f'{module}: {name} is not installed (not on PyPI; it '
                            'comes with a ROS 2 install)')


#: Runs a launch file with a LaunchService, as ``ros2 launch`` does; arguments as name:=value.
LAUNCH_RUNNER = r"""
import sys
from launch import LaunchDescription, LaunchService
from launch.actions import IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
arguments = dict(a.split(':=', 1) for a in sys.argv[2:])
service = LaunchService()
service.include_launch_description(LaunchDescription([IncludeLaunchDescription(
    PythonLaunchDescriptionSource(sys.argv[1]), launch_arguments=arguments.items())]))
sys.exit(service.run())
"""


def run_launch_file(launch_file, *arguments, timeout=60.0):
    """
    Run ``launch_file`` with ``name:=value`` arguments; return ``(exit code, output)``.

    Its own session: a launch that runs past ``timeout`` is stopped with every node it
    started, and the test fails with the output's tail.
    """
    import pytest
    proc = subprocess.Popen([sys.executable, '-c', LAUNCH_RUNNER, launch_file, *arguments],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGINT)
        output, _ = proc.communicate(timeout=30)
        pytest.fail(f'the launch ran on for {timeout:.0f} s:\n{output[-3000:]}')
    return proc.returncode, output
