# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The language side: text encoders (``language.kind``), their per-instruction cache, adapters.

An instruction is encoded once, when it changes, into a **cache**::

    {'tokens': [B, T, E] token features (padding zeroed), 'sentence': [B, E], 'mask': [B, T]}

- ``words``: :class:`WordEncoder`, word embeddings, learned positions and pre-norm transformer
  layers trained from scratch (E = ``language.width``); its sentence is the masked mean.
- ``minilm``: the pretrained all-MiniLM-L6-v2 (:mod:`.minilm`, E = 384), frozen by default.

With ``language.color_lexicon`` the cache also holds each token's colour feature from the
colour lexicon (:mod:`vla_fusion_ros.sim.color_lexicon`; zeros for tokens that are not part of
a colour name), ``'colors': [B, T, C]``, and their mean over the colour tokens,
``'sentence_colors': [B, C]``; :func:`text_inputs` computes them from the text with the
tokenizer's token spans, for either kind. With ``language.mask_colors`` the encoder reads the
placeholder ``[MASK]`` where each colour name was, so colours come only from the lexicon.

The per-layer language features f_l^(i) that fusion reads come from small trainable
:class:`LanguageAdapter` s on that cache: token features for operators that attend to words,
the sentence vector for those that read one vector (FiLM, Hadamard, concat-MLP), or with
``language.sentence_pool: attention`` a :class:`TokenPool` of the token features; with the
lexicon, a linear projection of the colour features is added to them. Adapters
depend only on the instruction too, so their outputs are cached with it; the per-frame part of
the model (vision, fusion, head) reads them as plain inputs.
"""

from typing import Dict, Optional, Sequence, Tuple, Union

import torch
from torch import nn

from .attention import masked_mean, TransformerBlock
from .config import LanguageConfig
from .tokenizer import DEFAULT_WORDS, Tokenizer

Cache = Dict[str, torch.Tensor]


class WordEncoder(nn.Module):
    """Embedding + learned positions + ``depth`` transformer layers with key padding masks."""

    def __init__(self, cfg: LanguageConfig):
        super().__init__()
        self.width = cfg.width
        self.token = nn.Embedding(cfg.vocab_size, cfg.width)
        self.pos = nn.Parameter(torch.zeros(1, cfg.max_length, cfg.width))
        self.layers = nn.ModuleList(
            TransformerBlock(cfg.width, cfg.heads) for _ in range(cfg.depth))

    def forward(self, token_ids: torch.Tensor,
                mask: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Return token features [B, T, D] (padding zeroed) and their masked mean [B, D]."""
        words = self.token(token_ids) + self.pos[:, :token_ids.shape[1]]  # [B, T, D]
        for layer in self.layers:
            words = layer(words, mask)  # [B, T, D]
        words = words * mask.to(words.dtype)[..., None]
        return words, masked_mean(words, mask)


