# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
When the next inference may start: the node's ``control_rate`` limit.

Three things are asked of the limit:

1. a camera faster than ``control_rate`` is held to about that rate, with evenly spaced starts;
2. a camera at ``control_rate`` whose frames jitter around the period is never held back
   ("one period since the last start" made every late frame delay all the ones after it:
   a random walk);
3. a camera at ``control_rate`` is not held back for good by one transient either.

The schedule is a token bucket (GCRA): an inference is due one period after the previous one
was due, and may start up to half a period early, so two frames that arrive close together
both pass. A limit of exactly the camera's rate with such memory can lock in a delay: after a
frame arrives half a period early (a camera restart, a burst after a stall), every later frame
on the same schedule waits the same few milliseconds, because a stream at exactly the limit
leaves no slack to pay the debt back (the benchmark caught this, after its warm-up stream and
the measured one met out of phase; test_pacing.py replays such arrivals with and without the
leak). So
the schedule forgives :data:`LEAK` of a period at every start: a delay decays within about
``0.5 / LEAK`` frames, and the long-run rate may exceed ``control_rate`` by at most
``LEAK / (1 - LEAK)`` (5.3 %).
"""

#: Share of a period the schedule forgives at every start (see the module's docstring).
LEAK = 0.05
#: How early, in periods, an inference may start before it is due.
TOLERANCE = 0.5


class InferencePacer:
    """The inference thread's schedule: how long to wait before the next start."""

    def __init__(self, rate: float):
        if not rate > 0:
            raise ValueError(f'control_rate: must be > 0 Hz (got {rate})')
        self.period = 1.0 / rate
        self._due = float('-inf')  # when the next inference is due

    def wait(self, now: float) -> float:
        """Return the seconds to wait from ``now`` before the next inference may start."""
        return max(0.0, self._due - TOLERANCE * self.period - now)

    def start(self, now: float) -> None:
        """Record an inference starting at ``now`` (after :meth:`wait`)."""
        earliest = now - TOLERANCE * self.period
        self._due = max(self._due - LEAK * self.period, earliest) + self.period
