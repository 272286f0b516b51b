# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
What the node tells an operator about its inputs, over DDS: frame loss and refused streams.

- Frames lost on the way (every third one here, with its stamp) show on ``/diagnostics`` as a
  WARN with the measured loss and the fix (the shipped Fast DDS profile).
- A colour model refuses a mono8 stream: ERROR on ``/diagnostics`` naming the encoding and the
  parameter that would allow it, and no motion; ``accept_mono`` set at run time lets it drive.
"""

import time

import pytest

from integration_helpers import (Commands, Diagnostics, FrameFeeder,  # noqa: I100
                                 INSTRUCTION, LEVELS, set_parameters)
from vla_fusion_ros.ros import diagnostic_keys as keys

pytestmark = pytest.mark.ros

#: The node reports loss over this many seconds (vla_fusion_ros.ros.stats.FrameLossMeter).
LOSS_WINDOW = 5.0


def test_frame_loss_is_reported_with_the_fix(start_node, ros_probe):
    diagnostics = Diagnostics(ros_probe)
    feeder = FrameFeeder(ros_probe, skip=lambda k: False)
    node = start_node('fusion_node', params={'instruction': INSTRUCTION,
                                             'diagnostics_rate': 2.0})

    def latest_after(t0, level):
        return [s for s in diagnostics.since(t0) if Diagnostics.level(s) == LEVELS[level]]

    # A complete stream: no loss reported.
    assert ros_probe.spin_until(lambda: diagnostics.since(0) and int(Diagnostics.values(
        diagnostics.since(0)[-1]).get('frames_processed', 0)) > 30, timeout=60.0), \
        f'node output:\n{node.stop()} {node.output}'
    status = diagnostics.since(0)[-1]
    assert Diagnostics.level(status) == LEVELS['OK'], status.message
    assert int(Diagnostics.values(status).get('frames_lost', 0)) == 0, status

    # Every third frame lost: a third of the frames, once the loss fills the node's window.
    feeder.skip = lambda k: k % 3 == 2
    lossy = time.monotonic()
    settled = lossy + LOSS_WINDOW + 0.5
    assert ros_probe.spin_until(lambda: latest_after(settled, 'WARN'), timeout=30.0), \
        [s.message for s in diagnostics.since(lossy)]
    status = latest_after(settled, 'WARN')[-1]
    values = Diagnostics.values(status)
    assert 'fastdds.xml' in status.message, status.message
    loss = float(values[keys.IMAGE_FRAMES_LOST])
    assert 25.0 <= loss <= 40.0, values
    assert f'{loss:.1f}%' in status.message, status.message
    assert float(values[keys.IMAGE_SOURCE_RATE]) == pytest.approx(30.0, rel=0.1), values
    assert int(values['frames_lost']) > 10, values


def test_colour_model_refuses_mono_until_allowed(start_node, ros_probe):
    commands = Commands(ros_probe)
    diagnostics = Diagnostics(ros_probe)
    FrameFeeder(ros_probe, encoding='mono8')
    node = start_node('fusion_node', params={'instruction': INSTRUCTION,
                                             'diagnostics_rate': 2.0})

    def refusal():
        return [s for s in diagnostics.since(0) if Diagnostics.level(s) == LEVELS['ERROR']]

    assert ros_probe.spin_until(refusal, timeout=60.0), \
        f'no ERROR; statuses {[s.message for s in diagnostics.since(0)]}; node:\n' \
        f'{node.stop()} {node.output}'
    message = refusal()[-1].message
    assert 'mono8' in message and 'accept_mono' in message, message
    ros_probe.spin_until(lambda: False, timeout=1.5)
    assert not commands.moving_since(0), 'the node acted on mono frames'
    assert int(Diagnostics.values(diagnostics.since(0)[-1])['frames_refused_encoding']) > 0

    results = set_parameters(ros_probe, 'fusion_node', accept_mono=True)
    assert results['accept_mono'][0], results
    allowed = time.monotonic()
    assert ros_probe.spin_until(lambda: len(commands.moving_since(allowed)) >= 5, 30.0), \
        'accept_mono:=true did not let the node drive on mono frames'
