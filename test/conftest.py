# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Shared fixtures: DDS isolation, the colcon install tree, and a probe node for ROS tests.

Every pytest run picks its own ROS_DOMAIN_ID and restricts discovery to localhost, so two runs
on one machine (or CI beside a developer) never see each other's traffic. Subprocesses started
by tests inherit the same environment through :func:`ros_env`.
"""

import os
import random
import shutil
import subprocess
import sys
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DISTRO = os.environ.get('VFR_DISTRO', 'kilted')

# Isolation happens at import time, before any test imports rclpy.
# Its own domain, localhost discovery and the shipped Fast DDS profile (config/fastdds.xml).
sys.path.insert(0, REPO)
from vla_fusion_ros.ros import dds  # noqa: E402 - the environment first, then rclpy
dds.isolate()
os.environ.setdefault('OMP_NUM_THREADS', '1')


def pytest_report_header(config):
    """Name the distribution and the DDS domain in the run's header."""
    return [f'vla_fusion_ros: ROS 2 {DISTRO}, ROS_DOMAIN_ID={os.environ["ROS_DOMAIN_ID"]}, '
            'discovery localhost only']


def ros_env(**extra):
    """Return the environment for a subprocess that must share this run's DDS domain."""
    env = dict(os.environ)
    env['PYTHONUNBUFFERED'] = '1'
    env.update({k: str(v) for k, v in extra.items()})
    return env


def installed_executable(name):
    """Path of an executable installed by colcon under ``lib/vla_fusion_ros``."""
    prefix = os.path.join(REPO, 'install', DISTRO, 'vla_fusion_ros', 'lib', 'vla_fusion_ros')
    path = os.path.join(prefix, name)
    if not os.path.exists(path):
        found = shutil.which(name)
        if found:
            return found
        pytest.fail(f'{path} is missing: run scripts/bootstrap {DISTRO} first')
    return path


class NodeProcess:
    """A node started as a real process from the colcon install tree."""

    def __init__(self, name, *ros_args, params=None, remaps=None, env=None):
        cmd = [installed_executable(name), '--ros-args']
        for key, value in (params or {}).items():
            if isinstance(value, bool):
                value = 'true' if value else 'false'
            elif isinstance(value, (list, tuple)):
                value = '[' + ','.join(repr(v) if isinstance(v, str) else str(v)
                                       for v in value) + ']'
            cmd += ['-p', f'{key}:={value}']
        for src, dst in (remaps or {}).items():
            cmd += ['-r', f'{src}:={dst}']
        cmd += list(ros_args)
        self.cmd = cmd
        self.proc = subprocess.Popen(cmd, env=env or ros_env(), stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.output = ''

    def stop(self, sig=None, timeout=15.0):
        """Send ``sig`` (SIGINT by default), wait, and return the exit code."""
        import signal as _signal
        if self.proc.poll() is None:
            self.proc.send_signal(sig or _signal.SIGINT)
        try:
            out, _ = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
        self.output += out or ''
        return self.proc.returncode

    def kill(self):
        """Kill the process hard (a crash, as far as its peers can tell)."""
        self.proc.kill()
        out, _ = self.proc.communicate()
        self.output += out or ''


@pytest.fixture
def start_node():
    """Start installed nodes as processes; every one is stopped when the test ends."""
    started = []

    def _start(name, *args, **kwargs):
        node = NodeProcess(name, *args, **kwargs)
        started.append(node)
        return node

    yield _start
    for node in started:
        if node.proc.poll() is None:
            node.stop()


@pytest.fixture
def ros_probe():
    """Yield a probe node in its own rclpy context, with a spin-until helper."""
    import rclpy
    from rclpy.context import Context
    from rclpy.executors import SingleThreadedExecutor

    context = Context()
    rclpy.init(context=context)
    node = rclpy.create_node(f'probe_{os.getpid()}_{random.randint(0, 1 << 30)}',
                             context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)

    def spin_until(predicate, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            executor.spin_once(timeout_sec=0.02)
            if predicate():
                return True
        return predicate()

    node.spin_until = spin_until
    node.executor_ = executor
    try:
        yield node
    finally:
        executor.shutdown()
        node.destroy_node()
        context.try_shutdown() if hasattr(context, 'try_shutdown') else rclpy.shutdown(
            context=context)


def pytest_collection_modifyitems(config, items):
    """Mark tests that use rclpy, so the second distribution can run exactly those."""
    for item in items:
        path = str(item.fspath)
        try:
            with open(path, encoding='utf-8') as handle:
                text = handle.read()
        except OSError:
            continue
        if any(word in text for word in ('rclpy', 'ros_probe', 'start_node', '_msgs',
                                         'ament_index')):
            item.add_marker(pytest.mark.ros)


sys.path.insert(0, REPO)
