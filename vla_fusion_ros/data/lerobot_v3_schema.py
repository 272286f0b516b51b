# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The LeRobotDataset v3 layout this package writes and reads, written down, and its validator.

Checked against huggingface/lerobot's source (``src/lerobot/datasets/utils.py``,
``io_utils.py``, ``dataset_metadata.py``, ``dataset_writer.py``, ``language.py``,
``compute_stats.py``, codebase version ``v3.0``, lerobot 0.4.4 to 0.6.x)::

    meta/info.json                      the schema: codebase_version 'v3.0', fps, features,
                                        totals, path templates, file size limits, splits
    meta/stats.json                     per feature: min, max, mean, std, count, q01..q99
    meta/tasks.parquet                  one row per task: column task_index (int64), the task
                                        string as the pandas index named 'task'
    meta/episodes/chunk-000/file-000.parquet
                                        one row per episode (columns: EPISODE_COLUMNS, one
                                        group per camera from VIDEO_EPISODE_COLUMNS, and
                                        'stats/<feature>/<stat>' lists)
    data/chunk-000/file-000.parquet     one row per frame: every feature that is not a video
    videos/<camera key>/chunk-000/file-000.mp4
                                        the camera's frames, episodes one after another; frame
                                        ``i`` of episode ``e`` is shown at
                                        ``from_timestamp[e] + timestamp[i]`` seconds

Features (``info['features']``) map a key to ``{'dtype', 'shape', 'names'}`` (videos add
``info`` with the ``video.*`` entries). Every dataset has the five of :data:`DEFAULT_FEATURES`.
A vector feature of shape ``(n,)`` is a fixed-size list of ``n`` values in the data table; a
``(1,)`` feature is a scalar. ``language_events`` (dtype ``'language'``), when present, holds
per frame the list of language events fired at that frame: this package writes a new
instruction that arrives mid-episode as ``{'role': 'user', 'content': <instruction>, 'style':
'interjection', 'camera': None, 'tool_calls': None}`` on the first frame it applies to, while
``task_index`` always names the instruction in force at the frame.

