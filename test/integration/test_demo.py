# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
``scripts/demo``'s GIF shows the episode it reports: its executed actions replayed.

The demo runs (world and fusion node as processes over DDS) for one typed instruction; every
frame of the GIF must be a frame of the staged scene: the first one is that scene's start,
rendered again here by the same deterministic world.
"""

import subprocess
import sys

import numpy as np
import pytest

pytestmark = pytest.mark.ros

INSTRUCTION = 'go to the blue square'


def _gif_frames(path):
    from PIL import Image, ImageSequence
    with Image.open(path) as gif:
        return [np.asarray(frame.convert('RGB')) for frame in ImageSequence.Iterator(gif)]


def test_demo_gif_starts_with_the_episode_scene(tmp_path):
    from vla_fusion_ros.sim.world import draw_overhead, World
    from vla_fusion_ros.tools import demo
    gif = tmp_path / 'demo.gif'
    result = subprocess.run([sys.executable, '-m', 'vla_fusion_ros.tools.demo', INSTRUCTION,
                             '--gif', str(gif), '--timeout', '60'],
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert 'the same outcome' in result.stdout, result.stdout[-3000:]
    frames = _gif_frames(gif)
    (seed, _), = demo.plan_episodes([INSTRUCTION], 0)
    world = World()
    world.reset(seed)
    start = demo.compose(world.render(*demo.CAMERA), draw_overhead(world, 192)).astype(np.int16)
    first = frames[0].astype(np.int16)
    assert first.shape == start.shape
    error = np.abs(first - start).mean()
    assert error < 1.0, f'the first GIF frame is not scene {seed} (mean error {error:.1f})'
