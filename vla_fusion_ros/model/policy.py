# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
VLAPolicy: what the ROS node calls. numpy in, numpy out, physical units; no ROS here.

The wrapper owns the tokenizer, the model and the device, caches tokenized instructions, and
keeps the last fusion maps for a debug overlay. It is kept apart from the ``nn.Module`` (as in
lerobot), so training code uses :class:`FusionModel` directly.

:meth:`VLAPolicy.set_backend` (or ``warmup(backend=...)``) swaps eager PyTorch for another
inference engine (:mod:`.engines`: ONNX Runtime, TorchScript, torch.compile, fp16 on CUDA) for
:meth:`~VLAPolicy.predict`; building and checking it happens there, at start-up, never on the
first frame.
"""

from collections import OrderedDict
import hashlib
import os
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch

from .checkpoint import load_checkpoint
from .config import ConfigError, ModelConfig
from .engines import auto_backends, BACKENDS, build_engine, Engine, EngineError
from .network import FusionModel
from .tokenizer import DEFAULT_WORDS, Tokenizer

DEVICES = ('cpu', 'cuda', 'auto')
_CACHE_SIZE = 64


def resolve_device(name: str) -> torch.device:
    """Turn 'cpu', 'cuda' (or 'cuda:N') or 'auto' into a device that exists here."""
    if name == 'auto':
        return torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    if name == 'cpu':
        return torch.device('cpu')
    if isinstance(name, str) and (name == 'cuda' or name.startswith('cuda:')):
        if not torch.cuda.is_available():
            raise ValueError(f'device {name!r} requested but CUDA is not available on this '
                             "machine (torch build or driver); use 'cpu' or 'auto'")
        device = torch.device(name)
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ValueError(f'device {name!r} requested but only '
                             f'{torch.cuda.device_count()} CUDA device(s) exist')
        return device
    raise ValueError(f'device {name!r} is unknown (valid: {", ".join(DEVICES)}, cuda:N)')


def _describe(array) -> str:
    if isinstance(array, np.ndarray):
        return f'{array.dtype} array of shape {array.shape}'
    return type(array).__name__


class VLAPolicy:
    """A ready-to-run policy: ``predict(rgb, instruction) -> actions`` in physical units."""

    def __init__(self, config: ModelConfig, tokenizer: Tokenizer, model: FusionModel,
                 device: str = 'cpu', identity: str = ''):
        self.config = config
        self.tokenizer = tokenizer
        self.device = resolve_device(device)
        self.model = model.to(self.device).eval()
        side = config.vision.image_size
        self.image_size: Tuple[int, int] = (side, side)  # (width, height)
        self.action_dim = config.head.action_dim
        self.chunk_size = config.head.chunk_size
        self.action_names: List[str] = list(config.head.action_names)
        self.action_scale = np.asarray(config.head.action_scale, dtype=np.float32)
        self.identity = identity or f'untrained:{config.seed}'
        self._scale = torch.as_tensor(self.action_scale, device=self.device)
        self._tokens: 'OrderedDict[str, Tuple[torch.Tensor, torch.Tensor]]' = OrderedDict()
        self.engine: Optional[Engine] = None  # None: eager PyTorch
        self.backend = 'torch'
        self._last: Optional[Tuple[np.ndarray, str]] = None  # for attention_map under engines
        self.memory_size = config.head.memory
        self._memory: Optional[dict] = None  # predict()'s own memory (models with memory)
        self._memory_text: Optional[str] = None
        if config.vision.in_channels != 3:
            raise ConfigError(f'vision.in_channels: {config.vision.in_channels} (the policy '
                              'feeds RGB images; valid: 3)')

    @classmethod
    def from_config(cls, config: ModelConfig, device: str = 'cpu') -> 'VLAPolicy':
        """Build an untrained policy with the default vocabulary (for tests and plumbing)."""
        tokenizer = Tokenizer(DEFAULT_WORDS, config.language.max_length)
        if len(tokenizer) > config.language.vocab_size:
            raise ConfigError(f'language.vocab_size: {config.language.vocab_size} is smaller '
                              f'than the default vocabulary ({len(tokenizer)} words)')
        return cls(config, tokenizer, FusionModel(config), device)

    @classmethod
    def from_checkpoint(cls, path: str, device: str = 'cpu') -> 'VLAPolicy':
        """Load a checkpoint (:class:`CheckpointError` if it is unusable)."""
        target = resolve_device(device)
        model, tokenizer, config, _ = load_checkpoint(path, device=str(target))
        with open(path, 'rb') as handle:
            digest = hashlib.sha256(handle.read()).hexdigest()[:8]
        return cls(config, tokenizer, model, str(target), f'{os.path.basename(path)}@{digest}')

    def _encode(self, instruction: str) -> Tuple[torch.Tensor, torch.Tensor]:
        cached = self._tokens.get(instruction)
        if cached is None:
            ids, mask = self.tokenizer.encode([instruction])
            cached = ids.to(self.device), mask.to(self.device)
            self._tokens[instruction] = cached
            if len(self._tokens) > _CACHE_SIZE:
                self._tokens.popitem(last=False)
        else:
            self._tokens.move_to_end(instruction)
        return cached

    def _check_images(self, images: np.ndarray) -> None:
        width, height = self.image_size
        if (not isinstance(images, np.ndarray) or images.dtype != np.uint8
                or images.ndim != 4 or images.shape[1:] != (height, width, 3)):
            raise ValueError(f'expected uint8 RGB images of shape (H, W, 3) = '
                             f'({height}, {width}, 3), got {_describe(images)}')

    def _images(self, images: np.ndarray) -> torch.Tensor:
        """Check uint8 [B, H, W, 3] images and return floats [B, 3, H, W] in [0, 1]."""
        self._check_images(images)
        x = torch.from_numpy(np.ascontiguousarray(images)).to(self.device)  # [B, H, W, 3]
        return x.permute(0, 3, 1, 2).float().div_(255.0)  # [B, 3, H, W]

    def new_memory(self, batch: int) -> Optional[dict]:
        """
        Return a fresh memory for ``batch`` episodes (``None`` for a model without memory).

        Pass it to :meth:`predict_batch` step after step; it holds each episode's hidden state
        and previous action.
        """
        if not self.memory_size:
            return None
        return {'hidden': torch.zeros(batch, self.memory_size, device=self.device),
                'previous': torch.zeros(batch, self.action_dim, device=self.device)}

    def reset_memory(self) -> None:
        """Forget what :meth:`predict` remembered: the next frame starts a new episode."""
        self._memory = None

    def _state(self, memory: Optional[dict], rows) -> Optional[torch.Tensor]:
        if memory is None:
            return None
        return torch.cat([memory['hidden'][rows], memory['previous'][rows]], -1)

    def _remember(self, memory: Optional[dict], rows, actions: torch.Tensor) -> None:
        if memory is not None:
            memory['hidden'][rows] = self.model.head.next_hidden
            memory['previous'][rows] = actions[:, 0].clamp(-1.0, 1.0)  # what was executed

    def predict(self, rgb: np.ndarray, instruction: str) -> np.ndarray:
        """
        Return float32 actions [chunk_size, action_dim] in physical units for one frame.

        ``rgb`` is uint8 (H, W, 3), already resized to :attr:`image_size`. A model with
        memory remembers the frames since :meth:`reset_memory` (or since the instruction
        changed) and assumes that its first action was executed.
        """
        if not isinstance(rgb, np.ndarray) or rgb.ndim != 3:
            raise ValueError(f'expected one uint8 RGB image (H, W, 3), got {_describe(rgb)}')
        ids, mask = self._encode(instruction)
        if self.engine is not None:
            self._check_images(rgb[None])
            self._last = (rgb, instruction)
            return self.engine(rgb, ids, mask)
        if self.memory_size and (self._memory is None or self._memory_text != instruction):
            self._memory, self._memory_text = self.new_memory(1), instruction
        memory = self._memory if self.memory_size else None
        with torch.inference_mode():
            actions = self.model(self._images(rgb[None]), ids, mask,
                                 self._state(memory, slice(None)))  # [1, chunk, A]
            self._remember(memory, slice(None), actions)
            return (actions[0] * self._scale).float().cpu().numpy()

    def predict_batch(self, images: np.ndarray, instructions: Sequence[str],
                      memory: Optional[dict] = None, rows=None) -> np.ndarray:
        """
        Return float32 actions [B, chunk_size, action_dim] for uint8 images [B, H, W, 3].

        ``memory`` (from :meth:`new_memory`) carries a model's memory between calls;
        ``rows`` picks the episodes of the memory these images belong to (default: all).
        """
        if len(instructions) != len(images):
            raise ValueError(f'{len(images)} images but {len(instructions)} instructions')
        ids, mask = self.tokenizer.encode(list(instructions))
        rows = slice(None) if rows is None else torch.as_tensor(rows, dtype=torch.long)
        with torch.inference_mode():
            x = self._images(images)  # [B, 3, H, W]
            actions = self.model(x, ids.to(self.device), mask.to(self.device),
                                 self._state(memory, rows))
            self._remember(memory, rows, actions)
            return (actions * self._scale).float().cpu().numpy()

    def attention_map(self) -> Optional[np.ndarray]:
        """
        Where language acted in the last prediction, as float32 [H, W] in [0, 1].

        The per-layer maps of :meth:`FusionModel.fusion_maps` (first batch element) are
        resized to the image, averaged and min-max normalised. ``None`` for ``late`` and
        ``vision_only`` models, and before the first prediction. Under an engine other than
        eager PyTorch, the last frame is run once more through the eager model for its maps.
        """
        if self.engine is not None:
            if self._last is None:
                return None
            rgb, instruction = self._last
            with torch.inference_mode():
                self.model(self._images(rgb[None]), *self._encode(instruction))
        maps = self.model.fusion_maps()
        if not maps:
            return None
        width, height = self.image_size
        total = np.zeros((height, width), dtype=np.float32)
        for layer_map in maps.values():
            small = layer_map[0].float().cpu().numpy()
            total += cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)
        low, high = float(total.min()), float(total.max())
        if not np.isfinite(high - low) or high - low <= 1e-12:
            return np.zeros_like(total)
        return (total - low) / (high - low)

    def set_backend(self, backend: str = 'auto', threads: Optional[int] = None,
                    precision: str = 'fp32') -> str:
        """
        Serve :meth:`predict` with inference engine ``backend`` and return its name.

        ``backend`` is one of :data:`~.engines.BACKENDS`; ``auto`` tries ONNX Runtime, then
        TorchScript, then eager PyTorch on the CPU (eager on CUDA) and keeps the first that
        builds and matches eager PyTorch. An explicit backend that cannot be built raises
        ``ValueError``. ``threads`` sizes ONNX Runtime's pool (default: torch's intra-op
        threads); ``precision='fp16'`` (CUDA and the torch backend only) halves the model.
        The engine is a snapshot of the weights as they are now.
        """
        if backend not in BACKENDS:
            raise ValueError(f'backend {backend!r} is unknown (valid: {", ".join(BACKENDS)})')
        names = auto_backends(self.device) if backend == 'auto' else [backend]
        if self.memory_size:
            # The engines export one stateless frame; a model with memory runs eagerly.
            if backend not in ('auto', 'torch'):
                raise ValueError(f'backend {backend!r} cannot serve a model with memory '
                                 '(head.memory > 0); use torch or auto')
            names = ['torch']
        ids, mask = self._encode('')
        problems = []
        for name in names:
            if name == 'torch' and precision == 'fp32':
                self.engine, self.backend = None, 'torch'
                return self.backend
            try:
                engine = build_engine(name, self.model, self._scale, self.image_size, ids,
                                      mask, self.device, threads, precision)
            except EngineError as exc:
                if backend != 'auto':
                    raise ValueError(str(exc)) from None
                problems.append(str(exc))
                continue
            self.engine, self.backend = engine, name
            return name
        raise ValueError('; '.join(problems))  # pragma: no cover - auto ends with torch

    def warmup(self, backend: Optional[str] = None, threads: Optional[int] = None,
               precision: str = 'fp32') -> None:
        """
        Build the inference engine (if ``backend`` is given) and run dummy forwards.

        Allocations, lazy initialisation and compilation all happen here, so the first real
        frame is as fast as any other.
        """
        if backend is not None:
            self.set_backend(backend, threads, precision)
        width, height = self.image_size
        for _ in range(3):
            self.predict(np.zeros((height, width, 3), dtype=np.uint8), '')
        self._last = None
