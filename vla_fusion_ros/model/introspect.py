# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Size and cost of a model: parameter counts and FLOPs (torch's own FLOP counter)."""

from typing import Union

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from .config import ModelConfig
from .network import FusionModel


def count_parameters(config_or_model: Union[ModelConfig, nn.Module]) -> int:
    """Count the parameters of a model, or of the model a config builds (no memory used)."""
    if isinstance(config_or_model, ModelConfig):
        with torch.device('meta'):
            config_or_model = FusionModel(config_or_model)
    return sum(p.numel() for p in config_or_model.parameters())


def count_flops(config: ModelConfig) -> int:
    """
    Count the FLOPs of one batch-1 frame (a multiply-add counts as 2), on the CPU.

    Only the per-frame part (:meth:`FusionModel.act`) counts: the text encoder and its
    adapters run once per instruction, not per frame.
    """
    model = FusionModel(config).eval()
    side = config.vision.image_size
    images = torch.zeros(1, config.vision.in_channels, side, side)
    length = config.language.max_length
    language = {'tokens': torch.zeros(1, len(model.adapters) if model.reads else 0, length,
                                      config.language.width),
                'mask': torch.ones(1, length, dtype=torch.bool),
                'sentence': torch.zeros(1, len(model.adapters) if model.reads else 0,
                                        config.language.width)}
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model.act(images, {name: language[name] for name in model.language_inputs})
    return int(counter.get_total_flops())
