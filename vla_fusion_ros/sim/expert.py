# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
A proportional expert for the simulated world: the teacher for behaviour cloning.

It turns toward the target, drives when it roughly faces it, and slows down near it. It reads
the world's state (the robot's pose and the target), never the image, so its actions are the
labels a vision-language policy must learn to produce from pixels and words.
"""

from dataclasses import dataclass
import math
from typing import Sequence

import numpy as np

from vla_fusion_ros.sim.world import World, wrap_angle


@dataclass
class ExpertPolicy:
    """A proportional controller on bearing and distance to the target."""

    gain_angular: float = 3.0       # rad/s per rad of bearing error
    gain_linear: float = 1.5        # m/s per m of distance (slows down near the target)
    turn_in_place_rad: float = 0.8  # no forward motion while the bearing error exceeds this
    min_linear: float = 0.1         # m/s: keeps creeping forward inside the success radius

    def __post_init__(self):
        for name in ('gain_angular', 'gain_linear', 'turn_in_place_rad'):
            if not getattr(self, name) > 0:
                raise ValueError(f'{name}: must be > 0, got {getattr(self, name)!r}')
        if self.min_linear < 0:
            raise ValueError(f'min_linear: must be >= 0, got {self.min_linear!r}')

    def act(self, world: World) -> np.ndarray:
        """Return the expert's ``[linear_x, angular_z]`` for the world's current state."""
        target = world.target
        cfg = world.config
        return self.act_from_state(world.pose, (target.x, target.y), cfg.max_linear,
                                   cfg.max_angular)

    def act_from_state(self, pose: Sequence[float], target_xy: Sequence[float],
                       max_linear: float, max_angular: float) -> np.ndarray:
        """Return ``[linear_x, angular_z]`` (float32) for a pose ``(x, y, theta)`` and a target."""
        x, y, theta = (float(v) for v in pose)
        dx, dy = float(target_xy[0]) - x, float(target_xy[1]) - y
        distance = math.hypot(dx, dy)
        error = wrap_angle(math.atan2(dy, dx) - theta)
        angular = float(np.clip(self.gain_angular * error, -max_angular, max_angular))
        if abs(error) >= self.turn_in_place_rad:
            linear = 0.0
        else:
            facing = math.cos(error * (0.5 * math.pi / self.turn_in_place_rad))
            linear = max(self.min_linear, min(max_linear, self.gain_linear * distance)) * facing
        return np.array([linear, angular], dtype=np.float32)
