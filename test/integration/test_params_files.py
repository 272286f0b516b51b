# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The package's params file as its users run it: both fusion nodes honour it, a missing one stops.

- ``lifecycle_fusion_node`` started with ``config/fusion.yaml`` runs with the file's values
  (a copy of the shipped file whose ``max_linear`` an operator lowered).
- ``python -m vla_fusion_ros.tools.graph params_file:=<missing>`` fails with one line naming
  the file, and starts no node.
"""

import os
import subprocess
import sys
import time

import pytest
import yaml

from conftest import REPO  # noqa: I100 (the tests' own)
from integration_helpers import get_parameters  # noqa: I100

pytestmark = pytest.mark.ros

SHIPPED = os.path.join(REPO, 'config', 'fusion.yaml')


def test_lifecycle_node_honours_the_shipped_params_file(start_node, ros_probe, tmp_path):
    with open(SHIPPED, encoding='utf-8') as handle:
        config = yaml.safe_load(handle)
    # What an operator does: lower the limit wherever the file sets it.
    edited = 0
    for section in config.values():
        params = section.get('ros__parameters', {})
        if 'max_linear' in params:
            params['max_linear'] = 0.1
            edited += 1
    path = tmp_path / 'fusion.yaml'
    path.write_text(yaml.safe_dump(config), encoding='utf-8')
    start_node('lifecycle_fusion_node', params_file=str(path))
    values = get_parameters(ros_probe, 'lifecycle_fusion_node', 'max_linear', 'watchdog_timeout')
    assert values['max_linear'].double_value == 0.1, \
        f'{edited} section(s) of {SHIPPED} set max_linear; none reached lifecycle_fusion_node'


def test_graph_refuses_a_missing_params_file(tmp_path):
    missing = tmp_path / 'nowhere.yaml'
    started = time.monotonic()
    result = subprocess.run([sys.executable, '-m', 'vla_fusion_ros.tools.graph',
                             f'params_file:={missing}', 'use_sim:=true'],
                            capture_output=True, text=True, timeout=60)
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert result.returncode == 2, (result.returncode, lines)
    assert len(lines) == 1 and str(missing) in lines[0], lines
    assert lines[0].startswith('graph:'), lines
    assert time.monotonic() - started < 20.0
