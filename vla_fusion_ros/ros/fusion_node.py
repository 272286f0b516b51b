# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
``fusion_node``: camera images and instructions in, safe velocity commands out.

Topics (all remappable):

- subscribes ``~/image_raw`` (``sensor_msgs/Image``; or ``~/image_raw/compressed`` with
  ``image_transport:=compressed``), best effort, depth 1;
- subscribes ``~/instruction`` (``std_msgs/String``, reliable + transient local, so a node
  that starts late still gets the last instruction) and ``~/estop`` (``std_msgs/Bool``,
  latched);
- publishes ``cmd_vel`` (``Twist`` by default, ``TwistStamped`` or ``Float32MultiArray``),
  ``/diagnostics`` at 1 Hz and, with ``debug_image:=true``, ``~/debug_image``.

Parameters are declared in :mod:`vla_fusion_ros.ros.node_settings`; defaults live in
``config/fusion.yaml``. Limits, timeouts and the instruction can be set at run time
(``ros2 param set``) and take effect at once; the others are read-only.
"""

import sys

from rclpy.node import Node

from vla_fusion_ros.ros.fusion_core import FusionController
from vla_fusion_ros.ros.node_settings import declare_fusion_parameters
from vla_fusion_ros.ros.policy_loader import load_policy
from vla_fusion_ros.ros.runtime import run_node


class FusionNode(Node):
    """The always-on fusion node: loads the model at start-up and runs until stopped."""

    def __init__(self, **kwargs):
        super().__init__('fusion_node', **kwargs)
        self.controller = None
        self.settings = declare_fusion_parameters(self, on_change=self._apply_parameters)
        self.policy = load_policy(self.settings, self.get_logger())
        self.controller = FusionController(self, self.settings, self.policy)
        self.controller.start()
        self.get_logger().info(
            f'ready: {self.policy.identity} on {self.policy.device}, '
            f'images from {self.controller.image_sub.topic_name}, commands '
            f'({self.settings.output_type}) on {self.controller.output.publisher.topic_name}')

    def _apply_parameters(self, new, changed) -> None:
        if self.controller is not None:
            self.controller.apply_settings(new, changed)

    def on_shutdown(self) -> None:
        """Publish a final zero command before the node goes away."""
        self.controller.shutdown()


def main(args=None):
    """Run the fusion node; exit non-zero with one line if it cannot start."""
    return run_node(FusionNode, args, threads=2)


if __name__ == '__main__':
    sys.exit(main())
