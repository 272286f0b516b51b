# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The fusion graph as real processes over DDS: camera and fusion node from the install tree.

One scenario, in order: instruction in -> actions out within the limits; camera killed -> an
explicit zero within the watchdog timeout plus one camera period (the measured stop time is
printed); camera restarted -> actions resume; e-stop -> zero and silence until cleared;
SIGINT -> a final zero and exit status 0, no traceback.
"""

import signal
import time

from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import Twist
import pytest
from std_msgs.msg import Bool, String

from vla_fusion_ros.harness.diagnostics import parse_status
from vla_fusion_ros.ros import diagnostic_keys as diag_keys
from vla_fusion_ros.ros.qos import latched_qos, make_qos

# Nodes over DDS: run on every tested distribution (scripts/test: -m ros on Jazzy).
pytestmark = pytest.mark.ros

CAMERA_RATE = 30.0
WATCHDOG = 0.5
LIMITS = (0.5, 1.5)
CAMERA = {'frequency': CAMERA_RATE, 'width': 160, 'height': 120, 'seed': 3}
NODE = {'watchdog_timeout': WATCHDOG, 'max_linear': LIMITS[0], 'max_angular': LIMITS[1],
        'control_rate': 30.0}
REMAP = {'~/image_raw': '/it/image'}


class Recorder:
    """Collects (receive time, linear.x, angular.z) of every command."""

    def __init__(self):
        self.commands = []

    def __call__(self, msg):
        self.commands.append((time.monotonic(), msg.linear.x, msg.angular.z))

    def since(self, t):
        return [c for c in self.commands if c[0] >= t]


def _moving(cmds):
    return [c for c in cmds if c[1] != 0.0 or c[2] != 0.0]


def _within_limits(cmds):
    return all(abs(c[1]) <= LIMITS[0] + 1e-9 and abs(c[2]) <= LIMITS[1] + 1e-9 for c in cmds)


def test_fusion_graph_end_to_end(start_node, ros_probe):
    rec = Recorder()
    ros_probe.create_subscription(Twist, '/cmd_vel', rec, make_qos('reliable', 'keep_last', 50))
    diagnostics = []
    ros_probe.create_subscription(DiagnosticArray, '/diagnostics', diagnostics.append,
                                  make_qos('reliable', 'keep_last', 10))
    instruction_pub = ros_probe.create_publisher(String, '/fusion_node/instruction',
                                                 latched_qos())
    estop_pub = ros_probe.create_publisher(Bool, '/fusion_node/estop', latched_qos())

    node = start_node('fusion_node', params=NODE, remaps=REMAP)
    camera = start_node('sim_camera', params=CAMERA, remaps=REMAP)

    # 1. Instruction in -> actions out, within the limits.
    instruction_pub.publish(String(data='go to the red circle'))
    assert ros_probe.spin_until(lambda: len(_moving(rec.commands)) >= 10, timeout=60.0), \
        f'no actions; node output:\n{node.stop()} {node.output}'
    assert _within_limits(rec.commands)

    # 2. Camera killed -> one explicit zero within the watchdog timeout plus one period.
    camera.kill()
    killed = time.monotonic()
    got_zero = ros_probe.spin_until(
        lambda: any(c[1] == 0.0 and c[2] == 0.0 for c in rec.since(killed)), timeout=5.0)
    assert got_zero, 'no zero command after the camera died'
    moving = _moving(rec.commands)
    last_action = max(c[0] for c in moving)
    zero_time = min(c[0] for c in rec.since(killed) if c[1] == 0.0 and c[2] == 0.0)
    stop_time = zero_time - last_action
    print(f'\nmeasured stop time: {stop_time * 1e3:.0f} ms after the last action '
          f'(bound: watchdog {WATCHDOG * 1e3:.0f} ms + one period '
          f'{1e3 / CAMERA_RATE:.0f} ms)')
    assert stop_time <= WATCHDOG + 1.0 / CAMERA_RATE + 0.02
    ros_probe.spin_until(lambda: False, timeout=1.0)
    assert not _moving(rec.since(zero_time + 1e-6)), 'commands after the stop'

    # 3. Camera restarted -> actions resume.
    restarted = time.monotonic()
    camera = start_node('sim_camera', params=CAMERA, remaps=REMAP)
    assert ros_probe.spin_until(lambda: len(_moving(rec.since(restarted))) >= 5, timeout=30.0)

    # 4. E-stop: zero at once, silence until cleared, then actions again.
    estop_pub.publish(Bool(data=True))
    engaged = time.monotonic()
    assert ros_probe.spin_until(
        lambda: any(c[1] == 0.0 and c[2] == 0.0 for c in rec.since(engaged)), timeout=5.0)
    ros_probe.spin_until(lambda: False, timeout=1.0)
    zero_at = min(c[0] for c in rec.since(engaged) if c[1] == 0.0 and c[2] == 0.0)
    assert not _moving(rec.since(zero_at)), 'moved while e-stopped'
    estop_pub.publish(Bool(data=False))
    cleared = time.monotonic()
    assert ros_probe.spin_until(lambda: len(_moving(rec.since(cleared))) >= 3, timeout=10.0)

    # Diagnostics report the model and the counters.
    assert ros_probe.spin_until(lambda: len(diagnostics) >= 2, timeout=5.0)
    values = parse_status(diagnostics[-1].status[0])
    assert values['frames_processed'] > 0 and values['watchdog_stops'] >= 1
    assert len(values[diag_keys.INFERENCE_MS]) == 3 and values[diag_keys.MODEL]

    # 5. SIGINT -> final zero, exit 0, no traceback.
    before = time.monotonic()
    code = node.stop(signal.SIGINT)
    ros_probe.spin_until(lambda: any(c[1:] == (0.0, 0.0) for c in rec.since(before)),
                         timeout=5.0)
    assert code == 0, node.output
    assert 'Traceback' not in node.output
    final = rec.since(before)
    assert final and final[-1][1:] == (0.0, 0.0), 'no zero command at shutdown'
    assert _within_limits(rec.commands)
    camera.stop()


@pytest.mark.parametrize('params,expected', [
    ({'device': 'tpu'}, "parameter 'device'"),
    ({'checkpoint': '/nonexistent/model.safetensors'}, "parameter 'checkpoint'"),
    ({'output_type': 'joy'}, "parameter 'output_type'"),
    ({'watchdog_timeout': -1.0}, 'watchdog_timeout'),
])
def test_fusion_node_refuses_bad_start(start_node, params, expected):
    """A node that cannot start exits non-zero with one clear line, not a traceback."""
    node = start_node('fusion_node', params=params)
    code = node.stop(timeout=60.0) if node.proc.wait(timeout=60.0) is None else node.stop()
    assert code != 0
    assert 'Traceback' not in node.output
    assert expected in node.output, node.output
