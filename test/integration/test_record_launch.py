# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
``launch/record.launch.py`` as ``ros2 launch`` runs it.

The simulated teleop records, the launch ends with the world and every bag is closed; a bad
argument stops it with one line before any node starts.

launch and launch_ros are not on PyPI: where they are missing the module is skipped and the
skip says why (the same graph is tested without launch in test_record_pipeline.py).
"""

import glob
import os

import pytest
import yaml

from integration_helpers import require_launch, run_launch_file  # noqa: I100 (the tests' own)

# A launch of nodes over DDS: every tested distribution (scripts/test: -m ros on Jazzy).
pytestmark = pytest.mark.ros

require_launch(__name__)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAUNCH_FILE = os.path.join(REPO, 'launch', 'record.launch.py')


def _launch(*arguments, timeout=60):
    return run_launch_file(LAUNCH_FILE, *arguments, timeout=timeout)


def test_the_simulated_teleop_records_and_the_launch_ends_with_the_world(tmp_path):
    with open(os.path.join(REPO, 'config', 'record.yaml'), encoding='utf-8') as handle:
        params = yaml.safe_load(handle)
    params['sim_world']['ros__parameters'].update(image_width=64, image_height=48)
    params_file = tmp_path / 'record.yaml'
    params_file.write_text(yaml.safe_dump(params), encoding='utf-8')
    code, output = _launch(f'params_file:={params_file}', 'use_sim:=true', 'episodes:=2',
                           f'output_dir:={tmp_path / "bags"}')
    assert code == 0, output[-3000:]
    closed = glob.glob(str(tmp_path / 'bags' / 'episode_*' / 'metadata.yaml'))
    assert len(closed) == 2, output[-3000:]
    assert 'recorder-2] [recorder] closed: 2 bags' in output, output[-3000:]


def test_a_bad_argument_stops_the_launch_before_any_node(tmp_path):
    code, output = _launch('episodes:=3')          # episodes without use_sim
    errors = [line for line in output.splitlines() if '[ERROR]' in line]
    assert code != 0 and len(errors) == 1 and 'use_sim:=true' in errors[0], output
    assert 'process started' not in output, output
