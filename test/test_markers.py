# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Every test file that touches ROS says so: ``pytestmark = pytest.mark.ros``.

``scripts/test`` runs ``-m ros`` on the second distribution (Jazzy), so a file without the
marker would silently stop running there. A file touches ROS when it imports rclpy, a message
package, the ament index or launch (anywhere in the file), imports
:mod:`vla_fusion_ros.harness`, imports a package module that imports any of those, or takes
the ``start_node`` or ``ros_probe`` fixture. Read with ``ast``; nothing is imported.
"""

import ast
import os

from package_imports import (import_graph, imported_names, is_ros, PACKAGE,  # noqa: I100
                             REPO, resolve)

TEST_DIR = os.path.join(REPO, 'test')
ROS_FIXTURES = {'start_node', 'ros_probe'}


def _test_files():
    for root, _, files in os.walk(TEST_DIR):
        for name in sorted(files):
            if name.startswith('test_') and name.endswith('.py'):
                yield os.path.join(root, name)


def _why_ros(path, graph, ros):
    """Return why the file touches ROS ('' if it does not)."""
    for name, line in imported_names(path):
        if is_ros(name):
            return f'imports {name} (line {line})'
        target = resolve(name, graph) if name.startswith(PACKAGE) else ''
        if target.startswith(f'{PACKAGE}.harness') or (target and ros[target]):
            return f'imports {target} (line {line}), which uses ROS'
    with open(path, encoding='utf-8') as handle:
        tree = ast.parse(handle.read(), path)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            used = ROS_FIXTURES & {a.arg for a in node.args.args}
            if used:
                return f'{node.name} takes the {", ".join(sorted(used))} fixture'
    return ''


def _marks(path):
    """Return the marker names of the file's module-level ``pytestmark``."""
    with open(path, encoding='utf-8') as handle:
        tree = ast.parse(handle.read(), path)
    marks = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == 'pytestmark' for t in node.targets):
            for sub in ast.walk(node.value):
                if isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Attribute) \
                        and sub.value.attr == 'mark':
                    marks.add(sub.attr)
    return marks


def test_every_file_that_touches_ros_carries_the_ros_marker():
    graph, ros = import_graph()
    missing = []
    for path in _test_files():
        why = _why_ros(path, graph, ros)
        if why and 'ros' not in _marks(path):
            missing.append(f'{os.path.relpath(path, REPO)}: {why}')
    assert not missing, ('set pytestmark = pytest.mark.ros in:\n' + '\n'.join(missing))


def test_the_check_sees_imports_fixtures_and_marks(tmp_path):
    graph, ros = import_graph()
    plain = tmp_path / 'test_plain.py'
    plain.write_text('import numpy\n\n\ndef test_x():\n    pass\n')
    fixture = tmp_path / 'test_fixture.py'
    fixture.write_text('def test_x(start_node):\n    pass\n')
    nested = tmp_path / 'test_nested.py'
    nested.write_text('import pytest\npytestmark = [pytest.mark.ros, pytest.mark.slow]\n\n\n'
                      'def test_x():\n    from sensor_msgs.msg import Image\n')
    assert _why_ros(str(plain), graph, ros) == ''
    assert 'start_node' in _why_ros(str(fixture), graph, ros)
    assert 'sensor_msgs' in _why_ros(str(nested), graph, ros)
    assert _marks(str(nested)) == {'ros', 'slow'}
