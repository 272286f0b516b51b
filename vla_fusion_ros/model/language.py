# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The language encoder: word embeddings, learned positions and pre-norm transformer layers.

Like the vision encoders it runs layer by layer, so f_l^(i) is available to fusion::

    words = encoder.embed(token_ids)        # [B, T, D]
    words = encoder.layers[j](words, mask)  # mask [B, T], True for real tokens
"""

from typing import List

import torch
from torch import nn

from .attention import TransformerBlock
from .config import LanguageConfig


class LanguageEncoder(nn.Module):
    """Embedding + learned positions + ``depth`` transformer layers with key padding masks."""

    def __init__(self, cfg: LanguageConfig):
        super().__init__()
        self.width = cfg.width
        self.token = nn.Embedding(cfg.vocab_size, cfg.width)
        self.pos = nn.Parameter(torch.zeros(1, cfg.max_length, cfg.width))
        self.layers = nn.ModuleList(
            TransformerBlock(cfg.width, cfg.heads) for _ in range(cfg.depth))

    def embed(self, token_ids: torch.Tensor) -> torch.Tensor:
        """Embed ``token_ids`` [B, T] (T <= max_length) -> [B, T, D]."""
        return self.token(token_ids) + self.pos[:, :token_ids.shape[1]]

    def forward(self, token_ids: torch.Tensor, mask: torch.Tensor) -> List[torch.Tensor]:
        """Return f_l^(j) for every layer j, each [B, T, D]."""
        words = self.embed(token_ids)  # [B, T, D]
        features = []
        for layer in self.layers:
            words = layer(words, mask)  # [B, T, D]
            features.append(words)
        return features
