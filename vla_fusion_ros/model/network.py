# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
FusionModel: the vision-language-action network, built from a :class:`ModelConfig`.

The instruction and the frames travel separate paths, because an instruction changes rarely
and frames come at camera rate:

- per instruction: :meth:`FusionModel.encode_text` runs the text encoder of
  ``language.kind`` (the **cache**: token features, sentence vector, mask; see
  :mod:`.language`) and :meth:`FusionModel.condition` runs the small adapters that turn it
  into the language inputs of the per-frame part;
- per frame: :meth:`FusionModel.act` (vision, fusion, head) reads those inputs as plain
  tensors, which is also the graph the inference engines export (:mod:`.engines`).

``model(images, token_ids, mask)`` chains the three. ``fusion.mode`` picks the wiring:

- ``intermediate`` (the seed's design): after each vision layer i in ``fusion.layers`` the
  operator fuses f_v^(i) with f_l^(i), the adapter output of fusion point i. ``bidirectional``
  also updates the language stream, and the update is carried to later fusion points.
- ``early``: one joint transformer over patches and the adapted token features (:mod:`.early`).
- ``late``: the vision encoder runs alone; the adapted sentence vector joins at the head.
- ``late_tokens``: the vision encoder runs alone; at the head, queries conditioned on the
  adapted token features attend over the vision tokens (:mod:`.late`): late fusion without
  pooling either stream first.
- ``vision_only``: no language modules at all; the instruction cannot change the output.
"""

from typing import Dict, Optional, Tuple

import torch
from torch import nn

from .alignment import AlignedFusion
from .config import ModelConfig
from .early import EarlyFusionEncoder
from .fusion import create_fusion, FUSION_OPERATORS, FusionOperator
from .heads import ActionHead, AttentionPool
from .language import (Cache, color_width, encoder_width, LanguageAdapter, sentence_colors,
                       TokenPool, WordEncoder)
from .late import LateTokenReadout
from .vision import create_vision_encoder, PatchEmbed


class FusionModel(nn.Module):
    """
    Images [B, C, H, W] in [0, 1] and token ids [B, T] -> actions [B, chunk, action_dim].

    The initial weights are a pure function of the config (``config.seed``); the global RNG
    is left untouched. A frozen pretrained encoder (``language.kind: minilm``) is shared by
    the process (:func:`.minilm.load_runtime`) and is not part of the state dict.
    """

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.mode = config.fusion.mode
        self._grids: Dict[int, tuple] = {}
        self._runtime = None  # the frozen pretrained encoder, loaded on first use
        #: What the per-frame part reads of the language: 'tokens', 'sentence' or None.
        self.reads: Optional[str] = None
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            self._build(config)
            self.apply(self._init_weights)
            # Small last layer: actions start near 0, away from tanh's flat tails.
            nn.init.normal_(self.head.mlp.proj.weight, std=0.01)
            for module in self.modules():
                if isinstance(module, FusionOperator):
                    module.reset_fusion_parameters()
        lang = config.language
        if self.mode != 'vision_only' and lang.kind == 'minilm' and lang.finetune:
            from .minilm import MiniLMModule
            self.text = MiniLMModule()  # pretrained weights, trained and saved with the model

    def _build(self, cfg: ModelConfig) -> None:
        v, lang, f = cfg.vision, cfg.language, cfg.fusion
        if self.mode == 'vision_only':
            self.vision = create_vision_encoder(v)
            self.head = ActionHead(cfg.head, v.width)
            return
        if lang.kind == 'words':
            self.text = WordEncoder(lang)
        if self.mode in ('early', 'late_tokens'):
            points, self.reads = 1, 'tokens'
        elif self.mode == 'late':
            points, self.reads = 1, 'sentence'
        else:
            points, self.reads = len(f.layers), FUSION_OPERATORS[f.operator].READS
        # One adapter per fusion point: f_l^(i) = adapter_i(cache).
        self.adapters = nn.ModuleList(
            LanguageAdapter(encoder_width(lang), lang.width, lang.adapter_hidden,
                            color_width(lang))
            for _ in range(points))
        if self.reads == 'sentence' and lang.sentence_pool == 'attention':
            self.pools = nn.ModuleList(TokenPool(encoder_width(lang)) for _ in range(points))
        if self.mode == 'early':
            self.early = EarlyFusionEncoder(cfg)
            self.head = ActionHead(cfg.head, f.dim)
            return
        self.vision = create_vision_encoder(v)
        if self.mode == 'late':
            self.head = ActionHead(cfg.head, v.width, extra_dim=lang.width)
            return
        if self.mode == 'late_tokens':
            self.late = LateTokenReadout(v.width, lang.width, cfg.head.queries, f.heads)
            self.head = ActionHead(cfg.head, v.width, extra_dim=self.late.out_dim)
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
        elif isinstance(module, (PatchEmbed, WordEncoder)):
            nn.init.normal_(module.pos, std=0.02)
        elif isinstance(module, EarlyFusionEncoder):
            nn.init.normal_(module.word_pos, std=0.02)
            nn.init.normal_(module.modality, std=0.02)
        elif isinstance(module, (AttentionPool, LateTokenReadout)):
            nn.init.normal_(module.query, std=1.0)

    @property
    def language_inputs(self) -> Tuple[str, ...]:
        """Names of the per-frame language inputs :meth:`act` reads, in a fixed order."""
        return {'tokens': ('tokens', 'mask'), 'sentence': ('sentence',)}.get(self.reads, ())

    @property
    def cache_keys(self) -> Tuple[str, ...]:
        """Names of the cache entries :meth:`condition` reads."""
        extra = {'tokens': ('colors',), 'sentence': ('sentence_colors',)}.get(self.reads, ())
        pooled = ('tokens', 'mask') if hasattr(self, 'pools') else ()
        return (self.language_inputs + pooled
                + (extra if self.config.language.color_lexicon else ()))

    def encode_text(self, token_ids: torch.Tensor, mask: torch.Tensor,
                    colors: Optional[torch.Tensor] = None) -> Cache:
        """
        Run the text encoder: ids, mask [B, T] -> the cache (see :mod:`.language`).

        A frozen pretrained encoder runs without gradients; ``words`` (and a fine-tuned
        encoder) are part of the model and train with it. ``colors`` [B, T, C]: the tokens'
        colour features (:func:`.language.text_inputs`), needed with
        ``language.color_lexicon`` and refused without it.
        """
        if self.mode == 'vision_only':
            return {}
        lexicon = self.config.language.color_lexicon
        if lexicon and colors is None:
            raise ValueError('language.color_lexicon is true: pass the colour features '
                             '(model.language.text_inputs)')
        if colors is not None and not lexicon:
            raise ValueError('language.color_lexicon is false: the model reads no colour '
                             'features')
        if hasattr(self, 'text'):
            tokens, sentence = self.text(token_ids, mask)
        else:
            if self._runtime is None:
                from .minilm import load_runtime
                self._runtime = load_runtime()
            tokens, sentence = self._runtime(token_ids, mask)
        cache = {'tokens': tokens, 'sentence': sentence, 'mask': mask}
        if lexicon:
            colors = colors * mask.to(colors.dtype)[..., None]  # [B, T, C]
            cache.update(colors=colors, sentence_colors=sentence_colors(colors))
        return cache

    def condition(self, cache: Cache) -> Dict[str, torch.Tensor]:
        """Run the adapters on a cache: the per-frame language inputs of :meth:`act`."""
        if self.reads == 'tokens':
            tokens = torch.stack([a(cache['tokens'], cache.get('colors'))
                                  for a in self.adapters], 1)  # [B, L, T, D]
            return {'tokens': tokens, 'mask': cache['mask']}
        if self.reads == 'sentence':
            sentences = ([pool(cache['tokens'], cache['mask']) for pool in self.pools]
                         if hasattr(self, 'pools') else [cache['sentence']] * len(self.adapters))
            return {'sentence': torch.stack([a(s, cache.get('sentence_colors'))
                                             for a, s in zip(self.adapters, sentences)], 1)}
        return {}

    def forward(self, images: torch.Tensor, token_ids: Optional[torch.Tensor] = None,
                mask: Optional[torch.Tensor] = None, cache: Optional[Cache] = None,
                state: Optional[torch.Tensor] = None,
                colors: Optional[torch.Tensor] = None) -> torch.Tensor:
        """
        Return normalised actions [B, chunk, action_dim] in [-1, 1].

        The language comes as ``token_ids`` and ``mask`` ([B, T], mask True for real tokens;
        with ``language.color_lexicon`` also ``colors``) or as a precomputed ``cache``
        (:meth:`encode_text`); ``vision_only`` reads neither. ``state`` is the memory's input
        ([B, memory + action_dim], ``head.memory > 0`` only; ``None``: an episode's start).
        """
        return self.act(images, self.language_of(token_ids, mask, cache, colors), state)

    def language_of(self, token_ids: Optional[torch.Tensor], mask: Optional[torch.Tensor],
                    cache: Optional[Cache] = None,
                    colors: Optional[torch.Tensor] = None) -> Dict[str, torch.Tensor]:
        """Return the per-frame language inputs from ids and mask (and colours), or a cache."""
        if self.mode == 'vision_only':
            return {}
        if cache is None:
            if token_ids is None or mask is None:
                raise ValueError(f'fusion.mode={self.mode!r} needs token_ids and mask')
            cache = self.encode_text(token_ids, mask, colors)
        return self.condition(cache)

    def act(self, images: torch.Tensor, language: Dict[str, torch.Tensor],
            state: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Run the per-frame part: images and :meth:`condition`'s inputs -> actions."""
        tokens, grid, extra = self.encode(images, language)
        return self.head(tokens, grid, extra, state)

    def encode(self, images: torch.Tensor, language: Dict[str, torch.Tensor]):
        """Return ``(tokens [B, N, D], grid, extra [B, E] or None)``: what the head reads."""
        if self.mode == 'vision_only':
            features, grids = self.vision(images)
            return features[-1], grids[-1], None
        if self.mode == 'early':
            tokens, grid = self.early(images, language['tokens'][:, 0], language['mask'])
            return tokens, grid, None
        if self.mode == 'late':
            features, grids = self.vision(images)
            return features[-1], grids[-1], language['sentence'][:, 0]
        if self.mode == 'late_tokens':
            features, grids = self.vision(images)
            read = self.late(features[-1], grids[-1], language['tokens'][:, 0],
                             language['mask'])  # [B, Q * (Dv + 2)]
            return features[-1], grids[-1], read
        return self._forward_intermediate(images, language)

    def forward_episodes(self, images: torch.Tensor, token_ids: Optional[torch.Tensor],
                         mask: Optional[torch.Tensor], slots: torch.Tensor,
                         previous: torch.Tensor, cache: Optional[Cache] = None,
                         colors: Optional[torch.Tensor] = None) -> torch.Tensor:
        """
        Actions for whole episodes at once (training a model with memory).

        ``images`` [F, C, H, W], ``token_ids``/``mask`` [F, T] (or a ``cache`` of F rows): the
        frames of B episodes; ``slots`` [F] their flat positions in a [B, L] grid (episode * L
        + step); ``previous`` [B, L, A]: each frame's previous executed action (normalised).
        Returns actions [F, chunk, A], frame by frame.
        """
        tokens, grid, extra = self.encode(images,
                                          self.language_of(token_ids, mask, cache, colors))
        x = self.head.features(tokens, grid, extra)  # [F, P]
        batch, length = previous.shape[:2]
        grid_x = x.new_zeros(batch * length, x.shape[-1]).index_copy(0, slots, x)
        actions = self.head.run_sequence(grid_x.view(batch, length, -1), previous)
        return actions.flatten(0, 1)[slots]  # [F, chunk, A]

    def _forward_intermediate(self, images, language):
        f_v, grid = self.vision.stem(images)  # [B, N, Dv]
        layers = self.config.fusion.layers
        carry = None  # bidirectional: the language stream's updates, carried forward
        for i, vision_layer in enumerate(self.vision.layers):
            f_v, grid = vision_layer(f_v, grid)  # [B, N_i, Dv]
            if i not in layers:
                continue
            point, k = self.fusion[str(i)], layers.index(i)
            if self.reads == 'sentence':
                f_v, _ = point(f_v, language['sentence'][:, k], None)  # [B, Dl]
            else:
                f_l = language['tokens'][:, k]  # [B, T, Dl]
                if carry is not None:
                    f_l = f_l + carry
                f_v, updated = point(f_v, f_l, language['mask'])
                if point.operator.update_language:
                    carry = updated - language['tokens'][:, k]
            self._grids[i] = grid
        return f_v, grid, None

    def fusion_attention(self) -> Dict[int, torch.Tensor]:
        """
        Last attention weights per fusion layer, {layer: [B, H, N, T]} (see :mod:`.fusion`).

        Operators that read a pooled sentence vector (hadamard, concat_mlp, film) have no
        attention and are left out; ``late``, ``late_tokens`` and ``vision_only`` give ``{}``.
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
        patch's attention that goes to words. ``{}`` for late, late_tokens and vision_only, or
        before the first forward.
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
