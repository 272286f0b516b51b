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

**The language probe** (``loss.language_weight`` > 0): a linear layer reads the language
features that fusion reads (each fusion point's adapter output, :meth:`FusionModel.condition`;
token features averaged over the real tokens) and names the instruction's colour and shape
(cross-entropy, :data:`NAMED_NAMES`: the scene's named pair, so the label needs no parsing).
Why: the frozen MiniLM sentence vector tells the shape of an unseen synonym ('cone', 'tile')
to a linear read-out trained on the training synonyms, but behaviour cloning alone shapes the
adapters weakly, because most scenes are solved by the colour; the probe gives every frame a
direct signal to keep the named shape linearly readable in the adapters' output.

``loss.language_action_grad`` scales the action loss's gradient into the adapters (the
probe's gradient stays whole). Why: a linear read-out of the frozen sentence vector, trained
on the training language, names every held-out shape synonym
(:mod:`vla_fusion_ros.tools.language_probe`); the same read-out of the adapters of four
overhead runs trained with the action gradient (1 or 0.1) names 'tile' in none of its
instructions, and of two runs without it in 70% and 100% (``results/language/probe.md``).
The action loss's gradient, large and specific to the words of the episodes the policy gets
wrong, bends the adapters toward directions that separate the training words and nothing
else. At 0 the adapters learn only to name colour and shape; fusion's own projections (which
read them) still learn from the action loss.
"""

import json
from typing import Dict, Optional

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

from vla_fusion_ros.model.attention import masked_mean, MLP
from vla_fusion_ros.sim.registry import make_config, make_world
from vla_fusion_ros.sim.shapes import COLORS, SHAPES

AUX_NAMES = ('robot_x', 'robot_y', 'cos_theta', 'sin_theta', 'target_x', 'target_y',
             'target_forward', 'target_left', 'target_in_view', 'obstacle_forward',
             'obstacle_left')
AUX_DIM = len(AUX_NAMES)
#: Two more columns of the targets, after the probe's: the named colour's index in
#: :data:`COLORS` and the named shape's in :data:`SHAPES` (the language probe's classes).
NAMED_NAMES = ('named_color', 'named_shape')
NAMED_CLASSES = (len(COLORS), len(SHAPES))
#: The targets that ``loss.aux_targets: egocentric`` keeps.
EGOCENTRIC = AUX_NAMES.index('target_forward')
#: Sign of each target in the left-right mirrored world (x -> -x, theta -> pi - theta).
_MIRROR = (-1.0, 1.0, -1.0, 1.0, -1.0, 1.0, 1.0, -1.0, 1.0, 1.0, -1.0)
AUX_TARGETS = ('all', 'egocentric')


def aux_targets(data: Dict[str, np.ndarray]) -> torch.Tensor:
    """
    Return float32 [F, AUX_DIM + 2] targets for the frames of a generated dataset.

    The probe's :data:`AUX_NAMES`, then the named colour and shape (:data:`NAMED_NAMES`).
    """
    meta = json.loads(str(data['meta']))
    name = meta.get('world_name', 'overhead')
    world = make_world(name, make_config(name, meta['world']))
    half = 0.5 * world.config.arena_size_m
    pose = data['poses']  # [F, 3]
    goal = np.array(pose[:, :2])  # absent target: 'here' (relative position 0)
    visible = np.zeros(len(pose))
    nearest = np.array(pose[:, :2])
    named = np.zeros((len(pose), 2))
    frames_of = np.split(np.arange(len(pose)), np.flatnonzero(np.diff(data['episode'])) + 1)
    for frames in frames_of:
        world.reset(int(data['episode_seed'][data['episode'][frames[0]]]))
        others = [o for o in world.objects if o is not world.target]
        centres = np.array([[o.x, o.y] for o in others]).reshape(-1, 2)
        radii = np.array([o.radius for o in others])
        named[frames] = (list(COLORS).index(world.named[0]), SHAPES.index(world.named[1]))
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
                    goal[:, 1] / half, *local(goal), visible, *local(nearest),
                    named[:, 0], named[:, 1]], axis=1)
    return torch.from_numpy(out.astype(np.float32))


def mirror(aux: torch.Tensor) -> torch.Tensor:
    """Return the targets of the left-right mirrored world (x -> -x, theta -> pi - theta)."""
    signs = torch.ones(aux.shape[-1])
    signs[:AUX_DIM] = torch.tensor(_MIRROR)  # the named colour and shape stay
    return aux * signs


def aux_loss(predicted: torch.Tensor, target: torch.Tensor, kind: str = 'all') -> torch.Tensor:
    """Return the probe's MSE over ``kind``'s targets (``all`` or ``egocentric``)."""
    first = EGOCENTRIC if kind == 'egocentric' else 0
    return F.mse_loss(predicted[:, first:AUX_DIM], target[:, first:AUX_DIM])


def language_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Return the language probe's cross-entropy: colour plus shape ([B, 4 + 3] logits)."""
    named = target[:, AUX_DIM:AUX_DIM + 2].long()  # [B, 2]
    colors, shapes = logits.split(NAMED_CLASSES, dim=-1)
    return F.cross_entropy(colors, named[:, 0]) + F.cross_entropy(shapes, named[:, 1])


