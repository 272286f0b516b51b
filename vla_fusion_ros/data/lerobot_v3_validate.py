# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Check a directory against the LeRobotDataset v3 layout of :mod:`.lerobot_v3_schema`.

:func:`validate` returns every departure it finds, one line each naming the file: the keys and
types of ``meta/info.json`` and its features; ``meta/episodes`` (contiguous indices and frame
ranges, totals, tasks that exist, outcomes); the frame table (a column per feature with the
Arrow type of its dtype and shape, ``index`` 0..N-1, frames 0.. per episode with increasing
timestamps, the tasks the episodes list); ``meta/stats.json`` (every stat of every numeric
feature, in its shape); and every video (the frame size, and a frame at
``from_timestamp + timestamp`` within LeRobot's 0.1 ms for every row, nothing more).
"""

import json
import os
from typing import Any, Dict, List

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from vla_fusion_ros.data.lerobot_v3_schema import (
    arrow_type, CAMERA_PREFIX, CODEBASE_VERSION, DEFAULT_FEATURES, EPISODE_COLUMNS, INFO_KEYS,
    INFO_PATH, language_event_type, LANGUAGE_EVENTS, NUMERIC_DTYPES, OUTCOMES, read_episodes,
    read_tasks, STAT_KEYS, STATS_PATH, TASKS_PATH, TOLERANCE_S, VIDEO_EPISODE_COLUMNS,
    video_keys)
from vla_fusion_ros.data.video import frame_times


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
        for key in video_keys(features):
            problems += _check_video(root, info, episodes, key, stamps)
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
                 stamps: List[float]) -> List[str]:
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
