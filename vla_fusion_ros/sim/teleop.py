# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The expert as a teleoperator, and the actuation noise that makes its data teach recovery.

A teleoperator commands; the robot executes something close to the command. Behaviour cloning
learns from the *commands* (the labels) at the states the robot actually visited, and
perturbing what is executed (DART) makes those states include the recoveries a policy needs.
:class:`ActuationNoise` is that perturbation, one seeded stream per scene: with probability
``prob`` per step, Gaussian noise of ``std`` on ``[linear_x, angular_z]``, then the world's
limits. The in-process dataset generator (:func:`vla_fusion_ros.train.dataset.generate`) and the
simulated world's teleop mode (``sim_world teleop:=expert``) both draw from it, so a recorded
demonstration and an in-process one of the same scene are the same episode.
"""

from typing import Sequence, Tuple

import numpy as np

from vla_fusion_ros.sim.expert import ExpertPolicy
from vla_fusion_ros.sim.geometry import clamp_action

#: Mixed into every scene's noise seed (the bytes of 'noise'), so the stream is the scene's own.
NOISE_SALT = 0x6E6F697365


class ActuationNoise:
    """Seeded per-step noise on executed actions (see the module docstring)."""

    def __init__(self, prob: float = 0.5, std: Sequence[float] = (0.3, 1.0)):
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f'noise_prob: must be in [0, 1], got {prob}')
        if len(std) != 2 or min(std) < 0:
            raise ValueError(f'noise_std: expected two values >= 0, got {list(std)}')
        self.prob = float(prob)
        self.std = np.asarray(std, dtype=np.float64)
        self.rng = np.random.default_rng()

    def start(self, scene_seed: int) -> np.random.Generator:
        """Begin the stream of scene ``scene_seed``; return it (its first draw is the caller's)."""
        self.rng = np.random.default_rng([int(scene_seed), NOISE_SALT])
        return self.rng

    def perturb(self, command: Sequence[float], max_linear: float,
                max_angular: float) -> np.ndarray:
        """Return the executed action for ``command``: maybe noisy, always within limits."""
        executed = np.asarray(command, dtype=np.float64)
        if self.rng.random() < self.prob:
            executed = executed + self.rng.normal(0.0, self.std)
        return np.array(clamp_action(executed, max_linear, max_angular), dtype=np.float32)


class ExpertTeleop:
    """The expert's command for the state on display, and what the robot executes of it."""

    def __init__(self, expert: ExpertPolicy = None, noise_prob: float = 0.5,
                 noise_std: Sequence[float] = (0.3, 1.0)):
        self.expert = expert or ExpertPolicy()
        self.noise = ActuationNoise(noise_prob, noise_std)

    def start(self, scene_seed: int, render_choices: int = 1) -> None:
        """
        Begin a scene's episode.

        The dataset generator draws each episode's camera size from the noise stream first;
        ``render_choices`` makes the same draw (one camera: 1), so both stay in step.
        """
        self.noise.start(scene_seed).integers(render_choices)

    def act(self, world) -> Tuple[np.ndarray, np.ndarray]:
        """Return ``(command, executed)`` for the world's current state (float32 ``[v, w]``)."""
        command = self.expert.act(world)
        cfg = world.config
        return command, self.noise.perturb(command, cfg.max_linear, cfg.max_angular)
