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


def validate(root: str) -> List[str]:
    """Return every way the directory ``root`` departs from the v3 layout (empty: valid)."""
    problems: List[str] = []
    try:
        with open(os.path.join(root, INFO_PATH), encoding='utf-8') as handle:
            info = json.load(handle)
    except (OSError, ValueError) as exc:
        return [f'{INFO_PATH}: cannot be read ({exc})']
    for key, kind in INFO_KEYS.items():
        if key not in info:
            problems.append(f'{INFO_PATH}: missing {key!r}')
        elif not isinstance(info[key], kind) or isinstance(info[key], bool):
            problems.append(f'{INFO_PATH}: {key} has type {type(info[key]).__name__}')
    if problems:
        return problems
    if info['codebase_version'] != CODEBASE_VERSION:
        problems.append(f'{INFO_PATH}: codebase_version {info["codebase_version"]!r} '
                        f'(expected {CODEBASE_VERSION!r})')
    features = info['features']
    problems += _check_features(features)
    if problems:
        return problems
    try:
        tasks = read_tasks(root)
        episodes = read_episodes(root)
    except (OSError, ValueError, pa.ArrowException) as exc:
        return problems + [str(exc)]
    problems += _check_episodes(root, info, episodes, tasks)
    stamps: List[float] = []
    if not problems:
        problems += _check_data(root, info, episodes, tasks, stamps)
    if not problems:
        problems += _check_stats(root, features)
    if not problems:
        from vla_fusion_ros.data.video import frame_times  # PyAV is only needed here
        for key in video_keys(features):
            problems += _check_video(root, info, episodes, key, frame_times, stamps)
    return problems


def _check_features(features: Dict[str, Any]) -> List[str]:
    problems = []
    for key, want in DEFAULT_FEATURES.items():
        got = features.get(key)
        if got is None or got.get('dtype') != want['dtype'] or list(got.get('shape', [])) != [1]:
            problems.append(f'{INFO_PATH}: features.{key} must be {want}')
    for key, ft in features.items():
        if not isinstance(ft, dict) or not {'dtype', 'shape'} <= set(ft):
            problems.append(f'{INFO_PATH}: features.{key} needs dtype and shape')
            continue
        shape = ft['shape']
        if not isinstance(shape, list) or not all(isinstance(s, int) and s > 0 for s in shape):
            problems.append(f'{INFO_PATH}: features.{key}.shape {shape!r} is not a list of '
                            'positive ints')
        elif ft['dtype'] in ('video', 'image') and (len(shape) != 3 or shape[2] not in (1, 3)):
            problems.append(f'{INFO_PATH}: features.{key}.shape {shape} is not [H, W, C]')
        elif ft['dtype'] not in (*NUMERIC_DTYPES, 'video', 'image', 'string', 'language'):
            problems.append(f'{INFO_PATH}: features.{key}.dtype {ft["dtype"]!r} is unknown')
        if ft['dtype'] == 'video' and not key.startswith(CAMERA_PREFIX):
            problems.append(f'{INFO_PATH}: video feature {key!r} outside {CAMERA_PREFIX}*')
    return problems


def _column(table: pa.Table, name: str) -> list:
    return table.column(name).to_pylist()


def _check_episodes(root: str, info: Dict[str, Any], episodes: pa.Table,
                    tasks: List[str]) -> List[str]:
    where = 'meta/episodes'
    columns = list(EPISODE_COLUMNS)
    for key in video_keys(info['features']):
        columns += [c.format(key=key) for c in VIDEO_EPISODE_COLUMNS]
    missing = [c for c in columns if c not in episodes.column_names]
    if missing:
        return [f'{where}: missing columns {missing}']
    problems = []
    count = episodes.num_rows
    index = _column(episodes, 'episode_index')
    if index != list(range(count)):
        problems.append(f'{where}: episode_index is not 0..{count - 1}')
    if count != info['total_episodes']:
        problems.append(f'{where}: {count} rows but total_episodes {info["total_episodes"]}')
    if len(tasks) != info['total_tasks']:
        problems.append(f'{TASKS_PATH}: {len(tasks)} tasks but total_tasks '
                        f'{info["total_tasks"]}')
    start, stop = _column(episodes, 'dataset_from_index'), _column(episodes, 'dataset_to_index')
    lengths = _column(episodes, 'length')
    expected = 0
    for e in range(count):
        if start[e] != expected or stop[e] - start[e] != lengths[e] or lengths[e] < 1:
            problems.append(f'{where}: episode {e} covers [{start[e]}, {stop[e]}) with length '
                            f'{lengths[e]} (expected to start at {expected})')
            break
        expected = stop[e]
    if expected != info['total_frames']:
        problems.append(f'{where}: episodes cover {expected} frames, total_frames '
                        f'{info["total_frames"]}')
    unknown = {t for row in _column(episodes, 'tasks') for t in row} - set(tasks)
    if unknown:
        problems.append(f'{where}: tasks not in {TASKS_PATH}: {sorted(unknown)[:3]}')
    if 'outcome' in episodes.column_names:
        bad = set(_column(episodes, 'outcome')) - set(OUTCOMES)
        if bad:
            problems.append(f'{where}: outcome values {sorted(bad)} (valid: {OUTCOMES})')
    if info['splits'] != {'train': f'0:{count}'}:
        problems.append(f'{INFO_PATH}: splits {info["splits"]} (expected train 0:{count})')
    return problems


