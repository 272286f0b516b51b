# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Feature alignment, the seed's second step: both streams projected to the shared fusion width.

An :class:`AlignedFusion` is one fusion point of the model: alignment, then the operator, then
the change projected back to each stream's own width.
"""

import torch
from torch import nn

from .fusion import FusionOperator, Streams


class AlignedFusion(nn.Module):
    """
    A fusion point: project both streams to the shared width, fuse, project the change back.

    This is the seed's feature alignment. With equal widths the projections are identities and
    the operator's output is used as it is; otherwise ``f_v + W_back(fused - aligned)`` keeps the
    residual (and an operator that starts as the identity still does).
    """

    def __init__(self, operator: FusionOperator, vision_dim: int, language_dim: int):
        super().__init__()
        dim = operator.dim
        self.operator = operator
        self.align_v = nn.Identity() if vision_dim == dim else nn.Linear(vision_dim, dim)
        self.align_l = nn.Identity() if language_dim == dim else nn.Linear(language_dim, dim)
        self.back_v = None if vision_dim == dim else nn.Linear(dim, vision_dim)
        self.back_l = None
        if language_dim != dim and operator.update_language:
            self.back_l = nn.Linear(dim, language_dim)

    def forward(self, f_v: torch.Tensor, f_l: torch.Tensor, mask: torch.Tensor) -> Streams:
        """Fuse ``f_v`` [B, N, Dv] and ``f_l`` [B, T, Dl]; return streams of the same shapes."""
        a_v, a_l = self.align_v(f_v), self.align_l(f_l)  # [B, N, D], [B, T, D]
        fused_v, fused_l = self.operator(a_v, a_l, mask)
        if self.back_v is not None:
            fused_v = f_v + self.back_v(fused_v - a_v)  # [B, N, Dv]
        if self.back_l is not None:
            fused_l = f_l + self.back_l(fused_l - a_l)  # [B, T, Dl]
        elif fused_l is a_l:
            fused_l = f_l
        return fused_v, fused_l
