# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Turn a clamped action vector into the command message the robot takes.

``twist`` (``geometry_msgs/Twist``, the default), ``twist_stamped`` (what
diff_drive_controller accepts since Jazzy) or ``float32_multi_array`` (N-dimensional actions).
Units follow REP-103: ``linear.x`` in m/s forward, ``angular.z`` in rad/s counter-clockwise.
Every action passes :class:`ActionLimits` first; a non-finite action is replaced by a zero
command and counted, never published. The limits can be replaced while the node runs
(:meth:`CommandPublisher.set_limits`): a command clamped under the old limits is never
published after the new ones are in place.
"""

from dataclasses import dataclass
import threading
import time
from typing import Optional

from geometry_msgs.msg import Twist, TwistStamped
import numpy as np
from std_msgs.msg import Float32MultiArray, MultiArrayDimension

from vla_fusion_ros.ros.qos import make_qos
from vla_fusion_ros.ros.safety import ActionLimits
from vla_fusion_ros.ros.stats import Counters

#: Reliable, newest only: a command that arrives late is worse than none.
COMMAND_QOS = make_qos('reliable', 'keep_last', 1)


def twist_indices(action_names, action_dim: int):
    """Return which action dimensions drive ``linear.x`` and ``angular.z``."""
    names = list(action_names or [])
    if 'linear_x' in names and 'angular_z' in names:
        return names.index('linear_x'), names.index('angular_z')
    if action_dim < 2:
        raise ValueError(f'a Twist output needs 2 action dimensions, the model has {action_dim}')
    return 0, 1


def _toward_zero(limits: np.ndarray) -> np.ndarray:
    """Return ``limits`` as float32, each rounded toward zero (never beyond the float64 one)."""
    rounded = np.asarray(limits, dtype=np.float32)
    beyond = np.abs(rounded.astype(np.float64)) > np.abs(limits)
    return np.where(beyond, np.nextafter(rounded, np.float32(0)), rounded).astype(np.float32)


#: ``action_min``/``action_max`` at this value follow max_linear/max_angular.
DERIVED = [0.0]


@dataclass(frozen=True)
class Bounds:
    """The limits in force: float64 for the clamp, float32 (rounded toward zero) for arrays."""

    limits: ActionLimits
    low32: np.ndarray
    high32: np.ndarray


def float32_limits(settings, policy):
    """
    Return ``(low, high)`` of a float32_multi_array output for ``settings``.

    A side left at ``[0.0]`` follows the Twist limits: ``max_linear`` on the linear_x
    dimension, ``max_angular`` on angular_z (dimensions 0 and 1 when the model names neither),
    the model's ``action_scale`` on any other.
    """
    dim = policy.action_dim
    scale = np.abs(np.asarray(policy.action_scale, dtype=np.float64)).reshape(-1)
    derived = scale.copy() if scale.shape[0] == dim else np.ones(dim)
    if dim >= 2:
        linear, angular = twist_indices(policy.action_names, dim)
        derived[linear], derived[angular] = settings.max_linear, settings.max_angular
    low = -derived if list(settings.action_min) == DERIVED else settings.action_min
    high = derived if list(settings.action_max) == DERIVED else settings.action_max
    for name, side in (('action_min', low), ('action_max', high)):
        if len(side) != dim:
            raise ValueError(f"parameter '{name}': {len(side)} limits for a model with {dim} "
                             'action dimensions')
    return low, high


class CommandPublisher:
    """Publishes clamped commands of the configured type on ``cmd_vel``."""

    def __init__(self, node, settings, policy, counters: Optional[Counters] = None):
        self.node = node
        self.settings = settings
        self.policy = policy
        self.counters = counters if counters is not None else Counters()
        self.kind = settings.output_type
        self._lock = threading.Lock()
        self.last_command = None
        if self.kind == 'float32_multi_array':
            msg_type = Float32MultiArray
        else:
            self.index = twist_indices(policy.action_names, policy.action_dim)
            msg_type = TwistStamped if self.kind == 'twist_stamped' else Twist
        self._bounds = self.bounds_for(settings)
        self.publisher = node.create_publisher(msg_type, 'cmd_vel', COMMAND_QOS)

    @property
    def limits(self) -> ActionLimits:
        """Return the limits in force."""
        return self._bounds.limits

    def bounds_for(self, settings) -> Bounds:
        """Return the limits ``settings`` ask for; ``ValueError`` names the parameter at fault."""
        if self.kind == 'float32_multi_array':
            low, high = float32_limits(settings, self.policy)
            try:
                limits = ActionLimits(low, high)
            except ValueError as exc:  # name the parameters the user must fix
                raise ValueError(f"parameter 'action_min'/'action_max': {exc}") from None
        else:
            limits = ActionLimits.symmetric([settings.max_linear, settings.max_angular])
        # The message holds float32: a limit such as 0.2 rounds up to 0.2000000030, so
        # clamp again to the float32 limits rounded toward zero.
        return Bounds(limits, _toward_zero(limits.low), _toward_zero(limits.high))

    def set_limits(self, bounds: Bounds) -> None:
        """Put ``bounds`` in force; a command being clamped now is published before it."""
        with self._lock:
            self._bounds = bounds

    def _select(self, action: np.ndarray) -> np.ndarray:
        action = np.asarray(action, dtype=np.float64).reshape(-1)
        if self.kind == 'float32_multi_array':
            return action
        return action[list(self.index)]

    def publish_action(self, action: np.ndarray, stamp=None) -> bool:
        """
        Clamp and publish; return ``True`` if a model action (not a zero) went out.

        ``stamp`` (a ``builtin_interfaces/Time``) is the source frame's header stamp, put on
        ``TwistStamped`` commands; ``None`` stamps them with the current time.
        """
        with self._lock:   # the clamp and the publish see the same limits
            clamped, clipped = self._bounds.limits.clamp(self._select(action))
            if clamped is None:
                self.counters.add('actions_non_finite')
                self._publish(np.zeros(self._bounds.limits.size), None)
                self.counters.add('zeros_published')
                return False
            if clipped:
                self.counters.add('actions_clamped')
            self._publish(clamped, stamp)
        self.counters.add('commands_published')
        return True

    def publish_zero(self) -> None:
        """Publish an explicit zero command."""
        with self._lock:
            self._publish(np.zeros(self._bounds.limits.size), None)
        self.counters.add('zeros_published')

    def flush(self, timeout: float = 1.0) -> None:
        """Wait until reliable subscribers acknowledged the last command (at shutdown)."""
        wait = getattr(self.publisher, 'wait_for_all_acked', None)
        if wait is not None:
            from rclpy.duration import Duration
            wait(Duration(seconds=timeout))
        else:  # pragma: no cover - an rclpy without it: give DDS a moment
            time.sleep(0.2)

    def _publish(self, values: np.ndarray, stamp) -> None:
        """Publish ``values`` (the caller holds the lock)."""
        if self.kind == 'float32_multi_array':
            msg = Float32MultiArray()
            msg.layout.dim = [MultiArrayDimension(label='action', size=len(values),
                                                  stride=len(values))]
            values32 = np.clip(np.asarray(values, dtype=np.float32), self._bounds.low32,
                               self._bounds.high32)
            msg.data = [float(v) for v in values32]
        else:
            twist = Twist()
            twist.linear.x, twist.angular.z = float(values[0]), float(values[1])
            if self.kind == 'twist_stamped':
                msg = TwistStamped()
                # The stamp is that of the observation the command was computed from (so its
                # age is visible downstream); a zero command is stamped now.
                msg.header.stamp = (stamp if stamp is not None
                                    else self.node.get_clock().now().to_msg())
                msg.header.frame_id = self.settings.frame_id
                msg.twist = twist
            else:
                msg = twist
        self.last_command = values
        self.publisher.publish(msg)