def _check_data(root: str, info: Dict[str, Any], episodes: pa.Table, tasks: List[str],
                stamps: List[float]) -> List[str]:
    """Check the frame table; on success, ``stamps`` receives every frame's timestamp."""
    features = info['features']
    files = sorted(set(zip(_column(episodes, 'data/chunk_index'),
                           _column(episodes, 'data/file_index'))))
    tables = []
    for chunk, file in files:
        path = info['data_path'].format(chunk_index=chunk, file_index=file)
        if not os.path.isfile(os.path.join(root, path)):
            return [f'{path}: missing']
        tables.append(pq.read_table(os.path.join(root, path)))
    data = pa.concat_tables(tables)
    problems = []
    for key, ft in features.items():
        if ft['dtype'] == 'video':
            continue
        if key not in data.column_names:
            problems.append(f'data: feature {key!r} has no column')
        elif ft['dtype'] in NUMERIC_DTYPES and data.schema.field(key).type != arrow_type(ft):
            problems.append(f'data: column {key!r} has type {data.schema.field(key).type}, '
                            f'expected {arrow_type(ft)}')
        elif key == LANGUAGE_EVENTS and data.schema.field(key).type != language_event_type():
            problems.append(f'data: column {key!r} has type {data.schema.field(key).type}')
    if problems:
        return problems
    if _column(data, 'index') != list(range(data.num_rows)):
        return [f'data: index is not 0..{data.num_rows - 1}']
    episode, frame = _column(data, 'episode_index'), _column(data, 'frame_index')
    stamps_all, task = _column(data, 'timestamp'), _column(data, 'task_index')
    for e, (lo, hi) in enumerate(zip(_column(episodes, 'dataset_from_index'),
                                     _column(episodes, 'dataset_to_index'))):
        if episode[lo:hi] != [e] * (hi - lo) or frame[lo:hi] != list(range(hi - lo)):
            return [f'data: rows {lo}..{hi - 1} are not frames 0.. of episode {e}']
        if any(b <= a for a, b in zip(stamps_all[lo:hi], stamps_all[lo + 1:hi])):
            return [f'data: timestamps of episode {e} do not increase']
        used = {tasks[t] for t in task[lo:hi] if 0 <= t < len(tasks)}
        if used != set(_column(episodes, 'tasks')[e]):
            return [f'data: episode {e} uses tasks {sorted(used)} but meta/episodes lists '
                    f'{_column(episodes, "tasks")[e]}']
    if any(not 0 <= t < len(tasks) for t in task):
        return ['data: task_index outside meta/tasks']
    stamps += stamps_all
    return []


def _check_stats(root: str, features: Dict[str, Any]) -> List[str]:
    try:
        with open(os.path.join(root, STATS_PATH), encoding='utf-8') as handle:
            stats = json.load(handle)
    except (OSError, ValueError) as exc:
        return [f'{STATS_PATH}: cannot be read ({exc})']
    problems = []
    for key, ft in features.items():
        if ft['dtype'] not in (*NUMERIC_DTYPES, 'video', 'image'):
            continue
        entry = stats.get(key)
        if not isinstance(entry, dict) or set(STAT_KEYS) - set(entry):
            problems.append(f'{STATS_PATH}: {key} needs {", ".join(STAT_KEYS)}')
            continue
        picture = ft['dtype'] in ('video', 'image')
        shape = (ft['shape'][2], 1, 1) if picture else (ft['shape'][0],)
        for name in STAT_KEYS:
            try:
                got = np.asarray(entry[name], dtype=np.float64).shape
            except (TypeError, ValueError):
                got = None
            want = (1,) if name == 'count' else shape
            if got != want:
                problems.append(f'{STATS_PATH}: {key}.{name} has shape {got}, expected {want}')
    return problems


def _check_video(root: str, info: Dict[str, Any], episodes: pa.Table, key: str,
                 frame_times, stamps: List[float]) -> List[str]:
    """Check that every frame's image is in the video at from_timestamp + timestamp."""
    ft = info['features'][key]
    height, width = ft['shape'][:2]
    columns = {c: _column(episodes, c.format(key=key)) for c in VIDEO_EPISODE_COLUMNS}
    chunk, file, start, stop = (columns[c] for c in VIDEO_EPISODE_COLUMNS)
    data = {}
    for c, f in sorted(set(zip(chunk, file))):
        path = info['video_path'].format(video_key=key, chunk_index=c, file_index=f)
        try:
            data[(c, f)] = frame_times(os.path.join(root, path))
        except (OSError, ValueError) as exc:
            return [f'{path}: {exc}']
        size = data[(c, f)][1]
        if size != (width, height):
            return [f'{path}: frames are {size[0]}x{size[1]}, features.{key} says '
                    f'{width}x{height}']
    first, last = _column(episodes, 'dataset_from_index'), _column(episodes, 'dataset_to_index')
    for e in range(episodes.num_rows):
        times = np.array([t for t in data[(chunk[e], file[e])][0]
                          if start[e] - TOLERANCE_S <= t < stop[e] - TOLERANCE_S])
        want = start[e] + np.asarray(stamps[first[e]:last[e]], dtype=np.float64)
        if len(times) != len(want):
            return [f'videos/{key}: episode {e} has {len(times)} frames in '
                    f'[{start[e]:.4f}, {stop[e]:.4f}) s, meta/episodes says {len(want)}']
        if len(want) and np.abs(times - want).max() > TOLERANCE_S:
            i = int(np.argmax(np.abs(times - want)))
            return [f'videos/{key}: episode {e} frame {i} is at {times[i]:.4f} s in the video, '
                    f'its timestamp says {want[i]:.4f} s']
    return []
