# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The overhead world: configuration, kinematics, scenes, determinism and rendering."""

import math

from hypothesis import given, settings
from hypothesis import strategies as st
import numpy as np
import pytest

from vla_fusion_ros.sim.instructions import parse_instruction
from vla_fusion_ros.sim.shapes import BACKGROUND, COLORS
from vla_fusion_ros.sim.world import (clamp_action, HEADING_COLOR, integrate_unicycle,
                                      ROBOT_COLOR, World, WorldConfig, wrap_angle)


def make_world(seed=0, clear=False, **overrides):
    world = World(WorldConfig(**overrides))
    world.reset(seed)
    if clear:  # no objects: pure kinematics (the named object counts as absent)
        world.objects, world.target_index = [], None
    return world


# --- configuration -----------------------------------------------------------------------------

@pytest.mark.parametrize('field, value', [
    ('arena_size_m', 0.0), ('dt', -0.1), ('max_linear', float('nan')), ('view', 'sideways'),
    ('image_size', 8), ('num_objects', 0), ('num_objects', 12), ('max_steps', 0),
    ('absent_prob', 1.5), ('stop_steps', 0), ('object_size_jitter', 0.7),
    ('distractor_rule', 'none'), ('instruction_mode', 'poetry'), ('min_start_distance_m', 5.0),
])
def test_config_rejects_bad_values_naming_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        WorldConfig(**{field: value})


def test_world_needs_a_scene_and_a_valid_seed():
    world = World()
    with pytest.raises(RuntimeError, match='reset'):
        world.step([0.0, 0.0])
    with pytest.raises(RuntimeError, match='reset'):
        world.render()
    with pytest.raises(ValueError, match='seed'):
        world.reset(-1)


# --- kinematics (REP-103: x forward, theta counter-clockwise) ----------------------------------

def test_straight_line_along_heading():
    world = make_world(clear=True)
    world.set_pose(-0.5, -0.5, 0.0)
    world.step([0.5, 0.0])
    np.testing.assert_allclose(world.pose, [-0.5 + 0.5 * world.config.dt, -0.5, 0.0], atol=1e-12)
    world.set_pose(0.0, 0.0, math.pi / 2)
    world.step([0.5, 0.0])
    np.testing.assert_allclose(world.pose[:2], [0.0, 0.5 * world.config.dt], atol=1e-12)


def test_turning_in_place_is_counter_clockwise_for_positive_angular_z():
    world = make_world(clear=True)
    world.set_pose(0.1, 0.2, 0.0)
    world.step([0.0, 1.0])
    np.testing.assert_allclose(world.pose, [0.1, 0.2, world.config.dt], atol=1e-12)


def test_forward_with_left_turn_curves_to_positive_y():
    x, y, theta = integrate_unicycle(0.0, 0.0, 0.0, 0.5, 1.0, 0.5)
    assert x > 0 and y > 0 and theta == pytest.approx(0.5)
    # Exact arc: radius v / w = 0.5, swept angle 0.5 rad.
    assert x == pytest.approx(0.5 * math.sin(0.5))
    assert y == pytest.approx(0.5 * (1 - math.cos(0.5)))


def test_many_small_steps_match_one_exact_arc():
    pose = (0.0, 0.0, 0.3)
    for _ in range(100):
        pose = integrate_unicycle(*pose, 0.4, -0.7, 0.01)
    np.testing.assert_allclose(pose, integrate_unicycle(0.0, 0.0, 0.3, 0.4, -0.7, 1.0), atol=1e-9)


def test_actions_are_clamped_to_the_limits():
    assert clamp_action([5.0, -9.0], 0.5, 1.5) == (0.5, -1.5)
    world = make_world(clear=True)
    world.set_pose(0.0, 0.0, 0.0)
    world.step([100.0, 0.0])
    assert world.pose[0] == pytest.approx(world.config.max_linear * world.config.dt)


@pytest.mark.parametrize('action', [[float('nan'), 0.3], [0.3, float('inf')],
                                    [float('-inf'), float('nan')]])
def test_non_finite_actions_stop_the_robot(action):
    world = make_world()
    before = world.pose.copy()
    world.step(action)
    np.testing.assert_array_equal(world.pose, before)


def test_action_must_have_two_values():
    with pytest.raises(ValueError, match='action'):
        make_world().step([0.1, 0.2, 0.3])


def test_wrap_angle_range():
    for angle in np.linspace(-20, 20, 101):
        wrapped = wrap_angle(angle)
        assert -math.pi <= wrapped < math.pi
        assert math.isclose(math.cos(wrapped), math.cos(angle), abs_tol=1e-9)


# --- the step budget (strict termination: test_sim_strict.py) -----------------------------------

def test_step_budget_ends_the_episode_without_success():
    world = make_world(max_steps=5, clear=True)
    results = [world.step([0.0, 1.0]) for _ in range(5)]  # turning in place: never 'stopped'
    assert [r.done for r in results] == [False] * 4 + [True]
    assert not results[-1].success and results[-1].steps == 5
    assert results[-1].reason == 'timeout'


def test_robot_starts_away_from_the_target_and_clear_of_everything():
    world = World()
    for seed in range(200):
        world.reset(seed)
        if world.target is not None:
            assert world.distance_to_target() >= world.config.min_start_distance_m
        assert world.contact(*world.pose[:2])[0] == ''


# --- scenes ------------------------------------------------------------------------------------

