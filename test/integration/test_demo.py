# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
``scripts/demo``'s GIF shows the episode it reports, from its first frame to its last.

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
    from vla_fusion_ros.sim.world import World
    from vla_fusion_ros.tools import demo
    gif = tmp_path / 'demo.gif'
    result = subprocess.run([sys.executable, '-m', 'vla_fusion_ros.tools.demo', INSTRUCTION,
                             '--gif', str(gif), '--timeout', '60'],
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    frames = _gif_frames(gif)
    (seed, _), = demo.plan_episodes([INSTRUCTION], 0)
    world = World()
    world.reset(seed)
    scale = demo.GIF_SCALE
    start = np.kron(world.render(), np.ones((scale, scale, 1), np.uint8)).astype(np.int16)
    first = frames[0].astype(np.int16)
    assert first.shape == start.shape
    error = np.abs(first - start).mean()
    assert error < 1.0, f'the first GIF frame is not scene {seed} (mean error {error:.1f})'


def test_episode_frames_keeps_the_reported_stamps_in_order():
    from vla_fusion_ros.tools.demo import episode_frames
    frames = [(stamp, np.full((2, 2, 3), stamp, np.uint8)) for stamp in (5, 10, 30, 20, 20, 40)]
    kept = episode_frames(frames, {'first_frame_stamp_ns': 10, 'last_frame_stamp_ns': 30})
    assert [int(f[0, 0, 0]) for f in kept] == [10, 20, 30]
    assert episode_frames(frames, {'first_frame_stamp_ns': None}) == []
