# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The overhead world: the arena seen from above, drawn with OpenCV (``world:=overhead``).

Scene, motion and strict termination are :class:`~vla_fusion_ros.sim.base.BaseWorld`'s; this
module only draws. The overhead view shows the whole arena, ``+y`` at the top, at any size:
``render(width, height)`` stretches the arena over the whole frame, so that the node's
preprocessing (an area resize to the model's square input) gives back the square view. The
egocentric view (``view='egocentric'``) shows a square of side ``egocentric_extent_m`` centred
on the robot, heading up; outside the arena is drawn as a dark wall.

The robot is a white arrow with a black nose: no object is white, and it is not a circle (the
old round robot was a likely reason why circles failed most often).

Everything is a pure function of the seed and the actions: two worlds reset with one seed and
given the same actions render the same pixels.
"""

from dataclasses import dataclass
import math
from typing import Optional, Tuple

import cv2
import numpy as np

from vla_fusion_ros.sim.base import (BaseWorld, BaseWorldConfig, DISTRACTOR_RULES,
                                     EVAL_SEED_START, INSTRUCTION_MODES, require, SceneObject,
                                     StepResult, TRAIN_SEED_START, VAL_SEED_START)
from vla_fusion_ros.sim.geometry import clamp_action, integrate_unicycle, wrap_angle
from vla_fusion_ros.sim.shapes import BACKGROUND, COLORS, draw_shape

VIEWS = ('overhead', 'egocentric')

#: The robot's body and its nose: colours no object has, far from the floor's grey.
ROBOT_COLOR: Tuple[int, int, int] = (250, 250, 250)
HEADING_COLOR: Tuple[int, int, int] = (0, 0, 0)
#: Outside the arena, in the egocentric view.
WALL_COLOR: Tuple[int, int, int] = (15, 15, 15)

__all__ = ['BaseWorld', 'clamp_action', 'DISTRACTOR_RULES', 'draw_overhead',
           'EVAL_SEED_START', 'HEADING_COLOR', 'INSTRUCTION_MODES', 'integrate_unicycle',
           'ROBOT_COLOR', 'SceneObject', 'StepResult', 'TRAIN_SEED_START', 'VAL_SEED_START',
           'VIEWS', 'World', 'WorldConfig', 'wrap_angle']


@dataclass
class WorldConfig(BaseWorldConfig):
    """The overhead world's config: the shared fields plus its view."""

    view: str = 'overhead'
    egocentric_extent_m: float = 2.0  # side of the square the egocentric view shows

    def __post_init__(self):
        super().__post_init__()
        require(self.view in VIEWS, self, 'view', f'must be one of {", ".join(VIEWS)}')
        require(self.egocentric_extent_m > 0, self, 'egocentric_extent_m', 'must be > 0')


class World(BaseWorld):
    """The overhead world: :meth:`reset` with a seed, then :meth:`step` and :meth:`render`."""

    name = 'overhead'

    def __init__(self, config: Optional[WorldConfig] = None):
        super().__init__(config or WorldConfig())

    def render(self, width: Optional[int] = None, height: Optional[int] = None) -> np.ndarray:
        """
        Draw the configured view as ``(height, width, 3)`` uint8 RGB (default: square).

        A non-square frame is drawn square at the larger side, then area-resized: the arena
        is stretched over the whole frame, as a camera with non-square pixels would show it.
        """
        width, height = self._size(width, height)
        side = max(width, height)
        image = self._draw(side)
        if (width, height) != (side, side):
            image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
        return image

    def _draw(self, size: int) -> np.ndarray:
        cfg = self.config
        if cfg.view == 'overhead':
            return draw_overhead(self, size)
        image = np.empty((size, size, 3), dtype=np.uint8)
        x, y, theta = self.pose
        scale = size / cfg.egocentric_extent_m
        c, s = math.cos(theta), math.sin(theta)
        mid = 0.5 * size - 0.5

        def to_px(px, py):
            dx, dy = px - x, py - y  # robot frame: forward is up, left is left
            return mid - (-s * dx + c * dy) * scale, mid - (c * dx + s * dy) * scale
        image[:] = WALL_COLOR
        half = 0.5 * cfg.arena_size_m
        signs = ((-1, -1), (1, -1), (1, 1), (-1, 1))
        _fill_polygon(image, [to_px(a * half, b * half) for a, b in signs], BACKGROUND)
        for obj in self.objects:
            draw_shape(image, obj.shape, to_px(obj.x, obj.y), obj.radius * scale,
                       COLORS[obj.color])
        draw_robot(image, to_px(x, y), cfg.robot_radius_m * scale, (0.0, -1.0))
        return image


def draw_overhead(world: BaseWorld, size: int) -> np.ndarray:
    """
    Draw any world's state from above as a ``(size, size, 3)`` image.

    The overhead world's camera; the first-person world's map view (the demo shows it beside
    what the robot's camera saw).
    """
    cfg = world.config
    image = np.empty((size, size, 3), dtype=np.uint8)
    image[:] = BACKGROUND
    scale = size / cfg.arena_size_m
    half = 0.5 * cfg.arena_size_m

    def to_px(px, py):
        return (px + half) * scale - 0.5, (half - py) * scale - 0.5
    for obj in world.objects:
        draw_shape(image, obj.shape, to_px(obj.x, obj.y), obj.radius * scale,
                   COLORS[obj.color])
    x, y, theta = world.pose
    draw_robot(image, to_px(x, y), cfg.robot_radius_m * scale,
               (math.cos(theta), -math.sin(theta)))
    return image


def _fill_polygon(image: np.ndarray, points, color) -> None:
    shift = 4
    pts = np.round(np.asarray(points) * (1 << shift)).astype(np.int32)
    cv2.fillConvexPoly(image, pts, color, lineType=cv2.LINE_AA, shift=shift)


def draw_robot(image: np.ndarray, center: Tuple[float, float], radius: float,
               heading: Tuple[float, float]) -> None:
    """
    Draw the robot: a white arrow (a kite pointing forward) with a black nose.

    ``heading`` is the unit vector of the robot's forward direction in image coordinates.
    The brief's calibration run
    found that a visible heading mattered more than almost anything else for learning.
    """
    cx, cy = center
    hx, hy = heading
    px, py = -hy, hx  # perpendicular

    def at(f, s):
        return (cx + (hx * f + px * s) * radius, cy + (hy * f + py * s) * radius)
    _fill_polygon(image, [at(1.15, 0.0), at(-0.8, 0.85), at(-0.35, 0.0), at(-0.8, -0.85)],
                  ROBOT_COLOR)
    _fill_polygon(image, [at(1.15, 0.0), at(0.35, 0.42), at(0.35, -0.42)], HEADING_COLOR)
