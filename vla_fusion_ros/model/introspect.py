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
    """Count the FLOPs of one batch-1 forward pass (a multiply-add counts as 2), on the CPU."""
    model = FusionModel(config).eval()
    side = config.vision.image_size
    images = torch.zeros(1, config.vision.in_channels, side, side)
    ids = torch.ones(1, config.language.max_length, dtype=torch.long)
    mask = torch.ones(1, config.language.max_length, dtype=torch.bool)
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(images, ids, mask)
    return int(counter.get_total_flops())
