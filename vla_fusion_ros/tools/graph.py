# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Start the fusion graph without ``launch``: the same nodes, parameters and remappings.

``ros2 launch vla_fusion_ros fusion.launch.py`` is the way on a ROS 2 install. Where the
``launch`` package cannot be installed (a laptop with PyPI wheels, CI), this module starts the
same graph from the same ``config/fusion.yaml`` as separate processes, each a colcon-installed
executable talking over DDS:

    python -m vla_fusion_ros.tools.graph use_sim:=true instruction:="go to the red circle"

It accepts the launch file's arguments in the same ``name:=value`` form, and stops every
node with SIGINT (as launch does) on Ctrl-C.
"""

from dataclasses import dataclass, field
import os
import signal
import subprocess
import sys
import time
from typing import Dict, List, Optional

from vla_fusion_ros.tools.node_process import format_param

PACKAGE = 'vla_fusion_ros'

#: The launch file's arguments and their defaults (launch/fusion.launch.py mirrors these).
LAUNCH_ARGUMENTS = {
    'params_file': '',          # '' = share/vla_fusion_ros/config/fusion.yaml
    'use_sim': 'false',
    'image_topic': '/camera/image_raw',
    'instruction': '',
    'device': 'cpu',
    'checkpoint': '',
    'output_type': 'twist',
}


def package_prefix() -> str:
    """Return the install prefix of this package (from the ament index)."""
    from ament_index_python.packages import get_package_prefix
    return get_package_prefix(PACKAGE)


def executable_path(name: str) -> str:
    """Return the path of an executable installed under ``lib/vla_fusion_ros``."""
    path = os.path.join(package_prefix(), 'lib', PACKAGE, name)
    if not os.path.exists(path):
        raise FileNotFoundError(f'{path} is not installed: run scripts/bootstrap')
    return path


def default_params_file() -> str:
    """Return the installed ``config/fusion.yaml``."""
    from ament_index_python.packages import get_package_share_directory
    return os.path.join(get_package_share_directory(PACKAGE), 'config', 'fusion.yaml')


@dataclass
class NodeSpec:
    """One node of the graph: what to run and how to configure it."""

    executable: str
    name: str
    params_file: str
    overrides: Dict[str, object] = field(default_factory=dict)
    remaps: Dict[str, str] = field(default_factory=dict)

    def command(self) -> List[str]:
        """Return the command line, as ``ros2 run`` with ``--ros-args`` would build it."""
        cmd = [executable_path(self.executable), '--ros-args', '-r', f'__node:={self.name}',
               '--params-file', self.params_file]
        for key, value in self.overrides.items():
            cmd += ['-p', f'{key}:={format_param(value)}']
        for src, dst in self.remaps.items():
            cmd += ['-r', f'{src}:={dst}']
        return cmd


def fusion_graph(arguments: Optional[Dict[str, str]] = None) -> List[NodeSpec]:
    """Return the nodes ``fusion.launch.py`` starts for the same ``arguments``."""
    args = dict(LAUNCH_ARGUMENTS)
    for key, value in (arguments or {}).items():
        if key not in LAUNCH_ARGUMENTS:
            raise ValueError(f'unknown argument {key!r} (valid: {", ".join(LAUNCH_ARGUMENTS)})')
        args[key] = value
    if args['use_sim'] not in ('true', 'false'):
        raise ValueError(f"use_sim: invalid value {args['use_sim']!r} (valid: true, false)")
    params = args['params_file'] or default_params_file()
    if not os.path.isfile(params):   # rcl would start each node on built-in defaults or fail
        raise ValueError(f'params_file: no such file: {params}')
    remap = {'~/image_raw': args['image_topic']}
    nodes = []
    if args['use_sim'] == 'true':
        nodes.append(NodeSpec('sim_camera', 'sim_camera', params, remaps=dict(remap)))
    nodes.append(NodeSpec('fusion_node', 'fusion_node', params, overrides={
        'instruction': args['instruction'], 'device': args['device'],
        'checkpoint': args['checkpoint'], 'output_type': args['output_type']},
        remaps=dict(remap)))
    return nodes


class Graph:
    """Processes of a graph: start them all, stop them all with SIGINT (then SIGKILL)."""

    def __init__(self, nodes: List[NodeSpec], env=None, log_dir: Optional[str] = None):
        self.nodes = nodes
        self.env = env
        self.log_dir = log_dir
        self.processes: Dict[str, subprocess.Popen] = {}
        self._logs = []

    def log_path(self, name: str) -> Optional[str]:
        """Return where node ``name`` writes its output (``None``: to this terminal)."""
        return os.path.join(self.log_dir, f'{name}.log') if self.log_dir else None

    def start(self) -> 'Graph':
        """Start every node (output to ``log_dir/<name>.log`` when a log_dir is set)."""
        if self.log_dir:
            os.makedirs(self.log_dir, exist_ok=True)
        for spec in self.nodes:
            out = None
            if self.log_dir:
                out = open(self.log_path(spec.name), 'w', encoding='utf-8')
                self._logs.append(out)
            self.processes[spec.name] = subprocess.Popen(
                spec.command(), env=self.env, stdout=out,
                stderr=subprocess.STDOUT if out else None)
        return self

    def poll(self) -> Dict[str, Optional[int]]:
        """Return each node's exit code, ``None`` while it runs."""
        return {name: proc.poll() for name, proc in self.processes.items()}

    def stop(self, timeout: float = 10.0) -> Dict[str, int]:
        """SIGINT every node, wait up to ``timeout`` s, kill stragglers; return exit codes."""
        for proc in self.processes.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        deadline = time.monotonic() + timeout
        codes = {}
        for name, proc in self.processes.items():
            try:
                codes[name] = proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                codes[name] = proc.wait()
        for log in self._logs:
            log.close()
        self._logs = []
        return codes

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def parse_launch_arguments(argv: List[str]) -> Dict[str, str]:
    """Parse ``name:=value`` arguments, as ``ros2 launch`` takes them."""
    parsed = {}
    for item in argv:
        if ':=' not in item:
            raise ValueError(f'argument {item!r} is not of the form name:=value')
        key, value = item.split(':=', 1)
        parsed[key] = value
    return parsed


def main(argv=None) -> int:
    """Run the graph until Ctrl-C."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        graph = Graph(fusion_graph(parse_launch_arguments(argv)))
    except (ValueError, FileNotFoundError) as exc:
        print(f'graph: {exc}', file=sys.stderr)
        return 2
    from vla_fusion_ros.ros import dds
    dds.use_profile()  # config/fastdds.xml for the nodes it starts, unless one is set already
    graph.start()
    try:
        while all(code is None for code in graph.poll().values()):
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    codes = graph.stop()
    return max(codes.values(), default=0)


if __name__ == '__main__':
    sys.exit(main())
