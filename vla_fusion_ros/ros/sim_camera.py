# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
``sim_camera``: a simulated camera that publishes a simulated world's view, or synthetic scenes.

With ``world:=overhead`` or ``world:=first_person`` it shows the scene of seed
``EVAL_SEED_START + seed`` (a held-out scene) from the robot's start pose, rendered at the
camera's ``width`` x ``height``: what the shipped models were trained on (their datasets are
rendered at camera resolutions up to 640x480 and preprocessed by the node's own function). The
robot does not move (``sim_world`` is the world that does). ``config/fusion.yaml`` sets
``world: overhead`` for the launch file's ``use_sim``. With ``world:=''`` (the default) it
publishes synthetic shapes:

In the spirit of image_tools' ``cam2image``: ``sensor_msgs/Image`` at a fixed rate with stamped
headers, configurable size, encoding, frame_id and QoS (best-effort sensor data by default).
Each frame is drawn by :class:`vla_fusion_ros.sim.shapes.SyntheticScene` from ``seed`` and the
frame's index in publish order, so a subscriber that knows the seed can recompute what any
frame holds.
"""

import sys

from rclpy.node import Node
from sensor_msgs.msg import Image

from vla_fusion_ros.ros.image_conversion import array_to_image_msg
from vla_fusion_ros.ros.params import ParameterError, ParameterSet
from vla_fusion_ros.ros.qos import DURABILITY, HISTORY, make_qos, RELIABILITY
from vla_fusion_ros.ros.runtime import run_node
from vla_fusion_ros.sim.base import EVAL_SEED_START
from vla_fusion_ros.sim.registry import make_world, WORLDS
from vla_fusion_ros.sim.shapes import SyntheticScene

ENCODINGS = ('rgb8', 'bgr8', 'mono8')


class SimCamera(Node):
    """Publish synthetic frames on ``~/image_raw`` (remap it to taste)."""

    def __init__(self, **kwargs):
        super().__init__('sim_camera', **kwargs)
        params = ParameterSet(self, on_change=self._apply_parameters)
        self.frequency = params.declare('frequency', 30.0, 'Publish rate in Hz (applies at '
                                        'once when set).', value_range=(0.1, 1000.0))
        self.width = params.declare('width', 320, 'Image width in pixels.',
                                    value_range=(8, 7680), read_only=True)
        self.height = params.declare('height', 240, 'Image height in pixels.',
                                     value_range=(8, 4320), read_only=True)
        self.encoding = params.declare('encoding', 'rgb8', 'Pixel encoding of the images.',
                                       choices=ENCODINGS, read_only=True)
        self.frame_id = params.declare('frame_id', 'camera_optical_frame',
                                       'frame_id stamped into every header.')
        self.seed = params.declare('seed', 0, 'Seed of the synthetic scene.',
                                   value_range=(0, 2**31 - 1), read_only=True)
        self.num_shapes = params.declare('num_shapes', 4, 'Number of shapes in the scene.',
                                         value_range=(1, 32), read_only=True)
        reliability = params.declare('qos_reliability', 'best_effort', 'QoS reliability.',
                                     choices=tuple(RELIABILITY), read_only=True)
        history = params.declare('qos_history', 'keep_last', 'QoS history.',
                                 choices=tuple(HISTORY), read_only=True)
        depth = params.declare('qos_depth', 1, 'QoS queue depth.', value_range=(1, 1000),
                               read_only=True)
        durability = params.declare('qos_durability', 'volatile', 'QoS durability.',
                                    choices=tuple(DURABILITY), read_only=True)
        about = ('Simulated world to show: overhead, first_person, or empty for synthetic '
                 'drifting shapes.')
        world = params.declare('world', '', about,
                               choices=('',) + WORLDS, read_only=True)
        params.finish()

        self.scene = SyntheticScene(self.width, self.height, seed=self.seed,
                                    num_shapes=self.num_shapes)
        self.world = None
        if world:
            self.world = make_world(world)
            self.world.reset(EVAL_SEED_START + self.seed)
            self.world.render(self.width, self.height)  # a missing renderer fails at start
        self.frame_index = 0
        self.matched_frames = 0     # published while a subscription was matched
        self.publisher = self.create_publisher(
            Image, '~/image_raw', make_qos(reliability, history, depth, durability))
        self.timer = self.create_timer(1.0 / self.frequency, self.publish_frame)
        self.get_logger().info(
            f'publishing {self.width}x{self.height} {self.encoding} at {self.frequency:g} Hz '
            f'on {self.publisher.topic_name} ({reliability}, depth {depth})')

    def _apply_parameters(self, changes) -> None:
        """Apply frequency and frame_id set at run time."""
        self.frame_id = changes.get('frame_id', self.frame_id)
        if 'frequency' in changes:
            self.frequency = changes['frequency']
            self.destroy_timer(self.timer)
            self.timer = self.create_timer(1.0 / self.frequency, self.publish_frame)

    def publish_frame(self) -> None:
        """Render the next frame, stamp it and publish it."""
        frame = (self.world.render(self.width, self.height) if self.world is not None
                 else self.scene.render(self.frame_index))
        msg = array_to_image_msg(frame, self.encoding, Image)
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.header.frame_id = self.frame_id
        if self.publisher.get_subscription_count() > 0:
            self.matched_frames += 1
        self.publisher.publish(msg)
        self.frame_index += 1

    def destroy_node(self):
        """Say how many frames went out (the recorder's cost measurement counts on it)."""
        if hasattr(self, 'matched_frames'):     # not when the settings stopped the start
            print(f'[sim_camera] published {self.frame_index} frames ({self.matched_frames} '
                  'while subscribed)', file=sys.stderr, flush=True)
        return super().destroy_node()


def main(args=None):
    """Run the simulated camera until interrupted."""
    return run_node(SimCamera, args)


if __name__ == '__main__':
    sys.exit(main())


__all__ = ['SimCamera', 'main', 'ParameterError']
