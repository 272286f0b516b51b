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
import signal
import subprocess
import sys

import pytest
import yaml

# A launch of nodes over DDS: every tested distribution (scripts/test: -m ros on Jazzy).
pytestmark = pytest.mark.ros

pytest.importorskip(
    'launch', reason='launch is not installed (not on PyPI; it comes with a ROS 2 install)')
pytest.importorskip(
    'launch_ros', reason='launch_ros is not installed (not on PyPI; it comes with a ROS 2 '
    'install)')

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAUNCH_FILE = os.path.join(REPO, 'launch', 'record.launch.py')

#: Runs the launch file with a LaunchService, as ``ros2 launch`` does; arguments as name:=value.
RUNNER = r"""
import sys
from launch import LaunchDescription, LaunchService
from launch.actions import IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
arguments = dict(a.split(':=', 1) for a in sys.argv[2:])
service = LaunchService()
service.include_launch_description(LaunchDescription([IncludeLaunchDescription(
    PythonLaunchDescriptionSource(sys.argv[1]), launch_arguments=arguments.items())]))
sys.exit(service.run())
"""


def _launch(*arguments, timeout=60):
    proc = subprocess.Popen([sys.executable, '-c', RUNNER, LAUNCH_FILE, *arguments],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGINT)
        output, _ = proc.communicate(timeout=30)
        pytest.fail(f'the launch ran on for {timeout} s:\n{output[-3000:]}')
    return proc.returncode, output


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