This package's extensions, which LeRobot ignores: the episode columns ``outcome``
(``'success'``, ``'fail'`` or ``'unknown'``) and ``source`` (the bag an episode came from), and
``meta/conversion.json`` (the converter's settings and counts).

:mod:`.lerobot_v3_validate` checks a directory against this layout.
"""

import json
import os
from typing import Any, Dict, List

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

CODEBASE_VERSION = 'v3.0'
INFO_PATH = 'meta/info.json'
STATS_PATH = 'meta/stats.json'
TASKS_PATH = 'meta/tasks.parquet'
CONVERSION_PATH = 'meta/conversion.json'
CHUNK_FILE = 'chunk-{chunk_index:03d}/file-{file_index:03d}'
EPISODES_PATH = 'meta/episodes/' + CHUNK_FILE + '.parquet'
DATA_PATH = 'data/' + CHUNK_FILE + '.parquet'
VIDEO_PATH = 'videos/{video_key}/' + CHUNK_FILE + '.mp4'
CHUNKS_SIZE = 1000          # files per chunk folder
DATA_FILES_SIZE_IN_MB = 100
VIDEO_FILES_SIZE_IN_MB = 200
CAMERA_PREFIX = 'observation.images.'
LANGUAGE_EVENTS = 'language_events'
LANGUAGE_PERSISTENT = 'language_persistent'
STAT_KEYS = ('min', 'max', 'mean', 'std', 'count', 'q01', 'q10', 'q50', 'q90', 'q99')
QUANTILES = (0.01, 0.10, 0.50, 0.90, 0.99)
OUTCOMES = ('success', 'fail', 'unknown')
TOLERANCE_S = 1e-4          # LeRobot's default tolerance_s when it looks a frame up by time

#: The per-frame bookkeeping every v3 dataset carries.
DEFAULT_FEATURES: Dict[str, Dict[str, Any]] = {
    'timestamp': {'dtype': 'float32', 'shape': [1], 'names': None},
    'frame_index': {'dtype': 'int64', 'shape': [1], 'names': None},
    'episode_index': {'dtype': 'int64', 'shape': [1], 'names': None},
    'index': {'dtype': 'int64', 'shape': [1], 'names': None},
    'task_index': {'dtype': 'int64', 'shape': [1], 'names': None},
}

#: Keys of ``meta/info.json`` and their JSON types.
INFO_KEYS = {
    'codebase_version': str, 'robot_type': (str, type(None)), 'total_episodes': int,
    'total_frames': int, 'total_tasks': int, 'chunks_size': int,
    'data_files_size_in_mb': int, 'video_files_size_in_mb': int, 'fps': int,
    'splits': dict, 'data_path': str, 'video_path': (str, type(None)), 'features': dict,
}

#: Columns of every row of ``meta/episodes``.
EPISODE_COLUMNS = ('episode_index', 'tasks', 'length', 'data/chunk_index', 'data/file_index',
                   'dataset_from_index', 'dataset_to_index', 'meta/episodes/chunk_index',
                   'meta/episodes/file_index')
#: Columns per camera (``{key}`` is the camera's feature key).
VIDEO_EPISODE_COLUMNS = ('videos/{key}/chunk_index', 'videos/{key}/file_index',
                         'videos/{key}/from_timestamp', 'videos/{key}/to_timestamp')

NUMERIC_DTYPES = {'float32': pa.float32(), 'float64': pa.float64(), 'int64': pa.int64(),
                  'int32': pa.int32(), 'int16': pa.int16(), 'int8': pa.int8(),
                  'uint8': pa.uint8(), 'bool': pa.bool_()}


def _json_type() -> pa.DataType:
    return pa.json_() if hasattr(pa, 'json_') else pa.string()


def language_event_type() -> pa.DataType:
    """Return the Arrow type of the ``language_events`` column (LeRobot's, field for field)."""
    return pa.list_(pa.struct([
        pa.field('role', pa.string(), nullable=False),
        pa.field('content', pa.string()),
        pa.field('style', pa.string()),
        pa.field('camera', pa.string()),
        pa.field('tool_calls', pa.list_(_json_type())),
    ]))


def language_events_array(rows: List[List[Dict[str, Any]]]) -> pa.Array:
    """Return a ``language_events`` column from per-frame lists of event dicts."""
    kind = language_event_type()
    struct = kind.value_type
    flat = [event for row in rows for event in row]
    children = [pa.array([e.get(f.name) for e in flat], f.type)
                for f in struct if f.name != 'tool_calls']
    children.append(pa.nulls(len(flat), struct.field('tool_calls').type))
    offsets = pa.array([0, *np.cumsum([len(row) for row in rows]).tolist()], pa.int32())
    values = pa.StructArray.from_arrays(children, fields=list(struct))
    return pa.ListArray.from_arrays(offsets, values, type=kind)


def arrow_type(feature: Dict[str, Any]) -> pa.DataType:
    """Return the data-table Arrow type of a numeric feature (scalar or fixed-size list)."""
    base = NUMERIC_DTYPES[feature['dtype']]
    shape = list(feature['shape'])
    if shape == [1]:
        return base
    if len(shape) != 1:
        raise ValueError(f'shape: {shape} (this package writes scalars and vectors only)')
    return pa.list_(base, shape[0])


def video_keys(features: Dict[str, Any]) -> List[str]:
    """Return the keys of video features, in order."""
    return [key for key, ft in features.items() if ft.get('dtype') == 'video']


def tasks_table(tasks: List[str]) -> pa.Table:
    """Return ``meta/tasks.parquet`` as pandas writes it: task_index, index 'task'."""
    table = pa.table({'task_index': pa.array(range(len(tasks)), pa.int64()),
                      'task': pa.array(tasks, pa.string())})
    pandas_meta = {
        'index_columns': ['task'],
        'column_indexes': [{'name': None, 'field_name': None, 'pandas_type': 'unicode',
                            'numpy_type': 'object', 'metadata': {'encoding': 'UTF-8'}}],
        'columns': [
            {'name': 'task_index', 'field_name': 'task_index', 'pandas_type': 'int64',
             'numpy_type': 'int64', 'metadata': None},
            {'name': 'task', 'field_name': 'task', 'pandas_type': 'unicode',
             'numpy_type': 'object', 'metadata': None}],
        'creator': {'library': 'pyarrow', 'version': pa.__version__},
        'pandas_version': '2.2.3'}
    return table.replace_schema_metadata({'pandas': json.dumps(pandas_meta)})


def read_tasks(root: str) -> List[str]:
    """Return the task strings of a dataset, in task_index order."""
    table = pq.read_table(os.path.join(root, TASKS_PATH))
    names = table.column_names
    text = 'task' if 'task' in names else next(
        (n for n in names if n not in ('task_index',)), None)
    if text is None or 'task_index' not in names:
        raise ValueError(f'{TASKS_PATH}: expected columns task and task_index, got {names}')
    order = sorted(zip(table.column('task_index').to_pylist(),
                       table.column(text).to_pylist()))
    if [i for i, _ in order] != list(range(len(order))):
        raise ValueError(f'{TASKS_PATH}: task_index is not 0..{len(order) - 1}')
    return [str(task) for _, task in order]


def read_episodes(root: str) -> pa.Table:
    """Return every row of ``meta/episodes`` (all files, in path order), stats included."""
    folder = os.path.join(root, 'meta', 'episodes')
    paths = sorted(os.path.join(dirpath, name) for dirpath, _, files in os.walk(folder)
                   for name in files if name.endswith('.parquet'))
    if not paths:
        raise ValueError('meta/episodes: no parquet files')
    return pa.concat_tables([pq.read_table(p) for p in paths], promote_options='permissive')
