# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The simulated camera, as a real process from the colcon install tree, received over DDS.

Checks rate (within 20 %), size, encoding, stamped headers and content (each frame must be
one that :class:`SyntheticScene` renders for the same seed), then that SIGINT ends the process
with status 0 and no traceback.
"""

import signal
import time

import numpy as np
import pytest
from sensor_msgs.msg import Image

from vla_fusion_ros.ros.image_conversion import image_msg_to_array, to_rgb8
from vla_fusion_ros.ros.qos import make_qos
from vla_fusion_ros.sim.shapes import SyntheticScene

# Nodes over DDS: run on every tested distribution (scripts/test: -m ros on Jazzy).
pytestmark = pytest.mark.ros


@pytest.mark.parametrize('encoding', ['rgb8', 'bgr8', 'mono8'])
def test_sim_camera_process(start_node, ros_probe, encoding):
    """Frames arrive at the configured rate, with the configured size, encoding and content."""
    rate, width, height, seed = 20.0, 160, 120, 7
    received = []
    ros_probe.create_subscription(
        Image, '/cam/image', lambda msg: received.append((time.monotonic(), msg)),
        make_qos('best_effort', 'keep_last', 10))
    cam = start_node('sim_camera', params={
        'frequency': rate, 'width': width, 'height': height, 'encoding': encoding,
        'seed': seed, 'frame_id': 'test_cam'}, remaps={'~/image_raw': '/cam/image'})

    assert ros_probe.spin_until(lambda: len(received) >= 3, timeout=20.0), \
        f'no frames received; camera output:\n{cam.stop()} {cam.output}'
    received.clear()
    ros_probe.spin_until(lambda: False, timeout=2.0)  # measure over 2 s of steady state
    count = len(received)
    assert count >= 2
    measured = (count - 1) / (received[-1][0] - received[0][0])
    assert abs(measured - rate) / rate < 0.2, f'measured {measured:.1f} Hz, wanted {rate} Hz'

    msg = received[-1][1]
    assert (msg.width, msg.height, msg.encoding) == (width, height, encoding)
    assert msg.header.frame_id == 'test_cam'
    assert msg.header.stamp.sec > 0
    stamps = [m.header.stamp.sec + m.header.stamp.nanosec * 1e-9 for _, m in received]
    assert all(b > a for a, b in zip(stamps, stamps[1:])), 'stamps must increase'

    # Content: the frame must equal the scene's rendering of some frame index.
    scene = SyntheticScene(width, height, seed=seed)
    frame = image_msg_to_array(msg)
    rgb = to_rgb8(frame, encoding)
    matches = []
    for index in range(0, 400):
        expected = scene.render(index)
        if encoding == 'mono8':
            import cv2
            expected = cv2.cvtColor(cv2.cvtColor(expected, cv2.COLOR_RGB2GRAY),
                                    cv2.COLOR_GRAY2RGB)
        if np.array_equal(rgb, expected):
            matches.append(index)
    assert matches, 'received frame matches no rendered frame of the seeded scene'

    code = cam.stop(signal.SIGINT)
    assert code == 0, cam.output
    assert 'Traceback' not in cam.output, cam.output


def test_sim_camera_rejects_invalid_parameter(start_node):
    """An invalid encoding exits non-zero with one line listing the valid choices."""
    cam = start_node('sim_camera', params={'encoding': 'yuv422'})
    code = cam.stop(timeout=20.0) if cam.proc.wait(timeout=20.0) is None else cam.stop()
    assert code == 2
    assert 'Traceback' not in cam.output
    assert "parameter 'encoding'" in cam.output and 'rgb8, bgr8, mono8' in cam.output


@pytest.mark.parametrize('world', ['overhead', 'first_person'])
def test_sim_camera_shows_a_world_at_its_resolution(start_node, ros_probe, world):
    """world:= makes the camera show that world's held-out scene, rendered at its size."""
    from vla_fusion_ros.sim.base import EVAL_SEED_START
    from vla_fusion_ros.sim.registry import make_world
    received = []
    ros_probe.create_subscription(Image, '/cam/world', received.append,
                                  make_qos('best_effort', 'keep_last', 10))
    cam = start_node('sim_camera', params={'frequency': 10.0, 'width': 160, 'height': 120,
                                           'seed': 2, 'world': world},
                     remaps={'~/image_raw': '/cam/world'})
    assert ros_probe.spin_until(lambda: received, timeout=20.0), cam.output
    reference = make_world(world)
    reference.reset(EVAL_SEED_START + 2)
    np.testing.assert_array_equal(image_msg_to_array(received[-1]), reference.render(160, 120))
    assert cam.stop(signal.SIGINT) == 0, cam.output


def test_graph_runner_world_argument_picks_the_camera_scene_and_the_model():
    """use_sim:=true world:=overhead: the camera shows it, the node serves its model."""
    from vla_fusion_ros.tools.graph import fusion_graph
    camera, node = fusion_graph({'use_sim': 'true', 'world': 'overhead'})
    assert camera.overrides == {'world': 'overhead'}
    assert node.overrides['checkpoint'].endswith('models/overhead.safetensors')
    assert fusion_graph({'use_sim': 'true'})[1].overrides['checkpoint'] == ''
    with pytest.raises(ValueError, match='world'):
        fusion_graph({'world': 'mars'})


def test_sim_camera_applies_frequency_and_frame_id_at_run_time():
    """Writable parameters take effect when set (the timer is rebuilt for a new rate)."""
    import rclpy
    from rclpy.context import Context
    from rclpy.parameter import Parameter
    from vla_fusion_ros.ros.sim_camera import SimCamera
    context = Context()
    rclpy.init(context=context, args=[])
    node = SimCamera(context=context)
    try:
        assert node.timer.timer_period_ns == round(1e9 / 30.0)
        results = node.set_parameters([Parameter('frequency', value=10.0),
                                       Parameter('frame_id', value='cam2')])
        assert all(r.successful for r in results)
        assert node.timer.timer_period_ns == 100_000_000 and node.frame_id == 'cam2'
    finally:
        node.destroy_node()
        context.try_shutdown()


def test_sim_camera_refuses_a_misspelled_key(start_node, tmp_path):
    """A key of its own params-file section that names no parameter stops it, named."""
    path = tmp_path / 'camera.yaml'
    path.write_text('sim_camera:\n  ros__parameters:\n    frequncy: 5.0\n', encoding='utf-8')
    node = start_node('sim_camera', params_file=str(path))
    node.wait(timeout=30.0)
    assert node.finish() == 2, node.output
    lines = [line for line in node.output.splitlines() if 'cannot start' in line]
    assert len(lines) == 1 and 'frequncy' in lines[0] and 'frequency' in lines[0], node.output
