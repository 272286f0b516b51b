# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Read a LeRobotDataset v3 directory into memory for training: frames, actions and tasks.

Any v3 directory whose features fit is accepted, whoever wrote it:

- **one RGB camera**: a ``video`` (MP4, decoded with PyAV) or ``image`` (PNG/JPEG bytes in the
  table) feature; the only one is taken, or name it with ``image_key``;
- **an action**: a float vector feature (``action`` unless named), 1-D of any size;
- **a task string**: ``task`` (the frame's ``task_index`` looked up in ``meta/tasks``), or the
  name of a ``string`` feature that holds the text per frame.

Every frame goes through the same preprocessing as the node's camera frames
(:func:`prepare_rgb`: area resize to the model's square input, then RGB), so a model trained
here sees what it will see on the robot, up to the video codec's loss. Videos are decoded
start to end, once; each decoded frame is matched to its table row by time
(``from_timestamp + timestamp``, within ``tolerance_s`` as LeRobot does), and a row with no
frame is an error naming the episode.
"""

from dataclasses import dataclass, field
import json
import os
from typing import Any, Dict, List, Optional

import cv2
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from vla_fusion_ros.data import lerobot_v3_schema as v3
from vla_fusion_ros.data.video import decode, VideoError
# The node's preprocessing. It lives in ros/ today and imports no rclpy; it is moving to a
# ROS-free module.
from vla_fusion_ros.model.preprocess import prepare_rgb


class DatasetFormatError(ValueError):
    """The directory is not a usable v3 dataset; the message names the file or feature."""


@dataclass
class FeatureKeys:
    """Which features hold the camera, the action and the task."""

    image: Optional[str] = None   # None: the only video/image feature
    action: str = 'action'
    task: str = 'task'            # 'task': via task_index and meta/tasks


@dataclass
class LeRobotFrames:
    """A dataset in memory: row ``i`` of every array is frame ``i``."""

    root: str
    images: np.ndarray            # uint8 [F, S, S, 3], preprocessed like the node's input
    actions: np.ndarray           # float32 [F, A]
    task_index: np.ndarray        # int64 [F] into ``tasks``
    tasks: List[str]
    episode_index: np.ndarray     # int64 [F]
    frame_index: np.ndarray       # int64 [F]
    action_names: List[str]
    keys: FeatureKeys
    info: Dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.actions)


def read_info(root: str) -> Dict[str, Any]:
    """Return ``meta/info.json``, checking that it describes a v3 dataset."""
    path = os.path.join(root, v3.INFO_PATH)
    try:
        with open(path, encoding='utf-8') as handle:
            info = json.load(handle)
    except FileNotFoundError:
        raise DatasetFormatError(f'{root}: no {v3.INFO_PATH}: not a LeRobot dataset') from None
    except (OSError, ValueError) as exc:
        raise DatasetFormatError(f'{path}: cannot be read ({exc})') from None
    version = str(info.get('codebase_version', ''))
    if not version.startswith('v3'):
        raise DatasetFormatError(f'{path}: codebase_version {version!r}; this reader reads v3.x '
                                 '(convert older datasets with LeRobot: '
                                 'convert_dataset_v21_to_v30)')
    if not isinstance(info.get('features'), dict):
        raise DatasetFormatError(f'{path}: no features')
    return info


def resolve_keys(info: Dict[str, Any], keys: FeatureKeys) -> FeatureKeys:
    """Check that the features fit; return the keys with the camera found."""
    features = info['features']
    where = f'{v3.INFO_PATH} features'
    cameras = [k for k, ft in features.items() if ft.get('dtype') in ('video', 'image')]
    image = keys.image
    if image is None:
        if len(cameras) != 1:
            raise DatasetFormatError(f'{where}: {len(cameras)} cameras ({", ".join(cameras)}); '
                                     'name one with --image-key')
        image = cameras[0]
    if image not in cameras:
        raise DatasetFormatError(f'{where}: image key {image!r} is not a video or image '
                                 f'feature (cameras: {", ".join(cameras) or "none"})')
    shape = features[image].get('shape', [])
    if len(shape) != 3 or shape[2] != 3:
        raise DatasetFormatError(f'{where}: {image} has shape {shape}, not an RGB [H, W, 3]')
    action = features.get(keys.action)
    if action is None or action.get('dtype') not in ('float32', 'float64') or \
            len(action.get('shape', [])) != 1:
        floats = [k for k, ft in features.items() if ft.get('dtype') in ('float32', 'float64')]
        raise DatasetFormatError(f'{where}: action key {keys.action!r} is not a 1-D float '
                                 f'feature (float features: {", ".join(floats)})')
    if keys.task != 'task' and features.get(keys.task, {}).get('dtype') != 'string':
        raise DatasetFormatError(f'{where}: task key {keys.task!r} is not a string feature '
                                 "(use 'task' for meta/tasks)")
    if keys.task == 'task' and 'task_index' not in features:
        raise DatasetFormatError(f'{where}: no task_index, so no task per frame')
    return FeatureKeys(image, keys.action, keys.task)


def action_names(info: Dict[str, Any], key: str) -> List[str]:
    """Return the action's dimension names (``action_0``.. when the dataset has none)."""
    feature = info['features'][key]
    size = int(feature['shape'][0])
    names = feature.get('names')
    if isinstance(names, dict):  # LeRobot's older {'motors': [...]} form
        names = next(iter(names.values()), None)
    if isinstance(names, list) and len(names) == size and all(isinstance(n, str) for n in names):
        return [str(n) for n in names]
    return [f'{key}_{i}' for i in range(size)]


def load(root: str, image_size: int, keys: Optional[FeatureKeys] = None,
         tolerance_s: float = v3.TOLERANCE_S, progress: bool = False) -> LeRobotFrames:
    """Read the whole dataset at ``root``; images resized to ``image_size`` square."""
    info = read_info(root)
    keys = resolve_keys(info, keys or FeatureKeys())
    try:
        episodes = v3.read_episodes(root)
        tasks = v3.read_tasks(root) if keys.task == 'task' else []
        table = _data_table(root, info, episodes, keys)
    except KeyError as exc:
        raise DatasetFormatError(f'{root}: missing {exc}') from None
    except (OSError, pa.ArrowException) as exc:
        raise DatasetFormatError(f'{root}: {exc}') from None
    except ValueError as exc:
        raise DatasetFormatError(f'{root}: {exc}') from None
    count = table.num_rows
    actions = np.asarray(table.column(keys.action).to_pylist(), dtype=np.float32)
    actions = actions.reshape(count, -1)
    if not np.all(np.isfinite(actions)):
        raise DatasetFormatError(f'{root}: data: {keys.action} has non-finite values')
    if keys.task == 'task':
        task_index = np.asarray(table.column('task_index').to_pylist(), dtype=np.int64)
        if count and (task_index.min() < 0 or task_index.max() >= len(tasks)):
            raise DatasetFormatError(f'{root}: data: task_index outside {v3.TASKS_PATH}')
    else:
        texts = [str(t) for t in table.column(keys.task).to_pylist()]
        tasks = list(dict.fromkeys(texts))
        lookup = {t: i for i, t in enumerate(tasks)}
        task_index = np.asarray([lookup[t] for t in texts], dtype=np.int64)
    images = np.zeros((count, image_size, image_size, 3), dtype=np.uint8)
    if info['features'][keys.image]['dtype'] == 'video':
        _decode_videos(root, info, episodes, table, keys.image, images, tolerance_s, progress)
    else:
        _decode_images(root, table, keys.image, images)
    return LeRobotFrames(
        root=root, images=images, actions=actions, task_index=task_index, tasks=tasks,
        episode_index=np.asarray(table.column('episode_index').to_pylist(), dtype=np.int64),
        frame_index=np.asarray(table.column('frame_index').to_pylist(), dtype=np.int64),
        action_names=action_names(info, keys.action), keys=keys, info=info)


def _data_table(root: str, info: Dict[str, Any], episodes: pa.Table,
                keys: FeatureKeys) -> pa.Table:
    wanted = ['episode_index', 'frame_index', 'timestamp', keys.action]
    wanted += ['task_index'] if keys.task == 'task' else [keys.task]
    if info['features'][keys.image]['dtype'] == 'image':
        wanted.append(keys.image)
    files = sorted(set(zip(episodes.column('data/chunk_index').to_pylist(),
                           episodes.column('data/file_index').to_pylist())))
    tables = []
    for chunk, file in files:
        template = info.get('data_path') or v3.DATA_PATH
        path = os.path.join(root, template.format(chunk_index=chunk, file_index=file))
        tables.append(pq.read_table(path, columns=wanted))
    table = pa.concat_tables(tables)
    order = np.lexsort((np.asarray(table.column('frame_index').to_pylist()),
                        np.asarray(table.column('episode_index').to_pylist())))
    return table.take(pa.array(order))


def _decode_videos(root, info, episodes, table, key, images, tolerance_s, progress) -> None:
    """Decode each video file once, placing each frame on the row whose time it carries."""
    episode_rows: Dict[int, np.ndarray] = {}
    row_episode = np.asarray(table.column('episode_index').to_pylist(), dtype=np.int64)
    stamps = np.asarray(table.column('timestamp').to_pylist(), dtype=np.float64)
    starts = np.r_[0, np.flatnonzero(np.diff(row_episode)) + 1, len(row_episode)]
    for lo, hi in zip(starts[:-1], starts[1:]):
        episode_rows[int(row_episode[lo])] = np.arange(lo, hi)
    columns = {c: episodes.column(c.format(key=key)).to_pylist()
               for c in v3.VIDEO_EPISODE_COLUMNS}
    chunk, file, start = (columns[c] for c in v3.VIDEO_EPISODE_COLUMNS[:3])
    files: Dict[tuple, List[int]] = {}
    episode_ids = episodes.column('episode_index').to_pylist()
    for e, episode in enumerate(episode_ids):
        if episode in episode_rows:
            files.setdefault((chunk[e], file[e]), []).append(e)
    size = (images.shape[2], images.shape[1])
    found = np.zeros(len(images), dtype=bool)
    bar = tqdm(total=len(images), desc='decode', unit='frame', disable=not progress)
    for (c, f), members in sorted(files.items()):
        rows = np.concatenate([episode_rows[episode_ids[e]] for e in members])
        times = np.concatenate([start[e] + stamps[episode_rows[episode_ids[e]]]
                                for e in members])
        order = np.argsort(times)
        times, rows = times[order], rows[order]
        template = info.get('video_path') or v3.VIDEO_PATH
        path = os.path.join(root, template.format(video_key=key, chunk_index=c, file_index=f))
        try:
            for t, rgb in decode(path):
                i = int(np.searchsorted(times, t))
                near = [j for j in (i - 1, i) if 0 <= j < len(times)]
                j = min(near, key=lambda j: abs(times[j] - t)) if near else None
                if j is not None and abs(times[j] - t) <= tolerance_s:
                    images[rows[j]] = prepare_rgb(rgb, 'rgb8', size)
                    found[rows[j]] = True
                    bar.update(1)
        except VideoError as exc:
            raise DatasetFormatError(f'{path}: {exc}') from None
    bar.close()
    if not found.all():
        missing = int(np.flatnonzero(~found)[0])
        raise DatasetFormatError(
            f'{root}: videos/{key}: {int((~found).sum())} frames have no video frame within '
            f'{tolerance_s * 1e3:g} ms of their time (first: episode {row_episode[missing]}, '
            f'timestamp {stamps[missing]:.4f} s)')


def _decode_images(root: str, table: pa.Table, key: str, images: np.ndarray) -> None:
    size = (images.shape[2], images.shape[1])
    for row, cell in enumerate(table.column(key).to_pylist()):
        data = cell.get('bytes') if isinstance(cell, dict) else None
        if data is None and isinstance(cell, dict) and cell.get('path'):
            with open(os.path.join(root, cell['path']), 'rb') as handle:
                data = handle.read()
        bgr = None if data is None else cv2.imdecode(np.frombuffer(data, np.uint8),
                                                     cv2.IMREAD_COLOR)
        if bgr is None:
            raise DatasetFormatError(f'{root}: data: {key} row {row} is not a PNG or JPEG')
        images[row] = prepare_rgb(bgr, 'bgr8', size)