def probe_loss(state: torch.Tensor, named: Optional[torch.Tensor], target: torch.Tensor,
               loss: Dict) -> torch.Tensor:
    """
    Return the probes' weighted loss (``loss``: the config's section).

    ``named`` is ``None`` where there is no language probe (:class:`PolicyWithProbe`).
    """
    out = float(loss['aux_weight']) * aux_loss(state, target, loss['aux_targets'])
    if named is not None:
        out = out + float(loss['language_weight']) * language_loss(named, target)
    return out


class PolicyWithProbe(nn.Module):
    """
    The model plus the probes: returns (actions, aux, named logits or ``None``).

    The state probe reads the head's pooled features; with ``language``, the language probe
    (a linear layer, :data:`NAMED_CLASSES` logits) reads the mean of the fusion points'
    language features (see the module docstring), and ``action_grad`` scales the gradient
    that reaches the adapters from everything else (``loss.language_action_grad``).
    """

    def __init__(self, model: nn.Module, seed: int, language: bool = False,
                 action_grad: float = 1.0):
        super().__init__()
        self.model = model
        self.action_grad = float(action_grad)
        self._pooled = None
        self._language = []
        model.head.pool.register_forward_hook(self._keep)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed + 17)
            self.probe = MLP(model.head.pool.out_dim, 64, AUX_DIM)
            for layer in (self.probe.fc, self.probe.proj):
                nn.init.normal_(layer.weight, std=layer.in_features ** -0.5)
                nn.init.zeros_(layer.bias)
            self.names = None
            if language:
                if not hasattr(model, 'adapters'):
                    raise ValueError('loss.language_weight: a vision-only model has no '
                                     'language features to probe (set it to 0)')
                self.names = nn.Linear(model.config.language.width, sum(NAMED_CLASSES))
                for adapter in model.adapters:
                    adapter.register_forward_hook(self._keep_language)

    def _keep(self, module, inputs, output) -> None:
        self._pooled = output

    def _keep_language(self, module, inputs, output) -> Optional[torch.Tensor]:
        self._language.append(output)  # the probe reads it with its whole gradient
        if self.action_grad == 1.0:
            return None
        # Same value for the model; the action loss's gradient scaled by action_grad.
        return output.detach() + self.action_grad * (output - output.detach())

    def _named_logits(self, mask: Optional[torch.Tensor]) -> torch.Tensor:
        features = torch.stack(self._language[-len(self.model.adapters):], 1).mean(1)
        if features.dim() == 3:  # token features [B, T, D]: the mean of the real tokens
            features = masked_mean(features, mask)
        return self.names(features)  # [B, 4 + 3]

    def forward(self, images, token_ids=None, mask=None, slots=None, previous=None,
                cache=None, colors=None):
        """
        Return normalised actions [B, k, A], state predictions [B, AUX_DIM], named logits.

        The language is ``token_ids`` and ``mask`` (and ``colors``), or a precomputed
        ``cache``. With ``slots``
        and ``previous`` the frames are whole episodes for a model with memory
        (:meth:`FusionModel.forward_episodes`).
        """
        self._language = []
        if slots is None:
            actions = self.model(images, token_ids, mask, cache=cache, colors=colors)
        else:
            actions = self.model.forward_episodes(images, token_ids, mask, slots, previous,
                                                  cache=cache, colors=colors)
        named = None
        if self.names is not None:
            named = self._named_logits(cache.get('mask') if cache is not None else mask)
        self._language = []
        return actions, self.probe(self._pooled), named
