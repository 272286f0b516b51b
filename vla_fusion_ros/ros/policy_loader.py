# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Find and load the policy the fusion node serves.

Order: the ``checkpoint`` parameter; else, unless ``model_config`` is given, the model shipped
in the package's share directory (``models/overhead.safetensors``, the overhead world's model; the
first-person world's, ``models/first_person.safetensors``, is chosen with ``checkpoint`` or
the launch file's ``world:=first_person``); else an untrained model
built from ``model_config``, with a loud warning, because an untrained VLA publishes noise. A
checkpoint that exists but does not load is an error, never a silent fallback to an untrained
model. ``fusion_operator``/``fusion_layers`` must match a checkpoint's (layers compared as a
set), the shipped one included: only ``model_config`` builds a model with other ones.
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
    # model_config asks for a config-built model; fusion overrides alone do not: they are
    # checked against the checkpoint in use, the shipped one included, so that they never
    # swap a trained model for an untrained one behind the user's back.
    shipped = None if settings.checkpoint or settings.model_config else default_checkpoint()
    checkpoint = settings.checkpoint or shipped
    if checkpoint:
        policy = VLAPolicy.from_checkpoint(checkpoint, device=settings.device)
        fusion = policy.config.fusion
        remedy = ('set model_config too to serve an untrained model built with it' if shipped
                  else 'overrides apply only to models built from model_config')
        which = f'the shipped model {checkpoint}' if shipped else checkpoint
        if settings.fusion_operator and settings.fusion_operator != fusion.operator:
            raise ParameterError(
                f"parameter 'fusion_operator': {which} was trained with "
                f"'{fusion.operator}'; {remedy}")
        if layers is not None and layers != sorted(fusion.layers):
            raise ParameterError(
                f"parameter 'fusion_layers': {which} was trained with fusion at "
                f'{sorted(fusion.layers)}; {remedy}')
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
