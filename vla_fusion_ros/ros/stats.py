# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Thread-safe rate meters, latency windows and counters for diagnostics and benchmarks."""

from collections import Counter, deque
import threading
from typing import Dict, Optional, Tuple

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


class FrameLossMeter:
    """
    Frames lost between the camera and the node, counted from gaps in their header stamps.

    A camera stamps frames at its own rate; a gap of ``k`` periods between two consecutive
    stamps the node received means ``k - 1`` frames were lost on the way (the transport, or
    the node's own best-effort queue). The period is ``1 / expected_rate`` when that is known,
    else the median of the recent stamp gaps shorter than 1.5 times their 25th percentile
    (the single-period gaps): right as long as fewer than three frames in four are lost,
    and not shortened by jitter. A gap of less than :data:`GAP`
    periods is a late frame, not a lost one; a gap longer than ``stall`` seconds is a stalled
    or restarted source (the watchdog's business), and a stamp that goes back restarts the
    count.
    """

    #: Periods between two stamps from which frames count as lost.
    GAP = 1.75
    #: Stamp gaps needed before the period is estimated from them.
    MIN_GAPS = 8

    def __init__(self, window: float = 5.0, history: int = 64):
        self.window = window
        self._gaps = deque(maxlen=history)
        self._last_stamp: Optional[float] = None
        self._events = deque()   # (receive time, frames lost just before this one)
        self._lock = threading.Lock()

    def _period(self, expected_rate: float) -> Optional[float]:
        if expected_rate > 0:
            return 1.0 / expected_rate
        if len(self._gaps) < self.MIN_GAPS:
            return None
        gaps = sorted(self._gaps)   # plain Python: numpy's overhead dominates at 64 values
        low = gaps[len(gaps) // 4]
        single = [g for g in gaps if g < 1.5 * low]
        return single[len(single) // 2]

    def add(self, stamp: float, now: float, expected_rate: float = 0.0,
            stall: float = 1.0) -> int:
        """Record a frame stamped ``stamp``, received at ``now``; return the frames lost before."""
        with self._lock:
            last, self._last_stamp = self._last_stamp, stamp
            lost = 0
            if last is not None and 0.0 < stamp - last <= stall:
                gap = stamp - last
                self._gaps.append(gap)
                period = self._period(expected_rate)
                if period and gap >= self.GAP * period:
                    lost = int(gap / period + 0.25) - 1
            self._events.append((now, lost))
            self._trim(now)
            return lost

    def _trim(self, now: float) -> None:
        while self._events and now - self._events[0][0] > self.window:
            self._events.popleft()

    def summary(self, now: float, expected_rate: float = 0.0) -> Tuple[int, int, float, float]:
        """
        Return ``(lost, received, loss fraction, source rate Hz)`` over the last window.

        The source rate is 0 while the period is unknown.
        """
        with self._lock:
            self._trim(now)
            lost = sum(n for _, n in self._events)
            received = len(self._events)
            period = self._period(expected_rate)
        fraction = lost / (lost + received) if lost + received else 0.0
        return lost, received, fraction, (1.0 / period if period else 0.0)
