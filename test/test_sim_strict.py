# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Strict termination in both worlds, absent targets, the registry and the first-person camera."""

import math

import numpy as np
import pytest

from vla_fusion_ros.model.preprocess import prepare_rgb
from vla_fusion_ros.sim.base import EVAL_SEED_START, REASONS, SceneObject
from vla_fusion_ros.sim.registry import make_config, make_world, parse_size, WORLDS

pytestmark = pytest.mark.parametrize('name', WORLDS)


def staged(name, objects, target_index, pose, **overrides):
    """Return a world with a hand-made scene: ``objects``, the named one, the robot's pose."""
    world = make_world(name, **overrides)
    world.reset(0)
    world.objects, world.target_index = objects, target_index
    world.set_pose(*pose)
    return world


RED_CIRCLE = SceneObject('red', 'circle', 0.5, 0.0, 0.15)
BLUE_SQUARE = SceneObject('blue', 'square', -0.5, 0.0, 0.15)


def test_touching_the_named_object_succeeds(name):
    world = staged(name, [RED_CIRCLE, BLUE_SQUARE], 0, (0.0, 0.0, 0.0))
    results = [world.step([0.5, 0.0]) for _ in range(3)]
    assert results[-1].done and results[-1].success and results[-1].reason == 'reached'
    assert results[-1].distance_m <= world.config.robot_radius_m + RED_CIRCLE.radius
    assert not any(r.done for r in results[:-1])
    with pytest.raises(RuntimeError, match='over'):
        world.step([0.0, 0.0])


def test_touching_another_object_is_a_collision(name):
    world = staged(name, [RED_CIRCLE, BLUE_SQUARE], 0, (0.0, 0.0, math.pi))
    while not world.done:
        result = world.step([0.5, 0.0])
    assert result.reason == 'collision' and not result.success
    assert world.report()['reason'] == 'collision'


def test_leaving_the_arena_fails(name):
    world = staged(name, [RED_CIRCLE], 0, (0.0, 0.7, math.pi / 2))
    while not world.done:
        result = world.step([0.5, 0.0])
    assert result.reason == 'out_of_arena' and not result.success
    half = 0.5 * world.config.arena_size_m
    assert world.pose[1] + world.config.robot_radius_m > half - 0.11


def test_contact_is_checked_along_the_step(name):
    """A fast step that would pass through a thin gap still ends at the first contact."""
    world = staged(name, [RED_CIRCLE, SceneObject('blue', 'square', 0.0, 0.0, 0.05)], 0,
                   (-0.25, 0.0, 0.0), dt=1.0, max_linear=0.5)
    assert world.step([0.5, 0.0]).reason == 'collision'


def test_stopping_succeeds_only_when_the_named_object_is_absent(name):
    present = staged(name, [RED_CIRCLE], 0, (-0.5, 0.0, 0.0))
    absent = staged(name, [RED_CIRCLE], None, (-0.5, 0.0, 0.0))
    steps = present.config.stop_steps
    for world in (present, absent):
        results = [world.step([0.01, -0.02]) for _ in range(steps)]  # below the thresholds
        assert [r.done for r in results] == [False] * (steps - 1) + [True]
        assert results[-1].reason == 'stopped'
    assert absent.success and not present.success


def test_a_moving_pause_does_not_count_as_stopping(name):
    world = staged(name, [RED_CIRCLE], None, (-0.5, 0.0, 0.0), max_steps=8)
    for k in range(8):
        result = world.step([0.0, 0.0] if k % 2 else [0.0, 1.0])
    assert result.reason == 'timeout' and not result.success


def test_absent_scenes_name_a_missing_pair_with_lookalikes(name):
    world = make_world(name, absent_prob=1.0)
    for seed in range(40):
        world.reset(seed)
        kinds = {(o.color, o.shape) for o in world.objects}
        assert world.target is None and world.named not in kinds
        assert any(c == world.named[0] for c, _ in kinds)
        assert any(s == world.named[1] for _, s in kinds)
        assert world.report()['absent'] is True


def test_absent_share_follows_the_config(name):
    world = make_world(name)
    absent = 0
    for seed in range(EVAL_SEED_START, EVAL_SEED_START + 400):
        world.reset(seed)
        absent += world.target_absent
    assert 0.10 <= absent / 400 <= 0.20  # absent_prob 0.15


def test_reports_carry_every_field(name):
    world = make_world(name)
    world.reset(5)
    report = world.report()
    assert set(report) >= {'seed', 'instruction', 'target', 'absent', 'success', 'reason',
                           'steps', 'final_distance_m'}
    assert report['reason'] == '' and set(REASONS) >= {'reached', 'collision'}


def test_same_seed_same_pixels_at_any_size(name):
    def frames(seed, size):
        world = make_world(name)
        world.reset(seed)
        out = [world.render(*size)]
        for action in ([0.0, 1.5], [0.3, -0.5]):
            world.step(action)
            out.append(world.render(*size))
        return np.stack(out)

    for size in ((64, 64), (160, 120)):
        first = frames(EVAL_SEED_START + 3, size)
        assert first.shape == (3, size[1], size[0], 3) and first.dtype == np.uint8
        np.testing.assert_array_equal(first, frames(EVAL_SEED_START + 3, size))
    assert not np.array_equal(frames(EVAL_SEED_START + 4, (64, 64)),
                              frames(EVAL_SEED_START + 3, (64, 64)))


def test_a_large_frame_preprocessed_matches_the_small_render(name):
    """Train/deploy parity: a 640x480 camera, area-resized, shows the 64x64 render's scene."""
    world = make_world(name)
    world.reset(EVAL_SEED_START + 11)
    small = world.render(64, 64).astype(np.int16)
    large = prepare_rgb(world.render(640, 480), 'rgb8', (64, 64)).astype(np.int16)
    assert np.abs(small - large).mean() < 4.0


def test_registry_names_fields_and_sizes(name):
    config = make_config(name, {'num_objects': 3})
    assert config.num_objects == 3 and make_world(name, config).name == name
    with pytest.raises(ValueError, match='colour_count'):
        make_config(name, {'colour_count': 3})
    with pytest.raises(ValueError, match='world'):
        make_world('underwater')
    assert parse_size('640x480') == (640, 480) and parse_size('64') == (64, 64)
    with pytest.raises(ValueError, match='render size'):
        parse_size('big')
