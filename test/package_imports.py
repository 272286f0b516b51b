# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Read the imports of Python files with ``ast``: every import, at module or function level.

A helper of the structure tests (``test_import_graph.py``, ``test_markers.py``), not a test.
"""

import ast
import os
from typing import Dict, Iterator, Set, Tuple

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = 'vla_fusion_ros'
#: Third-party names that mean "ROS": the client library, messages, the ament index, launch.
ROS_ROOTS = ('rclpy', 'rosidl_runtime_py', 'ament_index_python', 'launch', 'launch_ros',
             'launch_testing', 'rosbag2_py', 'cv_bridge')


def is_ros(name: str) -> bool:
    """Return whether importing ``name`` means importing ROS."""
    root = name.split('.')[0]
    return root in ROS_ROOTS or root.endswith('_msgs') or root.endswith('_srvs')


def package_modules() -> Dict[str, str]:
    """Return ``{module name: path}`` for every module of the package."""
    modules = {}
    for root, _, files in os.walk(os.path.join(REPO, PACKAGE)):
        for name in sorted(files):
            if not name.endswith('.py'):
                continue
            path = os.path.join(root, name)
            parts = os.path.relpath(path, REPO)[:-3].split(os.sep)
            if parts[-1] == '__init__':
                parts = parts[:-1]
            modules['.'.join(parts)] = path
    return modules


def imported_names(path: str, module: str = '') -> Iterator[Tuple[str, int]]:
    """
    Yield ``(absolute name, line)`` for every import in a file.

    ``from a import b`` yields ``a.b`` (which may name a module or an attribute of ``a``).
    Relative imports are resolved against ``module`` (the file's own module name).
    """
    with open(path, encoding='utf-8') as handle:
        tree = ast.parse(handle.read(), path)
    is_package = os.path.basename(path) == '__init__.py'
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                parts = module.split('.')
                keep = len(parts) - node.level + (1 if is_package else 0)
                base = '.'.join(parts[:keep] + ([base] if base else []))
            for alias in node.names:
                yield (f'{base}.{alias.name}' if alias.name != '*' else base), node.lineno


def resolve(name: str, modules: Dict[str, str]) -> str:
    """Return the package module an imported name lives in ('' if it is not the package's)."""
    while name:
        if name in modules:
            return name
        name = name.rpartition('.')[0]
    return ''


def import_graph() -> Tuple[Dict[str, Set[str]], Dict[str, Set[str]]]:
    """
    Return the package's import graph and each module's third-party ROS imports.

    The graph maps each module to the package modules it imports (any level); the package's
    own ``__init__`` of a parent is not an edge unless named.
    """
    modules = package_modules()
    graph = {m: set() for m in modules}
    ros = {m: set() for m in modules}
    for module, path in modules.items():
        for name, _ in imported_names(path, module):
            target = resolve(name, modules) if name.startswith(PACKAGE) else ''
            if target and target != module:
                graph[module].add(target)
            elif not target and is_ros(name):
                ros[module].add(name.split('.')[0])
    return graph, ros
