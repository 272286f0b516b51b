# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
What every simulated world shares: the scene, the robot's motion and strict termination.

A world is a square arena with coloured objects and a differential-drive (unicycle) robot.
Worlds differ only in what the camera shows (:meth:`BaseWorld.render`): the overhead world
draws the arena from above (:mod:`.world`), the first-person world renders it with MuJoCo from a
camera on the robot (:mod:`.first_person`). Everything else lives here, once:

- **The scene** (:meth:`BaseWorld.reset`): ``num_objects`` distinct colour-shape pairs, one of
  them the target that the instruction names; with the compositional rule one distractor shares
  the target's colour and one its shape. With probability ``absent_prob`` the scene is an
  **absent-target** scene: the instruction names a pair that is not in the scene (its
  distractors still share that pair's colour and shape).
- **Motion**: exact unicycle integration over ``dt``, actions clamped to the limits, checked for
  contact at ``substeps`` points along the step (a step moves at most 0.1 m; the thinnest
  contact zone is over 0.2 m wide, so nothing is jumped over).
- **Contact**: every object has a disc footprint (its ``radius``: the circumscribed circle of
  its shape), the robot a disc of ``robot_radius_m``. Touching means the discs meet.
- **Strict termination** (:attr:`StepResult.reason`):

  ============== ================================================================ =========
  reason         when                                                             success
  ============== ================================================================ =========
  ``reached``    the robot touches the named object, and nothing else             yes
  ``collision``  it touches any other object                                      no
  ``out_of_arena`` its disc crosses the arena's boundary (a wall)                 no
  ``stopped``    ``|v| <= stop_linear`` and ``|w| <= stop_angular`` for            yes, only
                 ``stop_steps`` steps in a row                                    if absent
  ``timeout``    ``max_steps`` steps without any of the above                     no
  ============== ================================================================ =========

  So an absent-target episode succeeds only by stopping without touching anything, and a
  present-target one only by reaching the named object first.

Seeds: training ``[TRAIN_SEED_START, VAL_SEED_START)``; validation up to ``EVAL_SEED_START``
(closed loop from ``VAL_CLOSED_LOOP_SEED_START``, the final choice from ``VAL_SELECT_SEED_START``);
held-out evaluation from ``EVAL_SEED_START``. Everything is a pure function of seed and actions.
"""

from dataclasses import dataclass
import math
from typing import List, Optional, Sequence, Tuple

import numpy as np

from vla_fusion_ros.sim.geometry import clamp_action, integrate_unicycle, wrap_angle
from vla_fusion_ros.sim.instructions import make_instruction
from vla_fusion_ros.sim.shapes import COLORS, SHAPES

DISTRACTOR_RULES = ('compositional', 'random')
INSTRUCTION_MODES = ('templates', 'canonical')
REASONS = ('reached', 'collision', 'out_of_arena', 'stopped', 'timeout')

TRAIN_SEED_START = 0
VAL_SEED_START = 900_000
EVAL_SEED_START = 1_000_000
VAL_CLOSED_LOOP_SEED_START = VAL_SEED_START + 50_000
VAL_SELECT_SEED_START = VAL_SEED_START + 60_000
GAP_M = 0.05  # clearance between objects, walls and the robot's start pose


def require(ok: bool, config, name: str, rule: str) -> None:
    """Raise ``ValueError('<name>: <rule>, got <value>')`` unless ``ok``."""
    if not ok:
        raise ValueError(f'{name}: {rule}, got {getattr(config, name)!r}')


@dataclass
class BaseWorldConfig:
    """The fields every world has (each world's config adds its camera's)."""

    # Arena and objects
    arena_size_m: float = 2.0         # side of the square arena
    num_objects: int = 4              # distinct colour-shape pairs in the scene
    object_radius_m: float = 0.15     # footprint radius (circumscribed) of an object
    object_size_jitter: float = 0.0   # radius drawn from object_radius_m * [1 - j, 1 + j]
    distractor_rule: str = 'compositional'  # or 'random': any distractor but the target
    absent_prob: float = 0.15         # share of scenes whose named object is not there
    # Robot (a unicycle)
    robot_radius_m: float = 0.12
    max_linear: float = 0.5           # |linear_x| limit, m/s
    max_angular: float = 1.5          # |angular_z| limit, rad/s
    dt: float = 0.2                   # seconds per step
    substeps: int = 4                 # contact checks per step
    # Task
    max_steps: int = 60
    min_start_distance_m: float = 0.6  # the robot starts at least this far from the target
    stop_linear: float = 0.05         # 'stopped': |v| at most this (m/s) ...
    stop_angular: float = 0.2         # ... and |w| at most this (rad/s) ...
    stop_steps: int = 3               # ... for this many steps in a row
    instruction_mode: str = 'templates'  # or 'canonical': always 'go to the <color> <shape>'
    # Camera
    image_size: int = 64              # default render size (square) when none is given

    def __post_init__(self):
        for name in ('arena_size_m', 'object_radius_m', 'robot_radius_m', 'max_linear',
                     'max_angular', 'dt'):
            value = getattr(self, name)
            require(isinstance(value, (int, float)) and math.isfinite(value) and value > 0,
                    self, name, 'must be a finite number > 0')
        for name in ('stop_linear', 'stop_angular', 'min_start_distance_m'):
            require(getattr(self, name) >= 0, self, name, 'must be >= 0')
        require(0 <= self.object_size_jitter < 0.5, self, 'object_size_jitter',
                'must be in [0, 0.5)')
        require(0 <= self.absent_prob <= 1, self, 'absent_prob', 'must be in [0, 1]')
        require(self.distractor_rule in DISTRACTOR_RULES, self, 'distractor_rule',
                f'must be one of {", ".join(DISTRACTOR_RULES)}')
        require(self.instruction_mode in INSTRUCTION_MODES, self, 'instruction_mode',
                f'must be one of {", ".join(INSTRUCTION_MODES)}')
        require(isinstance(self.image_size, int) and 16 <= self.image_size <= 1024, self,
                'image_size', 'must be an integer in [16, 1024]')
        for name in ('max_steps', 'stop_steps', 'substeps'):
            require(isinstance(getattr(self, name), int) and getattr(self, name) >= 1, self,
                    name, 'must be an integer >= 1')
        kinds = len(COLORS) * len(SHAPES)
        require(isinstance(self.num_objects, int) and 1 <= self.num_objects < kinds, self,
                'num_objects', f'must be an integer in [1, {kinds - 1}] (distinct colour-shape '
                'pairs, one left for absent-target scenes)')
        big = self.object_radius_m * (1 + self.object_size_jitter)
        inner = self.arena_size_m - 2 * (big + GAP_M)
        cell = 2 * big + 2 * GAP_M
        require(inner > 0 and self.num_objects * cell * cell <= 0.4 * inner * inner, self,
                'num_objects', f'too many objects of radius {self.object_radius_m} m for an '
                f'arena of {self.arena_size_m} m')
        require(self.min_start_distance_m < 0.5 * self.arena_size_m, self,
                'min_start_distance_m', f'must be < half the arena ({0.5 * self.arena_size_m} m)')


@dataclass(frozen=True)
class SceneObject:
    """One object of the scene, in the world frame; ``radius`` is its contact footprint."""

    color: str
    shape: str
    x: float
    y: float
    radius: float = 0.15
    yaw: float = 0.0


@dataclass(frozen=True)
class StepResult:
    """What :meth:`BaseWorld.step` reports; ``reason`` is '' while the episode runs."""

    done: bool
    success: bool
    steps: int
    distance_m: float
    reason: str = ''


class BaseWorld:
    """State, motion and termination; subclasses render (see the module docstring)."""

    #: The registry name of the world (``overhead``, ``first_person``).
    name = ''

    def __init__(self, config: BaseWorldConfig):
        self.config = config
        self.seed: Optional[int] = None
        self.objects: List[SceneObject] = []
        self.target_index: Optional[int] = None   # None: the named object is absent
        self.named: Tuple[str, str] = ('', '')    # the (colour, shape) the instruction names
        self.instruction = ''
        self.pose = np.zeros(3)  # x, y, theta
        self.steps = 0
        self.done = False
        self.success = False
        self.reason = ''
        self.still_steps = 0
        self.turned_rad = 0.0         # |rotation| accumulated since reset
        self.heading_travel = 0.0     # signed rotation since reset (unwrapped)
        self.heading_span = (0.0, 0.0)  # lowest and highest heading_travel so far
        self.target_seen = False      # the target was in the camera's view at some frame
        self.last_action = (0.0, 0.0)
        self.actions: List[Tuple[float, float]] = []

    # --- the scene ------------------------------------------------------------------------

    @property
    def target(self) -> Optional[SceneObject]:
        """Return the object the instruction names, or ``None`` in an absent-target scene."""
        return None if self.target_index is None else self.objects[self.target_index]

    @property
    def target_absent(self) -> bool:
        """Return whether the named object is missing from the scene."""
        return self.target_index is None

    def reset(self, seed: int) -> None:
        """Sample a scene, a robot pose and an instruction from ``seed``."""
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f'seed: must be an integer >= 0, got {seed!r}')
        cfg = self.config
        rng = np.random.default_rng(int(seed))
        kinds = self._sample_kinds(rng)
        absent = bool(rng.random() < cfg.absent_prob)
        self.named = kinds[0]
        if absent:  # replace the named pair by one of the pairs not in the scene
            rest = [(c, s) for c in COLORS for s in SHAPES if (c, s) not in kinds]
            kinds[0] = rest[int(rng.integers(len(rest)))]
        order = rng.permutation(len(kinds))
        radii = cfg.object_radius_m * rng.uniform(1 - cfg.object_size_jitter,
                                                  1 + cfg.object_size_jitter, size=len(kinds))
        points = self._place(rng, radii)
        yaws = rng.uniform(-math.pi, math.pi, size=len(kinds))
        self.objects = [SceneObject(kinds[i][0], kinds[i][1], float(p[0]), float(p[1]),
                                    float(radii[k]), float(yaws[k]))
                        for k, (i, p) in enumerate(zip(order, points))]
        self.target_index = None if absent else int(np.flatnonzero(order == 0)[0])
        self.instruction = make_instruction(self.named[0], self.named[1], rng,
                                            canonical=cfg.instruction_mode == 'canonical')
        self.pose = self._place_robot(rng)
        self._extra_reset(rng)
        self.seed = int(seed)
        self.steps = 0
        self.done = False
        self.success = False
        self.reason = ''
        self.still_steps = 0
        self.turned_rad = 0.0
        self.heading_travel = 0.0
        self.heading_span = (0.0, 0.0)
        self.last_action = (0.0, 0.0)
        self.actions = []  # every executed (clamped) action
        self.target_seen = self.target_visible()

    def _extra_reset(self, rng: np.random.Generator) -> None:
        """Sample a world's own extras (lighting, textures) after the scene; none here."""

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

    def _place(self, rng: np.random.Generator, radii: np.ndarray) -> List[np.ndarray]:
        cfg = self.config
        # Room for the robot to pass between any two objects and between objects and walls.
        passage = 2 * cfg.robot_radius_m + 2 * GAP_M
        for _ in range(200):
            points: List[np.ndarray] = []
            for radius in radii:
                half = 0.5 * cfg.arena_size_m - radius - GAP_M
                for _ in range(200):
                    p = rng.uniform(-half, half, size=2)
                    if all(np.hypot(*(p - q)) >= radius + r + passage
                           for q, r in zip(points, radii)):
                        points.append(p)
                        break
                else:
                    break
            if len(points) == len(radii):
                return points
        raise RuntimeError(f'cannot place {len(radii)} objects; lower num_objects')

    def _place_robot(self, rng: np.random.Generator) -> np.ndarray:
        cfg = self.config
        half = 0.5 * cfg.arena_size_m - cfg.robot_radius_m - GAP_M
        goal = self.target or self.objects[0]
        for _ in range(10000):
            x, y = rng.uniform(-half, half, size=2)
            theta = rng.uniform(-math.pi, math.pi)
            if (all(math.hypot(x - o.x, y - o.y) >= cfg.robot_radius_m + o.radius + GAP_M
                    for o in self.objects)
                    and math.hypot(x - goal.x, y - goal.y) >= cfg.min_start_distance_m
                    and self._start_ok(np.array([x, y, theta]))):
                return np.array([x, y, theta])
        raise RuntimeError('cannot place the robot; lower num_objects or min_start_distance_m')

    def _start_ok(self, pose: np.ndarray) -> bool:
        """Whether a start pose suits this world (first person: the target can be seen)."""
        return True

    def _require_scene(self) -> None:
        if self.seed is None:
            raise RuntimeError('the world has no scene yet: call reset(seed) first')

    # --- state ----------------------------------------------------------------------------

    @property
    def swept_rad(self) -> float:
        """
        Return the range of headings the robot has faced since reset (radians).

        The camera has seen every direction once ``swept_rad + field of view >= 2 pi``. Unlike
        :attr:`turned_rad`, turning back and forth over the same headings adds nothing, so the
        expert's search is well defined from any state a policy leads to.
        """
        return self.heading_span[1] - self.heading_span[0]

    def set_pose(self, x: float, y: float, theta: float) -> None:
        """Put the robot at a pose (tests and analysis; the step count is kept)."""
        self._require_scene()
        self.pose = np.array([float(x), float(y), wrap_angle(float(theta))])

    def distance_to_target(self) -> float:
        """Centre distance from the robot to the named object (nearest object when absent)."""
        self._require_scene()
        goal = self.target
        if goal is None:
            return float(min((math.hypot(self.pose[0] - o.x, self.pose[1] - o.y)
                              for o in self.objects), default=math.inf))
        return float(math.hypot(self.pose[0] - goal.x, self.pose[1] - goal.y))

    def target_visible(self, pose: Optional[Sequence[float]] = None) -> bool:
        """Whether the camera sees the target from ``pose``; overhead: always, if present."""
        return self.target is not None

    def contact(self, x: float, y: float) -> Tuple[str, int]:
        """Return ``(reason, index)`` of what a robot at ``(x, y)`` touches, or ``('', -1)``."""
        cfg = self.config
        half = 0.5 * cfg.arena_size_m - cfg.robot_radius_m
        touched = [i for i, o in enumerate(self.objects)
                   if math.hypot(x - o.x, y - o.y) <= cfg.robot_radius_m + o.radius]
        others = [i for i in touched if i != self.target_index]
        if others:
            return 'collision', others[0]
        if touched:
            return 'reached', touched[0]
        if abs(x) > half or abs(y) > half:
            return 'out_of_arena', -1
        return '', -1

    def predict_pose(self, pose: Sequence[float], action: Sequence[float]) -> np.ndarray:
        """Return the pose ``action`` leads to from ``pose`` in one step (no contacts)."""
        cfg = self.config
        v, w = clamp_action(action, cfg.max_linear, cfg.max_angular)
        return np.array(integrate_unicycle(float(pose[0]), float(pose[1]), float(pose[2]), v,
                                           w, cfg.dt))

    def step(self, action: Sequence[float]) -> StepResult:
        """Apply ``[linear_x, angular_z]`` for ``dt`` (clamped; non-finite stops) and judge."""
        self._require_scene()
        if self.done:
            raise RuntimeError('the episode is over: call reset(seed) first')
        cfg = self.config
        v, w = clamp_action(action, cfg.max_linear, cfg.max_angular)
        x, y, theta = (float(p) for p in self.pose)
        reason = ''
        for k in range(1, cfg.substeps + 1):
            pose = integrate_unicycle(x, y, theta, v, w, cfg.dt * k / cfg.substeps)
            reason = self.contact(pose[0], pose[1])[0]
            if reason:
                break
        self.pose = np.array(pose)
        self.steps += 1
        self.turned_rad += abs(w) * cfg.dt * k / cfg.substeps
        self.heading_travel += w * cfg.dt * k / cfg.substeps
        self.heading_span = (min(self.heading_span[0], self.heading_travel),
                             max(self.heading_span[1], self.heading_travel))
        self.last_action = (v, w)
        self.actions.append((v, w))
        if self.target_visible():
            self.target_seen = True
        still = abs(v) <= cfg.stop_linear and abs(w) <= cfg.stop_angular
        self.still_steps = self.still_steps + 1 if still else 0
        if not reason and self.still_steps >= cfg.stop_steps:
            reason = 'stopped'
        if not reason and self.steps >= cfg.max_steps:
            reason = 'timeout'
        self.reason = reason
        self.success = reason == 'reached' or (reason == 'stopped' and self.target_absent)
        self.done = bool(reason)
        return StepResult(self.done, self.success, self.steps, self.distance_to_target(), reason)

    def report(self) -> dict:
        """Return the episode's outcome, as ``sim_world`` publishes it on ``~/episode``."""
        return {'seed': self.seed, 'instruction': self.instruction,
                'target': f'{self.named[0]} {self.named[1]}', 'absent': self.target_absent,
                'success': bool(self.success), 'reason': self.reason, 'steps': self.steps,
                'final_distance_m': round(self.distance_to_target(), 4)}

    # --- the camera -----------------------------------------------------------------------

    def render(self, width: Optional[int] = None, height: Optional[int] = None) -> np.ndarray:
        """Render the camera's view as ``(height, width, 3)`` uint8 RGB (default: square)."""
        raise NotImplementedError

    def _size(self, width: Optional[int], height: Optional[int]) -> Tuple[int, int]:
        self._require_scene()
        width = int(width or self.config.image_size)
        height = int(height or width)
        if not (8 <= width <= 4096 and 8 <= height <= 4096):
            raise ValueError(f'render size: {width}x{height} is outside 8..4096 pixels')
        return width, height
