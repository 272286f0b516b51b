# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Find and load the policy the fusion node serves.

Order: the ``checkpoint`` parameter; else the model shipped in the package's share directory
(``models/overhead.safetensors``, the overhead world's model; the first-person
world's, ``models/first_person.safetensors``, is chosen with ``checkpoint`` or the launch file's
``world:=first_person``); else an untrained model built from ``model_config``, with a
loud warning, because an untrained VLA publishes noise. A checkpoint that exists but does not
load is an error, never a silent fallback to an untrained model.
"""

import os
from typing import Optional

from vla_fusion_ros.model import ModelConfig, VLAPolicy
from vla_fusion_ros.ros.node_settings import FusionSettings, layer_override
from vla_fusion_ros.ros.params import ParameterError

PACKAGE = 'vla_fusion_ros'
DEFAULT_CHECKPOINT = os.path.join('models', 'overhead.safetensors')
DEFAULT_MODEL_CONFIG = os.path.join('config', 'model_default.yaml')


def share_directory() -> str:
    """Return the package's share directory (the source tree when not installed)."""
    try:
        from ament_index_python.packages import get_package_share_directory
        return get_package_share_directory(PACKAGE)
    except Exception:  # noqa: BLE001 - not installed, or no ament index: use the sources
        return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def default_checkpoint() -> Optional[str]:
    """Return the shipped checkpoint's path, or ``None`` if the package ships none."""
    for base in (share_directory(),
                 os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))):
        path = os.path.join(base, DEFAULT_CHECKPOINT)
        if os.path.isfile(path):
            return path
    return None


def load_policy(settings: FusionSettings, logger) -> VLAPolicy:
    """Load the policy described by ``settings``; raise with one clear line on failure."""
    import cv2
    import torch
    torch.set_num_threads(settings.threads)
    # Preprocessing too: OpenCV's own pool, on cores shared with the executor and the rest of
    # the robot, made a 640x480 resize several times slower at the median (benchmark).
    cv2.setNumThreads(settings.threads)
    layers = layer_override(settings)
    # An explicit model_config or fusion override asks for a config-built model: the shipped
    # checkpoint is the default only when the user asked for nothing else.
    wants_config = bool(settings.model_config or settings.fusion_operator) or layers is not None
    checkpoint = settings.checkpoint or (None if wants_config else default_checkpoint())
    if checkpoint:
        policy = VLAPolicy.from_checkpoint(checkpoint, device=settings.device)
        fusion = policy.config.fusion
        if settings.fusion_operator and settings.fusion_operator != fusion.operator:
            raise ParameterError(
                f"parameter 'fusion_operator': {checkpoint} was trained with "
                f"'{fusion.operator}'; overrides apply only to models built from model_config")
        if layers is not None and list(layers) != list(fusion.layers):
            raise ParameterError(
                f"parameter 'fusion_layers': {checkpoint} was trained with fusion at "
                f'{list(fusion.layers)}; overrides apply only to models built from model_config')
        logger.info(f'loaded checkpoint {checkpoint} ({policy.identity})')
    else:
        config_path = settings.model_config or os.path.join(share_directory(),
                                                            DEFAULT_MODEL_CONFIG)
        config = ModelConfig.from_yaml(config_path)
        if settings.fusion_operator or layers is not None:
            config = config.with_overrides(operator=settings.fusion_operator or None,
                                           layers=layers)
        policy = VLAPolicy.from_config(config, device=settings.device)
        logger.warning(
            '*** NO TRAINED CHECKPOINT: serving an UNTRAINED model built from '
            f'{config_path}. Its actions are meaningless. Set the checkpoint parameter. ***')
    policy.warmup(backend=settings.inference_backend, threads=settings.threads,
                  precision=settings.precision)
    logger.info(f'inference backend: {policy.backend}')
    return policy
