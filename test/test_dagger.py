# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
DAgger: the rollouts' labels are the expert's for the states the policy visited.

Rounds join the training data, count in the log and resume exactly; the search label is
defined from any heading history. Tiny models and a handful of scenes: seconds in all.
"""

import json
import math

import numpy as np
import pytest
from safetensors.torch import load_file
import torch
from vla_fusion_ros.model import ModelConfig, VLAPolicy
from vla_fusion_ros.model.preprocess import prepare_rgb
from vla_fusion_ros.sim.base import VAL_SEED_START
from vla_fusion_ros.sim.expert import ExpertPolicy
from vla_fusion_ros.sim.instructions import TRAINING_COLOR_SYNONYMS
from vla_fusion_ros.sim.registry import make_world
from vla_fusion_ros.train import dagger, train, train_config
from vla_fusion_ros.train.dataset import BCDataset

from conftest import edited_config, tiny_model, tiny_training_config  # noqa: I100

SEEDS = range(100_000, 100_004)


def tiny_policy(**head):
    return VLAPolicy.from_config(ModelConfig.from_dict(tiny_model(head=head)))


def replay(data, world_name, episode):
    """Replay an episode's executed actions; check each frame and label against the world."""
    frames = np.flatnonzero(data['episode'] == episode)
    world = make_world(world_name)
    world.reset(int(data['episode_seed'][episode]))
    width, height = data['episode_render_size'][episode]
    expert = ExpertPolicy()
    for frame in frames:
        np.testing.assert_array_equal(
            data['images'][frame], prepare_rgb(world.render(width, height), 'rgb8', (64, 64)))
        np.testing.assert_array_equal(data['actions'][frame], expert.act(world))
        np.testing.assert_allclose(data['poses'][frame], world.pose)
        world.step(data['executed'][frame])
    assert world.done and world.reason == str(data['episode_reason'][episode])
    assert len(frames) == data['episode_length'][episode]


@pytest.mark.parametrize('world_name,memory', [('overhead', 0), ('first_person', 8)])
def test_rollout_labels_every_visited_state_with_the_expert_action(world_name, memory):
    policy = tiny_policy(memory=memory)
    data = dagger.rollout(policy, SEEDS, world_name, render_sizes=[(64, 64), (160, 120)],
                          batch_size=3)
    assert list(data['episode_seed']) == list(SEEDS)
    assert not np.array_equal(data['executed'], data['actions'])  # the policy drove
    for episode in range(len(SEEDS)):
        replay(data, world_name, episode)
    again = dagger.rollout(policy, SEEDS, world_name, render_sizes=[(64, 64), (160, 120)])
    # Another batch size: the same episodes, up to float summation order.
    np.testing.assert_array_equal(again['episode_length'], data['episode_length'])
    np.testing.assert_allclose(again['executed'], data['executed'], atol=1e-5)


def test_varied_language_rollouts_phrase_each_episode_in_the_training_language():
    policy = tiny_policy()
    templates = dagger.rollout(policy, SEEDS, 'overhead')
    varied = dagger.rollout(policy, SEEDS, 'overhead', language='varied')
    again = dagger.rollout(policy, SEEDS, 'overhead', language='varied')
    texts = [str(varied['instructions'][varied['instruction_id'][np.flatnonzero(
        varied['episode'] == e)[0]]]) for e in range(len(SEEDS))]
    assert texts == [str(again['instructions'][again['instruction_id'][np.flatnonzero(
        again['episode'] == e)[0]]]) for e in range(len(SEEDS))]  # a function of the seed
    world = make_world('overhead')
    for seed, text in zip(SEEDS, texts):
        world.reset(seed)
        color = world.named[0]  # the phrasing names the episode's own colour (or a synonym)
        assert any(word in text for word in (color, *TRAINING_COLOR_SYNONYMS[color])), text
    assert set(texts) != {str(t) for t in templates['instructions']}
    # the labels are the expert's either way: the language does not change the scene
    assert list(varied['episode_target']) == list(templates['episode_target'])


def test_beta_one_executes_the_expert():
    data = dagger.rollout(tiny_policy(), SEEDS, 'overhead', beta=1.0)
    np.testing.assert_array_equal(data['executed'], data['actions'])
    assert data['episode_success'].all()


