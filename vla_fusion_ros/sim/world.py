# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
A 2D world: a unicycle robot, coloured shapes, an instruction that names one, and a camera.

Frames and conventions (REP-103):

- The arena is a square of side ``arena_size_m`` centred on the origin of the world frame.
  ``x`` points right in the overhead view, ``y`` up, and ``theta`` turns counter-clockwise from
  ``+x``. An action is ``[linear_x, angular_z]`` in m/s and rad/s, as in ``geometry_msgs/Twist``.
- The overhead view shows the whole arena, ``+y`` at the top of the image. The egocentric view
  shows a square of side ``egocentric_extent_m`` centred on the robot, heading up; outside the
  arena is drawn as a dark wall.

Everything is a pure function of the seed passed to :meth:`World.reset` and of the actions: two
worlds reset with one seed and given the same actions render the same pixels.

Seed ranges (a convention shared by the dataset generator and the evaluators): training scenes
use seeds in ``[TRAIN_SEED_START, VAL_SEED_START)``, validation in
``[VAL_SEED_START, EVAL_SEED_START)`` and held-out evaluation from ``EVAL_SEED_START`` on.
"""

from dataclasses import dataclass
import math
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

from vla_fusion_ros.sim.instructions import make_instruction
from vla_fusion_ros.sim.shapes import BACKGROUND, COLORS, draw_shape, SHAPES

VIEWS = ('overhead', 'egocentric')
DISTRACTOR_RULES = ('compositional', 'random')
INSTRUCTION_MODES = ('templates', 'canonical')

TRAIN_SEED_START = 0
VAL_SEED_START = 900_000
EVAL_SEED_START = 1_000_000

#: The robot's body and its heading marker: colours no object has, far from the floor's grey.
ROBOT_COLOR: Tuple[int, int, int] = (250, 250, 250)
HEADING_COLOR: Tuple[int, int, int] = (0, 0, 0)
#: Outside the arena, in the egocentric view.
WALL_COLOR: Tuple[int, int, int] = (15, 15, 15)

_GAP_M = 0.05  # clearance between objects, walls and the robot's start pose


@dataclass
class WorldConfig:
    """Everything that defines a world; validated on construction."""

    # Arena and objects
    arena_size_m: float = 2.0         # side of the square arena
    num_objects: int = 4              # the target plus distractors, all different
    object_radius_m: float = 0.15     # about 5 px at 64 px per 2 m: shapes stay recognisable
    distractor_rule: str = 'compositional'  # or 'random': any distractor but the target
    # Robot (a unicycle)
    robot_radius_m: float = 0.12
    max_linear: float = 0.5           # |linear_x| limit, m/s
    max_angular: float = 1.5          # |angular_z| limit, rad/s
    dt: float = 0.2                   # ~15 frames per episode, as in the brief's calibration
    # Task
    success_radius_m: float = 0.25    # robot centre to target centre
    max_steps: int = 60               # 12 s; the expert needs 26 steps at worst
    min_start_distance_m: float = 0.6  # the robot starts at least this far from the target
    instruction_mode: str = 'templates'  # or 'canonical': always 'go to the <color> <shape>'
    # Camera
    image_size: int = 64              # square images, pixels per side
    view: str = 'overhead'
    egocentric_extent_m: float = 2.0  # side of the square the egocentric view shows

    def __post_init__(self):
        def require(ok, name, rule):
            if not ok:
                raise ValueError(f'{name}: {rule}, got {getattr(self, name)!r}')

        for name in ('arena_size_m', 'object_radius_m', 'robot_radius_m', 'max_linear',
                     'max_angular', 'dt', 'success_radius_m', 'egocentric_extent_m'):
            value = getattr(self, name)
            require(isinstance(value, (int, float)) and math.isfinite(value) and value > 0,
                    name, 'must be a finite number > 0')
        require(self.min_start_distance_m >= 0, 'min_start_distance_m', 'must be >= 0')
        require(self.view in VIEWS, 'view', f'must be one of {", ".join(VIEWS)}')
        require(self.distractor_rule in DISTRACTOR_RULES, 'distractor_rule',
                f'must be one of {", ".join(DISTRACTOR_RULES)}')
        require(self.instruction_mode in INSTRUCTION_MODES, 'instruction_mode',
                f'must be one of {", ".join(INSTRUCTION_MODES)}')
        require(isinstance(self.image_size, int) and 16 <= self.image_size <= 1024,
                'image_size', 'must be an integer in [16, 1024]')
        require(isinstance(self.max_steps, int) and self.max_steps >= 1, 'max_steps',
                'must be an integer >= 1')
        kinds = len(COLORS) * len(SHAPES)
        require(isinstance(self.num_objects, int) and 1 <= self.num_objects <= kinds,
                'num_objects', f'must be an integer in [1, {kinds}] (distinct colour-shape pairs)')
        inner = self.arena_size_m - 2 * (self.object_radius_m + _GAP_M)
        cell = 2 * self.object_radius_m + 2 * _GAP_M
        require(inner > 0 and self.num_objects * cell * cell <= 0.4 * inner * inner,
                'num_objects', f'too many objects of radius {self.object_radius_m} m for an '
                f'arena of {self.arena_size_m} m')
        require(self.min_start_distance_m < 0.5 * self.arena_size_m, 'min_start_distance_m',
                f'must be < half the arena ({0.5 * self.arena_size_m} m)')


@dataclass(frozen=True)
class SceneObject:
    """One object of the scene, in the world frame."""

    color: str
    shape: str
    x: float
    y: float


@dataclass(frozen=True)
class StepResult:
    """What :meth:`World.step` reports. ``done`` is ``success`` or the step budget spent."""

    done: bool
    success: bool
    steps: int
    distance_m: float


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


class World:
    """The simulated world: :meth:`reset` with a seed, then :meth:`step` and :meth:`render`."""

    def __init__(self, config: Optional[WorldConfig] = None):
        self.config = config or WorldConfig()
        self.seed: Optional[int] = None
        self.objects: List[SceneObject] = []
        self.target_index = 0
        self.instruction = ''
        self.pose = np.zeros(3)  # x, y, theta
        self.steps = 0
        self.done = False
        self.success = False

    @property
    def target(self) -> SceneObject:
        """Return the object the instruction names."""
        return self.objects[self.target_index]

    def reset(self, seed: int) -> None:
        """Sample a scene, a robot pose and an instruction from ``seed``."""
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f'seed: must be an integer >= 0, got {seed!r}')
        cfg = self.config
        rng = np.random.default_rng(int(seed))
        kinds = self._sample_kinds(rng)
        order = rng.permutation(len(kinds))
        points = self._place(rng, len(kinds))
        self.objects = [SceneObject(kinds[i][0], kinds[i][1], float(p[0]), float(p[1]))
                        for i, p in zip(order, points)]
        self.target_index = int(np.flatnonzero(order == 0)[0])
        self.instruction = make_instruction(self.target.color, self.target.shape, rng,
                                            canonical=cfg.instruction_mode == 'canonical')
        self.pose = self._place_robot(rng)
        self.seed = int(seed)
        self.steps = 0
        self.done = False
        self.success = False

    def _sample_kinds(self, rng: np.random.Generator) -> List[Tuple[str, str]]:
        colors, shapes = list(COLORS), list(SHAPES)
        target = (colors[rng.integers(len(colors))], shapes[rng.integers(len(shapes))])
        kinds = [target]
        need = self.config.num_objects - 1
        if self.config.distractor_rule == 'compositional' and need > 0:
            same_color = [(target[0], s) for s in shapes if s != target[1]]
            same_shape = [(c, target[1]) for c in colors if c != target[0]]
            if need == 1:
                pool = same_color + same_shape
                kinds.append(pool[rng.integers(len(pool))])
            else:
                kinds.append(same_color[rng.integers(len(same_color))])
                kinds.append(same_shape[rng.integers(len(same_shape))])
        rest = [(c, s) for c in colors for s in shapes if (c, s) not in kinds]
        picks = rng.choice(len(rest), size=self.config.num_objects - len(kinds), replace=False)
        return kinds + [rest[i] for i in picks]

    def _place(self, rng: np.random.Generator, count: int) -> List[np.ndarray]:
        cfg = self.config
        half = 0.5 * cfg.arena_size_m - cfg.object_radius_m - _GAP_M
        spacing = 2.0 * cfg.object_radius_m + 2.0 * _GAP_M
        for _ in range(100):
            points: List[np.ndarray] = []
            for _ in range(200 * count):
                p = rng.uniform(-half, half, size=2)
                if all(np.hypot(*(p - q)) >= spacing for q in points):
                    points.append(p)
                    if len(points) == count:
                        return points
        raise RuntimeError(f'cannot place {count} objects; lower num_objects')

    def _place_robot(self, rng: np.random.Generator) -> np.ndarray:
        cfg = self.config
        half = 0.5 * cfg.arena_size_m - cfg.robot_radius_m - _GAP_M
        clearance = cfg.robot_radius_m + cfg.object_radius_m + _GAP_M
        start = max(cfg.min_start_distance_m, cfg.success_radius_m + _GAP_M)
        for _ in range(10000):
            x, y = rng.uniform(-half, half, size=2)
            theta = rng.uniform(-math.pi, math.pi)
            if (all(math.hypot(x - o.x, y - o.y) >= clearance for o in self.objects)
                    and math.hypot(x - self.target.x, y - self.target.y) >= start):
                return np.array([x, y, theta])
        raise RuntimeError('cannot place the robot; lower num_objects or min_start_distance_m')

    def _require_scene(self) -> None:
        if self.seed is None:
            raise RuntimeError('the world has no scene yet: call reset(seed) first')

    def set_pose(self, x: float, y: float, theta: float) -> None:
        """Put the robot at a pose (tests and analysis; the step count is kept)."""
        self._require_scene()
        self.pose = np.array([float(x), float(y), wrap_angle(float(theta))])

    def distance_to_target(self) -> float:
        """Distance in metres from the robot's centre to the target's centre."""
        self._require_scene()
        return float(math.hypot(self.pose[0] - self.target.x, self.pose[1] - self.target.y))

    def predict_pose(self, pose: Sequence[float], action: Sequence[float]) -> np.ndarray:
        """
        Return the pose that ``action`` leads to from ``pose`` in one step (walls included).

        This is the motion model of :meth:`step`, without touching the world's state.
        """
        cfg = self.config
        v, w = clamp_action(action, cfg.max_linear, cfg.max_angular)
        x, y, theta = integrate_unicycle(float(pose[0]), float(pose[1]), float(pose[2]), v, w,
                                         cfg.dt)
        half = 0.5 * cfg.arena_size_m - cfg.robot_radius_m
        return np.array([min(max(x, -half), half), min(max(y, -half), half), theta])

    def step(self, action: Sequence[float]) -> StepResult:
        """
        Apply ``[linear_x, angular_z]`` for ``dt`` seconds (clamped; non-finite stops).

        The robot is kept inside the arena's walls. The episode ends on success (the robot's
        centre within ``success_radius_m`` of the target) or after ``max_steps`` steps.
        """
        self._require_scene()
        if self.done:
            raise RuntimeError('the episode is over: call reset(seed) first')
        cfg = self.config
        self.pose = self.predict_pose(self.pose, action)
        self.steps += 1
        distance = self.distance_to_target()
        self.success = distance <= cfg.success_radius_m
        self.done = self.success or self.steps >= cfg.max_steps
        return StepResult(self.done, self.success, self.steps, distance)

    def render(self) -> np.ndarray:
        """Draw the configured view as an ``(S, S, 3)`` uint8 RGB image."""
        self._require_scene()
        cfg = self.config
        size = cfg.image_size
        image = np.empty((size, size, 3), dtype=np.uint8)
        x, y, theta = self.pose
        if cfg.view == 'overhead':
            scale = size / cfg.arena_size_m
            half = 0.5 * cfg.arena_size_m
            image[:] = BACKGROUND

            def to_px(px, py):
                return (px + half) * scale - 0.5, (half - py) * scale - 0.5
            heading = (math.cos(theta), -math.sin(theta))
        else:
            scale = size / cfg.egocentric_extent_m
            c, s = math.cos(theta), math.sin(theta)
            mid = 0.5 * size - 0.5

            def to_px(px, py):
                dx, dy = px - x, py - y  # robot frame: forward is up, left is left
                return mid - (-s * dx + c * dy) * scale, mid - (c * dx + s * dy) * scale
            image[:] = WALL_COLOR
            half = 0.5 * cfg.arena_size_m
            signs = ((-1, -1), (1, -1), (1, 1), (-1, 1))
            corners = [to_px(sx * half, sy * half) for sx, sy in signs]
            _fill_polygon(image, corners, BACKGROUND)
            heading = (0.0, -1.0)
        for obj in self.objects:
            draw_shape(image, obj.shape, to_px(obj.x, obj.y), cfg.object_radius_m * scale,
                       COLORS[obj.color])
        draw_robot(image, to_px(x, y), cfg.robot_radius_m * scale, heading)
        return image


def _fill_polygon(image: np.ndarray, points, color) -> None:
    shift = 4
    pts = np.round(np.asarray(points) * (1 << shift)).astype(np.int32)
    cv2.fillConvexPoly(image, pts, color, lineType=cv2.LINE_AA, shift=shift)


def draw_robot(image: np.ndarray, center: Tuple[float, float], radius: float,
               heading: Tuple[float, float]) -> None:
    """
    Draw the robot: a white disc with a black wedge from its centre to its front rim.

    ``heading`` is the unit vector of the robot's forward direction in image coordinates. The
    wedge keeps the heading readable at 64 px: the brief's calibration run found that a
    visible heading mattered more than almost anything else for learning.
    """
    draw_shape(image, 'circle', center, radius, ROBOT_COLOR)
    cx, cy = center
    hx, hy = heading
    side = 0.55 * radius  # half-width of the wedge's base at the centre
    tip = 1.05 * radius
    wedge = [(cx + hx * tip, cy + hy * tip),
             (cx - hy * side - hx * 0.15 * radius, cy + hx * side - hy * 0.15 * radius),
             (cx + hy * side - hx * 0.15 * radius, cy - hx * side - hy * 0.15 * radius)]
    _fill_polygon(image, wedge, HEADING_COLOR)
