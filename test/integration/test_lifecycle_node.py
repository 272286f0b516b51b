# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The managed fusion node, driven through its lifecycle services as a real process.

Unconfigured and inactive it publishes nothing; configure loads the model; activate starts
commands; deactivate sends one zero and silence; SIGINT ends it with status 0.
"""

import signal
import time

from geometry_msgs.msg import Twist
from lifecycle_msgs.msg import Transition
from lifecycle_msgs.srv import ChangeState, GetState
import pytest
from std_msgs.msg import String

from vla_fusion_ros.ros.qos import latched_qos, make_qos

# Nodes over DDS: run on every tested distribution (scripts/test: -m ros on Jazzy).
pytestmark = pytest.mark.ros

NAME = 'lifecycle_fusion_node'
REMAP = {'~/image_raw': '/lc/image'}


def _call(probe, client, request, timeout=30.0):
    assert client.wait_for_service(timeout_sec=timeout), f'{client.srv_name} not available'
    future = client.call_async(request)
    assert probe.spin_until(future.done, timeout=timeout), f'{client.srv_name} timed out'
    return future.result()


def _transition(probe, client, transition_id):
    request = ChangeState.Request()
    request.transition.id = transition_id
    return _call(probe, client, request).success


def test_lifecycle_transitions(start_node, ros_probe):
    commands = []
    ros_probe.create_subscription(
        Twist, '/cmd_vel', lambda m: commands.append((time.monotonic(), m.linear.x,
                                                      m.angular.z)),
        make_qos('reliable', 'keep_last', 50))
    instruction = ros_probe.create_publisher(String, f'/{NAME}/instruction', latched_qos())
    instruction.publish(String(data='go to the yellow triangle'))
    change = ros_probe.create_client(ChangeState, f'/{NAME}/change_state')
    get_state = ros_probe.create_client(GetState, f'/{NAME}/get_state')

    start_node('sim_camera', params={'frequency': 30.0, 'width': 160, 'height': 120},
               remaps=REMAP)
    node = start_node(NAME, remaps=REMAP)
    assert _call(ros_probe, get_state, GetState.Request()).current_state.label == \
        'unconfigured'
    ros_probe.spin_until(lambda: False, timeout=1.0)
    assert not commands, 'an unconfigured node published'

    assert _transition(ros_probe, change, Transition.TRANSITION_CONFIGURE)
    ros_probe.spin_until(lambda: False, timeout=1.5)
    assert not commands, 'an inactive node published'

    assert _transition(ros_probe, change, Transition.TRANSITION_ACTIVATE)
    assert ros_probe.spin_until(lambda: len(commands) >= 5, timeout=30.0), node.output

    deactivated = time.monotonic()
    assert _transition(ros_probe, change, Transition.TRANSITION_DEACTIVATE)
    ros_probe.spin_until(lambda: False, timeout=1.5)
    after = [c for c in commands if c[0] >= deactivated]
    assert after and after[-1][1:] == (0.0, 0.0), 'no zero on deactivate'
    zero_at = max(c[0] for c in after if c[1:] == (0.0, 0.0))
    assert not [c for c in commands if c[0] > zero_at], 'published after deactivate'

    assert _transition(ros_probe, change, Transition.TRANSITION_CLEANUP)
    assert _call(ros_probe, get_state, GetState.Request()).current_state.label == \
        'unconfigured'
    code = node.stop(signal.SIGINT)
    assert code == 0, node.output
    assert 'Traceback' not in node.output
