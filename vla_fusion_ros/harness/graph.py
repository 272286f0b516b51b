# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Several nodes started together and stopped together, as ``launch`` does."""

from dataclasses import dataclass, field
import os
import signal
import time
from typing import Dict, List, Mapping, Optional

from vla_fusion_ros.harness.executables import find_executable
from vla_fusion_ros.harness.process import NodeProcess
from vla_fusion_ros.harness.ros_args import ros_args


@dataclass
class NodeSpec:
    """One node of a graph: the executable, its node name, parameters and remappings."""

    executable: str
    name: str
    params_file: str = ''
    overrides: Dict[str, object] = field(default_factory=dict)
    remaps: Dict[str, str] = field(default_factory=dict)

    def command(self) -> List[str]:
        """Return the command line, as ``ros2 run`` with ``--ros-args`` would build it."""
        return [find_executable(self.executable)] + ros_args(
            self.name, self.params_file, self.overrides, self.remaps)


class Graph:
    """
    The processes of a graph: start them all, stop them all with SIGINT (then SIGKILL).

    Each node writes to ``log_dir/<name>.log`` (a temporary folder when ``log_dir`` is None),
    or with ``console`` to this process's terminal.
    """

    def __init__(self, nodes: List[NodeSpec], env: Optional[Mapping[str, str]] = None,
                 log_dir: Optional[str] = None, console: bool = False):
        self.nodes = nodes
        self.env = env
        self.log_dir = log_dir
        self.console = console
        self.processes: Dict[str, NodeProcess] = {}

    def log_path(self, name: str) -> Optional[str]:
        """Return where node ``name`` writes its output."""
        return os.path.join(self.log_dir, f'{name}.log') if self.log_dir else None

    def start(self) -> 'Graph':
        """Start every node (none, if an executable is missing)."""
        if self.log_dir:
            os.makedirs(self.log_dir, exist_ok=True)
        commands = {spec.name: spec.command() for spec in self.nodes}  # all found, or none
        for name, command in commands.items():
            self.processes[name] = NodeProcess(
                command, env=self.env, label=name, log_dir=self.log_dir,
                log_path=self.log_path(name), console=self.console)
        return self

    def poll(self) -> Dict[str, Optional[int]]:
        """Return each node's exit code, ``None`` while it runs."""
        return {name: proc.returncode for name, proc in self.processes.items()}

    def stop(self, timeout: float = 10.0) -> Dict[str, int]:
        """SIGINT every node, wait up to ``timeout`` s, kill stragglers; return exit codes."""
        for proc in self.processes.values():
            proc.send(signal.SIGINT)
        deadline = time.monotonic() + timeout
        return {name: proc.finish(max(0.1, deadline - time.monotonic()))
                for name, proc in self.processes.items()}

    def tails(self, lines: int = 15) -> str:
        """Return the end of every node's output, each under its name."""
        return '\n'.join(f'--- {name} ---\n{proc.log_tail(lines)}'
                         for name, proc in self.processes.items())

    def __enter__(self) -> 'Graph':
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
