# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Unit tests of the safety rules: limits, chunk blending with latency compensation, liveness."""

import math

from hypothesis import given, settings
from hypothesis import strategies as st
import numpy as np
import pytest

from vla_fusion_ros.ros.safety import ActionChunkQueue, ActionLimits, Liveness


def test_limits_clamp_and_report():
    limits = ActionLimits.symmetric([0.5, 1.5])
    out, clipped = limits.clamp([2.0, -0.3])
    assert out.tolist() == [0.5, -0.3] and clipped
    out, clipped = limits.clamp([0.1, 0.2])
    assert out.tolist() == [0.1, 0.2] and not clipped


@pytest.mark.parametrize('bad', [[math.nan, 0.0], [0.0, math.inf], [-math.inf, 1.0], [1.0]])
def test_limits_refuse_non_finite_or_wrong_size(bad):
    assert ActionLimits.symmetric([0.5, 1.5]).clamp(bad) == (None, False)


def test_limits_must_contain_zero():
    with pytest.raises(ValueError, match='zero must lie'):
        ActionLimits([0.1, -1.0], [0.5, 1.0])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), min_size=2,
                max_size=2))
def test_limits_never_emit_out_of_range_or_non_finite(values):
    limits = ActionLimits.symmetric([0.5, 1.5])
    out, _ = limits.clamp(values)
    if out is not None:
        assert np.all(np.isfinite(out))
        assert np.all(np.abs(out) <= [0.5, 1.5])


def test_chunk_queue_skips_steps_that_latency_overtook():
    queue = ActionChunkQueue(period=0.1, decay=0.0)
    chunk = np.arange(10, dtype=float)[:, None] * [1.0, 0.0]    # step i -> action i
    queue.push(start=5.0, actions=chunk)
    # 0.25 s after the observation, step 2 is due (steps 0 and 1 were eaten by latency).
    assert queue.sample(5.25)[0] == pytest.approx(2.0)
    assert queue.sample(5.95)[0] == pytest.approx(9.0)
    assert queue.sample(6.05) is None and len(queue) == 0       # expired and dropped


def test_chunk_queue_blends_toward_fresher_observation():
    queue = ActionChunkQueue(period=0.1, decay=5.0)
    queue.push(0.0, np.full((10, 2), 1.0))
    queue.push(0.3, np.full((10, 2), 0.0))
    value = queue.sample(0.35)[0]
    w_old, w_new = math.exp(-5.0 * 0.35), math.exp(-5.0 * 0.05)
    assert value == pytest.approx(w_old / (w_old + w_new))
    assert value < 0.5                                            # the fresher chunk weighs more
    queue.clear()
    assert queue.sample(0.4) is None


def test_liveness_sends_one_stop_then_silence():
    live = Liveness(0.5, ('image', 'instruction'))
    assert live.update(0.0) == 'stopped'          # nothing yet: not moving, nothing to send
    live.touch('image', 0.0)
    live.touch('instruction', 0.0)
    assert live.update(0.1) == 'ok'
    assert live.update(0.6) == 'stop'             # image stalled: one zero
    assert live.update(0.7) == 'stopped'          # then silence
    assert live.stale_inputs(0.7) == ['image', 'instruction']
    live.touch('image', 0.8)
    live.touch('instruction', 0.8)
    assert live.update(0.8) == 'ok'
    live.forget('instruction')
    assert live.update(0.81) == 'stop'
    assert live.stop_count == 2


def test_liveness_says_why_each_input_stalled():
    live = Liveness(0.5, ['image', 'instruction'])
    live.touch('image', 10.0)
    live.touch('instruction', 10.0)
    assert live.update(10.1) == 'ok' and live.reasons(10.1) == []
    live.forget('instruction', "the instruction's publisher left /x")
    assert live.update(10.7) == 'stop'
    assert live.reasons(10.7) == ['no image for 0.70 s (watchdog_timeout 0.5 s)',
                                  "the instruction's publisher left /x"]
    live.timeout = 2.0   # a new timeout holds at once
    live.touch('instruction', 10.7)
    assert live.reasons(10.8) == []


def test_liveness_before_anything_arrived():
    live = Liveness(0.5, ['image', 'instruction'])
    assert live.reasons(0.0) == ['no image received yet', 'no instruction received yet']
