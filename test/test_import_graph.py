# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
r"""
The package's import graph: no cycles, and every import points down the layers.

Every import counts, at module or function level (``ast``, every module of the package). The
allowed layering, from the bottom::

    model/    sim/       the fusion model and the simulated world: no ROS at all
      |        |
    data/      |         robot data without ROS: image messages, bags, LeRobot datasets
        \    /
         ros/            the nodes: rclpy, messages, image conversion, diagnostics, recorder
          |
       harness/          the nodes as processes, probes, the diagnostics parser
        /    \
    train/   tools/      training and evaluation; the commands (demo, benchmark, faults...)

- ``model/`` and ``sim/`` never import ``data/``, ``ros/``, ``harness/``, ``tools/``,
  ``train/``, rclpy or any other ROS package;
- ``data/`` (image messages, bags and LeRobot datasets, read and written with ``rosbags``,
  pyarrow and PyAV) never imports ``ros/``, ``harness/``, ``tools/``, ``train/``, rclpy or
  any other ROS package: ``ros/recorder`` and ``train/`` build on it, not the reverse;
- ``ros/`` never imports ``harness/``, ``tools/`` or ``train/``;
- ``harness/`` never imports ``tools/`` or ``train/``;
- ``train/`` never imports ``tools/`` (``tools/`` may import anything).
"""

from package_imports import import_graph, PACKAGE  # noqa: I100 (the tests' own helper)

#: wing -> wings it must never import ('ROS': rclpy, messages, ament, launch).
FORBIDDEN = {
    'model': ('data', 'ros', 'harness', 'tools', 'train', 'ROS'),
    'sim': ('data', 'ros', 'harness', 'tools', 'train', 'ROS'),
    'ros': ('harness', 'tools', 'train'),
    'harness': ('tools', 'train'),
    'train': ('tools',),
    'data': ('ros', 'harness', 'tools', 'train', 'ROS'),
}


def _wing(module: str) -> str:
    parts = module.split('.')
    return parts[1] if len(parts) > 1 else ''


def _cycles(graph):
    """Return the strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_covers_the_package():
    graph, _ = import_graph()
    assert f'{PACKAGE}.harness.probe' in graph and f'{PACKAGE}.ros.fusion_node' in graph
    assert f'{PACKAGE}.ros.qos' in graph[f'{PACKAGE}.harness.probe']  # a function-level one


def test_no_import_cycles():
    graph, _ = import_graph()
    cycles = _cycles(graph)
    assert not cycles, 'import cycles: ' + '; '.join(' <-> '.join(c) for c in cycles)


def test_imports_point_down_the_layers():
    graph, ros = import_graph()
    violations = []
    for module, targets in sorted(graph.items()):
        forbidden = FORBIDDEN.get(_wing(module), ())
        violations += [f'{module} imports {t}' for t in sorted(targets)
                       if _wing(t) in forbidden]
        if 'ROS' in forbidden:
            violations += [f'{module} imports {name}' for name in sorted(ros[module])]
    assert not violations, 'layer violations:\n' + '\n'.join(violations)


def test_the_checks_catch_a_cycle_and_a_violation():
    """The two checks above, on a made-up graph, so that they cannot pass by accident."""
    graph = {'a.model.x': {'a.ros.y'}, 'a.ros.y': {'a.model.x'}, 'a.train.z': set()}
    assert _cycles(graph) == [['a.model.x', 'a.ros.y']]
    assert 'ros' in FORBIDDEN[_wing('a.model.x')]
