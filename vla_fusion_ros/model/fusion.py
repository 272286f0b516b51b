# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Fusion operators behind one registry (alignment to a shared width is in :mod:`.alignment`).

Every operator maps vision tokens ``f_v`` [B, N, D] and its language features ``f_l`` to
``(f_v', f_l')``. What ``f_l`` is depends on the operator's :attr:`~FusionOperator.READS`:

- ``'tokens'``: word features [B, T, D] with ``mask`` [B, T] (True for a real token);
- ``'sentence'``: one sentence vector [B, D] (``mask`` is ``None``), the cached pooled
  instruction adapted for this fusion point (:mod:`.language`).

All are residual, so stacking them stays stable, and all keep, for introspection:

- ``last_update`` [B, N]: how far each vision token moved, ``||f_v' - f_v||``, a spatial map of
  where language changed the visual features (every operator; recorded in eval mode only);
- ``last_attention``: the operator's own weights, [B, H, N, T] for attention (``matrix``: its
  raw affinity, [B, 1, N, T]); ``None`` for operators that read a pooled sentence vector.

Only ``bidirectional`` updates the language stream; the others return ``f_l`` unchanged.

Initialisation: each operator's output projection starts at a tenth of the usual scale, so a
fusion point begins as a small perturbation of the vision stream. At full scale the language
term swamps the visual signal and, in our synthetic tests, training sat at chance for hundreds
of steps (cross_attention, concat_mlp). FiLM and the gated operator go further and start as the
exact identity.
"""

from typing import Dict, List, Optional, Tuple

import torch
from torch import nn

from .attention import MLP, MultiHeadAttention

Streams = Tuple[torch.Tensor, torch.Tensor]


class FusionOperator(nn.Module):
    """Base class: subclasses implement :meth:`fuse`; :meth:`forward` records the update map."""

    #: Whether the operator can write to the language stream at all.
    UPDATES_LANGUAGE = False
    #: What it reads of the language: 'tokens' [B, T, D] or 'sentence' [B, D].
    READS = 'tokens'
    #: Initial scale of the output projections, relative to N(0, 1/fan_in).
    OUTPUT_INIT_SCALE = 0.1

    def __init__(self, dim: int, heads: int, update_language: bool = True):
        super().__init__()
        self.dim = dim
        self.heads = heads
        self.update_language = update_language and self.UPDATES_LANGUAGE
        self.last_attention: Optional[torch.Tensor] = None
        self.last_update: Optional[torch.Tensor] = None

    def fuse(self, f_v: torch.Tensor, f_l: torch.Tensor, mask: torch.Tensor) -> Streams:
        """Return the fused streams; see the class docstring of each operator."""
        raise NotImplementedError

    def forward(self, f_v: torch.Tensor, f_l: torch.Tensor,
                mask: Optional[torch.Tensor]) -> Streams:
        """Fuse ``f_v`` [B, N, D] with ``f_l`` ([B, T, D] under ``mask`` [B, T], or [B, D])."""
        new_v, new_l = self.fuse(f_v, f_l, mask)
        if not self.training:  # introspection is for inference; training skips the cost
            with torch.no_grad():
                self.last_update = (new_v - f_v).norm(dim=-1)  # [B, N]
        return new_v, new_l

    def output_layers(self) -> List[nn.Linear]:
        """Return the projections whose outputs are added to the streams."""
        return []

    def reset_fusion_parameters(self) -> None:
        """Re-apply initialisations that must survive the model's generic weight init."""
        for layer in self.output_layers():
            nn.init.normal_(layer.weight, std=self.OUTPUT_INIT_SCALE * layer.in_features ** -0.5)
            nn.init.zeros_(layer.bias)


class HadamardFusion(FusionOperator):
    """
    Seed operator 1, f_v ⊙ f_l: ``f_v + W_o(LN(f_v) ⊙ W_l LN(s))``.

    Token counts: it reads the sentence vector s [B, D], broadcast over all N vision tokens
    before the element-wise product.
    """

    READS = 'sentence'

    def __init__(self, dim: int, heads: int, update_language: bool = True):
        super().__init__(dim, heads, update_language)
        self.ln_v = nn.LayerNorm(dim)
        self.ln_l = nn.LayerNorm(dim)
        self.lang = nn.Linear(dim, dim)
        self.proj = nn.Linear(dim, dim)

    def output_layers(self):
        """Return the projection back to the vision stream."""
        return [self.proj]

    def fuse(self, f_v, f_l, mask):
        """Modulate each vision token element-wise by the sentence."""
        sentence = self.lang(self.ln_l(f_l))  # [B, D]
        return f_v + self.proj(self.ln_v(f_v) * sentence[:, None, :]), f_l  # [B, N, D]


