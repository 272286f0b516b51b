# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Whole-episode batches, for models with memory (``head.memory > 0``).

A model with memory must learn from frames in order, each with the action executed before it.
Each training step takes ``episodes_per_batch`` whole episodes (about ``batch_size`` frames:
``batch_size`` divided by the mean episode length), drawn from a permutation of the episodes
that depends only on the seed and the epoch, as frame batches do. Every frame of a batch is
encoded at once; the memory then runs over the steps of all episodes side by side
(:meth:`FusionModel.forward_episodes`). A mirrored episode is mirrored whole.

Why memory at all: in the first-person world a robot whose named object is absent must turn a
full circle and then stop. After the circle it sees exactly the frame it started from (same
pose, same pixels), where the expert turned; so no policy that reads one frame can both start
the search and end it (``results/training/first_person.md`` shows the measurement).
"""

from typing import List, Tuple

import numpy as np
import torch


class EpisodeBatcher:
    """Episodes of a :class:`~vla_fusion_ros.train.dataset.BCDataset` view, in batches."""

    def __init__(self, dataset, batch_size: int, seed: int, scale: torch.Tensor):
        items = np.arange(len(dataset))
        frames = (dataset.indices.numpy() if dataset.indices is not None else items)
        episode = dataset.episode[frames]
        starts = np.flatnonzero(np.r_[True, episode[1:] != episode[:-1]])
        ends = np.r_[starts[1:], len(items)]
        self.episodes: List[np.ndarray] = [items[a:b] for a, b in zip(starts, ends)]
        mean = float(np.mean([len(e) for e in self.episodes]))
        self.per_batch = max(1, int(round(batch_size / mean)))
        self.seed = seed
        self.dataset = dataset
        self.scale = scale

    def __len__(self) -> int:
        return len(self.episodes)

    def steps_per_epoch(self) -> int:
        """Batches in one pass over the episodes."""
        return max(1, len(self.episodes) // self.per_batch)

    def pick(self, step: int) -> List[int]:
        """Return the episodes of training step ``step`` (a pure function of seed and step)."""
        per_epoch = self.steps_per_epoch()
        epoch, k = divmod(step, per_epoch)
        order = np.random.default_rng([self.seed, epoch, 0xE9]).permutation(len(self.episodes))
        return order[k * self.per_batch:(k + 1) * self.per_batch].tolist()

    def batch(self, chosen: List[int], flip: torch.Tensor = None
              ) -> Tuple[torch.Tensor, list, torch.Tensor, torch.Tensor, torch.Tensor,
                         torch.Tensor]:
        """
        Return ``(images, texts, target, items, slots, previous)`` for episodes ``chosen``.

        ``target`` are normalised labels [F, chunk, A], ``slots`` each frame's place in a
        [B, L] grid, ``previous`` [B, L, A] the normalised action executed before each frame
        (zero at an episode's start). ``flip`` [B] mirrors whole episodes.
        """
        parts = [self.episodes[e] for e in chosen]
        length = max(len(p) for p in parts)
        items = torch.as_tensor(np.concatenate(parts), dtype=torch.long)
        slots = torch.as_tensor(np.concatenate([b * length + np.arange(len(p))
                                                for b, p in enumerate(parts)]))
        images, texts, actions = self.dataset.get_batch(items)
        frames = items if self.dataset.indices is None else self.dataset.indices[items]
        executed = (self.dataset.executed[frames] / self.scale).clamp(-1.0, 1.0)  # [F, A]
        previous = torch.zeros(len(parts) * length, executed.shape[-1])
        shifted = slots + 1
        keep = torch.cat([torch.as_tensor(np.arange(len(p)) < len(p) - 1) for p in parts])
        previous[shifted[keep]] = executed[keep]
        target = (actions / self.scale).clamp(-1.0, 1.0)
        if flip is not None:
            per_frame = torch.repeat_interleave(flip, torch.tensor([len(p) for p in parts]))
            images = torch.where(per_frame[:, None, None, None], images.flip(-1), images)
            target = target.clone()
            target[per_frame, :, 1:] *= -1.0
            grid_flip = flip.repeat_interleave(length)
            previous[grid_flip, 1:] *= -1.0
        return (images, texts, target, items, slots,
                previous.view(len(parts), length, -1))
