# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
``lifecycle_fusion_node``: the fusion node as a managed (lifecycle) node.

- configure: declare and validate parameters, load the model, create topics;
- activate: start publishing commands;
- deactivate: publish one zero command and go silent;
- cleanup / shutdown: stop the inference thread (with a final zero) and release the model.

Drive it with ``ros2 lifecycle set /lifecycle_fusion_node configure`` then ``activate``.
"""

import sys

from rclpy.lifecycle import LifecycleNode, TransitionCallbackReturn

from vla_fusion_ros.ros.fusion_core import FusionController
from vla_fusion_ros.ros.node_settings import declare_fusion_parameters
from vla_fusion_ros.ros.policy_loader import load_policy
from vla_fusion_ros.ros.runtime import run_node


class LifecycleFusionNode(LifecycleNode):
    """Managed variant of :class:`vla_fusion_ros.ros.fusion_node.FusionNode`."""

    def __init__(self, **kwargs):
        super().__init__('lifecycle_fusion_node', **kwargs)
        self.controller = None
        # Set while unconfigured, a parameter only updates the settings configure will use.
        self.settings = declare_fusion_parameters(self, on_change=self._apply_parameters)

    def _apply_parameters(self, new, changed) -> None:
        if self.controller is not None:
            self.controller.apply_settings(new, changed)

    def on_configure(self, state) -> TransitionCallbackReturn:
        """Load the model and create the topics."""
        try:
            policy = load_policy(self.settings, self.get_logger())
            self.controller = FusionController(self, self.settings, policy)
        except Exception as exc:  # noqa: BLE001 - a failed configure is reported, not raised
            self.get_logger().error(f'configure failed: {exc}')
            return TransitionCallbackReturn.FAILURE
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state) -> TransitionCallbackReturn:
        """Start publishing commands."""
        self.controller.start()
        return super().on_activate(state)

    def on_deactivate(self, state) -> TransitionCallbackReturn:
        """Send one zero command and stop publishing."""
        self.controller.stop('deactivated')
        return super().on_deactivate(state)

    def on_cleanup(self, state) -> TransitionCallbackReturn:
        """Release the model and the topics."""
        self._release()
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state=None) -> TransitionCallbackReturn:
        """Stop everything with a final zero (also called when the process exits)."""
        self._release()
        return TransitionCallbackReturn.SUCCESS

    def _release(self) -> None:
        if self.controller is not None:
            self.controller.shutdown()
            self.controller.destroy()
            self.controller = None


def main(args=None):
    """Run the lifecycle fusion node (unconfigured until a manager configures it)."""
    return run_node(LifecycleFusionNode, args, threads=2)


if __name__ == '__main__':
    sys.exit(main())
