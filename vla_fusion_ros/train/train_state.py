# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The resumable training state, without pickle: tensors in safetensors, scalars in JSON.

``<run>/state/tensors.safetensors`` holds the model weights (``model.<name>``) and AdamW's
moments (``optim.<index>.<key>``); ``<run>/state/state.json`` holds the step, the loss history,
the best validation result and the resolved config. This state is separate from the shipped
checkpoints (``model.safetensors``, ``best.safetensors``, ``last.safetensors``), which hold
weights only (:mod:`vla_fusion_ros.model.checkpoint`). The learning rate is a pure function of
the step and the data order a pure function of the seed and the step, so nothing else is
needed to continue a run exactly where it stopped, whichever step that was: a ``SIGTERM``
(:class:`StopRequest`) saves the state at the step in progress, so ``kill``, a scheduler's time
limit or a sweep's window loses one step, not everything since the last checkpoint.
"""

import functools
import json
import math
import os
import signal
import threading
from typing import Any, Dict, List, Optional

from safetensors.torch import load_file, save_file
import torch

TENSORS = 'tensors.safetensors'
SCALARS = 'state.json'


def parameter_groups(module: torch.nn.Module, weight_decay: float) -> List[dict]:
    """Optimizer groups: decay on tensors of rank >= 2 (weights, embeddings), not the rest."""
    params = [p for p in module.parameters() if p.requires_grad]
    return [{'params': [p for p in params if p.dim() >= 2], 'weight_decay': weight_decay},
            {'params': [p for p in params if p.dim() < 2], 'weight_decay': 0.0}]


def save_state(folder: str, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
               scalars: Dict[str, Any]) -> None:
    """Write the state atomically enough: tensors first, then the JSON that points at them."""
    os.makedirs(folder, exist_ok=True)
    tensors = {f'model.{k}': v.detach().contiguous() for k, v in model.state_dict().items()}
    for index, entry in optimizer.state_dict()['state'].items():
        for key, value in entry.items():
            tensors[f'optim.{index}.{key}'] = torch.as_tensor(value).detach().contiguous()
    tmp = os.path.join(folder, TENSORS + '.tmp')
    save_file(tensors, tmp)
    os.replace(tmp, os.path.join(folder, TENSORS))
    tmp = os.path.join(folder, SCALARS + '.tmp')
    with open(tmp, 'w', encoding='utf-8') as handle:
        json.dump(scalars, handle, indent=1)
    os.replace(tmp, os.path.join(folder, SCALARS))


def load_state(folder: str, model: torch.nn.Module,
               optimizer: torch.optim.Optimizer) -> Optional[Dict[str, Any]]:
    """Restore model and optimizer from ``folder``; return the scalars, or ``None`` if absent."""
    path = os.path.join(folder, SCALARS)
    if not os.path.isfile(path):
        return None
    with open(path, encoding='utf-8') as handle:
        scalars = json.load(handle)
    tensors = load_file(os.path.join(folder, TENSORS))
    model.load_state_dict({k[len('model.'):]: v for k, v in tensors.items()
                           if k.startswith('model.')}, strict=True)
    state: Dict[int, Dict[str, torch.Tensor]] = {}
    for name, value in tensors.items():
        if name.startswith('optim.'):
            _, index, key = name.split('.', 2)
            state.setdefault(int(index), {})[key] = value
    groups = optimizer.state_dict()['param_groups']
    optimizer.load_state_dict({'state': state, 'param_groups': groups})
    return scalars


def learning_rate(step: int, total: int, sched: Dict[str, Any], base: float) -> float:
    """Linear warmup to ``base``, then cosine decay to ``base * min_lr_ratio`` at ``total``."""
    warmup = min(int(sched['warmup_steps']), max(total - 1, 0))
    if step < warmup:
        return base * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    floor = sched['min_lr_ratio']
    return base * (floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress)))


def batch_indices(step: int, batch: int, frames: int, seed: int) -> torch.Tensor:
    """Return the indices of global batch ``step``: a slice of a per-epoch permutation."""
    per_epoch = frames // batch  # the short remainder of an epoch is dropped
    epoch, slot = divmod(step, per_epoch)
    return _permutation(frames, seed * 1_000_003 + epoch)[slot * batch:(slot + 1) * batch]


@functools.lru_cache(maxsize=2)
def _permutation(frames: int, seed: int) -> torch.Tensor:
    """Return the epoch's permutation of the frames (drawn once per epoch, not per step)."""
    return torch.randperm(frames, generator=torch.Generator().manual_seed(seed))


def commands_before(state: Dict[str, Any], out: str) -> float:
    """Seconds the earlier commands of a resumed run took (from its state or summary)."""
    if 'command_wall_time_s' in state:
        return float(state['command_wall_time_s'])
    path = os.path.join(out, 'summary.json')  # a finished run from before the key
    if os.path.exists(path):
        with open(path, encoding='utf-8') as handle:
            return float(json.load(handle)['training'].get('command_wall_time_s') or 0)
    return 0.0


def load_average(history) -> Optional[Dict[str, float]]:
    """Summarise the 1-minute load average of the logged steps (above the cores: shared)."""
    loads = [h['load'] for h in history if 'load' in h]
    return {'mean': round(sum(loads) / len(loads), 2), 'max': max(loads),
            'cores': os.cpu_count()} if loads else None


class StopRequest:
    """
    While open, a ``SIGTERM`` asks the training loop to save its state at this step and stop.

    The loop reads :attr:`requested` after every step. A second ``SIGTERM`` ends the process at
    once (the signal's default action), for a loop that cannot reach the end of its step.
    Disabled (nothing installed) outside the main thread, and for a run of several processes,
    whose ranks would have to agree on the step to stop at. :meth:`close` puts the previous
    handler back.
    """

    def __init__(self, enabled: bool = True):
        self.requested = False
        self._previous = None
        if enabled and threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGTERM, self._request)

    def _request(self, signum, frame) -> None:
        if self.requested:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)
        self.requested = True

    def close(self) -> None:
        """Restore the handler that was there before."""
        if self._previous is not None:
            signal.signal(signal.SIGTERM, self._previous)
            self._previous = None
