# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The early-fusion baseline: one joint transformer over image patches and words from the input.

The words are the instruction's adapted token features (:mod:`.language`): the cached output
of the text encoder, so the joint stack sees contextual word features, for either
``language.kind``, from its first layer on.

Whatever ``vision.kind`` says, the image is cut into ``vision.patch_size`` patches, because a
joint transformer needs tokens from the first layer on. The joint stack has ``vision.depth``
layers of width ``fusion.dim`` with ``fusion.heads`` heads.
"""

from typing import Dict, Tuple

import torch
from torch import nn

from .attention import TransformerBlock
from .config import ModelConfig
from .vision import PatchEmbed


class EarlyFusionEncoder(nn.Module):
    """Patch tokens and word tokens, tagged by modality, concatenated and encoded jointly."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        v, lang, f = cfg.vision, cfg.language, cfg.fusion
        self.patches = PatchEmbed(v.in_channels, v.image_size, v.patch_size, f.dim)
        self.word_proj = nn.Identity() if lang.width == f.dim else nn.Linear(lang.width, f.dim)
        self.word_pos = nn.Parameter(torch.zeros(1, lang.max_length, f.dim))
        self.modality = nn.Parameter(torch.zeros(2, f.dim))
        self.layers = nn.ModuleList(TransformerBlock(f.dim, f.heads) for _ in range(v.depth))
        self.num_patches = (v.image_size // v.patch_size) ** 2

    def forward(self, images: torch.Tensor, words: torch.Tensor,
                mask: torch.Tensor) -> Tuple[torch.Tensor, Tuple[int, int]]:
        """Encode images [B, C, H, W] and words [B, T, Dl]; return the vision tokens, grid."""
        vis, grid = self.patches(images)  # [B, N, D]
        vis = vis + self.modality[0]
        T = words.shape[1]
        words = self.word_proj(words) + self.word_pos[:, :T] + self.modality[1]  # [B, T, D]
        x = torch.cat([vis, words], dim=1)  # [B, N + T, D]
        keys = torch.cat([mask.new_ones(mask.shape[0], vis.shape[1]), mask], dim=1)  # [B, N+T]
        for layer in self.layers:
            x = layer(x, keys)  # [B, N + T, D]
        return x[:, :vis.shape[1]], grid

    def attention(self) -> Dict[int, torch.Tensor]:
        """Attention of the vision queries over the words, per layer: {i: [B, H, N, T]}."""
        N = self.num_patches
        return {i: layer.last_attention[:, :, :N, N:] for i, layer in enumerate(self.layers)
                if layer.last_attention is not None}

    def maps(self) -> Dict[int, torch.Tensor]:
        """Share of each vision token's attention that goes to words, per layer: {i: [B, N]}."""
        return {i: w.sum(dim=-1).mean(dim=1) for i, w in self.attention().items()}
