# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Training data from a LeRobotDataset v3 directory (``train --dataset DIR``).

:class:`LeRobotBCDataset` has the interface of :class:`~vla_fusion_ros.train.dataset.BCDataset`
(``get_batch``, ``instructions``, ``indices``, ``aux``), so the trainer treats both alike. An
action chunk of ``k`` holds the frame's action and the next ``k - 1`` of its episode; past the
episode's end the last action repeats (LeRobot pads the same way).

:func:`adapt_config` fits the training config to the dataset before the model is built:

- the head's ``action_dim``, ``action_names`` and ``action_scale`` follow the dataset's action
  when its size differs from the model's (the scale is the largest absolute value per
  dimension in ``meta/stats.json``, so targets stay within [-1, 1]);
- ``augment.hflip`` (mirroring, which negates ``angular_z``) is switched off unless the action
  is ``[linear_x, angular_z]``;
- ``loss.aux_weight`` (and ``loss.language_weight``) is set to 0: the auxiliary probes
  (:mod:`.aux`) need the simulated world's poses and targets, which a robot's data does not
  have. The state probe's cost, measured on the simulated world's data, is reported in
  results/robot_data when the closed-loop proof runs.
"""

import json
import os
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from vla_fusion_ros.data import lerobot_v3_schema as v3
from vla_fusion_ros.data.lerobot_dataset import (action_names, FeatureKeys, LeRobotFrames,
                                                 load, read_info, resolve_keys)
from vla_fusion_ros.model import DEFAULT_WORDS, Tokenizer

VELOCITY_NAMES = ['linear_x', 'angular_z']


def overrides(root: str, image_key: str, action_key: str, task_key: str) -> List[str]:
    """Return the training config overrides that ``train --dataset ROOT`` and its keys mean."""
    if not root:
        return []
    values = {'data.lerobot.root': root, 'data.lerobot.image_key': image_key,
              'data.lerobot.action_key': action_key, 'data.lerobot.task_key': task_key}
    return ([f'{key}={json.dumps(value)}' for key, value in values.items()]
            + ['eval.val_episodes=0', 'eval.episodes=0'])


def keys_from(config: Dict[str, Any]) -> FeatureKeys:
    """Return the feature keys of ``data.lerobot`` ('' image key: the only camera)."""
    section = config['data']['lerobot']
    return FeatureKeys(section['image_key'] or None, section['action_key'], section['task_key'])


def adapt_config(config: Dict[str, Any], log: Callable[[str], None] = print) -> None:
    """Fit the head, augmentation and loss of ``config`` to its LeRobot dataset, in place."""
    root = config['data']['lerobot']['root']
    info = read_info(root)
    keys = resolve_keys(info, keys_from(config))
    names = action_names(info, keys.action)
    head = config['model'].setdefault('head', {})
    if int(head.get('action_dim', 2)) != len(names):
        with open(os.path.join(root, v3.STATS_PATH), encoding='utf-8') as handle:
            stats = json.load(handle).get(keys.action, {})
        bound = np.maximum(np.abs(stats.get('min', 1.0)), np.abs(stats.get('max', 1.0)))
        scale = [float(s) if s > 1e-6 else 1.0 for s in np.broadcast_to(bound, len(names))]
        head.update(action_dim=len(names), action_names=names, action_scale=scale)
        log(f'model.head: action_dim {len(names)}, action_names {names} and action_scale '
            f'{[round(s, 4) for s in scale]} from {root}')
    if names != VELOCITY_NAMES and config['augment']['hflip'] > 0:
        config['augment']['hflip'] = 0.0
        log(f'augment.hflip: 0 (mirroring negates angular_z; the action is {names})')
    if config['loss']['aux_weight'] > 0:
        config['loss']['aux_weight'] = 0.0
        log('loss.aux_weight: 0 (the auxiliary probe needs the state of the simulated world)')
    if config['loss']['language_weight'] > 0:
        config['loss']['language_weight'] = 0.0
        log('loss.language_weight: 0 (the language probe needs the named object of a simulated '
            'scene)')


def tokenizer_for(tasks: Sequence[str], max_length: int, vocab_size: int,
                  log: Callable[[str], None] = print) -> Tokenizer:
    """Return the default tokenizer plus the tasks' other words, as many as the model holds."""
    known = set(DEFAULT_WORDS)
    extra: List[str] = []
    for task in tasks:
        extra += [w for w in Tokenizer.split(task) if w not in known and w not in extra]
    room = max(0, vocab_size - 2 - len(DEFAULT_WORDS))
    if len(extra) > room:
        log(f'tokenizer: {len(extra) - room} words do not fit model.language.vocab_size '
            f'{vocab_size} and read as <unk>: {", ".join(extra[room:][:8])}')
    return Tokenizer([*DEFAULT_WORDS, *extra[:room]], max_length)


