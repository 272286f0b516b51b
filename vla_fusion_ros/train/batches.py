# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Model inputs of one training step: this process's share of the global batch, augmented.

- **Frames** (a model without memory): the global batch is a list of frames
  (:func:`~vla_fusion_ros.train.train_state.batch_indices`); process ``rank`` of ``world``
  takes its equal slice.
- **Episodes** (a model with memory, :class:`~vla_fusion_ros.train.episodes.EpisodeBatcher`):
  the global batch is a list of whole episodes; each process takes an equal number of them.
  Episodes differ in length, so each process's loss carries a weight, its share of the global
  batch's frames times ``world``: DistributedDataParallel's average of the gradients is then
  the gradient of the mean over all the batch's frames, as in one process.

Mirroring (``augment.hflip``) is drawn for the whole global batch from the seed and the step,
so every process count sees the same augmentation: an image is flipped left-right, the label's
angular_z and the state targets mirrored; a mirrored episode is mirrored whole.
"""

from typing import Any, Dict, Optional, Sequence, Tuple

import torch

from vla_fusion_ros.train.aux import mirror
from vla_fusion_ros.train.text_inputs import language_args


class Batches:
    """Turn a dataset's frames or episodes into model inputs (see the module docstring)."""

    def __init__(self, config: Dict[str, Any], scale: torch.Tensor, rank: int = 0,
                 world: int = 1):
        self.hflip = float(config['augment']['hflip'])
        self.seed = int(config['seed'])
        self.scale, self.rank, self.world = scale, rank, world

    def _flips(self, count: int, step: Optional[int]) -> Optional[torch.Tensor]:
        if step is None or self.hflip <= 0:
            return None
        gen = torch.Generator().manual_seed(self.seed * 7_919 + step)
        return torch.rand(count, generator=gen) < self.hflip

    def _mine(self, count: int) -> slice:
        share = count // self.world
        return slice(self.rank * share, (self.rank + 1) * share)

    def frames(self, dataset, table, index: torch.Tensor, step: Optional[int] = None):
        """
        Return ``(images, language, target, aux)`` for this process's share of ``index``.

        ``table`` is the instructions' table (:func:`~vla_fusion_ros.train.text_inputs.
        instruction_table`); ``language`` the model's keyword arguments for the texts.

        With ``step`` the batch is a training batch: split between processes and augmented.
        """
        flip = self._flips(len(index), step)
        if step is not None:
            mine = self._mine(len(index))
            index, flip = index[mine], None if flip is None else flip[mine]
        images, texts, actions = dataset.get_batch(index)  # [B, 3, S, S], [B, k, 2]
        target = (actions / self.scale).clamp(-1.0, 1.0)  # normalised labels
        aux = None if dataset.aux is None else dataset.aux[
            index if dataset.indices is None else dataset.indices[index]]
        if flip is not None:
            images = torch.where(flip[:, None, None, None], images.flip(-1), images)
            target = target.clone()
            target[flip, :, 1:] *= -1.0  # mirrored world: angular_z changes sign
            aux = None if aux is None else torch.where(flip[:, None], mirror(aux), aux)
        return images, language_args(table, texts), target, aux

    def episodes(self, batcher, table, chosen: Sequence[int], step: Optional[int] = None
                 ) -> Tuple[tuple, float]:
        """
        Return ``((images, language, target, aux, slots, previous), weight)`` for episodes.

        With ``step`` the episodes are a training batch: split between processes, augmented,
        and ``weight`` is this process's loss weight (1 in one process).
        """
        chosen = list(chosen)
        flip = self._flips(len(chosen), step)
        weight = 1.0
        if step is not None and self.world > 1:
            lengths = [len(batcher.episodes[e]) for e in chosen]
            mine = self._mine(len(chosen))
            weight = sum(lengths[mine]) * self.world / sum(lengths)
            chosen, flip = chosen[mine], None if flip is None else flip[mine]
        images, texts, target, aux, slots, previous = batcher.batch(chosen, flip)
        return (images, language_args(table, texts), target, aux, slots, previous), weight
