# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Train/deploy parity (one preprocessing function) and why the first-person model has memory."""

import numpy as np
import pytest
import torch

from vla_fusion_ros.model import ModelConfig, VLAPolicy
from vla_fusion_ros.model.preprocess import prepare_rgb
from vla_fusion_ros.sim.base import EVAL_SEED_START
from vla_fusion_ros.sim.expert import ExpertPolicy
from vla_fusion_ros.sim.registry import make_world
from vla_fusion_ros.train import dataset as bc


def test_dataset_and_evaluation_call_the_model_s_preprocessing_function():
    """The node's side of this identity is in test_image_conversion.py (it needs ROS)."""
    from vla_fusion_ros.train import evaluate
    assert bc.prepare_rgb is prepare_rgb
    assert evaluate.prepare_rgb is prepare_rgb


@pytest.mark.parametrize('name', ['overhead', 'first_person'])
def test_dataset_frames_are_camera_renders_preprocessed(name):
    data = bc.generate(2, 0, world=name, render_sizes=[(160, 120)], noise_prob=0.0)
    world = make_world(name)
    world.reset(0)
    expected = prepare_rgb(world.render(160, 120), 'rgb8', (64, 64))
    np.testing.assert_array_equal(data['images'][0], expected)
    assert data['episode_render_size'].tolist() == [[160, 120], [160, 120]]
    assert data['episode_success'].all()


def test_a_full_search_turn_ends_on_the_frame_it_started_from():
    """
    Measure the need for memory: a search frame that both starts and ends a scan.

    An absent-target search turns a full circle, so the frame where the expert must stop is the
    very frame where it had to start turning.
    """
    world, expert = make_world('first_person', absent_prob=1.0), ExpertPolicy()
    world.reset(EVAL_SEED_START)
    start, first_action = world.render(64, 64), expert.act(world)
    turns = int(round(2 * np.pi / (world.config.max_angular * world.config.dt)))
    world.config.stop_steps = 1000  # keep turning: no 'stopped' ending in this probe
    for _ in range(turns - 1):
        world.step([0.0, world.config.max_angular])
    # 2 pi is not a whole number of steps: step the remainder to the start heading.
    rest = (2 * np.pi - world.turned_rad) / world.config.dt
    world.step([0.0, rest])
    assert abs(world.turned_rad - 2 * np.pi) < 1e-9
    assert np.abs(world.render(64, 64).astype(int) - start.astype(int)).max() <= 1
    assert first_action[1] > 0 and not expert.act(world).any()  # turn, then stop


def test_memory_steps_match_whole_episodes_and_reset():
    policy = VLAPolicy.from_config(ModelConfig.from_dict({'head': {'memory': 16}}))
    model = policy.model
    images = torch.rand(5, 3, 64, 64)
    ids, mask = policy.tokenizer.encode(['go to the red circle'] * 5)
    previous = torch.zeros(2, 3, 2)
    previous[0, 1], previous[0, 2], previous[1, 1] = (torch.tensor([0.3, -0.2]),
                                                      torch.tensor([0.1, 0.5]),
                                                      torch.tensor([0.2, 0.2]))
    slots = torch.tensor([0, 1, 2, 3, 4])  # episode 0: steps 0-2; episode 1: steps 0-1
    with torch.no_grad():
        whole = model.forward_episodes(images, ids, mask, slots, previous)
        hidden, stepped = torch.zeros(1, 16), []
        for t in range(3):
            state = torch.cat([hidden, previous[0, t][None]], -1)
            stepped.append(model(images[t:t + 1], ids[:1], mask[:1], state=state))
            hidden = model.head.next_hidden
    torch.testing.assert_close(torch.cat(stepped), whole[:3], rtol=0, atol=1e-5)
    frame = np.zeros((64, 64, 3), np.uint8)
    first = policy.predict(frame, 'go to the red circle')
    assert not np.array_equal(policy.predict(frame, 'go to the red circle'), first)
    policy.reset_memory()
    np.testing.assert_array_equal(policy.predict(frame, 'go to the red circle'), first)
    assert policy.set_backend('auto') == 'torch'  # engines export stateless frames
    with pytest.raises(ValueError, match='memory'):
        policy.set_backend('onnxruntime')


def test_a_missing_gl_backend_is_one_clear_error():
    """Without a working offscreen GL, rendering the first-person world says what to install."""
    import subprocess
    import sys
    code = ('from vla_fusion_ros.sim.registry import make_world\n'
            "w = make_world('first_person'); w.reset(0); w.render()")
    env = {**__import__('os').environ, 'MUJOCO_GL': 'no_such_backend'}
    done = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode != 0
    assert 'RendererUnavailable' in done.stderr and 'MUJOCO_GL' in done.stderr
