# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Feature statistics as LeRobot keeps them: min, max, mean, std, count and five quantiles.

Vectors (``[N, D]``) give per-dimension values of shape ``(D,)``. Images are summarised by
per-channel histograms of their 8-bit values (exact, and cheap to merge across episodes), in
LeRobot's units: values in ``[0, 1]`` and shape ``(C, 1, 1)``.
"""

from typing import Dict, List

import numpy as np

from vla_fusion_ros.data.lerobot_v3_schema import QUANTILES


def vector_stats(values: np.ndarray) -> Dict[str, List]:
    """Return the stats of ``[N, D]`` values (or ``[N]``, treated as ``[N, 1]``)."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, None]
    out = {'min': values.min(axis=0), 'max': values.max(axis=0), 'mean': values.mean(axis=0),
           'std': values.std(axis=0)}
    for q in QUANTILES:
        out[f'q{int(round(q * 100)):02d}'] = np.quantile(values, q, axis=0)
    stats = {k: v.tolist() for k, v in out.items()}
    stats['count'] = [int(len(values))]
    return stats


class ImageHistogram:
    """Per-channel histograms of 8-bit frames, merged episode by episode."""

    def __init__(self, channels: int = 3):
        self.counts = np.zeros((channels, 256), dtype=np.int64)
        self.frames = 0

    def add(self, rgb: np.ndarray) -> None:
        """Count the values of one ``(H, W, C)`` uint8 frame."""
        for c in range(self.counts.shape[0]):
            self.counts[c] += np.bincount(rgb[:, :, c].ravel(), minlength=256)
        self.frames += 1

    def merge(self, other: 'ImageHistogram') -> None:
        """Add another histogram's counts to this one."""
        self.counts += other.counts
        self.frames += other.frames

    def stats(self) -> Dict[str, List]:
        """Return the stats in ``[0, 1]`` units, each of shape ``(C, 1, 1)``."""
        levels = np.arange(256) / 255.0
        total = self.counts.sum(axis=1)  # [C]
        mean = (self.counts * levels).sum(axis=1) / total
        var = (self.counts * levels ** 2).sum(axis=1) / total - mean ** 2
        nonzero = [np.flatnonzero(row) for row in self.counts]
        cumulative = np.cumsum(self.counts, axis=1) / total[:, None]
        out = {'min': [levels[n[0]] for n in nonzero], 'max': [levels[n[-1]] for n in nonzero],
               'mean': mean, 'std': np.sqrt(np.maximum(var, 0.0))}
        for q in QUANTILES:
            out[f'q{int(round(q * 100)):02d}'] = [
                levels[int(np.searchsorted(row, q))] for row in cumulative]
        stats = {k: [[[float(v)]] for v in values] for k, values in out.items()}
        stats['count'] = [int(self.frames)]
        return stats
