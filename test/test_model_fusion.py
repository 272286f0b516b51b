# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
FusionModel over every operator x placement, the baselines, both vision and language encoders.

The language encoders are ``language.kind`` words and the pretrained MiniLM.

Each case checks output shapes, gradients, that language matters (or, for the vision-only
ablation, provably does not), batch independence, reproducibility and the introspection maps.
Models are tiny (32 px images, width 16) so the whole matrix runs in seconds on one thread;
MiniLM is loaded once per session (its ONNX Runtime session is shared by the process).
"""

import pytest
import torch

from vla_fusion_ros.model import FUSION_OPERATORS, FusionModel, ModelConfig
from vla_fusion_ros.model.fusion import FiLMFusion, GatedCrossAttentionFusion
from vla_fusion_ros.model.language import create_tokenizer

torch.set_num_threads(1)

DEPTH = 4
PLACEMENTS = {'early': [0], 'middle': [DEPTH // 2], 'multi': [1, 2]}


def tiny_config(mode='intermediate', operator='film', layers=(1, 2), kind='cnn',
                language_kind='words', **extra):
    """Return a small but complete config; ``extra`` maps section names to field overrides."""
    data = {
        'vision': {'kind': kind, 'image_size': 32, 'width': 16, 'depth': DEPTH,
                   'patch_size': 8, 'heads': 2, 'norm_groups': 4, 'downsample': [0, 1]},
        'language': {'kind': language_kind, 'width': 16, 'depth': 1, 'heads': 2,
                     'max_length': 8, 'vocab_size': 128},
        'fusion': {'mode': mode, 'operator': operator, 'layers': list(layers), 'dim': 16,
                   'heads': 2},
        'head': {'chunk_size': 3, 'hidden': 32, 'queries': 2},
    }
    for section, fields in extra.items():
        data[section].update(fields)
    return ModelConfig.from_dict(data)


CASES = {f'{op}-{where}': tiny_config(operator=op, layers=layers)
         for op in FUSION_OPERATORS for where, layers in PLACEMENTS.items()}
CASES.update({
    **{f'vit-{op}': tiny_config(operator=op, kind='vit')
       for op in ('cross_attention', 'film', 'bidirectional', 'matrix')},
    # Unequal widths: the alignment projections (and their way back) are exercised.
    'aligned-bidirectional': tiny_config(operator='bidirectional', language={'width': 24},
                                         fusion={'dim': 8}),
    'aligned-hadamard': tiny_config(operator='hadamard', vision={'width': 24, 'norm_groups': 4},
                                    fusion={'dim': 16}),
    'residual-film-lang2': tiny_config(vision={'block': 'residual'}, language={'depth': 2}),
    'meanpool-concat_mlp': tiny_config(operator='concat_mlp', head={'pool': 'mean'}),
    'early': tiny_config(mode='early'),
    'late': tiny_config(mode='late'),
    'late_tokens': tiny_config(mode='late_tokens'),
    'vision_only': tiny_config(mode='vision_only'),
    # The pretrained encoder: every operator, the baselines, a multi-layer bidirectional
    # (its language updates are carried between fusion points) and a hidden adapter.
    **{f'minilm-{op}': tiny_config(operator=op, language_kind='minilm')
       for op in FUSION_OPERATORS},
    'minilm-bidirectional-multi': tiny_config(operator='bidirectional', layers=(0, 1, 2),
                                              language_kind='minilm'),
    'minilm-film-adapter64': tiny_config(language_kind='minilm',
                                         language={'adapter_hidden': 64}),
    'minilm-early': tiny_config(mode='early', language_kind='minilm'),
    'minilm-late': tiny_config(mode='late', language_kind='minilm'),
    'minilm-late_tokens': tiny_config(mode='late_tokens', language_kind='minilm'),
    'minilm-vision_only': tiny_config(mode='vision_only', language_kind='minilm'),
    # A learned attention pool over the token features, for the operators that read a vector.
    **{f'minilm-{op}-token_pool': tiny_config(operator=op, language_kind='minilm',
                                              language={'sentence_pool': 'attention'})
       for op in ('hadamard', 'film')},
    'minilm-late-token_pool': tiny_config(mode='late', language_kind='minilm',
                                          language={'sentence_pool': 'attention'}),
})

TEXTS = ['go to the red circle', 'please drive toward the blue square',
         'head for the yellow triangle!']
_TOKENS = {}


def tokens(config):
    """Return (ids, mask) [3, 8] of TEXTS for the config's language.kind."""
    kind = config.language.kind
    if kind not in _TOKENS:
        _TOKENS[kind] = create_tokenizer(config.language).encode(TEXTS)
    return _TOKENS[kind]


