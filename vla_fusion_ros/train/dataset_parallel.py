# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Dataset generation over worker processes, and joining datasets of one world.

Every episode depends only on its own seed, so :func:`generate_parallel` gives exactly the
arrays of :func:`~vla_fusion_ros.train.dataset.generate` in one process.
"""

import json
import multiprocessing
from typing import Dict, Sequence

import numpy as np

from vla_fusion_ros.train.dataset import generate, TRAIN_SEED_START

__all__ = ['concatenate', 'generate_parallel']


def generate_parallel(episodes: int, seed: int = TRAIN_SEED_START, workers: int = 1,
                      **kwargs) -> Dict[str, np.ndarray]:
    """
    :func:`generate` split over ``workers`` processes, joined in seed order.

    Every episode depends only on its own seed, so the arrays are exactly those of one
    process (``test_dataset.py`` checks it); each worker renders with its own MuJoCo context.
    """
    workers = max(1, min(int(workers), episodes // 2))
    if workers == 1:
        return generate(episodes, seed, **kwargs)
    bounds = np.linspace(0, episodes, workers + 1).astype(int)
    jobs = [(int(b - a), seed + int(a), dict(kwargs, progress=kwargs.get('progress') and not a))
            for a, b in zip(bounds, bounds[1:])]
    with multiprocessing.get_context('spawn').Pool(workers) as pool:
        parts = pool.starmap(_generate_part, jobs)
    data = concatenate(parts)
    meta = json.loads(str(parts[0]['meta']))
    meta.update(seed=seed, episodes=episodes)
    data['meta'] = np.asarray(json.dumps(meta))
    return data


def _generate_part(episodes: int, seed: int, kwargs: Dict) -> Dict[str, np.ndarray]:
    return generate(episodes, seed, **kwargs)


def concatenate(parts: Sequence[Dict[str, np.ndarray]]) -> Dict[str, np.ndarray]:
    """Join datasets of one world (the first one's ``meta``): episodes renumbered, texts merged."""
    texts: Dict[str, int] = {}
    ids, episodes, offset = [], [], 0
    for part in parts:
        remap = np.array([texts.setdefault(str(t), len(texts)) for t in part['instructions']],
                         dtype=np.int32)
        ids.append(remap[part['instruction_id']])
        episodes.append(part['episode'] + offset)
        offset += len(part['episode_seed'])
    out = {key: np.concatenate([p[key] for p in parts])
           for key in parts[0] if key not in ('instructions', 'meta')}
    out.update(instruction_id=np.concatenate(ids), episode=np.concatenate(episodes),
               instructions=np.asarray(list(texts), dtype=np.str_), meta=parts[0]['meta'])
    return out
