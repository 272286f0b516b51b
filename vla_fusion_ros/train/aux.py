# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Auxiliary state targets: a training-only probe that speeds up behaviour cloning.

Besides the expert's action, every frame's world state is known: the robot's pose (stored in
the dataset) and the scene (recomputed from the episode's scene seed). A small MLP reads the
action head's pooled features and predicts, in arena units (the half-side is 1)
(:data:`AUX_NAMES`):

- the pose: ``robot x, robot y, cos(theta), sin(theta), target x, target y`` (world frame);
- egocentric: ``target x and y in the robot frame`` (for an absent target, the robot's own
  position: zero), ``target in view`` (1 when the camera sees it: always in the overhead
  world when it is present; in the first-person world the world's own ``target_visible``),
  ``nearest other object's x and y in the robot frame`` (the obstacle to avoid).

Its MSE is added to the action loss (``loss.aux_weight``); ``loss.aux_targets: egocentric``
leaves the world-frame pose out of the loss (a first-person camera cannot tell where in the
symmetric arena it stands). The probe pushes the pooled features
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
import torch.nn.functional as F

from vla_fusion_ros.model.attention import MLP
from vla_fusion_ros.sim.registry import make_config, make_world

AUX_NAMES = ('robot_x', 'robot_y', 'cos_theta', 'sin_theta', 'target_x', 'target_y',
             'target_forward', 'target_left', 'target_in_view', 'obstacle_forward',
             'obstacle_left')
AUX_DIM = len(AUX_NAMES)
#: The targets that ``loss.aux_targets: egocentric`` keeps.
EGOCENTRIC = AUX_NAMES.index('target_forward')
#: Sign of each target in the left-right mirrored world (x -> -x, theta -> pi - theta).
_MIRROR = (-1.0, 1.0, -1.0, 1.0, -1.0, 1.0, 1.0, -1.0, 1.0, 1.0, -1.0)
AUX_TARGETS = ('all', 'egocentric')


def aux_targets(data: Dict[str, np.ndarray]) -> torch.Tensor:
    """Return float32 [F, AUX_DIM] auxiliary targets for the frames of a generated dataset."""
    meta = json.loads(str(data['meta']))
    name = meta.get('world_name', 'overhead')
    world = make_world(name, make_config(name, meta['world']))
    half = 0.5 * world.config.arena_size_m
    pose = data['poses']  # [F, 3]
    goal = np.array(pose[:, :2])  # absent target: 'here' (relative position 0)
    visible = np.zeros(len(pose))
    nearest = np.array(pose[:, :2])
    frames_of = np.split(np.arange(len(pose)), np.flatnonzero(np.diff(data['episode'])) + 1)
    for frames in frames_of:
        world.reset(int(data['episode_seed'][data['episode'][frames[0]]]))
        others = [o for o in world.objects if o is not world.target]
        centres = np.array([[o.x, o.y] for o in others]).reshape(-1, 2)
        radii = np.array([o.radius for o in others])
        if world.target is not None:
            goal[frames] = (world.target.x, world.target.y)
            visible[frames] = [world.target_visible(pose[f]) for f in frames]
        if len(others):
            gaps = np.hypot(*(pose[frames, None, :2] - centres[None]).transpose(2, 0, 1))
            nearest[frames] = centres[np.argmin(gaps - radii, axis=1)]
    c, s = np.cos(pose[:, 2]), np.sin(pose[:, 2])

    def local(points):  # world points -> the robot frame, arena units
        dx, dy = points[:, 0] - pose[:, 0], points[:, 1] - pose[:, 1]
        return (c * dx + s * dy) / half, (-s * dx + c * dy) / half
    out = np.stack([pose[:, 0] / half, pose[:, 1] / half, c, s, goal[:, 0] / half,
                    goal[:, 1] / half, *local(goal), visible, *local(nearest)], axis=1)
    return torch.from_numpy(out.astype(np.float32))


def mirror(aux: torch.Tensor) -> torch.Tensor:
    """Return the targets of the left-right mirrored world (x -> -x, theta -> pi - theta)."""
    return aux * torch.tensor(_MIRROR)


def aux_loss(predicted: torch.Tensor, target: torch.Tensor, kind: str = 'all') -> torch.Tensor:
    """Return the probe's MSE over ``kind``'s targets (``all`` or ``egocentric``)."""
    first = EGOCENTRIC if kind == 'egocentric' else 0
    return F.mse_loss(predicted[:, first:], target[:, first:])


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

    def forward(self, images, token_ids=None, mask=None, slots=None, previous=None,
                cache=None, colors=None):
        """
        Return normalised actions [B, k, A] and auxiliary predictions [B, 8].

        The language is ``token_ids`` and ``mask`` (and ``colors``), or a precomputed
        ``cache``. With ``slots``
        and ``previous`` the frames are whole episodes for a model with memory
        (:meth:`FusionModel.forward_episodes`).
        """
        if slots is None:
            actions = self.model(images, token_ids, mask, cache=cache, colors=colors)
        else:
            actions = self.model.forward_episodes(images, token_ids, mask, slots, previous,
                                                  cache=cache, colors=colors)
        return actions, self.probe(self._pooled)
