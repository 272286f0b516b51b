# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Late fusion over token features: ``fusion.mode: late_tokens``, the unpooled late baseline.

Both encoders run alone to the end, as in ``late``; the streams meet only at the action head.
``late`` joins two pooled vectors there (the masked mean of the words and the head's own pooling
of the image), so the head must pick the named object out of a summary of the image that was
made without the instruction. ``late_tokens`` keeps both streams' tokens until the head and
lets them meet by cross-attention, in the Perceiver manner: each of ``Q`` learned queries first
reads the words (multi-head attention over the final language tokens, key padding masked), and
the query so conditioned then attends over the final vision tokens and returns what it found and
where (the expected (x, y) of its attention, as :class:`~.heads.AttentionPool` does). Nothing in
either encoder depends on the other modality; the head does the whole fusion.
"""

import torch
from torch import nn
import torch.nn.functional as F

from .attention import MultiHeadAttention
from .heads import token_coords


class LateTokenReadout(nn.Module):
    """Word-conditioned queries read the vision tokens: [B, N, Dv], [B, T, Dl] -> [B, Q*(Dv+2)]."""

    def __init__(self, vision_dim: int, language_dim: int, queries: int, heads: int):
        super().__init__()
        self.query = nn.Parameter(torch.zeros(queries, vision_dim))
        self.ln_words = nn.LayerNorm(language_dim)
        self.read_words = MultiHeadAttention(vision_dim, heads, context_dim=language_dim)
        self.ln_query = nn.LayerNorm(vision_dim)
        self.ln_vision = nn.LayerNorm(vision_dim)
        self.key = nn.Linear(vision_dim, vision_dim)
        self.value = nn.Linear(vision_dim, vision_dim)
        self.out_dim = queries * (vision_dim + 2)

    def forward(self, f_v: torch.Tensor, grid, f_l: torch.Tensor,
                mask: torch.Tensor) -> torch.Tensor:
        """Read vision tokens ``f_v`` [B, N, Dv] on ``grid`` as words ``f_l`` [B, T, Dl] ask."""
        batch = f_v.shape[0]
        queries = self.query.repeat(batch, 1, 1)  # [B, Q, Dv] (a copy: no view of a leaf)
        heard, _ = self.read_words(queries, self.ln_words(f_l), mask)  # [B, Q, Dv]
        q = self.ln_query(queries + heard)  # [B, Q, Dv]
        x = self.ln_vision(f_v)  # [B, N, Dv]
        scores = q @ self.key(x).transpose(1, 2) * x.shape[-1] ** -0.5  # [B, Q, N]
        weights = F.softmax(scores, dim=-1)  # [B, Q, N]
        found = weights @ self.value(x)  # [B, Q, Dv]
        where = weights @ token_coords(grid, x)  # [B, Q, 2]
        return torch.cat([found, where], dim=-1).flatten(1)  # [B, Q * (Dv + 2)]
