# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Behaviour-cloning data: format, clean labels under noisy execution, chunks, loading, CLI."""

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from vla_fusion_ros.sim.expert import ExpertPolicy
from vla_fusion_ros.sim.world import EVAL_SEED_START, World, WorldConfig
from vla_fusion_ros.train import dataset

CONFIG = WorldConfig(image_size=32)
EPISODES = 10
CHUNK = 4


@pytest.fixture(scope='module')
def data():
    return dataset.generate(EPISODES, seed=100, world_config=CONFIG, chunk_size=CHUNK,
                            image_size=32, render_sizes=[(32, 32)])


@pytest.fixture(scope='module')
def saved(data, tmp_path_factory):
    path = str(tmp_path_factory.mktemp('data') / 'sub' / 'train.npz')
    dataset.save(path, data)
    return path


def test_arrays_have_the_documented_shapes(data):
    frames = len(data['images'])
    assert frames == int(data['episode_length'].sum()) > EPISODES
    assert data['images'].shape == (frames, 32, 32, 3) and data['images'].dtype == np.uint8
    for key, shape, dtype in [('actions', (frames, 2), np.float32),
                              ('executed', (frames, 2), np.float32),
                              ('poses', (frames, 3), np.float64),
                              ('episode', (frames,), np.int32), ('step', (frames,), np.int32),
                              ('instruction_id', (frames,), np.int32),
                              ('action_chunks', (frames, CHUNK, 2), np.float32),
                              ('episode_seed', (EPISODES,), np.int64)]:
        assert data[key].shape == shape and data[key].dtype == dtype, key
    assert list(data['episode_seed']) == list(range(100, 100 + EPISODES))
    assert set(data['episode_reason']) <= {'reached', 'collision', 'out_of_arena', 'stopped',
                                           'timeout'}
    assert data['episode_success'].mean() > 0.5  # strict, with noise on half the steps
    assert data['episode_absent'].dtype == bool and data['episode_render_size'].shape == (
        EPISODES, 2)
    assert np.array_equal(np.unique(data['episode']), np.arange(EPISODES))


def test_labels_are_the_clean_expert_and_noise_is_only_executed(data):
    world, expert = World(CONFIG), ExpertPolicy()
    noisy = ~np.all(data['actions'] == data['executed'], axis=1)
    assert 0.3 < noisy.mean() < 0.7  # about half the executed actions carry noise
    for frame in range(len(data['images'])):
        episode = data['episode'][frame]
        if frame == 0 or data['episode'][frame - 1] != episode:
            world.reset(int(data['episode_seed'][episode]))
        world.set_pose(*data['poses'][frame])
        np.testing.assert_array_equal(data['actions'][frame], expert.act(world))
        np.testing.assert_array_equal(data['images'][frame], world.render())
        assert data['instructions'][data['instruction_id'][frame]] == world.instruction
        if frame + 1 < len(data['images']) and data['episode'][frame + 1] == episode:
            # The robot moved by the executed (noisy) action, not by the label.
            np.testing.assert_allclose(world.predict_pose(data['poses'][frame],
                                                          data['executed'][frame]),
                                       data['poses'][frame + 1], atol=1e-12)


def test_without_noise_executed_equals_labels():
    clean = dataset.generate(3, seed=5, world_config=CONFIG, noise_prob=0.0, image_size=32)
    np.testing.assert_array_equal(clean['actions'], clean['executed'])


def test_chunks_are_clean_rollouts_padded_with_zeros(data):
    chunks = data['action_chunks']
    np.testing.assert_array_equal(chunks[:, 0], data['actions'])
    world, expert = World(CONFIG), ExpertPolicy()
    zero = np.all(chunks == 0.0, axis=2)                        # [F, CHUNK]
    assert np.array_equal(zero, np.maximum.accumulate(zero, axis=1))  # zeros only as a suffix
    last = np.flatnonzero(np.diff(data['episode'], append=-1))  # last frame of each episode
    assert zero[last, -1].mean() > 0.5                          # there, the target is near
    frame = 3
    world.reset(int(data['episode_seed'][data['episode'][frame]]))
    pose = data['poses'][frame]
    for j in range(1, CHUNK):
        pose = world.predict_pose(pose, chunks[frame, j - 1])
        world.set_pose(*pose)
        np.testing.assert_array_equal(chunks[frame, j], expert.act(world))


def test_generation_is_deterministic(data):
    again = dataset.generate(EPISODES, seed=100, world_config=CONFIG, chunk_size=CHUNK,
                             image_size=32, render_sizes=[(32, 32)])
    for key in data:
        np.testing.assert_array_equal(again[key], data[key], err_msg=key)


def test_evaluation_seeds_are_refused_and_arguments_checked():
    with pytest.raises(ValueError, match='held-out'):
        dataset.generate(10, seed=EVAL_SEED_START - 5)
    with pytest.raises(ValueError, match='noise_prob'):
        dataset.generate(1, noise_prob=1.5)
    with pytest.raises(ValueError, match='chunk_size'):
        dataset.generate(1, chunk_size=0)


def test_save_load_round_trip(data, saved):
    loaded = dataset.load(saved)
    assert set(loaded) == set(data)
    for key in data:
        np.testing.assert_array_equal(loaded[key], data[key], err_msg=key)
    assert dataset.load(saved)['instructions'].dtype.kind == 'U'


def test_bc_dataset_items_and_batches(saved):
    ds = dataset.BCDataset(saved, chunk_size=CHUNK)
    image, text, action = ds[0]
    assert len(ds) == len(ds.images)
    assert image.dtype == torch.uint8 and image.shape == (32, 32, 3)
    assert isinstance(text, str) and text in ds.instructions
    assert action.dtype == torch.float32 and action.shape == (CHUNK, 2)
    images, texts, actions = next(iter(DataLoader(ds, batch_size=8, shuffle=False)))
    assert images.shape == (8, 32, 32, 3) and len(texts) == 8 and actions.shape == (8, CHUNK, 2)
    batch = ds.get_batch([0, 1, 2, 3, 4, 5, 6, 7])
    assert torch.equal(batch[0], images) and batch[1] == list(texts)
    assert torch.equal(batch[2], actions)


def test_bc_dataset_options(data, saved):
    single = dataset.BCDataset(data, chunk_size=1, image_format='float')
    image, _, action = single[1]
    assert image.dtype == torch.float32 and image.shape == (3, 32, 32)
    assert 0.0 <= float(image.min()) and float(image.max()) <= 1.0
    assert action.shape == (1, 2) and torch.equal(action[0], torch.from_numpy(data['actions'][1]))
    subset = dataset.BCDataset(data, chunk_size=2, indices=[5, 7])
    assert len(subset) == 2 and torch.equal(subset[1][2], torch.from_numpy(
        data['action_chunks'][7, :2]))
    with pytest.raises(ValueError, match='chunk_size'):
        dataset.BCDataset(saved, chunk_size=CHUNK + 1)
    with pytest.raises(ValueError, match='image_format'):
        dataset.BCDataset(saved, image_format='png')


def test_cli_writes_a_dataset(tmp_path, capsys):
    out = str(tmp_path / 'cli.npz')
    code = dataset.main(['--episodes', '3', '--seed', '7', '--out', out, '--image-size', '24',
                         '--no-progress'])
    assert code == 0 and 'frames' in capsys.readouterr().out
    loaded = dataset.load(out)
    assert loaded['images'].shape[1:] == (24, 24, 3)
    assert dataset.main(['--episodes', '3', '--seed', str(EVAL_SEED_START), '--out', out,
                         '--no-progress']) == 2
