# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The action head: pool the fused vision tokens, run an MLP, bound the result with tanh.

Or, with ``head.bins`` > 0, score joint action bins and decode their mode (action_bins.py).
"""

from typing import Dict, Optional, Tuple

import torch
from torch import nn
import torch.nn.functional as F

from . import action_bins
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
    units. With ``memory > 0`` a GRU cell reads the pooled features and the previous executed
    action (normalised) and its state joins the MLP's input: ``state`` [B, memory +
    action_dim] is the previous hidden state and action; the new hidden state is left in
    :attr:`next_hidden` (zeros stand for an episode's start).

    With ``bins`` > 0 the MLP scores ``bins ** action_dim`` joint classes instead. In eval mode
    the head returns their decoded mode, in the same shape and range as regression; in
    training mode it returns the logits [B, chunk, bins ** action_dim] for the cross-entropy
    (as torchvision's detectors return losses when training). Validation and every user of a
    loaded model run in eval mode.
    """

    def __init__(self, cfg: HeadConfig, dim: int, extra_dim: int = 0):
        super().__init__()
        self.chunk_size = cfg.chunk_size
        self.action_dim = cfg.action_dim
        self.memory = cfg.memory
        self.bins = cfg.bins
        outputs = cfg.bins ** cfg.action_dim if cfg.bins else cfg.action_dim
        self.pool = AttentionPool(dim, cfg.queries) if cfg.pool == 'attention' else MeanPool(dim)
        self.ln_extra = nn.LayerNorm(extra_dim) if extra_dim else None
        width = self.pool.out_dim + extra_dim
        self.cell = nn.GRUCell(width + cfg.action_dim, cfg.memory) if cfg.memory else None
        self.next_hidden: Optional[torch.Tensor] = None
        self.mlp = MLP(width + cfg.memory, cfg.hidden, cfg.chunk_size * outputs)

    def features(self, tokens: torch.Tensor, grid: Tuple[int, int],
                 extra: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Pool tokens [B, N, D] (and ``extra`` [B, E]) into the head's input [B, P]."""
        x = self.pool(tokens, grid)  # [B, P]
        if self.ln_extra is not None:
            x = torch.cat([x, self.ln_extra(extra)], dim=-1)  # [B, P + E]
        return x

    def decode(self, x: torch.Tensor) -> torch.Tensor:
        """Map head inputs [..., P (+ memory)] to actions [..., chunk, action_dim]."""
        if self.bins:
            logits = self.mlp(x).view(*x.shape[:-1], self.chunk_size, -1)  # [..., chunk, K^A]
            if self.training:
                return logits
            return action_bins.decode(logits, self.bins, self.action_dim)
        actions = torch.tanh(self.mlp(x))  # [..., chunk * A]
        return actions.view(*x.shape[:-1], self.chunk_size, self.action_dim)

    def forward(self, tokens: torch.Tensor, grid: Tuple[int, int],
                extra: Optional[torch.Tensor] = None,
                state: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Map tokens [B, N, D] (and ``extra`` [B, E]) to actions [B, chunk, action_dim]."""
        x = self.features(tokens, grid, extra)  # [B, P]
        if self.cell is None:
            return self.decode(x)
        if state is None:
            state = x.new_zeros(x.shape[0], self.memory + self.action_dim)
        hidden = self.cell(torch.cat([x, state[:, self.memory:]], -1), state[:, :self.memory])
        self.next_hidden = hidden  # [B, M]
        return self.decode(torch.cat([x, hidden], -1))

    def run_sequence(self, x: torch.Tensor, previous: torch.Tensor) -> torch.Tensor:
        """
        Run the memory over episodes: inputs [B, T, P] and previous actions [B, T, A].

        Returns actions [B, T, chunk, A]; each episode starts from a zero state.
        """
        hidden = x.new_zeros(x.shape[0], self.memory)
        states = []
        for t in range(x.shape[1]):
            hidden = self.cell(torch.cat([x[:, t], previous[:, t]], -1), hidden)
            states.append(hidden)
        return self.decode(torch.cat([x, torch.stack(states, 1)], -1))


POOLS: Dict[str, type] = {'attention': AttentionPool, 'mean': MeanPool}