def images(batch, seed=0):
    return torch.rand(batch, 3, 32, 32, generator=torch.Generator().manual_seed(seed))


def open_gates(model):
    """
    Give zero-initialised operators a nonzero start.

    FiLM's projection and the tanh gates start at exactly zero, so at initialisation those
    operators are the identity and language has no effect at all, by design. Tests that ask
    whether language *can* change the action set them to what training would move them to.
    """
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, FiLMFusion):
                torch.nn.init.normal_(module.film.weight, std=0.5)
            elif isinstance(module, GatedCrossAttentionFusion):
                module.gate_attn.fill_(1.0)
                module.gate_mlp.fill_(1.0)
    return model


@pytest.fixture(params=sorted(CASES), scope='module')
def case(request):
    return request.param, CASES[request.param]


def test_registry_is_complete():
    assert set(FUSION_OPERATORS) == {'hadamard', 'matrix', 'cross_attention', 'concat_mlp',
                                     'bidirectional', 'film', 'gated_cross_attention'}


@pytest.mark.parametrize('batch', [1, 3])
def test_forward_shapes_and_bounds(case, batch):
    _, config = case
    IDS, MASK = tokens(config)
    model = FusionModel(config).eval()
    with torch.no_grad():
        actions = model(images(batch), IDS[:batch], MASK[:batch])
    assert actions.shape == (batch, 3, 2)
    assert torch.isfinite(actions).all()
    assert actions.abs().max() <= 1.0


def test_every_parameter_gets_a_gradient(case):
    name, config = case
    IDS, MASK = tokens(config)
    model = FusionModel(config).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    target = torch.randn(3, 3, 2, generator=torch.Generator().manual_seed(1))

    def backward():
        optimizer.zero_grad(set_to_none=True)
        actions = model(images(3), IDS, MASK)
        assert torch.isfinite(actions).all()
        ((actions - target) ** 2).mean().backward()
        for pname, param in model.named_parameters():
            assert param.grad is not None, f'{name}: {pname} got no gradient'
            assert torch.isfinite(param.grad).all(), f'{name}: {pname} has a NaN/Inf gradient'
        return {p for p, param in model.named_parameters() if not param.grad.any()}

    zero = backward()
    # The token pool's query starts at zero (a plain mean), so its LayerNorm has no gradient
    # until the query has moved: at init only.
    zero -= {p for p in zero if p.startswith('pools.') and '.norm.' in p}
    if config.fusion.mode == 'intermediate' and config.fusion.operator in (
            'film', 'gated_cross_attention'):
        # Behind a zero projection or a closed gate only the language side and the
        # operator's own gated modules can have exactly zero gradients, and only at init.
        assert all(p.startswith(('text.', 'adapters.', 'pools.', 'fusion.')) for p in zero), zero
    else:
        assert not zero, f'{name}: exactly zero gradients at init for {sorted(zero)}'
    optimizer.step()
    zero = backward()
    if config.fusion.operator in ('film', 'gated_cross_attention'):
        # Behind FiLM's zero projection the query moves only at the second step, its norm
        # at the third.
        zero -= {p for p in zero if p.startswith('pools.') and '.norm.' in p}
    assert not zero, f'{name}: exactly zero gradients after one step for {sorted(zero)}'


def test_language_matters(case):
    name, config = case
    IDS, MASK = tokens(config)
    model = open_gates(FusionModel(config)).eval()
    same = images(1).expand(3, -1, -1, -1)
    with torch.no_grad():
        actions = model(same, IDS, MASK)  # one image, three instructions
        other = model(images(1, seed=5), IDS[:1], MASK[:1])
    spread = (actions[0] - actions[1]).abs().max().item()
    if config.fusion.mode == 'vision_only':
        assert torch.equal(actions[0], actions[1]) and torch.equal(actions[0], actions[2])
        with torch.no_grad():
            assert torch.equal(model(same), actions)  # no language input at all
        assert not any(n.startswith(('text', 'adapters')) for n, _ in model.named_parameters())
    else:
        image_effect = (actions[0] - other[0]).abs().max().item()
        # Rows of one batch are computed identically, so any difference is the instruction's.
        # Measured at init: the instruction moves the action by 2% to 10x of what a new image
        # does (fusion output projections start at a tenth of full scale, see fusion.py).
        assert spread > 1e-5, f'{name}: instructions change actions by only {spread:.2e}'
        assert spread > 0.005 * image_effect, (name, spread, image_effect)


