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

import pytest

from integration_helpers import require_launch, run_launch_file  # noqa: I100 (the tests' own)

# A launch of nodes over DDS: every tested distribution (scripts/test: -m ros on Jazzy).
pytestmark = pytest.mark.ros

require_launch(__name__)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAUNCH_FILE = os.path.join(REPO, 'launch', 'fusion.launch.py')


def test_missing_params_file_stops_the_launch(tmp_path):
    missing = str(tmp_path / 'nowhere.yaml')
    code, output = run_launch_file(LAUNCH_FILE, f'params_file:={missing}', 'use_sim:=true',
                                   timeout=30)
    errors = [line for line in output.splitlines() if '[ERROR]' in line]
    assert code != 0, output
    assert len(errors) == 1 and missing in errors[0], output
    assert 'process started' not in output, output
