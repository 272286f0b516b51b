# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The expert: the teacher for behaviour cloning, a planner that reads the world's true state.

What it does, in both worlds:

1. **Absent target** (the named object is not in the scene): in the overhead world, where the
   whole arena is in view, it stops at once. In the first-person world it first turns in place,
   counter-clockwise, until it has turned far enough to have seen every direction
   (``2 pi - field of view``), then stops.
2. **Search** (first person, target not seen yet): turn in place counter-clockwise at full
   speed. One fixed direction, because a policy that cannot see the target cannot know which
   way is shorter; averaging both would teach it to stand still.
3. **Go**: plan the shortest path to the target around the other objects and follow it. The
   planner is a visibility graph: the robot, the target, and ``ring_points`` points on a circle
   around every other object (its footprint grown by the robot's radius and ``clearance_m``,
   the circle chosen so that the chords between neighbouring points stay clear), inside the
   arena's walls. Edges are segments that keep ``clearance_m`` from every other object;
   Dijkstra finds the path, and the robot steers toward its first waypoint (turning in place
   while the heading error is large). It replans every step, so noise in the executed actions
   is corrected from wherever the robot ends up.

It reads the world's state (pose, objects, which object is named, whether the target has been
in view), never the image, so its actions are the labels a policy must learn from pixels and
words. Its strict success on 1000 scenes of each world is in ``results/training/``.
"""

from dataclasses import dataclass
import heapq
import math
from typing import List, Optional, Sequence

import numpy as np

from vla_fusion_ros.sim.base import BaseWorld, SceneObject
from vla_fusion_ros.sim.geometry import segment_disc_distances, wrap_angle


@dataclass
class ExpertPolicy:
    """A search-then-plan expert (see the module docstring)."""

    gain_angular: float = 3.0       # rad/s per rad of heading error
    gain_linear: float = 1.5        # m/s per m of remaining path (slows down near the target)
    turn_in_place_rad: float = 0.6  # no forward motion while the heading error exceeds this
    min_linear: float = 0.1         # m/s: keeps creeping forward until contact
    clearance_m: float = 0.1        # planned gap between the robot and any other object
    ring_points: int = 10           # waypoints around each obstacle

    def __post_init__(self):
        for name in ('gain_angular', 'gain_linear', 'turn_in_place_rad', 'clearance_m'):
            if not getattr(self, name) > 0:
                raise ValueError(f'{name}: must be > 0, got {getattr(self, name)!r}')
        if self.min_linear < 0:
            raise ValueError(f'min_linear: must be >= 0, got {self.min_linear!r}')
        if self.ring_points < 6:
            raise ValueError(f'ring_points: must be >= 6, got {self.ring_points!r}')

    def act(self, world: BaseWorld) -> np.ndarray:
        """Return the expert's ``[linear_x, angular_z]`` (float32) for the world's state."""
        cfg = world.config
        if world.target_absent:
            if world.turned_rad < self.scan_angle(world):
                return np.array([0.0, cfg.max_angular], dtype=np.float32)
            return np.zeros(2, dtype=np.float32)
        if not world.target_seen:
            return np.array([0.0, cfg.max_angular], dtype=np.float32)
        waypoint, remaining = self.plan(world)
        return self.steer(world.pose, waypoint, remaining, cfg.max_linear, cfg.max_angular)

    @staticmethod
    def scan_angle(world: BaseWorld) -> float:
        """How far to turn before giving up on an absent target (0 when all is in view)."""
        fov = getattr(world, 'horizontal_fov', None)
        if fov is None:
            return 0.0
        return 2.0 * math.pi - fov + 0.3  # a margin: objects at the edge of the view count

    def steer(self, pose: Sequence[float], waypoint: Sequence[float], remaining: float,
              max_linear: float, max_angular: float) -> np.ndarray:
        """Return ``[linear_x, angular_z]`` toward ``waypoint`` with ``remaining`` m to go."""
        x, y, theta = (float(v) for v in pose)
        error = wrap_angle(math.atan2(waypoint[1] - y, waypoint[0] - x) - theta)
        angular = float(np.clip(self.gain_angular * error, -max_angular, max_angular))
        if abs(error) >= self.turn_in_place_rad:
            return np.array([0.0, angular], dtype=np.float32)
        facing = math.cos(error * (0.5 * math.pi / self.turn_in_place_rad))
        linear = max(self.min_linear, min(max_linear, self.gain_linear * remaining)) * facing
        return np.array([linear, angular], dtype=np.float32)

    def plan(self, world: BaseWorld):
        """
        Return ``(first waypoint, path length)`` from the robot to the target.

        Where no path keeps ``clearance_m`` (two objects too close to pass between them so
        widely), it plans again with half, then with a centimetre.
        """
        for clearance in (self.clearance_m, 0.5 * self.clearance_m, 0.01):
            found = self._plan(world, clearance)
            if found is not None:
                return found
        goal = np.array([world.target.x, world.target.y])  # boxed in: head for the target
        return goal, float(np.hypot(*(goal - world.pose[:2])))

    def _plan(self, world: BaseWorld, clearance: float):
        cfg = world.config
        target = world.target
        others = [o for o in world.objects if o is not target]
        start = np.asarray(world.pose[:2], dtype=np.float64)
        goal = np.array([target.x, target.y])
        if not others:
            return goal, float(np.hypot(*(goal - start)))
        centres = np.array([[o.x, o.y] for o in others])                 # [M, 2]
        keep = np.array([o.radius for o in others]) + cfg.robot_radius_m  # contact distance
        safe = keep + clearance
        # Ring points: chords between neighbours keep ``safe`` from the centre.
        angles = np.arange(self.ring_points) * (2 * math.pi / self.ring_points)
        ring_radius = safe / math.cos(math.pi / self.ring_points) + 0.01
        ring = (centres[:, None, :] + ring_radius[:, None, None]
                * np.stack([np.cos(angles), np.sin(angles)], -1)[None])  # [M, R, 2]
        ring = ring.reshape(-1, 2)
        half = 0.5 * cfg.arena_size_m - cfg.robot_radius_m - 0.5 * clearance
        dist_to = np.sqrt(((ring[:, None, :] - centres[None]) ** 2).sum(-1))  # [P, M]
        ok = (np.abs(ring) <= half).all(-1) & (dist_to >= safe - 1e-9).all(-1)
        nodes = np.concatenate([start[None], goal[None], ring[ok]])       # 0 start, 1 goal
        n = len(nodes)
        gap = segment_disc_distances(nodes[:, None, :].repeat(n, 1),
                                     nodes[None, :, :].repeat(n, 0), centres)  # [n, n, M]
        # Segments from the robot keep the clearance too, except from an object whose
        # clearance the robot is already inside (after a noisy step): those only may not get
        # closer than the robot is now.
        need = np.broadcast_to(safe, gap.shape).copy()
        here = np.sqrt(((centres - start) ** 2).sum(-1))                  # [M]
        need[0, :, :] = np.minimum(safe, here - 0.002)
        need[:, 0, :] = need[0, :, :]
        free = (gap >= need).all(-1)
        lengths = np.sqrt(((nodes[:, None] - nodes[None]) ** 2).sum(-1))
        path = _dijkstra(free, lengths)
        if path is None:
            return None
        total = float(sum(lengths[a, b] for a, b in zip(path, path[1:])))
        hop = 1
        while hop < len(path) - 1 and lengths[0, path[hop]] < 0.08:
            hop += 1  # a waypoint the robot is already at: aim at the next one
        return nodes[path[hop]], total


def _dijkstra(free: np.ndarray, lengths: np.ndarray) -> Optional[List[int]]:
    """Shortest path from node 0 to node 1 over the free edges, or ``None``."""
    n = len(free)
    best = np.full(n, np.inf)
    best[0] = 0.0
    parent = [-1] * n
    heap = [(0.0, 0)]
    while heap:
        d, i = heapq.heappop(heap)
        if i == 1:
            path = [1]
            while path[-1] != 0:
                path.append(parent[path[-1]])
            return path[::-1]
        if d > best[i]:
            continue
        for j in np.flatnonzero(free[i]):
            nd = d + lengths[i, j]
            if nd < best[j]:
                best[j] = nd
                parent[j] = i
                heapq.heappush(heap, (nd, int(j)))
    return None


__all__ = ['ExpertPolicy', 'SceneObject']