class LanguageAdapter(nn.Module):
    """
    LayerNorm, then Linear (``hidden`` = 0) or Linear-GELU-Linear: [..., E] -> [..., D].

    With ``color_dim`` > 0, a Linear projection of colour features [..., C] is added.
    """

    def __init__(self, in_dim: int, out_dim: int, hidden: int, color_dim: int = 0):
        super().__init__()
        self.norm = nn.LayerNorm(in_dim)
        if hidden:
            self.net = nn.Sequential(nn.Linear(in_dim, hidden), nn.GELU(),
                                     nn.Linear(hidden, out_dim))
        else:
            self.net = nn.Linear(in_dim, out_dim)
        self.color = nn.Linear(color_dim, out_dim) if color_dim else None

    def forward(self, x: torch.Tensor, colors: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Adapt features [..., E] (and colour features [..., C]) to [..., D]."""
        out = self.net(self.norm(x))
        if self.color is not None:
            out = out + self.color(colors)
        return out


class TokenPool(nn.Module):
    """
    Attention pooling of token features with one learned query: [B, T, E], mask -> [B, E].

    The query starts at zero, so the pool starts as the masked mean of the tokens and learns
    which tokens to weigh (``language.sentence_pool: attention``).
    """

    def __init__(self, width: int):
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.query = nn.Parameter(torch.zeros(width))

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Return the query-weighted mean of the real tokens [B, E]."""
        scores = self.norm(tokens) @ self.query * tokens.shape[-1] ** -0.5  # [B, T]
        scores = scores.masked_fill(~mask.bool(), float('-inf'))
        weights = torch.softmax(scores, dim=-1)  # [B, T]
        return (weights[..., None] * tokens).sum(1)  # [B, E]


def color_width(cfg: LanguageConfig) -> int:
    """Width C of a token's colour feature (0 without ``language.color_lexicon``)."""
    if not cfg.color_lexicon:
        return 0
    from vla_fusion_ros.sim.color_lexicon import WIDTH
    return WIDTH


def color_features(tokenizer, texts: Sequence[str],
                   names: Optional[Sequence[Sequence]] = None) -> torch.Tensor:
    """
    Return the colour feature of every token of ``texts`` as ``tokenizer`` encodes them.

    [B, T, C] float, T = the tokenizer's ``max_length``: a token that overlaps a colour name
    of the lexicon (:func:`vla_fusion_ros.sim.color_lexicon.find_colors`, or ``names``: each
    text's ((start, end), name) pairs) gets that colour's feature, every other token (and
    [CLS], [SEP], padding) zeros.
    """
    from vla_fusion_ros.sim.color_lexicon import feature, find_colors, WIDTH
    out = torch.zeros(len(texts), tokenizer.max_length, WIDTH)  # [B, T, C]
    for row, (text, spans) in enumerate(zip(texts, tokenizer.spans(texts))):
        names_here = find_colors(text) if names is None else names[row]
        for col, (start, end) in enumerate(spans[:tokenizer.max_length]):
            name = next((n for (first, last), n in names_here
                         if start < end and start < last and first < end), None)
            if name is not None:
                out[row, col] = torch.tensor(feature(name))
    return out


def sentence_colors(colors: torch.Tensor) -> torch.Tensor:
    """Return the mean colour feature [B, C] of the colour tokens of [B, T, C] (0 if none)."""
    flags = colors[..., :1]  # [B, T, 1]: 1 on tokens of a colour name
    return (colors * flags).sum(1) / flags.sum(1).clamp(min=1.0)  # [B, C]


def text_inputs(tokenizer, texts: Union[str, Sequence[str]],
                cfg: LanguageConfig) -> Dict[str, torch.Tensor]:
    """
    Return the text encoder's inputs for ``texts``: ``token_ids`` and ``mask`` [B, T].

    With ``cfg.color_lexicon`` also ``colors`` [B, T, C] (:func:`color_features`); with
    ``cfg.mask_colors`` the encoder reads each colour name as the placeholder
    (:func:`vla_fusion_ros.sim.color_lexicon.mask_colors`) and its colour features sit there.
    """
    texts = [texts] if isinstance(texts, str) else list(texts)
    names = None
    if cfg.mask_colors:
        from vla_fusion_ros.sim.color_lexicon import mask_colors
        masked = [mask_colors(text) for text in texts]
        texts, names = [t for t, _ in masked], [n for _, n in masked]
    ids, mask = tokenizer.encode(texts)
    inputs = {'token_ids': ids, 'mask': mask}
    if cfg.color_lexicon:
        inputs['colors'] = color_features(tokenizer, texts, names)
    return inputs


def encoder_width(cfg: LanguageConfig) -> int:
    """Width E of the cache the encoder of ``cfg.kind`` produces."""
    if cfg.kind == 'minilm':
        from .minilm import WIDTH
        return WIDTH
    return cfg.width


def create_tokenizer(cfg: LanguageConfig, words: Sequence[str] = DEFAULT_WORDS
                     ) -> Union[Tokenizer, 'MiniLMTokenizer']:  # noqa: F821
    """Return the tokenizer of ``cfg.kind``: the word vocabulary ``words``, or WordPiece."""
    if cfg.kind == 'minilm':
        from .minilm import MiniLMTokenizer
        return MiniLMTokenizer(cfg.max_length)
    return Tokenizer(words, cfg.max_length)


def tokenizer_from_dict(data: Dict) -> Union[Tokenizer, 'MiniLMTokenizer']:  # noqa: F821
    """Rebuild a stored tokenizer (a ValueError says what is wrong with ``data``)."""
    if isinstance(data, dict) and data.get('kind') == 'minilm':
        from .minilm import identity, MiniLMTokenizer
        if set(data) != {'kind', 'max_length', 'sha256'}:
            raise ValueError('minilm tokenizer data must have exactly the keys kind, '
                             'max_length and sha256')
        tokenizer = MiniLMTokenizer(data['max_length'])
        if data['sha256'] != identity()['tokenizer_sha256']:
            raise ValueError(f'the installed MiniLM tokenizer (sha256 '
                             f'{identity()["tokenizer_sha256"][:12]}) is not the one the '
                             f'model was trained with ({str(data["sha256"])[:12]})')
        return tokenizer
    return Tokenizer.from_dict(data)
