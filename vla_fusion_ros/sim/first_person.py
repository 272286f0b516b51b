# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The first-person world (``world:=first_person``): what a camera on the robot sees, via MuJoCo.

Scene, motion and strict termination are :class:`~vla_fusion_ros.sim.base.BaseWorld`'s, as in
the overhead world; this world differs in what the camera shows and in what the robot must do
to find its target:

- a perspective camera on the robot's front, ``camera_height_m`` above the floor, pitched down
  ``camera_pitch_deg``, ``horizontal_fov_deg`` wide (4:3 frustum, the same at every resolution:
  see :mod:`.mujoco_scene`); objects hide each other, and the robot starts with a random heading,
  so the target is often out of view (the robot must turn and search);
- object sizes vary (``object_size_jitter``), and every scene draws its own floor texture and
  tint, wall tint and light (direction, strength, ambient) from the seed;
- the target, when present, can be seen from the start position (no object hides it from every
  heading), so a search by turning in place always finds it.

The world tracks what the expert's search needs and the camera could know: ``target_seen``
(the named object's centre was inside the view, not hidden behind another object, at some
frame) and ``turned_rad`` (rotation since the start).
"""

from dataclasses import dataclass
import math
from typing import Optional, Sequence

import numpy as np

from vla_fusion_ros.sim.base import BaseWorld, BaseWorldConfig, require
from vla_fusion_ros.sim.geometry import in_view
from vla_fusion_ros.sim.mujoco_scene import FLOORS, MujocoScene


@dataclass
class FirstPersonConfig(BaseWorldConfig):
    """The first-person world's config: the shared fields, its defaults, and its camera."""

    object_size_jitter: float = 0.25
    max_steps: int = 80               # a full search turn is 21 steps at 1.5 rad/s
    # Camera (on the robot's front)
    horizontal_fov_deg: float = 90.0
    camera_height_m: float = 0.25
    camera_pitch_deg: float = 12.0    # down from horizontal
    camera_forward_m: float = 0.1     # ahead of the robot's centre
    visible_margin_deg: float = 8.0   # the expert counts a target as seen this far inside
    # Variety
    light_jitter: float = 0.35        # light strength drawn from 0.6 * [1 - j, 1 + j]
    tint_jitter: float = 0.25         # floor and wall tints drawn from 1 +- j per channel

    def __post_init__(self):
        super().__post_init__()
        require(30.0 <= self.horizontal_fov_deg <= 150.0, self, 'horizontal_fov_deg',
                'must be in [30, 150]')
        require(0.05 <= self.camera_height_m <= 2.0, self, 'camera_height_m',
                'must be in [0.05, 2]')
        require(-30.0 <= self.camera_pitch_deg <= 60.0, self, 'camera_pitch_deg',
                'must be in [-30, 60]')
        require(0.0 <= self.camera_forward_m <= self.robot_radius_m, self, 'camera_forward_m',
                'must be in [0, robot_radius_m]')
        require(0.0 <= self.visible_margin_deg < 0.5 * self.horizontal_fov_deg, self,
                'visible_margin_deg', 'must be in [0, horizontal_fov_deg / 2)')
        require(0.0 <= self.light_jitter < 1.0, self, 'light_jitter', 'must be in [0, 1)')
        require(0.0 <= self.tint_jitter < 1.0, self, 'tint_jitter', 'must be in [0, 1)')


class FirstPersonWorld(BaseWorld):
    """The first-person world (see the module docstring)."""

    name = 'first_person'

    def __init__(self, config: Optional[FirstPersonConfig] = None):
        super().__init__(config or FirstPersonConfig())
        self.looks = {}

    @property
    def horizontal_fov(self) -> float:
        """Return the camera's horizontal field of view in radians."""
        return math.radians(self.config.horizontal_fov_deg)

    def _scene(self) -> MujocoScene:
        cfg = self.config
        return MujocoScene.shared((cfg.arena_size_m, cfg.horizontal_fov_deg,
                                   cfg.camera_pitch_deg, cfg.camera_height_m,
                                   cfg.camera_forward_m))

    def _start_ok(self, pose: np.ndarray) -> bool:
        target = self.target
        return target is None or in_view(pose, target, math.pi, self.objects)

    def _extra_reset(self, rng: np.random.Generator) -> None:
        cfg = self.config
        tint = rng.uniform(1 - cfg.tint_jitter, 1 + cfg.tint_jitter, size=6)
        azimuth = rng.uniform(-math.pi, math.pi)
        elevation = rng.uniform(0.6, 1.4)
        self.looks = {
            'floor': int(rng.integers(len(FLOORS))),
            'floor_tint': tuple(float(min(1.0, 0.8 * t)) for t in tint[:3]),
            'wall_tint': tuple(float(min(1.0, 0.6 * tint[3] * (1 + 0.2 * (t - 1))))
                               for t in tint[3:]),
            'light': float(0.6 * rng.uniform(1 - cfg.light_jitter, 1 + cfg.light_jitter)),
            'ambient': float(rng.uniform(0.2, 0.4)),
            'light_dir': (math.cos(azimuth) * math.cos(elevation),
                          math.sin(azimuth) * math.cos(elevation), -math.sin(elevation)),
        }

    def target_visible(self, pose: Optional[Sequence[float]] = None) -> bool:
        """Whether the camera at ``pose`` (default: the robot's) sees the named object."""
        target = self.target
        if target is None:
            return False
        half = 0.5 * self.horizontal_fov - math.radians(self.config.visible_margin_deg)
        return in_view(self.pose if pose is None else pose, target, half, self.objects)

    def render(self, width: Optional[int] = None, height: Optional[int] = None) -> np.ndarray:
        """Render the robot's camera as ``(height, width, 3)`` uint8 RGB (default: square)."""
        width, height = self._size(width, height)
        return self._scene().render(self, width, height)
