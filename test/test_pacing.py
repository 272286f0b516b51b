# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The control_rate limit, replayed on frame arrival times (no clock, no ROS)."""

import numpy as np
import pytest

from vla_fusion_ros.ros import pacing
from vla_fusion_ros.ros.pacing import InferencePacer

PERIOD = 1.0 / 30.0
COST = 0.002  # s, one inference


def _camera(seconds=20.0, jitter=0.001, seed=0, start=0.0):
    rng = np.random.default_rng(seed)
    n = int(seconds / PERIOD)
    return start + np.arange(n) * PERIOD + np.abs(rng.normal(0.0, jitter, n))


def replay(arrivals, period, cost):
    """
    Replay the node's inference loop on frame arrival times (s): how long each frame waits.

    The loop waits as :class:`InferencePacer` says, then takes the newest frame; ``cost`` is
    the time one inference holds the thread. Returns the waits of the processed frames
    (arrival to start, ms), the starts (s) and how many frames were superseded.
    """
    arrivals = sorted(arrivals)
    waits, starts, taken, i, free = [], [], 0, 0, 0.0
    pacer = InferencePacer(1.0 / period)
    while True:
        # the thread is free at `free`: wait for a frame, if none has arrived since the last
        while i < len(arrivals) and arrivals[i] <= free:
            i += 1
        if i - 1 < taken:  # nothing new has arrived: sleep until the next frame
            if i >= len(arrivals):
                break
            free = arrivals[i]
            continue
        start = free + pacer.wait(free)
        while i < len(arrivals) and arrivals[i] <= start:
            i += 1
        frame = i - 1  # taken after the wait: the newest by then
        pacer.start(start)
        starts.append(start)
        waits.append(1e3 * (start - arrivals[frame]))
        taken = frame + 1
        free = start + cost
    waits_ms = np.asarray(waits)
    return {'processed': len(waits), 'superseded': len(arrivals) - len(waits),
            'waits_ms': waits, 'starts_s': starts,
            'wait': {'p50': float(np.percentile(waits_ms, 50)) if waits else 0.0,
                     'p99': float(np.percentile(waits_ms, 99)) if waits else 0.0,
                     'max': float(waits_ms.max()) if waits else 0.0}}


def _waits(arrivals):
    return replay(arrivals, PERIOD, COST)


def test_a_jittered_camera_at_the_rate_is_not_held_back():
    result = _waits(_camera(jitter=0.003))
    assert result['superseded'] == 0
    assert result['wait']['p99'] < 1.0  # ms


#: Arrivals at exactly 30 Hz but for a few bunched frames (gaps in periods; found by replaying
#: 3000 random disturbances without the leak: 11 of them left a delay for good, this one
#: 8.5 ms on every frame after the last disturbance).
BUNCHED_GAPS = {11: 1.918, 12: 0.082, 30: 2.336, 31: 0.664, 32: 0.165, 33: 0.835, 78: 2.0,
                79: 0.14, 80: 0.86, 99: 1.081}


def _bunched(frames=400):
    gaps = np.ones(frames - 1)
    for index, gap in BUNCHED_GAPS.items():
        gaps[index] = gap
    return np.concatenate([[0.0], np.cumsum(gaps)]) * PERIOD


def test_bunched_frames_do_not_lock_in_a_delay():
    waits = np.asarray(_waits(_bunched())['waits_ms'])
    settle = 100 + int(np.ceil(pacing.TOLERANCE / pacing.LEAK))
    assert np.all(waits[settle:] < 0.01), waits[100:settle + 5]


def test_without_the_leak_the_delay_locks_in(monkeypatch):
    """The failure the leak fixes, shown, so the test above cannot pass by accident."""
    monkeypatch.setattr(pacing, 'LEAK', 0.0)
    waits = np.asarray(_waits(_bunched())['waits_ms'])
    assert np.all(waits[-200:] > 8.0), waits[-5:]


def test_a_flood_is_held_near_the_rate_with_even_spacing():
    arrivals = np.arange(0.0, 10.0, 1.0 / 200.0)
    result = _waits(arrivals)
    rate = result['processed'] / 10.0
    assert 30.0 * 0.97 <= rate <= 30.0 * (1.0 + pacing.LEAK / (1.0 - pacing.LEAK)) + 0.5
    # After the first two (the bucket's burst of two), starts are evenly spaced.
    spacing = np.diff(np.asarray(result['starts_s'])[2:])
    assert spacing.min() >= (1.0 - pacing.LEAK) * PERIOD - 1e-9
    assert spacing.max() <= PERIOD


def test_a_camera_slower_than_the_rate_never_waits():
    result = _waits(np.arange(0.0, 10.0, 1.0 / 20.0))
    assert result['superseded'] == 0 and result['wait']['max'] == 0.0


@pytest.mark.parametrize('rate', [0.0, -1.0, float('nan')])
def test_a_rate_that_is_not_positive_is_refused(rate):
    with pytest.raises(ValueError, match='control_rate'):
        InferencePacer(rate)
