# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Shared fixtures: DDS isolation, installed nodes as processes, a probe node, a tiny model.

Every pytest run picks its own ROS_DOMAIN_ID and restricts discovery to localhost, so two runs
on one machine (or CI beside a developer) never see each other's traffic. Subprocesses started
by tests inherit the same environment. Processes and probes come from
:mod:`vla_fusion_ros.harness`, as the tools' do.

Markers are explicit: a test file that touches rclpy, the messages or DDS sets
``pytestmark = pytest.mark.ros`` (``test_markers.py`` checks it), so that ``scripts/test``
runs it on every distribution.
"""

import contextlib
import copy
import os
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DISTRO = os.environ.get('VFR_DISTRO', 'kilted')

# Isolation happens at import time, before any test imports rclpy: its own domain, localhost
# discovery and the shipped Fast DDS profile (config/fastdds.xml). Under pytest-xdist
# (scripts/test runs two workers) the controller draws the run's domain and each worker takes
# the next ones in turn, so the workers of one run never share a domain either.
sys.path.insert(0, REPO)
from vla_fusion_ros.harness import environment  # noqa: E402 - the environment, then rclpy


def _worker_domain():
    """Return this xdist worker's domain (1-100): the run's plus its index; None outside xdist."""
    worker, base = os.environ.get('PYTEST_XDIST_WORKER', ''), os.environ.get('VFR_TEST_DOMAIN')
    if not (worker.startswith('gw') and worker[2:].isdigit() and base):
        return None
    return (int(base) - 1 + int(worker[2:])) % 100 + 1


environment.isolate(domain=_worker_domain())
os.environ.setdefault('VFR_TEST_DOMAIN', os.environ['ROS_DOMAIN_ID'])

#: A model of a few thousand parameters: what the training, evaluation and comparison tests
#: check does not depend on the size. Take it through :func:`tiny_model`.
TINY_MODEL = {
    'vision': {'width': 8, 'depth': 2, 'norm_groups': 4, 'downsample': [0, 1]},
    'language': {'width': 8, 'heads': 2, 'max_length': 8},
    'fusion': {'operator': 'film', 'layers': [1], 'dim': 8, 'heads': 2},
    'head': {'hidden': 16, 'queries': 2},
}


def tiny_model(**sections):
    """Return a copy of :data:`TINY_MODEL`, each given section updated (``vision={...}``)."""
    model = copy.deepcopy(TINY_MODEL)
    for name, values in sections.items():
        if isinstance(values, dict):
            model.setdefault(name, {}).update(values)
        else:
            model[name] = values
    return model


@contextlib.contextmanager
def edited_config(path):
    """Yield the YAML file ``path`` as a dict; write it back as the block leaves."""
    import yaml
    with open(path) as handle:
        data = yaml.safe_load(handle)
    yield data
    with open(path, 'w') as handle:
        yaml.safe_dump(data, handle)


def tiny_training_config(tmp_path, model=None, **sections):
    """
    Write a training config of :func:`tiny_model` on 6 episodes, 4 steps, no closed loop.

    Each of ``sections`` updates the section of its name: a dict updates its keys
    (``schedule={'steps': 6}``), a new section is added (``loss={...}``); returns the path.
    """
    import yaml
    config = {
        'seed': 3, 'threads': 1, 'model': model or tiny_model(),
        'data': {'path': str(tmp_path / 'train.npz'), 'generate': {'episodes': 6, 'seed': 0},
                 'val_path': '', 'val_fraction': 0.2, 'val_max_frames': 32},
        'schedule': {'batch_size': 8, 'steps': 4, 'warmup_steps': 1, 'val_every': 4,
                     'log_every': 2},
        'eval': {'val_episodes': 0, 'episodes': 0}}
    for name, value in sections.items():
        config[name] = {**config[name], **value} if name in config else value
    path = tmp_path / 'tiny.yaml'
    path.write_text(yaml.safe_dump(config))
    return path


def pytest_report_header(config):
    """Name the distribution and the DDS domain in the run's header."""
    return [f'vla_fusion_ros: ROS 2 {DISTRO}, ROS_DOMAIN_ID={os.environ["ROS_DOMAIN_ID"]}, '
            'discovery localhost only']


@pytest.fixture
def start_node(tmp_path):
    """Start installed nodes as processes; every one still running is stopped at the end."""
    from vla_fusion_ros.harness.process import NodeProcess
    started = []

    def _start(name, **kwargs):
        kwargs.setdefault('log_dir', str(tmp_path / 'nodes'))
        node = NodeProcess(name, **kwargs)
        started.append(node)
        return node

    yield _start
    for node in started:
        if node.alive():
            node.stop()


@pytest.fixture
def ros_probe():
    """Yield a probe node (spun by the test in ``spin_until``) in its own rclpy context."""
    from vla_fusion_ros.harness.probe import Probe
    probe = Probe(background=False)
    try:
        yield probe
    finally:
        probe.close()
