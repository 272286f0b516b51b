# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
``launch/fusion.launch.py`` refuses a params_file that does not exist, before any node starts.

launch_ros alone only warns ("Parameter file path is not a file") and runs the nodes on their
built-in defaults: a robot would drive with limits nobody chose. The launch must end non-zero
with one error line naming the file. launch and launch_ros are not on PyPI: where they are
missing the module is skipped and the skip says why.
"""

import os
import signal
import subprocess
import sys

import pytest

# A launch of nodes over DDS: every tested distribution (scripts/test: -m ros on Jazzy).
pytestmark = pytest.mark.ros

pytest.importorskip(
    'launch', reason='launch is not installed (not on PyPI; it comes with a ROS 2 install)')
pytest.importorskip(
    'launch_ros', reason='launch_ros is not installed (not on PyPI; it comes with a ROS 2 '
    'install)')

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAUNCH_FILE = os.path.join(REPO, 'launch', 'fusion.launch.py')

#: Runs the package's launch file with a LaunchService, as ``ros2 launch`` does.
RUNNER = r"""
import sys
from launch import LaunchDescription, LaunchService
from launch.actions import IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
service = LaunchService()
service.include_launch_description(LaunchDescription([IncludeLaunchDescription(
    PythonLaunchDescriptionSource(sys.argv[1]),
    launch_arguments={'params_file': sys.argv[2], 'use_sim': 'true'}.items())]))
sys.exit(service.run())
"""


def test_missing_params_file_stops_the_launch(tmp_path):
    missing = str(tmp_path / 'nowhere.yaml')
    # Its own session: a launch that runs anyway is stopped with every node it started.
    proc = subprocess.Popen([sys.executable, '-c', RUNNER, LAUNCH_FILE, missing],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGINT)
        output, _ = proc.communicate(timeout=30)
        pytest.fail(f'the launch ran on for 30 s without {missing}:\n{output[-3000:]}')
    errors = [line for line in output.splitlines() if '[ERROR]' in line]
    assert proc.returncode != 0, output
    assert len(errors) == 1 and missing in errors[0], output
    assert 'process started' not in output, output
