# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The planning expert: strict success in both worlds, its search and stop, its steering."""

import math

import numpy as np
import pytest

from vla_fusion_ros.sim.base import EVAL_SEED_START, SceneObject
from vla_fusion_ros.sim.expert import ExpertPolicy
from vla_fusion_ros.sim.registry import make_world


def run_expert(world, expert, seed):
    world.reset(seed)
    while not world.done:
        world.step(expert.act(world))
    return world.success, world.steps, world.reason


@pytest.mark.parametrize('name', ['overhead', 'first_person'])
def test_expert_strict_success_on_held_out_scenes(name):
    """A small sample; results/training/expert.md holds 1000 scenes of each world."""
    world, expert = make_world(name), ExpertPolicy()
    results = [run_expert(world, expert, seed)
               for seed in range(EVAL_SEED_START, EVAL_SEED_START + 150)]
    success = np.mean([ok for ok, _, _ in results])
    assert success >= 0.98, f'expert strict success {success:.1%} on 150 held-out seeds'
    assert {reason for _, _, reason in results} <= {'reached', 'stopped', 'timeout'}
    assert any(reason == 'stopped' for _, _, reason in results)  # absent targets are there


def test_expert_plans_around_an_object_in_the_way():
    world = make_world('overhead', absent_prob=0.0)
    world.reset(0)
    target = SceneObject('red', 'circle', 0.7, 0.0)
    blocker = SceneObject('red', 'square', 0.0, 0.0)
    world.objects, world.target_index = [target, blocker], 0
    world.set_pose(-0.7, 0.0, 0.0)
    waypoint, length = ExpertPolicy().plan(world)
    assert abs(waypoint[1]) > 0.2            # around the square, not through it
    assert length > 1.4
    while not world.done:
        world.step(ExpertPolicy().act(world))
    assert world.reason == 'reached'


def test_first_person_expert_searches_counter_clockwise_then_stops_when_absent():
    world, expert = make_world('first_person', absent_prob=1.0), ExpertPolicy()
    world.reset(EVAL_SEED_START)
    assert world.target_absent
    first = expert.act(world)
    assert first[0] == 0.0 and first[1] == pytest.approx(world.config.max_angular)
    while not world.done:
        world.step(expert.act(world))
    assert world.reason == 'stopped' and world.success
    assert world.turned_rad >= 2 * math.pi - world.horizontal_fov


def test_overhead_expert_stops_at_once_when_absent():
    world, expert = make_world('overhead', absent_prob=1.0), ExpertPolicy()
    world.reset(3)
    np.testing.assert_array_equal(expert.act(world), [0.0, 0.0])
    assert run_expert(world, expert, 3)[1:] == (world.config.stop_steps, 'stopped')


def test_steering_turns_toward_the_waypoint_within_limits():
    expert = ExpertPolicy()
    left = expert.steer((0.0, 0.0, 0.0), (0.0, 1.0), 1.0, 0.5, 1.5)
    right = expert.steer((0.0, 0.0, 0.0), (0.0, -1.0), 1.0, 0.5, 1.5)
    ahead = expert.steer((0.0, 0.0, 0.0), (1.0, 0.0), 1.0, 0.5, 1.5)
    assert left[1] > 0 and right[1] < 0           # REP-103: positive angular_z turns left
    assert left[0] == 0 and right[0] == 0         # 90 degrees off: turn in place first
    assert ahead[0] == pytest.approx(0.5) and ahead[1] == pytest.approx(0.0)
    near = expert.steer((0.0, 0.0, 0.0), (0.2, 0.0), 0.2, 0.5, 1.5)
    assert 0 < near[0] < ahead[0]                 # slows down near the end of the path
    for theta in np.linspace(-math.pi, math.pi, 37):
        action = expert.steer((0.3, -0.2, theta), (-0.5, 0.6), 1.0, 0.5, 1.5)
        assert action.dtype == np.float32 and abs(action[0]) <= 0.5 and abs(action[1]) <= 1.5


def test_expert_rejects_bad_gains():
    with pytest.raises(ValueError, match='gain_angular'):
        ExpertPolicy(gain_angular=0.0)
    with pytest.raises(ValueError, match='ring_points'):
        ExpertPolicy(ring_points=3)
