# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Frame loss from gaps in header stamps (stats.FrameLossMeter) and what diagnostics make of it.

A third of the frames lost, 40 % lost at random, a jittery camera that loses nothing, a
stalled or restarted camera, and a known camera rate: each must give the right count.
"""

import random

import pytest

from vla_fusion_ros.ros.diagnostic_keys import IMAGE_FRAMES_LOST
from vla_fusion_ros.ros.input_health import grey_encoding, InputHealth, refuses_mono
from vla_fusion_ros.ros.stats import FrameLossMeter

PERIOD = 1.0 / 30.0


def _feed(meter, stamps, **kwargs):
    return sum(meter.add(s, s, **kwargs) for s in stamps)


def test_every_third_frame_lost():
    meter = FrameLossMeter(window=100.0)
    stamps = [k * PERIOD for k in range(300) if k % 3 != 2]
    lost = _feed(meter, stamps)
    assert lost == pytest.approx(100, abs=4)   # the first gaps come before the estimate
    _, received, fraction, rate = meter.summary(stamps[-1])
    assert received == 200 and fraction == pytest.approx(1 / 3, abs=0.02)
    assert rate == pytest.approx(30.0, rel=0.01)


def test_random_loss_with_jitter():
    rng = random.Random(4)
    meter = FrameLossMeter(window=100.0)
    kept = [k for k in range(3000) if rng.random() > 0.4]
    stamps = [k * PERIOD + rng.gauss(0.0, 0.002) for k in kept]
    lost = _feed(meter, stamps)
    assert lost == pytest.approx(3000 - len(kept), rel=0.03)


def test_jitter_alone_is_not_loss():
    rng = random.Random(5)
    meter = FrameLossMeter()
    stamps = [k * PERIOD + rng.uniform(-0.008, 0.008) for k in range(600)]
    assert _feed(meter, stamps) == 0


def test_stall_and_restart_are_not_loss():
    meter = FrameLossMeter()
    first = [k * PERIOD for k in range(60)]
    stalled = [10.0 + k * PERIOD for k in range(60)]        # 8 s without frames
    restarted = [1.0 + k * PERIOD for k in range(60)]       # the stamps went back
    assert _feed(meter, first + stalled + restarted, stall=0.5) == 0


def test_expected_rate_counts_from_the_first_gap():
    meter = FrameLossMeter()
    assert meter.add(0.0, 0.0, expected_rate=30.0) == 0
    assert meter.add(4 * PERIOD, 0.1, expected_rate=30.0) == 3


def test_diagnostics_warn_with_the_figure_and_the_fix():
    health = InputHealth(window=5.0)
    for k in range(150):
        if k % 3 != 2:
            health.loss.add(k * PERIOD, k * PERIOD)
    values, problem = health.assess(150 * PERIOD, 0.0)
    level, message = problem
    assert level == 'WARN' and 'fastdds.xml' in message
    assert f'{dict(values)[IMAGE_FRAMES_LOST]}%' in message
    health.refuse('mono8', 5.0)
    level, message = health.assess(5.1, 0.0)[1]
    assert level == 'ERROR' and 'mono8' in message and 'accept_mono' in message


def test_grey_encodings():
    assert grey_encoding('mono8') == 'mono8' and grey_encoding('rgb8') is None
    assert grey_encoding(None, 'mono16; png compressed mono16') == 'mono16'
    assert grey_encoding(None, 'rgb8; jpeg compressed bgr8') is None
    assert grey_encoding(None, 'jpeg') is None
    assert refuses_mono(3, False) and not refuses_mono(3, True)
