# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Plane geometry shared by the worlds and the expert: angles, unicycle motion, discs, segments.

Conventions (REP-103): ``x`` right in the overhead view, ``y`` up, ``theta`` counter-clockwise
from ``+x``; an action is ``[linear_x, angular_z]`` in m/s and rad/s.
"""

import math
from typing import Sequence, Tuple

import numpy as np


def wrap_angle(angle: float) -> float:
    """Wrap an angle to ``[-pi, pi)``."""
    return (angle + math.pi) % (2.0 * math.pi) - math.pi


def clamp_action(action: Sequence[float], max_linear: float,
                 max_angular: float) -> Tuple[float, float]:
    """Return ``(v, w)`` clamped to the limits; a non-finite value anywhere stops the robot."""
    values = np.asarray(action, dtype=np.float64).reshape(-1)
    if values.shape != (2,):
        raise ValueError(f'action: expected [linear_x, angular_z], got {values.size} values')
    if not np.all(np.isfinite(values)):
        return 0.0, 0.0
    return (float(np.clip(values[0], -max_linear, max_linear)),
            float(np.clip(values[1], -max_angular, max_angular)))


def integrate_unicycle(x: float, y: float, theta: float, v: float, w: float,
                       dt: float) -> Tuple[float, float, float]:
    """Integrate unicycle kinematics exactly over ``dt`` with constant ``v`` and ``w``."""
    if abs(w) < 1e-9:
        return x + v * dt * math.cos(theta), y + v * dt * math.sin(theta), wrap_angle(theta)
    end = theta + w * dt
    radius = v / w
    return (x + radius * (math.sin(end) - math.sin(theta)),
            y - radius * (math.cos(end) - math.cos(theta)), wrap_angle(end))


def segment_disc_distances(start: np.ndarray, end: np.ndarray,
                           centres: np.ndarray) -> np.ndarray:
    """
    Return the distance from every segment to every point, broadcast.

    ``start`` and ``end`` are ``[..., 2]`` (one segment each), ``centres`` ``[M, 2]``; the
    result is ``[..., M]``.
    """
    d = (end - start)[..., None, :]                       # [..., 1, 2]
    rel = centres - start[..., None, :]                   # [..., M, 2]
    length2 = np.maximum((d * d).sum(-1), 1e-12)          # [..., 1]
    t = np.clip((rel * d).sum(-1) / length2, 0.0, 1.0)    # [..., M]
    closest = d * t[..., None] - rel                      # [..., M, 2]
    return np.sqrt((closest * closest).sum(-1))


def bearing(pose: Sequence[float], point: Sequence[float]) -> float:
    """Angle of ``point`` seen from ``pose`` (x, y, theta), relative to the heading."""
    return wrap_angle(math.atan2(point[1] - pose[1], point[0] - pose[0]) - pose[2])


def in_view(pose: Sequence[float], obj, half_fov: float,
            objects: Sequence) -> bool:
    """Whether ``obj``'s centre is inside a horizontal field of view and not hidden."""
    if abs(bearing(pose, (obj.x, obj.y))) > half_fov:
        return False
    start = np.asarray(pose[:2], dtype=np.float64)
    goal = np.array([obj.x, obj.y])
    span = goal - start
    length = float(np.hypot(*span))
    for other in objects:
        if other is obj:
            continue
        rel = np.array([other.x, other.y]) - start
        t = float(np.clip(rel @ span / max(length * length, 1e-12), 0.0, 1.0))
        if t < 1.0 and np.hypot(*(span * t - rel)) < 0.8 * other.radius:
            return False  # the sight line passes through another object's core
    return True
