# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
What a probe records: commands (each checked against the limits on arrival) and frames.

Both are subscription callbacks, safe to read from another thread while they record.
"""

from dataclasses import dataclass
import math
import threading
import time
from typing import List, Optional, Sequence, Tuple

#: The node's default limits, which the tools also set explicitly: |linear.x| (m/s),
#: |angular.z| (rad/s).
LIMITS = (0.5, 1.5)


@dataclass
class Command:
    """One command as the probe received it."""

    received_ns: int           # time.time_ns() at reception
    t_mono: float              # time.monotonic() at reception
    linear: float
    angular: float
    stamp_ns: Optional[int]    # header stamp of TwistStamped commands

    @property
    def t_wall(self) -> float:
        """Return the reception time, s since the epoch."""
        return self.received_ns * 1e-9

    @property
    def stamp(self) -> Optional[float]:
        """Return the header stamp in s (TwistStamped commands only)."""
        return None if self.stamp_ns is None else self.stamp_ns * 1e-9

    @property
    def zero(self) -> bool:
        """Return whether this is an explicit zero command."""
        return self.linear == 0.0 and self.angular == 0.0


def stamp_ns(stamp) -> int:
    """Return a ``builtin_interfaces/Time`` in integer nanoseconds."""
    return int(stamp.sec) * 1_000_000_000 + int(stamp.nanosec)


def check_twist(values: Sequence[float], limits=LIMITS) -> str:
    """Return why a Twist's six values are unsafe, or '' if they are fine."""
    lx, ly, lz, ax, ay, az = values
    if not all(math.isfinite(v) for v in values):
        return f'non-finite command {tuple(values)}'
    if abs(lx) > limits[0] + 1e-9 or abs(az) > limits[1] + 1e-9:
        return f'command ({lx}, {az}) outside the limits {limits}'
    if ly or lz or ax or ay:
        return f'command sets unused axes {tuple(values)}'
    return ''


class CommandLog:
    """Every Twist (or TwistStamped) received on one topic, checked against the limits."""

    def __init__(self, stamped: bool = False, limits=LIMITS):
        self.stamped = stamped
        self.limits = limits
        self.records: List[Command] = []
        self.violations: List[str] = []
        self._lock = threading.Lock()

    def __call__(self, msg) -> None:
        received, t_mono = time.time_ns(), time.monotonic()
        stamp = None
        if self.stamped:
            stamp = stamp_ns(msg.header.stamp)
            msg = msg.twist
        values = (msg.linear.x, msg.linear.y, msg.linear.z,
                  msg.angular.x, msg.angular.y, msg.angular.z)
        problem = check_twist(values, self.limits)
        with self._lock:
            if problem:
                self.violations.append(problem)
            self.records.append(Command(received, t_mono, values[0], values[5], stamp))

    def __len__(self) -> int:
        return len(self.records)

    def since(self, t_mono: float) -> List[Command]:
        """Return the commands received at or after monotonic time ``t_mono``."""
        with self._lock:
            return [c for c in self.records if c.t_mono >= t_mono]

    def moving_since(self, t_mono: float) -> List[Command]:
        """Return the non-zero commands received since ``t_mono``."""
        return [c for c in self.since(t_mono) if not c.zero]

    def first_zero_since(self, t_mono: float) -> Optional[Command]:
        """Return the first zero command received since ``t_mono``, if any."""
        return next((c for c in self.since(t_mono) if c.zero), None)


class ImageLog:
    """
    Header stamps and arrival times of the frames on one topic; the frames too on request.

    While :attr:`recording` is set, every frame is also kept as an rgb array (for a GIF),
    and its header stamp in :attr:`frame_stamps_ns` (to tell which episode it shows).
    """

    def __init__(self, keep: int = 10000):
        self.keep = keep
        self.records: List[Tuple[float, float, float]] = []   # (t_wall, t_mono, stamp_s)
        self.recording = False
        self.frames = []
        self.frame_stamps_ns: List[int] = []
        self._lock = threading.Lock()

    def __call__(self, msg) -> None:
        stamp = stamp_ns(msg.header.stamp) * 1e-9
        frame = None
        if self.recording:
            import numpy as np
            from vla_fusion_ros.ros.image_conversion import image_msg_to_array
            frame = np.array(image_msg_to_array(msg))
        with self._lock:
            self.records.append((time.time(), time.monotonic(), stamp))
            if len(self.records) > self.keep:
                del self.records[:len(self.records) - self.keep // 2]
            if frame is not None:
                self.frames.append(frame)
                self.frame_stamps_ns.append(stamp_ns(msg.header.stamp))

    def fresh(self, within: float = 0.1) -> bool:
        """Return whether a frame arrived in the last ``within`` seconds."""
        with self._lock:
            return bool(self.records) and time.monotonic() - self.records[-1][1] < within

    def last_before(self, t_wall: float):
        """Return the last ``(t_wall, t_mono, stamp)`` received before ``t_wall``."""
        with self._lock:
            earlier = [r for r in self.records if r[0] <= t_wall]
        return earlier[-1] if earlier else None
