# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
One node of this package as a real process.

Its output goes to a file (a pipe nobody reads would block it); it can be paused (SIGSTOP, a
stall as its peers see it), stopped with a signal, killed (a crash), and measured (RSS, CPU).
"""

import os
import signal
import subprocess
import tempfile
import time
from typing import Dict, List, Mapping, Optional, Sequence, Union

from vla_fusion_ros.harness.executables import find_executable
from vla_fusion_ros.harness.ros_args import ros_args


class NodeProcess:
    """
    A process started now, from an installed executable's name or from a full command line.

    ``name`` is an installed executable (then ``node_name``, ``params_file``, ``params`` and
    ``remaps`` become its ``--ros-args``) or a command line (a list, run as it is). ``env``
    defaults to this process's environment (isolate it first: :mod:`.environment`). The
    output goes to ``log_path`` (default: a new file in ``log_dir``, a temporary folder
    if None), or with ``console`` to this process's terminal.
    """

    def __init__(self, name: Union[str, Sequence[str]],
                 params: Optional[Mapping[str, object]] = None,
                 remaps: Optional[Dict[str, str]] = None, node_name: Optional[str] = None,
                 params_file: Optional[str] = None, env: Optional[Mapping[str, str]] = None,
                 log_dir: Optional[str] = None, label: Optional[str] = None,
                 log_path: Optional[str] = None, console: bool = False):
        if isinstance(name, (list, tuple)):
            cmd: List[str] = list(name)
            label = label or os.path.basename(cmd[0])
        else:
            cmd = [find_executable(name)] + ros_args(node_name, params_file, params, remaps)
            label = label or node_name or name
        self.cmd = cmd
        self.label = label
        self.log_path = None
        self._log = None
        if not console:
            if not log_path:
                log_dir = log_dir or tempfile.mkdtemp(prefix='vfr-nodes-')
                os.makedirs(log_dir, exist_ok=True)
                log_path = os.path.join(log_dir, f'{label}-{time.time_ns()}.log')
            self.log_path = log_path
            self._log = open(self.log_path, 'w', encoding='utf-8')
        full_env = dict(os.environ if env is None else env)
        full_env['PYTHONUNBUFFERED'] = '1'
        self.started = time.monotonic()
        self.proc = subprocess.Popen(cmd, env=full_env, stdout=self._log,
                                     stderr=subprocess.STDOUT if self._log else None)
        self.paused = False
        self._ps = None

    @property
    def pid(self) -> int:
        """Return the process id."""
        return self.proc.pid

    @property
    def returncode(self) -> Optional[int]:
        """Return the exit code, ``None`` while the process runs."""
        return self.proc.poll()

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

    def wait(self, timeout: Optional[float] = None) -> Optional[int]:
        """Wait up to ``timeout`` s for the process to exit; return its code (None: runs)."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, sig: int = signal.SIGINT, timeout: float = 15.0) -> int:
        """Send ``sig``, wait up to ``timeout`` s (then SIGKILL) and return the exit code."""
        if self.paused:
            self.resume()
        self.send(sig)
        return self.finish(timeout)

    def finish(self, timeout: float = 15.0) -> int:
        """Wait up to ``timeout`` s for an exit (then SIGKILL), close the log; return the code."""
        code = self.wait(timeout)
        if code is None:
            self.proc.kill()
            code = self.proc.wait()
        if self._log is not None:
            self._log.close()
        return code

    def kill(self) -> int:
        """Kill the process hard (SIGKILL: a crash, as far as its peers can tell)."""
        return self.stop(signal.SIGKILL)

    @property
    def output(self) -> str:
        """Return everything the process wrote so far ('' when it writes to the console)."""
        if self._log is None:
            return ''
        if not self._log.closed:
            self._log.flush()
        try:
            with open(self.log_path, encoding='utf-8', errors='replace') as handle:
                return handle.read()
        except OSError:
            return ''

    def log_tail(self, lines: int = 15) -> str:
        """Return the last ``lines`` lines of the process's output."""
        return ''.join(self.output.splitlines(keepends=True)[-lines:])

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
