# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The action head: pool the fused vision tokens, run an MLP, bound the result with tanh."""

from typing import Dict, Optional, Tuple

import torch
from torch import nn
import torch.nn.functional as F

from .attention import MLP
from .config import HeadConfig


def token_coords(grid: Tuple[int, int], like: torch.Tensor) -> torch.Tensor:
    """Return the (x, y) centre of every token of a row-major ``grid``, in [-1, 1], as [N, 2]."""
    h, w = grid
    xs = (torch.arange(w, device=like.device, dtype=like.dtype) + 0.5) * (2.0 / w) - 1.0
    ys = (torch.arange(h, device=like.device, dtype=like.dtype) + 0.5) * (2.0 / h) - 1.0
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing='ij')  # [h, w] each
    return torch.stack([grid_x.reshape(-1), grid_y.reshape(-1)], dim=-1)  # [N, 2]


class AttentionPool(nn.Module):
    """
    Learned queries attend over the tokens; each returns a value and an expected position.

    The expected (x, y) of what a query attends to (a spatial soft-argmax) is appended to its
    pooled value, so the head can read *where* something is, not only *what* is there.
    """

    def __init__(self, dim: int, queries: int):
        super().__init__()
        self.ln = nn.LayerNorm(dim)
        self.query = nn.Parameter(torch.zeros(queries, dim))
        self.key = nn.Linear(dim, dim)
        self.value = nn.Linear(dim, dim)
        self.out_dim = queries * (dim + 2)

    def forward(self, tokens: torch.Tensor, grid: Tuple[int, int]) -> torch.Tensor:
        """Pool tokens [B, N, D] on ``grid`` into [B, Q * (D + 2)]."""
        x = self.ln(tokens)  # [B, N, D]
        scores = self.key(x) @ self.query.t() * x.shape[-1] ** -0.5  # [B, N, Q]
        weights = F.softmax(scores, dim=1).transpose(1, 2)  # [B, Q, N]
        pooled = weights @ self.value(x)  # [B, Q, D]
        where = weights @ token_coords(grid, x)  # [B, Q, 2]
        return torch.cat([pooled, where], dim=-1).flatten(1)  # [B, Q * (D + 2)]


class MeanPool(nn.Module):
    """The average of the normalised tokens."""

    def __init__(self, dim: int):
        super().__init__()
        self.ln = nn.LayerNorm(dim)
        self.out_dim = dim

    def forward(self, tokens: torch.Tensor, grid: Tuple[int, int]) -> torch.Tensor:
        """Pool tokens [B, N, D] into [B, D]."""
        return self.ln(tokens).mean(dim=1)


class ActionHead(nn.Module):
    """
    Pooled tokens (plus an optional extra vector) -> MLP -> tanh -> [B, chunk, action_dim].

    Actions are normalised to [-1, 1]; multiply by ``HeadConfig.action_scale`` for physical
    units.
    """

    def __init__(self, cfg: HeadConfig, dim: int, extra_dim: int = 0):
        super().__init__()
        self.chunk_size = cfg.chunk_size
        self.action_dim = cfg.action_dim
        self.pool = AttentionPool(dim, cfg.queries) if cfg.pool == 'attention' else MeanPool(dim)
        self.ln_extra = nn.LayerNorm(extra_dim) if extra_dim else None
        self.mlp = MLP(self.pool.out_dim + extra_dim, cfg.hidden,
                       cfg.chunk_size * cfg.action_dim)

    def forward(self, tokens: torch.Tensor, grid: Tuple[int, int],
                extra: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Map tokens [B, N, D] (and ``extra`` [B, E]) to actions [B, chunk, action_dim]."""
        x = self.pool(tokens, grid)  # [B, P]
        if self.ln_extra is not None:
            x = torch.cat([x, self.ln_extra(extra)], dim=-1)  # [B, P + E]
        actions = torch.tanh(self.mlp(x))  # [B, chunk * A]
        return actions.view(-1, self.chunk_size, self.action_dim)


POOLS: Dict[str, type] = {'attention': AttentionPool, 'mean': MeanPool}
