# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Attention building blocks shared by the encoders and the fusion operators.

The attention is written out (not ``scaled_dot_product_attention``) because fusion operators
keep their attention weights for introspection. Masks are boolean with ``True`` marking a real
key; masked scores take the dtype's lowest finite value rather than ``-inf``, so a row can never
turn into NaN.
"""

from typing import Optional, Tuple

import torch
from torch import nn
import torch.nn.functional as F


def masked_mean(x: torch.Tensor, mask: Optional[torch.Tensor]) -> torch.Tensor:
    """Average tokens ``x`` [B, T, D] over the real positions of ``mask`` [B, T] -> [B, D]."""
    if mask is None:
        return x.mean(dim=1)
    weights = mask.to(x.dtype).unsqueeze(-1)  # [B, T, 1]
    return (x * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)  # [B, D]


class MultiHeadAttention(nn.Module):
    """Multi-head attention of queries ``x`` over a context, with a key padding mask."""

    def __init__(self, dim: int, heads: int, context_dim: Optional[int] = None):
        super().__init__()
        context_dim = context_dim or dim
        self.heads = heads
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(context_dim, 2 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, context: torch.Tensor,
                mask: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        """Attend ``x`` [B, N, D] to ``context`` [B, T, C]; return ([B, N, D], [B, H, N, T])."""
        B, N, D = x.shape
        T = context.shape[1]
        hd = D // self.heads
        q = self.q(x).view(B, N, self.heads, hd).transpose(1, 2)  # [B, H, N, hd]
        k, v = self.kv(context).split(D, dim=-1)  # 2 x [B, T, D]
        k = k.view(B, T, self.heads, hd).transpose(1, 2)  # [B, H, T, hd]
        v = v.view(B, T, self.heads, hd).transpose(1, 2)  # [B, H, T, hd]
        scores = (q @ k.transpose(-2, -1)) * hd ** -0.5  # [B, H, N, T]
        if mask is not None:
            scores = scores.masked_fill(~mask[:, None, None, :], torch.finfo(scores.dtype).min)
        weights = F.softmax(scores, dim=-1)  # [B, H, N, T]
        out = (weights @ v).transpose(1, 2).reshape(B, N, D)  # [B, N, D]
        return self.proj(out), weights


class MLP(nn.Module):
    """Two linear layers with a GELU between them."""

    def __init__(self, dim: int, hidden: int, out_dim: Optional[int] = None):
        super().__init__()
        self.fc = nn.Linear(dim, hidden)
        self.proj = nn.Linear(hidden, out_dim or dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map [..., dim] -> [..., out_dim]."""
        return self.proj(F.gelu(self.fc(x)))


class TransformerBlock(nn.Module):
    """Pre-norm self-attention block: x + Attn(LN x), then x + MLP(LN x)."""

    def __init__(self, dim: int, heads: int, mlp_ratio: int = 4):
        super().__init__()
        self.ln_1 = nn.LayerNorm(dim)
        self.attn = MultiHeadAttention(dim, heads)
        self.ln_2 = nn.LayerNorm(dim)
        self.mlp = MLP(dim, mlp_ratio * dim)
        self.last_attention: Optional[torch.Tensor] = None

    def forward(self, x: torch.Tensor, mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Update tokens ``x`` [B, T, D]; ``mask`` [B, T] marks the real keys."""
        h = self.ln_1(x)
        attended, weights = self.attn(h, h, mask)  # [B, T, D], [B, H, T, T]
        self.last_attention = weights.detach()
        x = x + attended  # [B, T, D]
        return x + self.mlp(self.ln_2(x))  # [B, T, D]
