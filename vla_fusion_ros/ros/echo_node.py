# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
``bench_echo_node``: the rclpy floor the fusion node is measured against.

It subscribes to the same images as the fusion node (``~/image_raw``, best effort, depth 1)
and answers every frame at once with a constant ``TwistStamped`` on ``cmd_vel`` (reliable,
depth 1, as the fusion node publishes) that carries the image's header stamp. No decoding, no
model: image stamp to command receipt is what rclpy and DDS alone cost for a frame, the floor
under any node that turns images into commands.

Parameters: ``executor`` (``single``: rclpy's SingleThreadedExecutor, the default; ``multi``:
a two-thread MultiThreadedExecutor, as the fusion node uses; ``events``: rclpy's
EventsExecutor where it exists, Jazzy and newer) and ``frame_id``.
"""

import sys

from geometry_msgs.msg import TwistStamped
from rclpy.node import Node
from sensor_msgs.msg import Image

from vla_fusion_ros.ros.command_output import COMMAND_QOS
from vla_fusion_ros.ros.params import ParameterSet
from vla_fusion_ros.ros.qos import make_qos
from vla_fusion_ros.ros.runtime import EXECUTORS, run_node


class EchoNode(Node):
    """Answer every image with a constant TwistStamped that carries the image's stamp."""

    def __init__(self, **kwargs):
        super().__init__('bench_echo_node', **kwargs)
        params = ParameterSet(self, on_change=self._apply_parameters)
        self.executor_kind = params.declare(
            'executor', 'single', 'rclpy executor that spins this node.', choices=EXECUTORS,
            read_only=True)
        frame_id = params.declare('frame_id', 'base_link', 'frame_id of the commands.')
        params.finish()
        self.count = 0
        self._command = TwistStamped()
        self._command.header.frame_id = frame_id
        self._command.twist.linear.x = 0.1  # constant: the floor computes nothing
        self.publisher = self.create_publisher(TwistStamped, 'cmd_vel', COMMAND_QOS)
        self.subscription = self.create_subscription(
            Image, '~/image_raw', self._on_image, make_qos('best_effort', 'keep_last', 1))
        self.get_logger().info(
            f'echoing {self.subscription.topic_name} -> {self.publisher.topic_name} '
            f'({self.executor_kind} executor)')

    def _apply_parameters(self, changes) -> None:
        self._command.header.frame_id = changes.get('frame_id', self._command.header.frame_id)

    def _on_image(self, msg: Image) -> None:
        self._command.header.stamp = msg.header.stamp
        self.publisher.publish(self._command)
        self.count += 1


def main(args=None):
    """Run the echo node until interrupted."""
    return run_node(EchoNode, args)


if __name__ == '__main__':
    sys.exit(main())
