# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The benchmark in miniature: its conversion and resize claims, its verdicts, one tiny run.

The figures themselves depend on the machine; these tests check that the command runs end to
end over DDS (floor, fusion node, flood) and writes its three files, that the conversion is
a view plus one small copy, and that the verdicts follow the issue's formulas.
"""

import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from vla_fusion_ros.ros.image_conversion import area_resize
from vla_fusion_ros.tools import bench_report

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Nodes over DDS: run on every tested distribution (scripts/test: -m ros on Jazzy).
pytestmark = pytest.mark.ros


def _scene():
    from vla_fusion_ros.sim.shapes import SyntheticScene
    return SyntheticScene(640, 480, seed=0, num_shapes=4).render(0)


def test_area_resize_stays_close_to_inter_area():
    frame = _scene()
    for size in ((64, 64), (32, 32), (128, 96)):
        fast = area_resize(frame, size).astype(int)
        direct = cv2.resize(frame, size, interpolation=cv2.INTER_AREA).astype(int)
        assert fast.shape == direct.shape
        assert np.abs(fast - direct).mean() < 0.5 and np.abs(fast - direct).max() <= 32
    odd = frame[:479, :639]  # odd sizes are never halved: exactly INTER_AREA
    np.testing.assert_array_equal(area_resize(odd, (64, 64)),
                                  cv2.resize(odd, (64, 64), interpolation=cv2.INTER_AREA))
    first, second = area_resize(frame, (64, 64)), area_resize(frame, (64, 64))
    assert not np.shares_memory(first, second)  # scratch buffers never leak out


def test_conversion_is_a_view_plus_one_small_copy():
    from vla_fusion_ros.tools.bench_model import conversion, frame_message
    result = conversion(frame_message(), iterations=20)
    assert result['view_shares_message_buffer'] and not result['view_owns_data']
    assert result['output_owns_data'] and result['tensor_shares_output']
    assert result['frame_copies'] == 0
    assert result['peak_new_bytes'] < 64 * 1024  # the 12 KiB model input, nothing like 900 KiB


def _phase(p50, p99, rate=30.0, delivered=1.0, **extra):
    phase = {'latency': {'n': 100, 'p50': p50, 'p99': p99, 'max': p99}, 'input_rate_hz': 30.0,
             'command_rate_hz': rate, 'delivered': delivered, 'latencies_ms': [p50, p99],
             'latency_first_third_p50': p50, 'latency_last_third_p50': p50,
             'load_after': [1.0, 1.0, 1.0]}
    phase.update(extra)
    return phase


def test_verdicts_follow_the_issue(tmp_path):
    model = {'preprocess': {'n': 10, 'p50': 0.4, 'p99': 0.5},
             'forward': {'n': 10, 'p50': 0.6, 'p99': 0.8},
             'total': {'n': 10, 'p50': 1.0, 'p99': 1.3}}
    results = {
        'floor': {'single': _phase(2.0, 4.0)},
        'node': {'default': _phase(3.2, 7.0, counter_deltas={
            'frames_received': 600, 'commands_published': 599})},
        'model_cost': {'served_1t': model},
        'flood': _phase(4.0, 8.0, rate_hz=200.0, duration_s=10.0, published=2000, commands=300,
                        rss_before=100 * 2**20, rss_after=102 * 2**20, rss_growth=0.02,
                        diagnostics_after={'frame age p50/p95/p99 (ms)': [3.0, 5.0, 6.0],
                                           'receipt to inference p50/p99/max (ms)':
                                           [1.0, 5.0, 6.0]}),
        'conversion': {'frame': '640x480 rgb8 -> 64x64', 'total': {'p50': 0.4, 'p99': 0.6},
                       'view_owns_data': False,
                       'view_shares_message_buffer': True, 'frame_copies': 0,
                       'peak_new_bytes': 12288},
    }
    verdicts = {c['check'].split(' (')[0]: c['pass'] for c in bench_report.checks(results)}
    assert verdicts['node p50 <= floor p50 + 1.25 x'] is True   # 3.2 <= 2 + 1.25
    assert verdicts['node p99 within 2 ms of floor p99 + model p99'] is True  # 7 <= 7.3
    assert verdicts['30 Hz sustained, no growing backlog'] is True
    assert verdicts['flood: RSS growth < 5%'] is True
    never_older = 'flood: processed frame never older than input period + inference time, ' \
        'counted from its receipt'
    assert verdicts[never_older] is True  # 6.0 <= 5 + 1.3
    assert all(verdicts.values())
    results['node']['default']['latency']['p50'] = 3.5          # 3.5 > 3.25: fails
    results['flood']['rss_growth'] = 0.06
    results['flood']['diagnostics_after']['receipt to inference p50/p99/max (ms)'][2] = 6.4
    verdicts = {c['check'].split(' (')[0]: c['pass'] for c in bench_report.checks(results)}
    assert verdicts['node p50 <= floor p50 + 1.25 x'] is False
    assert verdicts['flood: RSS growth < 5%'] is False
    assert verdicts[never_older] is False  # the worst frame, not a percentile, is judged


def test_tiny_benchmark_runs_end_to_end(tmp_path):
    """The whole command, seconds long: model half and DDS half, three files written."""
    env = dict(os.environ, PYTHONUNBUFFERED='1')
    cmd = [sys.executable, '-m', 'vla_fusion_ros.tools.benchmark', '--tiny', '--out',
           str(tmp_path)]
    if os.environ.get('VFR_DISTRO', 'kilted') != 'kilted':
        # The configuration and growth tables time torch and ONNX Runtime alone, the same on
        # every distribution: the second one runs only what touches ROS.
        cmd.append('--no-tables')
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=170)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for ext in ('json', 'md', 'png'):
        assert (tmp_path / f'benchmark.{ext}').stat().st_size > 0
    results = json.loads((tmp_path / 'benchmark.json').read_text())
    assert results['floor']['single']['commands'] > 0
    assert results['node']['default']['commands'] > 0
    flood = results['flood']
    assert flood['commands'] > 0 and flood['rss_before'] > 0
    assert flood['commands'] <= 30.0 * flood['duration_s'] * 1.2 + 3  # control_rate caps it
    assert len(results['checks']) >= 6
    assert '## Done when' in (tmp_path / 'benchmark.md').read_text()