@pytest.mark.parametrize('operator', ['film', 'gated_cross_attention'])
def test_zero_initialised_operators_start_as_identity(operator):
    config = tiny_config(operator=operator)
    IDS, MASK = tokens(config)
    model = FusionModel(config).eval()
    with torch.no_grad():
        actions = model(images(1).expand(3, -1, -1, -1), IDS, MASK)
    assert torch.equal(actions[0], actions[1]) and torch.equal(actions[0], actions[2])


def test_batch_elements_are_independent(case):
    _, config = case
    IDS, MASK = tokens(config)
    model = open_gates(FusionModel(config)).eval()
    x = images(3)
    with torch.no_grad():
        together = model(x, IDS, MASK)
        alone = torch.cat([model(x[i:i + 1], IDS[i:i + 1], MASK[i:i + 1]) for i in range(3)])
        x2 = x.clone()
        x2[1:] = torch.rand_like(x2[1:])
        changed = model(x2, IDS.flip(0), MASK.flip(0))
    torch.testing.assert_close(together, alone, rtol=0, atol=1e-6)
    # Element 2 now has element 0's instruction, element 0 keeps its image: compare 0 to a
    # batch-of-one run with element 0's instruction and image.
    with torch.no_grad():
        again = model(x[:1], IDS[2:3], MASK[2:3])
    torch.testing.assert_close(changed[:1], again, rtol=0, atol=1e-6)


def test_reproducible_with_fixed_seed(case):
    _, config = case
    IDS, MASK = tokens(config)
    state_a = FusionModel(config).state_dict()
    rng_before = torch.random.get_rng_state()
    model_b = FusionModel(config)
    assert torch.equal(torch.random.get_rng_state(), rng_before), 'global RNG was touched'
    for key, value in model_b.state_dict().items():
        assert torch.equal(value, state_a[key]), key
    reseeded = FusionModel(ModelConfig.from_dict({**config.to_dict(), 'seed': 1}))
    assert any(not torch.equal(v, state_a[k]) for k, v in reseeded.state_dict().items())
    model_a = FusionModel(config).eval()
    with torch.no_grad():
        assert torch.equal(model_a(images(2), IDS[:2], MASK[:2]),
                           model_b.eval()(images(2), IDS[:2], MASK[:2]))


def test_introspection(case):
    _, config = case
    IDS, MASK = tokens(config)
    model = FusionModel(config).eval()
    with torch.no_grad():
        model(images(2), IDS[:2], MASK[:2])
    attention, maps = model.fusion_attention(), model.fusion_maps()
    mode = config.fusion.mode
    if mode in ('late', 'late_tokens', 'vision_only'):
        assert attention == {} and maps == {}
        return
    expected = config.fusion.layers if mode == 'intermediate' else range(config.vision.depth)
    assert sorted(maps) == list(expected)
    for layer, fmap in maps.items():
        assert fmap.shape[0] == 2 and fmap.dim() == 3
        assert torch.isfinite(fmap).all() and (fmap >= 0).all()
    for layer, weights in attention.items():
        assert weights.shape[0] == 2 and weights.shape[-1] == MASK.shape[1]
        assert weights.shape[-2] == maps[layer].shape[1] * maps[layer].shape[2]
        assert torch.isfinite(weights).all()
        padded = ~MASK[:2].view(2, 1, 1, -1).expand_as(weights)
        assert padded.any() and (weights[padded] == 0).all(), 'weight on a padded word'
        assert (weights[~padded] != 0).any()


def test_the_token_pool_starts_as_the_mean_and_learns_to_pick_a_word():
    """At init the pool is the masked mean; a query can make it read one word's feature."""
    from vla_fusion_ros.model.language import TokenPool
    feats = torch.randn(2, 5, 8, generator=torch.Generator().manual_seed(0))
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=torch.bool)
    pool = TokenPool(8)
    mean = (feats * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
    assert torch.allclose(pool(feats, mask), mean, atol=1e-6)
    with torch.no_grad():  # a query along the third token's normalised feature
        pool.query.copy_(100 * pool.norm(feats)[0, 2])
    assert torch.allclose(pool(feats, mask)[0], feats[0, 2], atol=1e-3)
    # Padding never leaks in, whatever the query.
    padded = feats.clone()
    padded[0, 3:] = 1e3
    assert torch.allclose(pool(padded, mask)[0], pool(feats, mask)[0])
    # In the model: the cache keeps the token features the pools read, and the per-frame
    # inputs stay one vector per fusion point.
    config = CASES['minilm-hadamard-token_pool']
    model = FusionModel(config)
    assert model.cache_keys[:3] == ('sentence', 'tokens', 'mask')
    IDS, MASK = tokens(config)
    per_frame = model.condition(model.encode_text(IDS, MASK))
    assert set(per_frame) == {'sentence'} and per_frame['sentence'].shape == (3, 2, 16)
