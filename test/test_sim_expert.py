# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The proportional expert: success on held-out scenes, and the shape of its actions."""

import math

import numpy as np
import pytest

from vla_fusion_ros.sim.expert import ExpertPolicy
from vla_fusion_ros.sim.world import EVAL_SEED_START, World, WorldConfig


def run_expert(world, expert, seed):
    world.reset(seed)
    while not world.done:
        world.step(expert.act(world))
    return world.success, world.steps


@pytest.mark.parametrize('view', ['overhead', 'egocentric'])
def test_expert_succeeds_on_held_out_scenes(view):
    world, expert = World(WorldConfig(view=view)), ExpertPolicy()
    seeds = range(EVAL_SEED_START, EVAL_SEED_START + 200)
    results = [run_expert(world, expert, seed) for seed in seeds]
    success = np.mean([ok for ok, _ in results])
    assert success >= 0.99, f'expert success {success:.1%} on 200 held-out seeds'
    # Margin: the slowest successful episode uses well under the step budget.
    assert max(steps for _, steps in results) <= 0.6 * world.config.max_steps


def test_expert_turns_toward_the_target_and_stays_within_limits():
    expert = ExpertPolicy()
    left = expert.act_from_state((0.0, 0.0, 0.0), (0.0, 1.0), 0.5, 1.5)
    right = expert.act_from_state((0.0, 0.0, 0.0), (0.0, -1.0), 0.5, 1.5)
    ahead = expert.act_from_state((0.0, 0.0, 0.0), (1.0, 0.0), 0.5, 1.5)
    assert left[1] > 0 and right[1] < 0           # REP-103: positive angular_z turns left
    assert left[0] == 0 and right[0] == 0         # 90 degrees off: turn in place first
    assert ahead[0] == pytest.approx(0.5) and ahead[1] == pytest.approx(0.0)
    near = expert.act_from_state((0.0, 0.0, 0.0), (0.2, 0.0), 0.5, 1.5)
    assert 0 < near[0] < ahead[0]                 # slows down near the target
    for theta in np.linspace(-math.pi, math.pi, 37):
        action = expert.act_from_state((0.3, -0.2, theta), (-0.5, 0.6), 0.5, 1.5)
        assert action.dtype == np.float32 and abs(action[0]) <= 0.5 and abs(action[1]) <= 1.5


def test_expert_rejects_bad_gains():
    with pytest.raises(ValueError, match='gain_angular'):
        ExpertPolicy(gain_angular=0.0)