class LeRobotBCDataset(Dataset):
    """Frames of a LeRobot dataset: ``(image [3, S, S] float, task, action chunk [k, A])``."""

    def __init__(self, frames: LeRobotFrames, chunk_size: int = 1,
                 indices: Optional[Sequence[int]] = None):
        if chunk_size < 1:
            raise ValueError(f'chunk_size: must be >= 1, got {chunk_size}')
        self.frames = frames
        self.instructions: List[str] = list(frames.tasks)
        self.instruction_id = torch.from_numpy(frames.task_index)
        self.images = torch.from_numpy(frames.images)
        self.episode = frames.episode_index
        count = len(frames)
        # Row of each step of each frame's chunk: clamped to the frame's episode.
        last = np.empty(count, dtype=np.int64)
        starts = np.r_[0, np.flatnonzero(np.diff(frames.episode_index)) + 1, count]
        for lo, hi in zip(starts[:-1], starts[1:]):
            last[lo:hi] = hi - 1
        steps = np.minimum(np.arange(count)[:, None] + np.arange(chunk_size)[None, :],
                           last[:, None])  # [F, k]
        self.actions = torch.from_numpy(frames.actions[steps])  # [F, k, A]
        self.chunk_size = chunk_size
        self.indices = None if indices is None else torch.as_tensor(indices, dtype=torch.long)
        self.aux = None  # no world state: the auxiliary probe is off

    def __len__(self) -> int:
        return len(self.images) if self.indices is None else len(self.indices)

    def __getitem__(self, item: int):
        i = int(item if self.indices is None else self.indices[item])
        return (self.images[i].movedim(-1, -3).float().div_(255.0),
                self.instructions[self.instruction_id[i]], self.actions[i])

    def get_batch(self, items: Sequence[int]):
        """Return a whole batch at once: ``(images [B, 3, S, S], instructions, actions)``."""
        index = torch.as_tensor(items, dtype=torch.long)
        if self.indices is not None:
            index = self.indices[index]
        ids = self.instruction_id[index].tolist()
        return (self.images[index].movedim(-1, -3).float().div_(255.0),
                [self.instructions[i] for i in ids], self.actions[index])


def prepare(config: Dict[str, Any], image_size: int, chunk_size: int,
            log: Callable[[str], None] = print):
    """Return ``(train, val, info)``: episodes held out for validation by ``val_fraction``."""
    cfg = config['data']
    root = cfg['lerobot']['root']
    frames = load(root, image_size, keys_from(config))
    episodes = np.unique(frames.episode_index)
    rng = np.random.default_rng(0)  # the split never depends on the training seed
    held = rng.choice(episodes, size=max(1, int(len(episodes) * cfg['val_fraction'])),
                      replace=False) if len(episodes) > 1 else episodes[:0]
    is_val = np.isin(frames.episode_index, held)
    train = LeRobotBCDataset(frames, chunk_size, np.flatnonzero(~is_val))
    val = LeRobotBCDataset(frames, chunk_size, np.flatnonzero(is_val) if held.size
                           else np.arange(len(frames)))
    if not held.size:
        log(f'{root}: one episode only: validating on the training frames')
    log(f'{root}: {len(frames)} frames, {len(episodes)} episodes, {len(frames.tasks)} tasks, '
        f'keys {frames.keys}')
    meta = {'lerobot': {'root': os.path.abspath(root), 'fps': frames.info.get('fps'),
                        'robot_type': frames.info.get('robot_type'),
                        'keys': vars(frames.keys)}}
    info = {'path': root, 'frames': len(frames), 'episodes': int(len(episodes)),
            'meta': json.dumps(meta), 'val': {'held_out_episodes': int(held.size),
                                              'frames': len(val)},
            'train_frames': len(train)}
    return train, val, info