class MatrixFusion(FusionOperator):
    """
    Seed operator 2, f_v · f_l^T: a bilinear affinity matrix turned back into features.

    Token counts: the affinity ``A = W_q LN(f_v) (W_k LN(f_l))^T / sqrt(D)`` is [B, N, T]. Unlike
    ``cross_attention`` it is not softmax-normalised: padded words are zeroed and each vision
    token takes ``A @ LN(f_l)`` divided by its number of real words, a signed, linear mix of
    the word features, projected and added back (``f_v + W_o(...)``).
    """

    def __init__(self, dim: int, heads: int, update_language: bool = True):
        super().__init__(dim, heads, update_language)
        self.ln_v = nn.LayerNorm(dim)
        self.ln_l = nn.LayerNorm(dim)
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, dim)
        self.proj = nn.Linear(dim, dim)

    def output_layers(self):
        """Return the projection back to the vision stream."""
        return [self.proj]

    def fuse(self, f_v, f_l, mask):
        """Mix word features into vision tokens by their raw affinity."""
        words = self.ln_l(f_l)  # [B, T, D]
        affinity = self.q(self.ln_v(f_v)) @ self.k(words).transpose(1, 2)  # [B, N, T]
        affinity = affinity.masked_fill(~mask[:, None, :], 0.0) * self.dim ** -0.5
        count = mask.sum(dim=1).clamp(min=1).to(f_v.dtype)[:, None, None]  # [B, 1, 1]
        self.last_attention = affinity.detach()[:, None]  # [B, 1, N, T]
        return f_v + self.proj(affinity @ words / count), f_l  # [B, N, D]


class CrossAttentionFusion(FusionOperator):
    """
    Seed operator 3, Attention(f_v, f_l): ``f_v + MHA(LN(f_v), LN(f_l))``.

    Token counts: each of the N vision tokens is a query over the T words; padded words are
    masked out of the softmax, so every vision token receives a convex mix of real words.
    """

    def __init__(self, dim: int, heads: int, update_language: bool = True):
        super().__init__(dim, heads, update_language)
        self.ln_v = nn.LayerNorm(dim)
        self.ln_l = nn.LayerNorm(dim)
        self.attn = MultiHeadAttention(dim, heads)

    def output_layers(self):
        """Return the attention's output projection."""
        return [self.attn.proj]

    def fuse(self, f_v, f_l, mask):
        """Vision tokens attend to the words."""
        attended, weights = self.attn(self.ln_v(f_v), self.ln_l(f_l), mask)  # [B, N, D]
        self.last_attention = weights.detach()  # [B, H, N, T]
        return f_v + attended, f_l


class ConcatMLPFusion(FusionOperator):
    """
    Seed operator 4, MLP([f_v; f_l]): ``f_v + MLP([LN(f_v); LN(s)])``.

    Token counts: the sentence vector s [B, D] is concatenated to every vision token, so the
    MLP sees [B, N, 2D] and returns [B, N, D].
    """

    READS = 'sentence'

    def __init__(self, dim: int, heads: int, update_language: bool = True):
        super().__init__(dim, heads, update_language)
        self.ln_v = nn.LayerNorm(dim)
        self.ln_l = nn.LayerNorm(dim)
        self.mlp = MLP(2 * dim, 2 * dim, dim)

    def output_layers(self):
        """Return the MLP's last layer."""
        return [self.mlp.proj]

    def fuse(self, f_v, f_l, mask):
        """Run an MLP over each vision token joined with the sentence."""
        sentence = self.ln_l(f_l)  # [B, D]
        joined = torch.cat([self.ln_v(f_v), sentence[:, None, :].expand_as(f_v)], dim=-1)
        return f_v + self.mlp(joined), f_l  # [B, N, D]


