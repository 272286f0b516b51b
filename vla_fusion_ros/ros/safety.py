# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
What stands between the model and the motors: limits, chunk blending and input liveness.

Pure Python and numpy, so every rule here is unit-tested without a ROS graph:

- :class:`ActionLimits` clamps each action dimension and refuses non-finite actions outright.
- :class:`ActionChunkQueue` keeps the action chunks the model predicts, drops the steps that
  inference latency has already overtaken, and blends overlapping chunks (ACT's temporal
  ensembling, weighted toward the freshest observation).
- :class:`Liveness` decides when inputs have stalled: the node then sends one explicit zero
  and stays silent until inputs return (the deadman behaviour of diff_drive_controller and
  twist_mux).
"""

from dataclasses import dataclass
import math
from typing import List, Optional, Sequence, Tuple

import numpy as np


class ActionLimits:
    """Symmetric or asymmetric per-dimension bounds on the published action."""

    def __init__(self, low: Sequence[float], high: Sequence[float]):
        self.low = np.asarray(low, dtype=np.float64)
        self.high = np.asarray(high, dtype=np.float64)
        if self.low.shape != self.high.shape or self.low.ndim != 1:
            raise ValueError(f'action limits: low {list(low)} and high {list(high)} must be '
                             'flat lists of the same length')
        if not (np.all(np.isfinite(self.low)) and np.all(np.isfinite(self.high))):
            raise ValueError('action limits: bounds must be finite')
        if np.any(self.low > 0) or np.any(self.high < 0):
            raise ValueError(f'action limits: zero must lie within [low, high] (low '
                             f'{list(low)}, high {list(high)}), or a stop could not be sent')

    @classmethod
    def symmetric(cls, magnitudes: Sequence[float]) -> 'ActionLimits':
        """Limits of ``[-m, m]`` for each magnitude ``m``."""
        mags = np.abs(np.asarray(magnitudes, dtype=np.float64))
        return cls(-mags, mags)

    @property
    def size(self) -> int:
        """Return the number of action dimensions."""
        return int(self.low.shape[0])

    def clamp(self, action: np.ndarray) -> Tuple[Optional[np.ndarray], bool]:
        """
        Return ``(clamped, was_clipped)``, or ``(None, False)`` for a non-finite action.

        A non-finite action is never repaired into a plausible one: the caller must treat it
        as no action at all.
        """
        action = np.asarray(action, dtype=np.float64).reshape(-1)
        if action.shape[0] != self.size or not np.all(np.isfinite(action)):
            return None, False
        clamped = np.clip(action, self.low, self.high)
        return clamped, bool(np.any(clamped != action))


@dataclass
class _Chunk:
    start: float           # time of the observation the chunk was predicted from, seconds
    actions: np.ndarray    # [k, action_dim]


class ActionChunkQueue:
    """
    Queue of predicted action chunks, sampled at publish time with latency compensation.

    A chunk predicted from an observation taken at ``start`` holds actions for
    ``start + i * period``, ``i = 0 .. k-1``. At time ``now`` each chunk contributes the step
    that covers ``now`` (so the steps that inference latency ate are skipped, not replayed
    late), and overlapping contributions are averaged with weights ``exp(-decay * age)``,
    ``age`` being how old the chunk's observation is. With ``decay = 0`` all chunks count
    equally (ACT's temporal ensembling); a large decay means "newest chunk wins".
    """

    def __init__(self, period: float, decay: float = 2.0, max_chunks: int = 32):
        if period <= 0:
            raise ValueError(f'period must be > 0, got {period}')
        self.period = period
        self.decay = decay
        self.max_chunks = max_chunks
        self._chunks: List[_Chunk] = []

    def push(self, start: float, actions: np.ndarray) -> None:
        """Add a chunk ``[k, action_dim]`` predicted from the observation taken at ``start``."""
        actions = np.asarray(actions, dtype=np.float64)
        if actions.ndim == 1:
            actions = actions[None, :]
        self._chunks.append(_Chunk(start, actions))
        if len(self._chunks) > self.max_chunks:
            self._chunks.pop(0)

    def clear(self) -> None:
        """Forget every queued action (on stop, e-stop, or a new instruction)."""
        self._chunks.clear()

    def __len__(self) -> int:
        return len(self._chunks)

    def sample(self, now: float) -> Optional[np.ndarray]:
        """Return the blended action for ``now``, or ``None`` when no chunk covers it."""
        total, weight_sum, alive = None, 0.0, []
        for chunk in self._chunks:
            index = int(math.floor((now - chunk.start) / self.period + 1e-9))
            if index >= len(chunk.actions):
                continue  # fully in the past: drop it
            alive.append(chunk)
            if index < 0:
                continue  # not yet valid (a clock step backwards); keep it
            weight = math.exp(-self.decay * max(0.0, now - chunk.start))
            contribution = weight * chunk.actions[index]
            total = contribution if total is None else total + contribution
            weight_sum += weight
        self._chunks = alive
        if total is None or weight_sum <= 0.0:
            return None
        return total / weight_sum


class Liveness:
    """
    Tracks when each required input last arrived, and whether output must stop.

    ``update(now)`` returns one of ``'ok'`` (inputs alive), ``'stop'`` (they just stalled:
    publish one zero now) or ``'stopped'`` (still stalled: publish nothing). This is the
    "explicit zero, then silence" rule. :meth:`reasons` says what happened to each stalled
    input: silent for longer than the timeout, or absent for the reason given to
    :meth:`forget` (a publisher that left, an instruction refused, a stream refused).
    """

    def __init__(self, timeout: float, inputs: Sequence[str]):
        if timeout <= 0:
            raise ValueError(f'watchdog timeout must be > 0, got {timeout}')
        self.timeout = timeout
        self._last = dict.fromkeys(inputs)
        self._why = {name: f'no {name} received yet' for name in inputs}
        self.stopped = True      # nothing has arrived yet: nothing is moving
        self.stop_count = 0

    def touch(self, name: str, now: float) -> None:
        """Record that input ``name`` arrived at ``now``."""
        self._last[name] = now

    def forget(self, name: str, reason: str = '') -> None:
        """Mark ``name`` as absent (an instruction cleared, a publisher gone) and say why."""
        self._last[name] = None
        self._why[name] = reason or f'{name} absent'

    def stale_inputs(self, now: float) -> List[str]:
        """Names of inputs that are missing or older than the timeout."""
        return [name for name, last in self._last.items()
                if last is None or now - last > self.timeout]

    def reasons(self, now: float) -> List[str]:
        """Say, for each stale input, what happened to it."""
        out = []
        for name in self.stale_inputs(now):
            last = self._last[name]
            if last is None:
                out.append(self._why[name])
            else:
                out.append(f'no {name} for {now - last:.2f} s (watchdog_timeout '
                           f'{self.timeout:g} s)')
        return out

    def update(self, now: float) -> str:
        """Advance the state machine; see the class docstring for the return values."""
        if self.stale_inputs(now):
            if not self.stopped:
                self.stopped = True
                self.stop_count += 1
                return 'stop'
            return 'stopped'
        self.stopped = False
        return 'ok'
