# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The written files against the v3 schema the project writes down, and LeRobot's own loader.

The validator (:func:`vla_fusion_ros.data.lerobot_v3_validate.validate`) passes the converter's
output and names each defect planted in a copy. The round trip loads the converter's dataset
with LeRobot's ``LeRobotDataset``; it runs where ``lerobot`` imports, in this interpreter or in
the one ``VFR_LEROBOT_PYTHON`` names, and is skipped with the reason otherwise.
"""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from robot_bags import camera, EPISODE_TOPIC, frame_number, teleop, write_bag

from vla_fusion_ros.data import lerobot_v3_schema as v3
from vla_fusion_ros.data.bag_to_lerobot import main
from vla_fusion_ros.data.lerobot_dataset import load
from vla_fusion_ros.data.lerobot_v3_validate import validate
from vla_fusion_ros.data.video import VideoWriter

EPISODES = 'meta/episodes/chunk-000/file-000.parquet'
DATA = 'data/chunk-000/file-000.parquet'
VIDEO = 'videos/observation.images.front/chunk-000/file-000.mp4'
NOT_IMPORTABLE = (
    'lerobot is not importable beside torch 2.13.0+cpu: lerobot >= 0.5 needs Python >= 3.12 '
    '(the ROS 2 wheels are 3.11), and lerobot 0.4.4 needs torchvision, whose PyPI wheels '
    'link CUDA libraries the CPU torch lacks; set VFR_LEROBOT_PYTHON to a Python with '
    'lerobot[dataset] to run this (results/robot_data/lerobot_compatibility.md)')


@pytest.fixture(scope='module')
def dataset(tmp_path_factory):
    """Two episodes, the first with an instruction change, from one bag."""
    folder = tmp_path_factory.mktemp('schema')
    bag = write_bag(str(folder / 'bag'), images=camera(30), commands=teleop(30),
                    instructions=[(4.9, 'go to the red circle'), (5.2, 'go to the blue square')],
                    episodes=[(5.0, 'start'), (5.45, 'success'), (5.5, 'start'),
                              (6.0, 'stop')])
    out = str(folder / 'ds')
    assert main([bag, '--out', out, '--fps', '30', '--episode-topic', EPISODE_TOPIC]) == 0
    return out


@pytest.fixture
def copy(dataset, tmp_path):
    target = str(tmp_path / 'copy')
    shutil.copytree(dataset, target)
    return target


def test_the_converter_output_is_valid(dataset):
    assert validate(dataset) == []
    with open(os.path.join(dataset, v3.INFO_PATH), encoding='utf-8') as handle:
        info = json.load(handle)
    assert info['total_episodes'] == 2 and info['total_tasks'] == 2
    assert set(info['features']) == {'observation.images.front', 'action', 'timestamp',
                                     'frame_index', 'episode_index', 'index', 'task_index',
                                     v3.LANGUAGE_EVENTS}
    assert info['features']['observation.images.front']['info']['video.codec'] == 'h264'


def _rewrite_json(root, relative, change):
    path = os.path.join(root, relative)
    with open(path, encoding='utf-8') as handle:
        value = json.load(handle)
    change(value)
    with open(path, 'w', encoding='utf-8') as handle:
        json.dump(value, handle)


def _rewrite_table(root, relative, change):
    path = os.path.join(root, relative)
    pq.write_table(change(pq.read_table(path)), path)


def _set_column(table, name, values, kind=None):
    index = table.column_names.index(name)
    return table.set_column(index, name, pa.array(values, kind or table.schema.field(name).type))


def _shifted_video(root):
    writer = VideoWriter(os.path.join(root, VIDEO), 60, 64, 48)
    for tick in range(1, 60, 2):  # every frame half a frame (1/60 s) late
        writer.write(np.zeros((48, 64, 3), np.uint8), tick)
    writer.close()


def _tiny_video(root):
    writer = VideoWriter(os.path.join(root, VIDEO), 30, 64, 48)
    writer.write(np.zeros((48, 64, 3), np.uint8), 0)
    writer.close()


DEFECTS = {
    'codebase_version': lambda root: _rewrite_json(
        root, v3.INFO_PATH, lambda info: info.update(codebase_version='v2.1')),
    "missing 'fps'": lambda root: _rewrite_json(root, v3.INFO_PATH, lambda info: info.pop('fps')),
    'episode 0 covers': lambda root: _rewrite_table(
        root, EPISODES, lambda t: _set_column(t, 'length', [3, 16])),
    "column 'action' has type": lambda root: _rewrite_table(
        root, DATA, lambda t: _set_column(t, 'action', t.column('action').to_pylist(),
                                          pa.list_(pa.float64()))),
    'action needs': lambda root: _rewrite_json(
        root, v3.STATS_PATH, lambda stats: stats['action'].pop('q99')),
    'tasks not in meta/tasks.parquet': lambda root: _rewrite_table(
        root, EPISODES, lambda t: _set_column(t, 'tasks', [['dance'], ['go to the red circle']])),
    'its timestamp says': _shifted_video,
    'frames in': _tiny_video,
}


@pytest.mark.parametrize('problem', sorted(DEFECTS))
def test_the_validator_names_each_planted_defect(copy, problem):
    DEFECTS[problem](copy)
    problems = validate(copy)
    assert problems and any(problem in p for p in problems), problems


def _lerobot_python():
    try:
        import lerobot.datasets.lerobot_dataset  # noqa: F401
        return sys.executable
    except Exception:  # noqa: BLE001 - any failure to import means: not here
        pass
    python = os.environ.get('VFR_LEROBOT_PYTHON')
    if python and subprocess.run([python, '-c', 'import lerobot.datasets.lerobot_dataset'],
                                 capture_output=True, timeout=120).returncode == 0:
        return python
    pytest.skip(NOT_IMPORTABLE)


LOAD_WITH_LEROBOT = """
import json, sys
from lerobot.datasets.lerobot_dataset import LeRobotDataset
ds = LeRobotDataset('local/roundtrip', root=sys.argv[1], video_backend='pyav')
rows = []
for i in range(len(ds)):
    item = ds[i]
    rows.append({'action': item['action'].tolist(), 'task': item['task'],
                 'episode': int(item['episode_index']),
                 'red': float(item['observation.images.front'][0].mean()) * 255,
                 'events': item.get('language_events')})
print(json.dumps({'episodes': ds.meta.total_episodes, 'fps': ds.fps, 'rows': rows}))
"""


def test_lerobot_loads_the_converter_output_with_the_same_frames_actions_and_tasks(dataset):
    python = _lerobot_python()
    run = subprocess.run([python, '-c', LOAD_WITH_LEROBOT, dataset], capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    loaded = json.loads(run.stdout.strip().splitlines()[-1])
    ours = load(dataset, 16)
    rows = loaded['rows']
    assert loaded['episodes'] == 2 and loaded['fps'] == 30 and len(rows) == len(ours)
    np.testing.assert_allclose([r['action'] for r in rows], ours.actions, rtol=1e-6)
    assert [r['task'] for r in rows] == [ours.tasks[i] for i in ours.task_index]
    assert [r['episode'] for r in rows] == ours.episode_index.tolist()
    assert [round(r['red'] / 8) for r in rows] == [frame_number(i) for i in ours.images]
    changes = [i for i, r in enumerate(rows) if r['events']]
    assert len(changes) == 1 and rows[changes[0]]['events'][0]['content'] == \
        'go to the blue square'