class BidirectionalFusion(FusionOperator):
    """
    Seed operator 5: both streams updated by residual attention from the same inputs.

    ``f_v' = f_v + Attn(f_v, f_l)`` (N queries over the T real words, as ``cross_attention``)
    and ``f_l' = f_l + Attn(f_l, f_v)`` (T queries over all N vision tokens). When nothing later
    reads the language stream (the last fusion point), ``update_language=False`` drops the
    second half, so a single bidirectional layer equals cross-attention.
    """

    UPDATES_LANGUAGE = True

    def __init__(self, dim: int, heads: int, update_language: bool = True):
        super().__init__(dim, heads, update_language)
        self.ln_v = nn.LayerNorm(dim)
        self.ln_l = nn.LayerNorm(dim)
        self.attn_v = MultiHeadAttention(dim, heads)
        self.attn_l = MultiHeadAttention(dim, heads) if self.update_language else None
        self.last_attention_l: Optional[torch.Tensor] = None

    def output_layers(self):
        """Return both attentions' output projections."""
        return [self.attn_v.proj] + ([self.attn_l.proj] if self.attn_l is not None else [])

    def fuse(self, f_v, f_l, mask):
        """Vision attends to words and, if enabled, words attend to vision."""
        v, words = self.ln_v(f_v), self.ln_l(f_l)  # [B, N, D], [B, T, D]
        attended_v, weights = self.attn_v(v, words, mask)  # [B, N, D], [B, H, N, T]
        self.last_attention = weights.detach()
        if self.attn_l is None:
            return f_v + attended_v, f_l
        attended_l, weights_l = self.attn_l(words, v)  # [B, T, D], [B, H, T, N]
        self.last_attention_l = weights_l.detach()
        return f_v + attended_v, f_l + attended_l


class FiLMFusion(FusionOperator):
    """
    FiLM (RT-1 style): ``f_v * (1 + gamma) + beta`` with gamma, beta from the sentence.

    Token counts: it reads the sentence vector s [B, D]; its per-channel gamma and beta apply
    to all N vision tokens. The projection starts at zero, so the operator starts as the
    identity and language enters only as training moves it.
    """

    READS = 'sentence'

    def __init__(self, dim: int, heads: int, update_language: bool = True):
        super().__init__(dim, heads, update_language)
        self.ln_l = nn.LayerNorm(dim)
        self.film = nn.Linear(dim, 2 * dim)

    def reset_fusion_parameters(self):
        """Zero the projection: gamma = beta = 0, the identity."""
        nn.init.zeros_(self.film.weight)
        nn.init.zeros_(self.film.bias)

    def fuse(self, f_v, f_l, mask):
        """Scale and shift every vision channel from the pooled sentence."""
        gamma, beta = self.film(self.ln_l(f_l)).chunk(2, dim=-1)  # [B, D] each
        return f_v * (1.0 + gamma[:, None, :]) + beta[:, None, :], f_l  # [B, N, D]


class GatedCrossAttentionFusion(FusionOperator):
    """
    Gated cross-attention (Flamingo style), with tanh gates that start at 0.

    ``f_v += tanh(a) * MHA(LN(f_v), LN(f_l))`` then ``f_v += tanh(b) * MLP(LN(f_v))``. Token
    counts as ``cross_attention``: N vision queries over the T real words. With ``a = b = 0``
    the operator starts as the identity.
    """

    def __init__(self, dim: int, heads: int, update_language: bool = True):
        super().__init__(dim, heads, update_language)
        self.ln_v = nn.LayerNorm(dim)
        self.ln_l = nn.LayerNorm(dim)
        self.attn = MultiHeadAttention(dim, heads)
        self.ln_mlp = nn.LayerNorm(dim)
        self.mlp = MLP(dim, 4 * dim)
        self.gate_attn = nn.Parameter(torch.zeros(1))
        self.gate_mlp = nn.Parameter(torch.zeros(1))

    def reset_fusion_parameters(self):
        """Close both gates."""
        nn.init.zeros_(self.gate_attn)
        nn.init.zeros_(self.gate_mlp)

    def fuse(self, f_v, f_l, mask):
        """Gated attention to the words, then a gated MLP."""
        attended, weights = self.attn(self.ln_v(f_v), self.ln_l(f_l), mask)  # [B, N, D]
        self.last_attention = weights.detach()  # [B, H, N, T]
        f_v = f_v + torch.tanh(self.gate_attn) * attended  # [B, N, D]
        return f_v + torch.tanh(self.gate_mlp) * self.mlp(self.ln_mlp(f_v)), f_l


#: Every fusion operator, by the name a config uses.
FUSION_OPERATORS: Dict[str, type] = {
    'hadamard': HadamardFusion,
    'matrix': MatrixFusion,
    'cross_attention': CrossAttentionFusion,
    'concat_mlp': ConcatMLPFusion,
    'bidirectional': BidirectionalFusion,
    'film': FiLMFusion,
    'gated_cross_attention': GatedCrossAttentionFusion,
}


def create_fusion(name: str, dim: int, heads: int,
                  update_language: bool = True) -> FusionOperator:
    """Build the operator registered as ``name`` (a ValueError lists the valid names)."""
    if name not in FUSION_OPERATORS:
        raise ValueError(f'fusion operator {name!r} is unknown (valid: '
                         f'{", ".join(sorted(FUSION_OPERATORS))})')
    operator = FUSION_OPERATORS[name](dim, heads, update_language)
    operator.reset_fusion_parameters()
    return operator
