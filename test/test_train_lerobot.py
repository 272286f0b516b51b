# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Training from LeRobotDataset v3 folders: the reader, the batches, and ``train --dataset``.

A "foreign" dataset is written here by hand, as another tool would: two cameras stored as PNG
``image`` features in the table, a 7-D arm action, tasks in ``meta/tasks``. The reader must
take it (given the camera), preprocess its frames exactly as the node does, and the trainer
must fit its head to the 7-D action.
"""

import json
import os

import cv2
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from robot_bags import simple_bag

from vla_fusion_ros.data import lerobot_v3_schema as v3
from vla_fusion_ros.data.bag_to_lerobot import main as convert
from vla_fusion_ros.data.feature_stats import vector_stats
from vla_fusion_ros.data.lerobot_dataset import DatasetFormatError, FeatureKeys, load
from vla_fusion_ros.model import VLAPolicy
from vla_fusion_ros.model.preprocess import prepare_rgb
from vla_fusion_ros.train import train, train_config
from vla_fusion_ros.train.lerobot_source import (adapt_config, LeRobotBCDataset,
                                                 tokenizer_for)
import yaml

TINY_MODEL = {
    'vision': {'image_size': 32, 'width': 8, 'depth': 2, 'norm_groups': 4, 'downsample': [0, 1]},
    'language': {'width': 8, 'heads': 2, 'max_length': 8},
    'fusion': {'operator': 'film', 'layers': [1], 'dim': 8, 'heads': 2},
    'head': {'hidden': 16, 'queries': 2},
}
JOINTS = ['shoulder_pan', 'shoulder_lift', 'elbow', 'wrist_flex', 'wrist_roll', 'wrist_yaw',
          'gripper']
TASKS = ['grasp the mug', 'open the drawer']


def textured(seed, size=(40, 30)):
    """Return a random RGB image (W x H), so resizing has something to average."""
    return np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)


def png(rgb):
    return cv2.imencode('.png', rgb[:, :, ::-1])[1].tobytes()


def write_foreign(root, lengths=(5, 4)):
    """Write a v3 folder with two PNG cameras and a 7-D action, as another tool would."""
    count = sum(lengths)
    episode = np.repeat(np.arange(len(lengths)), lengths)
    frame = np.concatenate([np.arange(n) for n in lengths])
    actions = np.random.default_rng(0).uniform(-2, 2, (count, 7)).astype(np.float32)
    images = [struct(png(textured(i))) for i in range(count)]
    wrist = [struct(png(textured(100 + i))) for i in range(count)]
    image_type = pa.struct([('bytes', pa.binary()), ('path', pa.string())])
    table = pa.table({
        'observation.images.top': pa.array(images, image_type),
        'observation.images.wrist': pa.array(wrist, image_type),
        'action': pa.FixedSizeListArray.from_arrays(pa.array(actions.ravel()), 7),
        'timestamp': pa.array(frame / 10.0, pa.float32()),
        'frame_index': pa.array(frame, pa.int64()), 'episode_index': pa.array(episode),
        'index': pa.array(np.arange(count)), 'task_index': pa.array(episode % 2)})
    os.makedirs(os.path.join(root, 'data/chunk-000'))
    os.makedirs(os.path.join(root, 'meta/episodes/chunk-000'))
    pq.write_table(table, os.path.join(root, 'data/chunk-000/file-000.parquet'))
    pq.write_table(v3.tasks_table(TASKS), os.path.join(root, v3.TASKS_PATH))
    starts = np.r_[0, np.cumsum(lengths)]
    pq.write_table(pa.Table.from_pylist([
        {'episode_index': e, 'tasks': [TASKS[e % 2]], 'length': n,
         'dataset_from_index': int(starts[e]), 'dataset_to_index': int(starts[e + 1]),
         'data/chunk_index': 0, 'data/file_index': 0, 'meta/episodes/chunk_index': 0,
         'meta/episodes/file_index': 0} for e, n in enumerate(lengths)]),
        os.path.join(root, 'meta/episodes/chunk-000/file-000.parquet'))
    camera = {'dtype': 'image', 'shape': [30, 40, 3], 'names': ['height', 'width', 'channel']}
    info = {'codebase_version': 'v3.0', 'robot_type': 'arm', 'fps': 10,
            'data_path': v3.DATA_PATH,
            'total_episodes': len(lengths), 'total_frames': count, 'total_tasks': 2,
            'features': {'observation.images.top': camera, 'observation.images.wrist': camera,
                         'action': {'dtype': 'float32', 'shape': [7], 'names': JOINTS},
                         **v3.DEFAULT_FEATURES}}
    with open(os.path.join(root, v3.INFO_PATH), 'w', encoding='utf-8') as handle:
        json.dump(info, handle)
    with open(os.path.join(root, v3.STATS_PATH), 'w', encoding='utf-8') as handle:
        json.dump({'action': vector_stats(actions)}, handle)
    return actions


def struct(data):
    return {'bytes': data, 'path': None}


@pytest.fixture
def foreign(tmp_path):
    root = str(tmp_path / 'arm')
    return root, write_foreign(root)


def test_the_reader_takes_a_foreign_dataset_and_preprocesses_like_the_node(foreign):
    root, actions = foreign
    frames = load(root, 16, FeatureKeys(image='observation.images.top'))
    assert len(frames) == 9 and frames.tasks == TASKS
    assert frames.task_index.tolist() == [0] * 5 + [1] * 4
    np.testing.assert_array_equal(frames.actions, actions)
    assert frames.action_names == JOINTS
    for i in (0, 7):
        expected = prepare_rgb(textured(i), 'rgb8', (16, 16))  # the node's own function
        np.testing.assert_array_equal(frames.images[i], expected)


def test_features_that_do_not_fit_are_named(foreign, tmp_path):
    root, _ = foreign
    with pytest.raises(DatasetFormatError, match='2 cameras .*observation.images.top, '
                                                 'observation.images.wrist.*--image-key'):
        load(root, 16)
    with pytest.raises(DatasetFormatError, match="action key 'joints' is not a 1-D float"):
        load(root, 16, FeatureKeys('observation.images.top', 'joints'))
    with pytest.raises(DatasetFormatError, match='no meta/info.json: not a LeRobot dataset'):
        load(str(tmp_path), 16)


def test_action_chunks_stay_within_the_episode_and_repeat_its_last_action(foreign):
    root, actions = foreign
    frames = load(root, 16, FeatureKeys(image='observation.images.wrist'))
    data = LeRobotBCDataset(frames, chunk_size=3, indices=[3, 4, 5])
    images, texts, chunks = data.get_batch([0, 1, 2])
    assert images.shape == (3, 3, 16, 16) and 0.0 <= images.min() and images.max() <= 1.0
    assert texts == [TASKS[0], TASKS[0], TASKS[1]]
    np.testing.assert_array_equal(chunks[0].numpy(), actions[[3, 4, 4]])
    np.testing.assert_array_equal(chunks[1].numpy(), actions[[4, 4, 4]])
    np.testing.assert_array_equal(chunks[2].numpy(), actions[[5, 6, 7]])


def tiny_config(tmp_path):
    path = tmp_path / 'tiny.yaml'
    path.write_text(yaml.safe_dump({
        'seed': 1, 'threads': 1, 'model': TINY_MODEL, 'data': {'val_fraction': 0.5},
        'schedule': {'batch_size': 4, 'steps': 4, 'warmup_steps': 1, 'val_every': 2,
                     'log_every': 2}}))
    return str(path)


def test_train_from_a_foreign_dataset_fits_the_head_to_its_action(foreign, tmp_path):
    root, actions = foreign
    out = tmp_path / 'run'
    assert train.main(['--config', tiny_config(tmp_path), '--dataset', root, '--image-key',
                       'observation.images.top', '--out', str(out), '--no-progress']) == 0
    config = yaml.safe_load((out / 'config.yaml').read_text())
    assert config['augment']['hflip'] == 0.0 and config['loss']['aux_weight'] == 0.0
    assert config['eval'] == {'val_episodes': 0, 'episodes': 0, 'select_episodes': 0}
    head = config['model']['head']
    assert head['action_dim'] == 7 and head['action_names'] == JOINTS
    np.testing.assert_allclose(head['action_scale'], np.abs(actions).max(axis=0), rtol=1e-6)
    policy = VLAPolicy.from_checkpoint(str(out / 'model.safetensors'))
    assert policy.predict(np.zeros((32, 32, 3), np.uint8), 'grasp the mug').shape == (1, 7)
    assert policy.tokenizer.decode(policy.tokenizer.encode_one('grasp the mug')) == \
        'grasp the mug'  # the dataset's words joined the vocabulary
    summary = json.loads((out / 'summary.json').read_text())
    assert summary['training']['data']['episodes'] == 2


def test_a_converted_velocity_dataset_keeps_the_shipped_head(tmp_path):
    bag = simple_bag(str(tmp_path / 'bag'), count=20)
    root = str(tmp_path / 'ds')
    assert convert([bag, '--out', root, '--fps', '30']) == 0
    config = train_config.load_config(tiny_config(tmp_path), [f'data.lerobot.root={root}'])
    before = dict(config['model']['head'])
    notes = []
    adapt_config(config, notes.append)
    assert config['model']['head'] == before and config['augment']['hflip'] > 0
    assert config['loss']['aux_weight'] == 0.0 and len(notes) == 1


def test_train_refuses_a_folder_that_is_not_a_dataset_in_one_line(tmp_path, capsys):
    code = train.main(['--config', tiny_config(tmp_path), '--dataset', str(tmp_path),
                       '--out', str(tmp_path / 'run'), '--no-progress'])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and 'not a LeRobot dataset' in err[0]


def test_the_tokenizer_grows_by_the_dataset_words_as_far_as_the_model_allows():
    notes = []
    tokenizer = tokenizer_for(['grasp the mug', 'wipe the counter'], 8, 256, notes.append)
    assert {'grasp', 'mug', 'wipe', 'counter'} <= set(tokenizer.vocab) and not notes
    small = tokenizer_for(['grasp the mug'], 8, len(tokenizer_for([], 8, 256).vocab) + 1,
                          notes.append)
    assert 'grasp' in small.vocab and 'mug' not in small.vocab
    assert notes and 'mug' in notes[0]
