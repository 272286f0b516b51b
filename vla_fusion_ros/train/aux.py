# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Auxiliary state targets: a training-only probe that speeds up behaviour cloning.

Besides the expert's action, every frame's world state is known: the robot's pose (stored in
the dataset) and the target's position (recomputed from the episode's scene seed). A small MLP
reads the action head's pooled features and predicts, in arena units (the half-side is 1):

``[robot x, robot y, cos(theta), sin(theta), target x, target y, target x and y in the robot
frame]`` (for an absent target, the robot's own position: zero in the robot frame)

Its MSE is added to the action loss (``loss.aux_weight``). The probe pushes the pooled features
to say where the robot is, which way it faces and where the *named* object is, which is what
the action depends on; without it, a small CNN spends many epochs on a loss plateau before it
finds the robot's heading. The probe never enters a checkpoint: the shipped model is the plain
:class:`FusionModel`, and every variant of the fusion comparison is trained with the same probe.
"""

import json
from typing import Dict

import numpy as np
import torch
from torch import nn

from vla_fusion_ros.model.attention import MLP
from vla_fusion_ros.sim.registry import make_config, make_world

AUX_DIM = 8


def aux_targets(data: Dict[str, np.ndarray]) -> torch.Tensor:
    """Return float32 [F, 8] auxiliary targets for the frames of a generated dataset."""
    meta = json.loads(str(data['meta']))
    name = meta.get('world_name', 'overhead')
    world = make_world(name, make_config(name, meta['world']))
    half = 0.5 * world.config.arena_size_m
    targets = np.full((len(data['episode_seed']), 2), np.nan)
    for i, seed in enumerate(data['episode_seed']):
        world.reset(int(seed))
        if world.target is not None:
            targets[i] = (world.target.x, world.target.y)
    pose = data['poses']  # [F, 3]
    goal = targets[data['episode']]  # [F, 2]
    missing = np.isnan(goal[:, 0])
    goal[missing] = pose[missing, :2]  # absent target: 'here' (relative position 0)
    c, s = np.cos(pose[:, 2]), np.sin(pose[:, 2])
    dx, dy = goal[:, 0] - pose[:, 0], goal[:, 1] - pose[:, 1]
    out = np.stack([pose[:, 0] / half, pose[:, 1] / half, c, s, goal[:, 0] / half,
                    goal[:, 1] / half, (c * dx + s * dy) / half, (-s * dx + c * dy) / half],
                   axis=1)
    return torch.from_numpy(out.astype(np.float32))


def mirror(aux: torch.Tensor) -> torch.Tensor:
    """Return the targets of the left-right mirrored world (x -> -x, theta -> pi - theta)."""
    sign = torch.tensor([-1.0, 1.0, -1.0, 1.0, -1.0, 1.0, 1.0, -1.0])
    return aux * sign


class PolicyWithProbe(nn.Module):
    """The model plus the probe on its head's pooled features: returns (actions, aux)."""

    def __init__(self, model: nn.Module, seed: int):
        super().__init__()
        self.model = model
        self._pooled = None
        model.head.pool.register_forward_hook(self._keep)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed + 17)
            self.probe = MLP(model.head.pool.out_dim, 64, AUX_DIM)
            for layer in (self.probe.fc, self.probe.proj):
                nn.init.normal_(layer.weight, std=layer.in_features ** -0.5)
                nn.init.zeros_(layer.bias)

    def _keep(self, module, inputs, output) -> None:
        self._pooled = output

    def forward(self, images, ids, mask, slots=None, previous=None):
        """
        Return normalised actions [B, k, A] and auxiliary predictions [B, 8].

        With ``slots`` and ``previous`` the frames are whole episodes for a model with memory
        (:meth:`FusionModel.forward_episodes`).
        """
        if slots is None:
            actions = self.model(images, ids, mask)
        else:
            actions = self.model.forward_episodes(images, ids, mask, slots, previous)
        return actions, self.probe(self._pooled)
