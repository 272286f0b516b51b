# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Fusion model: encoders, fusion operators, heads, config and checkpoints (pure PyTorch).

Nothing here imports ROS. The node uses :class:`VLAPolicy`; training uses
:class:`FusionModel`, :class:`Tokenizer` and the checkpoint functions directly.
"""

from .checkpoint import CheckpointError, load_checkpoint, read_checkpoint_info, save_checkpoint
from .config import (ConfigError, FusionConfig, HeadConfig, LanguageConfig, ModelConfig,
                     VisionConfig)
from .fusion import create_fusion, FUSION_OPERATORS
from .introspect import count_flops, count_parameters
from .network import FusionModel
from .policy import resolve_device, VLAPolicy
from .tokenizer import DEFAULT_WORDS, Tokenizer

__all__ = [
    'CheckpointError', 'ConfigError', 'count_flops', 'count_parameters', 'create_fusion',
    'DEFAULT_WORDS', 'FUSION_OPERATORS', 'FusionConfig', 'FusionModel', 'HeadConfig',
    'LanguageConfig', 'load_checkpoint', 'ModelConfig', 'read_checkpoint_info',
    'resolve_device', 'save_checkpoint', 'Tokenizer', 'VisionConfig', 'VLAPolicy',
]