def test_absent_search_counts_headings_seen_not_rotation():
    world, expert = make_world('first_person', absent_prob=1.0), ExpertPolicy()
    world.reset(7)
    world.config.stop_steps = 1000
    for _ in range(12):  # back and forth over the same headings: turned, but nothing new seen
        world.step([0.0, -1.5])
        world.step([0.0, 1.5])
    assert world.turned_rad > 2 * math.pi and world.swept_rad == pytest.approx(0.3)
    assert expert.act(world)[1] > 0  # keep searching
    while world.swept_rad < expert.scan_angle(world):
        world.step([0.0, -1.5])  # clockwise (the expert's other way) also sees everything
    np.testing.assert_array_equal(expert.act(world), [0.0, 0.0])


def test_round_seeds_split_across_processes_and_stay_in_the_training_range():
    cfg = dict(train_config.DEFAULTS['dagger'], rounds=2, episodes=5, seed=10)
    shares = [dagger.round_seeds(cfg, 1, rank, 2) for rank in (0, 1)]
    assert [list(s) for s in shares] == [[15, 16, 17], [18, 19]]
    assert dagger.due_rounds(dict(cfg, start_step=4, every=3), 7, 0) == [0, 1]
    assert dagger.due_rounds(dict(cfg, start_step=4, every=3), 7, 1) == [1]
    assert dagger.validate(cfg, (0, 10)) is None
    assert 'overlap' in dagger.validate(cfg, (0, 11))
    assert 'training range' in dagger.validate(dict(cfg, seed=VAL_SEED_START - 9), (0, 1))
    with pytest.raises(train_config.TrainConfigError, match='dagger.beta'):
        train_config.load_config(None, ['dagger.beta=2'])
    with pytest.raises(train_config.TrainConfigError, match='dagger.seed'):
        train_config.load_config(None, ['dagger.rounds=1', 'dagger.seed=0'])


def test_extend_appends_episodes_and_instructions():
    policy = tiny_policy()
    first = dagger.rollout(policy, SEEDS[:2], 'overhead')
    second = dagger.rollout(policy, SEEDS[2:], 'overhead')
    dataset = BCDataset(first, image_format='float')
    dataset.extend(second)
    assert len(dataset) == len(first['images']) + len(second['images'])
    assert len(np.unique(dataset.episode)) == 4
    last = len(dataset) - 1
    assert dataset[last][1] == str(second['instructions'][second['instruction_id'][-1]])
    assert torch.equal(dataset.actions[last, 0], torch.from_numpy(second['actions'][-1]))


def dagger_config(tmp_path, **model_head):
    return str(tiny_training_config(
        tmp_path, tiny_model(head=model_head),
        schedule={'batch_size': 16, 'steps': 6, 'warmup_steps': 2, 'val_every': 3},
        dagger={'rounds': 2, 'episodes': 3, 'start_step': 2, 'every': 2, 'seed': 1000}))


def test_training_with_dagger_rounds_logs_them_and_resumes_exactly(tmp_path):
    config = dagger_config(tmp_path)
    full = tmp_path / 'full'
    assert train.main(['--config', config, '--out', str(full), '--no-progress']) == 0
    log = [json.loads(line) for line in (full / 'log.jsonl').read_text().splitlines()]
    rounds = [e for e in log if 'dagger_round' in e]
    assert [(e['dagger_round'], e['step'], e['episodes']) for e in rounds] == [(0, 2, 3),
                                                                               (1, 4, 3)]
    summary = json.loads((full / 'summary.json').read_text())
    data = summary['training']['data']
    assert data['dagger_frames'] == sum(e['frames'] for e in rounds) > 0
    # Stopped between the rounds and resumed: the same frames, the same weights.
    paused = tmp_path / 'paused'
    assert train.main(['--config', config, '--out', str(paused), '--stop-after', '3',
                       '--no-progress']) == 0
    assert train.main(['--config', config, '--out', str(paused), '--resume',
                       '--no-progress']) == 0
    a, b = load_file(str(full / 'last.safetensors')), load_file(str(paused / 'last.safetensors'))
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_a_model_with_memory_trains_with_dagger_in_the_first_person_world(tmp_path):
    config = dagger_config(tmp_path, memory=8)
    with edited_config(config) as data:
        data['data'].update(world_name='first_person', render_sizes=['64x64'])
        data['dagger'].update(rounds=1, episodes=2)
        data['schedule'].update(steps=3)
    out = tmp_path / 'run'
    assert train.main(['--config', config, '--out', str(out), '--no-progress']) == 0
    log = [json.loads(line) for line in (out / 'log.jsonl').read_text().splitlines()]
    assert [e['dagger_round'] for e in log if 'dagger_round' in e] == [0]
