# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Params files: the shipped one configures both fusion nodes alike; typos in own sections show.

rcl's params-file parser refuses YAML aliases ("Will not support aliasing"), so
``config/fusion.yaml`` spells the lifecycle node's section out: it must equal fusion_node's.
:mod:`vla_fusion_ros.ros.params_file` finds the keys of a node's own sections (exact names,
nested namespaces joined), leaves wildcard sections alone, and names close matches.
"""

import os

from vla_fusion_ros.ros.params_file import (describe_unknown, own_keys, params_file_paths,
                                            unknown_keys)
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHIPPED = os.path.join(REPO, 'config', 'fusion.yaml')


def test_shipped_sections_of_both_fusion_nodes_are_equal():
    with open(SHIPPED, encoding='utf-8') as handle:
        config = yaml.safe_load(handle)
    assert config['lifecycle_fusion_node'] == config['fusion_node']


def test_shipped_sections_name_only_declared_parameters():
    """Every key of the shipped fusion_node section is a parameter the node declares."""
    import ast
    source = os.path.join(REPO, 'vla_fusion_ros', 'ros', 'node_settings.py')
    with open(source, encoding='utf-8') as handle:
        tree = ast.parse(handle.read())
    declared = {node.args[0].value for node in ast.walk(tree)
                if isinstance(node, ast.Call) and getattr(node.func, 'attr', '') == 'declare'
                and node.args and isinstance(node.args[0], ast.Constant)}
    assert own_keys(SHIPPED, '/fusion_node')
    assert set(own_keys(SHIPPED, '/fusion_node')) <= declared, \
        set(own_keys(SHIPPED, '/fusion_node')) - declared


def test_own_sections_only(tmp_path):
    path = tmp_path / 'p.yaml'
    path.write_text(
        '/**:\n  ros__parameters:\n    shared: 1\n'
        '/*/fusion_node:\n  ros__parameters:\n    also_shared: 1\n'
        'fusion_node:\n  ros__parameters:\n    a: 1\n    group:\n      b: 2\n'
        '/fusion_node:\n  ros__parameters:\n    c: 3\n'
        'robot:\n  fusion_node:\n    ros__parameters:\n      d: 4\n'
        'sim_camera:\n  ros__parameters:\n    e: 5\n', encoding='utf-8')
    assert own_keys(str(path), '/fusion_node') == ['a', 'group.b', 'c']
    assert own_keys(str(path), '/robot/fusion_node') == ['d']
    assert own_keys(str(tmp_path / 'missing.yaml'), '/fusion_node') == []


def test_unknown_keys_from_the_command_line(tmp_path):
    path = tmp_path / 'p.yaml'
    path.write_text('fusion_node:\n  ros__parameters:\n    max_linaer: 0.1\n'
                    '    max_angular: 1.0\n', encoding='utf-8')
    argv = ['fusion_node', '--params-file', 'not-a-ros-arg.yaml', '--ros-args',
            '-r', '__node:=fusion_node', '--params-file', str(path), '--', 'x']
    assert params_file_paths(argv) == [str(path)]
    found = unknown_keys(argv, '/fusion_node', ['max_linear', 'max_angular'])
    assert found == {str(path): ['max_linaer']}
    line = describe_unknown(found, '/fusion_node', ['max_linear', 'max_angular'])
    assert 'max_linaer' in line and 'did you mean max_linear' in line and str(path) in line
    assert '\n' not in line
