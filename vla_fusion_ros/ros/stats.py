# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Thread-safe rate meters, latency windows and counters for diagnostics and benchmarks."""

from collections import Counter, deque
import threading
from typing import Dict, Optional

import numpy as np


class RateMeter:
    """Measured event rate over a sliding time window (what the node actually receives)."""

    def __init__(self, window: float = 2.0):
        self.window = window
        self._times = deque()
        self._lock = threading.Lock()

    def tick(self, now: float) -> None:
        """Record one event at ``now`` (seconds, monotonic)."""
        with self._lock:
            self._times.append(now)
            self._trim(now)

    def _trim(self, now: float) -> None:
        while self._times and now - self._times[0] > self.window:
            self._times.popleft()

    def rate(self, now: float) -> float:
        """Events per second over the last window (0 when fewer than two events)."""
        with self._lock:
            self._trim(now)
            if len(self._times) < 2:
                return 0.0
            span = self._times[-1] - self._times[0]
            return (len(self._times) - 1) / span if span > 0 else 0.0


class LatencyWindow:
    """The last ``size`` samples of a duration, with percentiles in milliseconds."""

    def __init__(self, size: int = 1000):
        self._values = deque(maxlen=size)
        self._lock = threading.Lock()

    def add(self, seconds: float) -> None:
        """Record one duration in seconds."""
        with self._lock:
            self._values.append(seconds)

    def __len__(self) -> int:
        return len(self._values)

    def percentiles_ms(self, *qs: float) -> Optional[Dict[float, float]]:
        """Return ``{q: value_ms}`` for the requested percentiles, or ``None`` if empty."""
        with self._lock:
            if not self._values:
                return None
            values = np.fromiter(self._values, dtype=np.float64)
        return {q: float(np.percentile(values, q) * 1e3) for q in qs}


class Counters:
    """Named monotonically increasing counters (received, dropped, rejected, ...)."""

    def __init__(self):
        self._counts = Counter()
        self._lock = threading.Lock()

    def add(self, name: str, amount: int = 1) -> None:
        """Increase counter ``name``."""
        with self._lock:
            self._counts[name] += amount

    def get(self, name: str) -> int:
        """Return the value of ``name`` (0 if never counted)."""
        with self._lock:
            return self._counts[name]

    def snapshot(self) -> Dict[str, int]:
        """Return a copy of every counter."""
        with self._lock:
            return dict(self._counts)
