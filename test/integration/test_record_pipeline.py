# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
End to end, small: the simulated world's expert teleop -> recorder -> bag_to_lerobot -> v3.

The recording graph runs as a user runs it without ``launch``
(``python -m vla_fusion_ros.tools.graph --record use_sim:=true ...``); no fusion node is
involved. The converted dataset must be valid, hold one episode per scene with its outcome,
and pair every frame with exactly the command the in-process dataset generator labels the same
scene's frame with (same seeds, same actuation noise: the same episodes).
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import yaml

from conftest import REPO  # noqa: I100 (the tests' own)
from vla_fusion_ros.data import bag_to_lerobot
from vla_fusion_ros.data.lerobot_dataset import load
from vla_fusion_ros.data.lerobot_v3_validate import validate
from vla_fusion_ros.train.dataset import generate

# Nodes over DDS (the graph runner starts sim_world and the recorder).
pytestmark = pytest.mark.ros

EPISODES = 3
CAMERA = (64, 48)


def test_teleop_recording_converts_to_the_in_process_episodes(tmp_path, capsys):
    with open(os.path.join(REPO, 'config', 'record.yaml'), encoding='utf-8') as handle:
        params = yaml.safe_load(handle)
    params['sim_world']['ros__parameters'].update(image_width=CAMERA[0], image_height=CAMERA[1])
    params_file = tmp_path / 'record.yaml'
    params_file.write_text(yaml.safe_dump(params), encoding='utf-8')
    bags = tmp_path / 'bags'
    result = subprocess.run(
        [sys.executable, '-m', 'vla_fusion_ros.tools.graph', '--record', 'use_sim:=true',
         f'episodes:={EPISODES}', f'output_dir:={bags}', f'params_file:={params_file}'],
        capture_output=True, text=True, timeout=120, cwd=REPO)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    recorded = sorted(str(p) for p in bags.iterdir())
    assert len(recorded) == EPISODES, result.stderr[-3000:]

    dataset = str(tmp_path / 'dataset')
    rate = int(params['sim_world']['ros__parameters']['rate'])
    code = bag_to_lerobot.main([*recorded, '--out', dataset, '--fps', str(rate), '--clock',
                                'header', '--episode-topic', '/episode_events',
                                '--keep-failed'])
    report = capsys.readouterr()
    assert code == 0, report.err
    assert validate(dataset) == []
    frames = load(dataset, 32)

    expected = generate(EPISODES, seed=0, render_sizes=[CAMERA])
    assert len(frames.actions) == len(expected['actions']), \
        report.out + result.stdout[-3000:] + result.stderr[-3000:]
    np.testing.assert_array_equal(frames.actions, expected['actions'])
    np.testing.assert_array_equal(frames.episode_index, expected['episode'])
    tasks = [frames.tasks[i] for i in frames.task_index]
    assert tasks == [str(expected['instructions'][i]) for i in expected['instruction_id']]
    with open(os.path.join(dataset, 'meta', 'conversion.json'), encoding='utf-8') as handle:
        totals = json.load(handle)['totals']
    assert totals['no_command'] == 0 and totals['unused_images'] == 0
