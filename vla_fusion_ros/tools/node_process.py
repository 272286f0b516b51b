# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
A node of this package run as a process by the tools (benchmark, faults, fuzz, soak).

Its output goes to a file (a pipe nobody reads would block it); it can be paused (SIGSTOP, a
stall as its peers see it), stopped with a signal, killed (a crash), and measured (RSS, CPU).
"""

import os
import signal
import subprocess
import tempfile
import time
from typing import Dict, Optional

PACKAGE = 'vla_fusion_ros'
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def executable(name: str) -> str:
    """Return the path of an installed executable of this package."""
    try:
        from vla_fusion_ros.tools.graph import executable_path
        return executable_path(name)
    except Exception:  # noqa: BLE001 - no ament index in this environment: the repo's tree
        distro = os.environ.get('VFR_DISTRO', 'kilted')
        path = os.path.join(REPO, 'install', distro, PACKAGE, 'lib', PACKAGE, name)
        if not os.path.exists(path):
            raise FileNotFoundError(f'{path} is missing: run scripts/bootstrap {distro}')
        return path


def format_param(value) -> str:
    """
    Format a parameter value for ``-p name:=value``.

    Strings are YAML-quoted, so that '' and words such as 'on' stay strings (as launch_ros's
    ParameterValue keeps them).
    """
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, (list, tuple)):
        return '[' + ','.join(format_param(v) for v in value) + ']'
    return str(value)


class NodeProcess:
    """
    One process of the graph; its output goes to a file (a pipe nobody reads would block it).

    ``name`` is an installed executable, or a full command line (a list).
    """

    def __init__(self, name, params: Optional[Dict] = None, remaps: Optional[Dict] = None,
                 node_name: Optional[str] = None, env: Optional[Dict] = None,
                 log_dir: Optional[str] = None, label: Optional[str] = None,
                 log_path: Optional[str] = None):
        if isinstance(name, (list, tuple)):
            cmd = list(name)
            label = label or os.path.basename(cmd[0])
        else:
            cmd = [executable(name), '--ros-args']
            label = label or node_name or name
            if node_name:
                cmd += ['-r', f'__node:={node_name}']
            for key, value in (params or {}).items():
                cmd += ['-p', f'{key}:={format_param(value)}']
            for src, dst in (remaps or {}).items():
                cmd += ['-r', f'{src}:={dst}']
        self.cmd = cmd
        self.label = label
        if not log_path:
            log_dir = log_dir or tempfile.mkdtemp(prefix='vfr-reliability-')
            os.makedirs(log_dir, exist_ok=True)
            log_path = os.path.join(log_dir, f'{label}-{time.time_ns()}.log')
        self.log_path = log_path
        self._log = open(self.log_path, 'w', encoding='utf-8')
        full_env = dict(env or os.environ)
        full_env['PYTHONUNBUFFERED'] = '1'
        self.started = time.monotonic()
        self.proc = subprocess.Popen(cmd, env=full_env, stdout=self._log,
                                     stderr=subprocess.STDOUT)
        self.paused = False
        self._ps = None

    @property
    def pid(self) -> int:
        """Return the process id."""
        return self.proc.pid

    def alive(self) -> bool:
        """Return whether the process still runs."""
        return self.proc.poll() is None

    def send(self, sig: int) -> None:
        """Send ``sig`` if the process still runs."""
        if self.alive():
            self.proc.send_signal(sig)

    def pause(self) -> None:
        """Freeze the process (SIGSTOP): to its peers it has stalled."""
        self.send(signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        """Continue a paused process (SIGCONT)."""
        self.send(signal.SIGCONT)
        self.paused = False

    def stop(self, sig: int = signal.SIGINT, timeout: float = 15.0) -> int:
        """Send ``sig``, wait up to ``timeout`` s (then SIGKILL) and return the exit code."""
        if self.paused:
            self.resume()
        self.send(sig)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self._log.close()
        return code

    def kill(self) -> int:
        """Kill the process hard (SIGKILL: a crash, as far as its peers can tell)."""
        return self.stop(signal.SIGKILL)

    def output(self) -> str:
        """Return everything the process wrote so far."""
        if not self._log.closed:
            self._log.flush()
        with open(self.log_path, encoding='utf-8', errors='replace') as handle:
            return handle.read()

    def _psutil(self):
        if self._ps is None:
            import psutil
            self._ps = psutil.Process(self.proc.pid)
        return self._ps

    def rss(self) -> int:
        """Return the resident set size in bytes."""
        return int(self._psutil().memory_info().rss)

    def cpu_seconds(self) -> float:
        """Return the CPU time (user + system, all threads) used so far."""
        times = self._psutil().cpu_times()
        return float(times.user + times.system)

    def log_tail(self, lines: int = 15) -> str:
        """Return the end of the process's output."""
        if not self._log.closed:
            self._log.flush()
        try:
            with open(self.log_path, encoding='utf-8', errors='replace') as handle:
                return ''.join(handle.readlines()[-lines:])
        except OSError:
            return ''
