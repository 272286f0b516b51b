# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Keep Humble in reach: no rclpy API newer than Humble may be used without a guard.

Humble has no wheels to test against, so this is a static check. It parses every module of the
package and of launch/ and fails on a use of an API that Humble's rclpy (3.3) lacks, unless
the use sits inside a ``try`` block (with an ``except`` that falls back) or under an ``if``
that tests for it with ``hasattr``/``getattr``/``is not None``.
"""

import ast
import os

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCANNED = ['vla_fusion_ros', 'launch']

# Checks the rclpy API in use: run it on every tested distribution (-m ros on Jazzy).
pytestmark = pytest.mark.ros

#: Names that exist only after Humble, with the release that introduced them.
POST_HUMBLE = {
    'EventsExecutor': 'rclpy.experimental, Jazzy',
    'events_executor': 'rclpy.experimental, Jazzy',
    'add_pre_set_parameters_callback': 'Iron',
    'add_post_set_parameters_callback': 'Iron',
    'remove_pre_set_parameters_callback': 'Iron',
    'remove_post_set_parameters_callback': 'Iron',
    'event_handler': 'Iron (Humble: rclpy.qos_event)',
    'clock_type': 'Iron (Humble: rclpy.clock.ClockType)',
    'service_introspection': 'Iron',
    'type_description_service': 'Iron',
    'get_type_description': 'Iron',
    'rosidl_pycommon': 'not a runtime dependency',
}


def _guarded_ranges(tree):
    """Return (first, last) line ranges of try bodies and hasattr-style if blocks."""
    ranges = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and node.handlers:
            ranges.append((node.lineno, node.handlers[-1].end_lineno))
        elif isinstance(node, ast.If):
            test = ast.unparse(node.test)
            if 'hasattr(' in test or 'getattr(' in test or 'is not None' in test:
                ranges.append((node.lineno, node.body[-1].end_lineno))
    return ranges


def _context_manager_init(tree):
    """Find ``with rclpy.init(...)``: a context manager only since Jazzy."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if 'rclpy.init(' in ast.unparse(item.context_expr):
                    found.append((node.lineno, 'rclpy.init() as a context manager (Jazzy)'))
    return found


def unguarded_uses(source, filename='<string>'):
    """Return ``[(line, description)]`` for every unguarded post-Humble API use in source."""
    tree = ast.parse(source, filename)
    guarded = _guarded_ranges(tree)
    problems = _context_manager_init(tree)
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Name):
            names = [node.id]
        elif isinstance(node, ast.Attribute):
            names = [node.attr]
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name.split('.')[-1] for a in node.names]
            if isinstance(node, ast.ImportFrom) and node.module:
                names += node.module.split('.')
        for name in names:
            if name in POST_HUMBLE and not any(a <= node.lineno <= b for a, b in guarded):
                problems.append((node.lineno, f'{name} ({POST_HUMBLE[name]})'))
    return sorted(set(problems))


def _sources():
    for top in SCANNED:
        for root, _, files in os.walk(os.path.join(REPO, top)):
            for name in sorted(files):
                if name.endswith('.py'):
                    yield os.path.join(root, name)


def test_package_uses_no_unguarded_post_humble_api():
    """The package and its launch files would import and run on Humble."""
    problems = []
    for path in _sources():
        with open(path, encoding='utf-8') as handle:
            for line, what in unguarded_uses(handle.read(), path):
                problems.append(f'{os.path.relpath(path, REPO)}:{line}: {what}')
    assert not problems, 'post-Humble APIs used without a guard:\n' + '\n'.join(problems)


@pytest.mark.parametrize('snippet', [
    'from rclpy.experimental import EventsExecutor\n',
    'import rclpy\nexecutor = rclpy.experimental.EventsExecutor()\n',
    'node.add_post_set_parameters_callback(cb)\n',
    'import rclpy\nwith rclpy.init():\n    pass\n',
    'from rclpy.event_handler import SubscriptionEventCallbacks\n',
])
def test_checker_catches_unguarded_use(snippet):
    """A deliberately introduced unguarded call is caught (the check can fail)."""
    assert unguarded_uses(snippet)


@pytest.mark.parametrize('snippet', [
    'try:\n    from rclpy.experimental import EventsExecutor\nexcept ImportError:\n'
    '    EventsExecutor = None\n',
    'if hasattr(node, "add_post_set_parameters_callback"):\n'
    '    node.add_post_set_parameters_callback(cb)\n',
    'if EventsExecutor is not None:\n    executor = EventsExecutor()\n',
])
def test_checker_accepts_guarded_use(snippet):
    """Guarded uses pass."""
    assert not unguarded_uses(snippet)