@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), num_objects=st.integers(3, 6))
def test_compositional_distractors_and_non_overlap(seed, num_objects):
    world = make_world(seed, num_objects=num_objects)
    (color, shape), objects, cfg = world.named, world.objects, world.config
    kinds = [(o.color, o.shape) for o in objects]
    assert len(set(kinds)) == num_objects  # no distractor is a copy of the target (or another)
    assert any(c == color and s != shape for c, s in kinds)
    assert any(s == shape and c != color for c, s in kinds)
    assert ((color, shape) in kinds) == (not world.target_absent)
    for i, a in enumerate(objects):
        half = 0.5 * cfg.arena_size_m - a.radius
        assert abs(a.x) <= half and abs(a.y) <= half
        for b in objects[i + 1:]:  # room for the robot to pass between any two
            assert (math.hypot(a.x - b.x, a.y - b.y)
                    >= a.radius + b.radius + 2 * cfg.robot_radius_m)
        assert (math.hypot(a.x - world.pose[0], a.y - world.pose[1])
                >= a.radius + cfg.robot_radius_m)
    assert parse_instruction(world.instruction) == (color, shape)


def test_two_objects_share_colour_or_shape_and_random_rule_only_avoids_copies():
    for seed in range(50):
        world = make_world(seed, num_objects=2, absent_prob=0.0)
        other = world.objects[1 - world.target_index]
        assert (other.color == world.target.color) != (other.shape == world.target.shape)
        world = make_world(seed, distractor_rule='random')
        assert len({(o.color, o.shape) for o in world.objects}) == 4


def test_target_position_in_the_list_varies():
    assert len({make_world(seed, absent_prob=0.0).target_index for seed in range(40)}) > 1


def test_canonical_instructions():
    for seed in range(20):
        world = make_world(seed, instruction_mode='canonical')
        assert world.instruction == f'go to the {world.named[0]} {world.named[1]}'


# --- determinism -------------------------------------------------------------------------------

@pytest.mark.parametrize('view', ['overhead', 'egocentric'])
def test_same_seed_same_episode(view):
    def rollout(seed):
        world = make_world(seed, view=view)
        frames, text = [world.render()], world.instruction
        for k in range(10):
            if not world.done:
                world.step([0.3, 0.5 * math.sin(k)])
            frames.append(world.render())
        return text, np.stack(frames)

    text_a, frames_a = rollout(7)
    text_b, frames_b = rollout(7)
    assert text_a == text_b
    np.testing.assert_array_equal(frames_a, frames_b)
    assert not np.array_equal(rollout(8)[1], frames_a)


def test_different_seeds_give_different_scenes():
    images = {make_world(seed).render().tobytes() for seed in range(30)}
    assert len(images) == 30


# --- rendering ---------------------------------------------------------------------------------

@pytest.mark.parametrize('view', ['overhead', 'egocentric'])
@pytest.mark.parametrize('size', [32, 64, 96])
def test_render_shape_and_dtype(view, size):
    image = make_world(3, view=view, image_size=size).render()
    assert image.shape == (size, size, 3) and image.dtype == np.uint8
    image = make_world(3, view=view).render(size + 16, size)
    assert image.shape == (size, size + 16, 3) and image.dtype == np.uint8


def _blob_center(image, color):
    mask = np.all(image == np.array(color, dtype=np.uint8), axis=2)
    ys, xs = np.nonzero(mask)
    assert len(xs) > 0, f'colour {color} not found'
    return xs.mean(), ys.mean()


def test_overhead_maps_x_right_and_y_up_and_draws_every_colour():
    world = make_world(1, image_size=128)
    world.set_pose(0.0, 0.0, 0.0)
    center = _blob_center(world.render(), ROBOT_COLOR)
    world.set_pose(0.5, 0.5, 0.0)
    moved = _blob_center(world.render(), ROBOT_COLOR)
    assert moved[0] > center[0] + 20 and moved[1] < center[1] - 20
    image = world.render()
    for obj in world.objects:
        assert np.any(np.all(image == np.array(COLORS[obj.color], np.uint8), axis=2))
    assert tuple(image[0, 0]) == BACKGROUND or tuple(image[-1, -1]) == BACKGROUND


@pytest.mark.parametrize('theta, direction', [(0.0, (1, 0)), (math.pi / 2, (0, -1)),
                                              (math.pi, (-1, 0)), (-math.pi / 2, (0, 1))])
def test_heading_marker_points_along_theta(theta, direction):
    world = make_world(2, image_size=128)
    world.set_pose(0.0, 0.0, theta)
    image = world.render()
    body = _blob_center(image, ROBOT_COLOR)
    marker = _blob_center(image, HEADING_COLOR)
    offset = np.subtract(marker, body)
    assert np.dot(offset, direction) > 1.0  # the dark wedge sits on the forward side


def test_egocentric_view_is_heading_up_and_robot_centred():
    world = make_world(2, view='egocentric', image_size=64)
    world.set_pose(0.0, 0.0, 0.7)
    first = world.render()
    world.set_pose(0.3, -0.2, -2.0)
    second = world.render()
    for image in (first, second):
        robot = np.all(image == np.array(ROBOT_COLOR, np.uint8), axis=2) | np.all(
            image == np.array(HEADING_COLOR, np.uint8), axis=2)
        ys, xs = np.nonzero(robot)
        assert abs(xs.mean() - 31.5) < 1.0 and abs(ys.mean() - 31.5) < 1.0
        assert _blob_center(image, HEADING_COLOR)[1] < _blob_center(image, ROBOT_COLOR)[1]
    assert not np.array_equal(first, second)
