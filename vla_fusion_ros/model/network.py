# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
FusionModel: the vision-language-action network, built from a :class:`ModelConfig`.

``fusion.mode`` picks the wiring, all in one framework:

- ``intermediate`` (the seed's design): vision layer i runs; the language layers due by then
  run; if i is in ``fusion.layers`` the operator fuses f_v^(i) and f_l^(i) into the streams
  that layer i + 1 reads. Language layer j runs before the fusion point at vision layer j (the
  last fusion point runs all that remain), so every language layer feeds some fusion.
- ``early``: one joint transformer over patches and words (:mod:`.early`).
- ``late``: both encoders run alone; the pooled language vector joins at the head.
- ``vision_only``: no language modules at all; the instruction cannot change the output.
"""

from typing import Dict, Optional

import torch
from torch import nn

from .alignment import AlignedFusion
from .attention import masked_mean
from .config import ModelConfig
from .early import EarlyFusionEncoder
from .fusion import create_fusion, FusionOperator
from .heads import ActionHead, AttentionPool
from .language import LanguageEncoder
from .vision import create_vision_encoder, PatchEmbed


class FusionModel(nn.Module):
    """
    Images [B, C, H, W] in [0, 1] and token ids [B, T] -> actions [B, chunk, action_dim].

    The initial weights are a pure function of the config (``config.seed``); the global RNG
    is left untouched.
    """

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.mode = config.fusion.mode
        self._grids: Dict[int, tuple] = {}
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            self._build(config)
            self.apply(self._init_weights)
            # Small last layer: actions start near 0, away from tanh's flat tails.
            nn.init.normal_(self.head.mlp.proj.weight, std=0.01)
            for module in self.modules():
                if isinstance(module, FusionOperator):
                    module.reset_fusion_parameters()

    def _build(self, cfg: ModelConfig) -> None:
        v, lang, f = cfg.vision, cfg.language, cfg.fusion
        if self.mode == 'early':
            self.early = EarlyFusionEncoder(cfg)
            self.head = ActionHead(cfg.head, f.dim)
            return
        self.vision = create_vision_encoder(v)
        if self.mode == 'vision_only':
            self.head = ActionHead(cfg.head, v.width)
            return
        self.language = LanguageEncoder(lang)
        if self.mode == 'late':
            self.head = ActionHead(cfg.head, v.width, extra_dim=lang.width)
            return
        last = max(f.layers)
        self.fusion = nn.ModuleDict({
            str(i): AlignedFusion(create_fusion(f.operator, f.dim, f.heads,
                                                update_language=i != last), v.width, lang.width)
            for i in f.layers})
        self.head = ActionHead(cfg.head, v.width)

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        """
        Variance-preserving init for narrow widths, zero biases, small positions.

        GPT's fixed N(0, 0.02) suits widths near 768; at widths of 16 to 64 it shrinks every
        signal, so linear maps use N(0, 1/fan_in) and convs He init instead.
        """
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=module.in_features ** -0.5)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=1.0)
        elif isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, nonlinearity='relu')
            nn.init.zeros_(module.bias)
        elif isinstance(module, (PatchEmbed, LanguageEncoder)):
            nn.init.normal_(module.pos, std=0.02)
        elif isinstance(module, EarlyFusionEncoder):
            nn.init.normal_(module.word_pos, std=0.02)
            nn.init.normal_(module.modality, std=0.02)
        elif isinstance(module, AttentionPool):
            nn.init.normal_(module.query, std=1.0)

    def forward(self, images: torch.Tensor, token_ids: Optional[torch.Tensor] = None,
                mask: Optional[torch.Tensor] = None,
                state: Optional[torch.Tensor] = None) -> torch.Tensor:
        """
        Return normalised actions [B, chunk, action_dim] in [-1, 1].

        ``token_ids`` and ``mask`` ([B, T], mask True for real tokens) may be ``None`` only
        in ``vision_only`` mode, which never reads them. ``state`` is the memory's input
        ([B, memory + action_dim], ``head.memory > 0`` only; ``None``: an episode's start).
        """
        tokens, grid, extra = self.encode(images, token_ids, mask)
        return self.head(tokens, grid, extra, state)

    def encode(self, images: torch.Tensor, token_ids: Optional[torch.Tensor] = None,
               mask: Optional[torch.Tensor] = None):
        """Return ``(tokens [B, N, D], grid, extra [B, E] or None)``: what the head reads."""
        if self.mode == 'vision_only':
            features, grids = self.vision(images)
            return features[-1], grids[-1], None
        if token_ids is None or mask is None:
            raise ValueError(f'fusion.mode={self.mode!r} needs token_ids and mask')
        if self.mode == 'early':
            tokens, grid = self.early(images, token_ids, mask)  # [B, N, D]
            return tokens, grid, None
        if self.mode == 'late':
            features, grids = self.vision(images)
            sentence = masked_mean(self.language(token_ids, mask)[-1], mask)  # [B, Dl]
            return features[-1], grids[-1], sentence
        return self._forward_intermediate(images, token_ids, mask)

    def forward_episodes(self, images: torch.Tensor, token_ids: Optional[torch.Tensor],
                         mask: Optional[torch.Tensor], slots: torch.Tensor,
                         previous: torch.Tensor) -> torch.Tensor:
        """
        Actions for whole episodes at once (training a model with memory).

        ``images`` [F, C, H, W], ``token_ids``/``mask`` [F, T]: the frames of B episodes;
        ``slots`` [F] their flat positions in a [B, L] grid (episode * L + step);
        ``previous`` [B, L, A]: each frame's previous executed action (normalised). Returns
        actions [F, chunk, A], frame by frame.
        """
        tokens, grid, extra = self.encode(images, token_ids, mask)
        x = self.head.features(tokens, grid, extra)  # [F, P]
        batch, length = previous.shape[:2]
        grid_x = x.new_zeros(batch * length, x.shape[-1]).index_copy(0, slots, x)
        actions = self.head.run_sequence(grid_x.view(batch, length, -1), previous)
        return actions.flatten(0, 1)[slots]  # [F, chunk, A]

    def _forward_intermediate(self, images, token_ids, mask):
        f_v, grid = self.vision.stem(images)  # [B, N, Dv]
        f_l = self.language.embed(token_ids)  # [B, T, Dl]
        layers = self.config.fusion.layers
        lang_layers = self.language.layers
        done = 0  # language layers run so far
        for i, vision_layer in enumerate(self.vision.layers):
            f_v, grid = vision_layer(f_v, grid)  # [B, N_i, Dv]
            if i not in layers:
                continue
            due = len(lang_layers) if i == layers[-1] else min(i + 1, len(lang_layers))
            for j in range(done, due):
                f_l = lang_layers[j](f_l, mask)  # [B, T, Dl]
            done = max(done, due)
            f_v, f_l = self.fusion[str(i)](f_v, f_l, mask)
            self._grids[i] = grid
        return f_v, grid, None

    def fusion_attention(self) -> Dict[int, torch.Tensor]:
        """
        Last attention weights per fusion layer, {layer: [B, H, N, T]} (see :mod:`.fusion`).

        Operators that read a pooled sentence vector (hadamard, concat_mlp, film) have no
        attention and are left out; ``late`` and ``vision_only`` give ``{}``.
        """
        if self.mode == 'early':
            return self.early.attention()
        if self.mode != 'intermediate':
            return {}
        ops = {int(i): point.operator for i, point in self.fusion.items()}
        return {i: op.last_attention for i, op in ops.items() if op.last_attention is not None}

    def fusion_maps(self) -> Dict[int, torch.Tensor]:
        """
        Spatial maps of where language acted, per fusion layer: {layer: [B, h, w]}.

        intermediate: the norm of each vision token's fusion update; early: the share of each
        patch's attention that goes to words. ``{}`` for late and vision_only, or before the
        first forward.
        """
        if self.mode == 'early':
            side = self.config.vision.image_size // self.config.vision.patch_size
            return {i: m.reshape(m.shape[0], side, side) for i, m in self.early.maps().items()}
        if self.mode != 'intermediate':
            return {}
        maps = {}
        for i, point in self.fusion.items():
            update = point.operator.last_update
            if update is not None and int(i) in self._grids:
                maps[int(i)] = update.reshape(update.shape[0], *self._grids[int(i)])
        return maps
