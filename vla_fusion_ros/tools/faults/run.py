# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The whole fault run: every scenario in turn, then the summary written to faults.json."""

import os
import signal
import tempfile
import time
from typing import Callable, Dict, List, Optional

from vla_fusion_ros.harness.probe import Probe
from vla_fusion_ros.tools.faults.graph import (CAMERA_RATE, FaultGraph, lease_seconds,
                                               STOP_BOUND, WATCHDOG)
from vla_fusion_ros.tools.faults.scenarios import (camera_stall, estop_toggles,
                                                   instruction_publisher_dies, malformed_burst,
                                                   node_restart)
from vla_fusion_ros.tools.run_info import git_commit, load_samples


def run_faults(repeats: int = 3, burst: int = 500, toggles: int = 200,
               default_lease: bool = True, log_dir: Optional[str] = None,
               progress: Callable[[str], None] = print) -> Dict:
    """Run every fault ``repeats`` times (node restarts and the default lease once)."""
    log_dir = log_dir or tempfile.mkdtemp(prefix='vfr-faults-')
    probe = Probe()
    graph = FaultGraph(probe, log_dir)
    scenarios: List[Dict] = []
    loads = [load_samples()]
    started = time.monotonic()

    def record(result):
        result['node_alive'] = graph.alive()
        scenarios.append(result)
        loads.append(load_samples())
        stop = result.get('stop_from_last_frame_s', result.get('stop_from_signal_s'))
        progress(f'{result["name"]}: ' + (f'stop {stop * 1e3:.0f} ms, ' if stop else '')
                 + ('ok' if not result['problems'] else '; '.join(result['problems'])))

    try:
        graph.start()
        plan = []
        for i in range(repeats):
            plan += [lambda: camera_stall(graph), lambda: camera_stall(graph, kill=True),
                     lambda: instruction_publisher_dies(graph, signal.SIGTERM),
                     lambda: instruction_publisher_dies(graph, signal.SIGKILL, True),
                     lambda i=i: malformed_burst(graph, burst, seed=i),
                     lambda: estop_toggles(graph, toggles)]
        plan += [lambda: node_restart(graph, crash=True), lambda: node_restart(graph, False)]
        if default_lease:
            plan.append(lambda: instruction_publisher_dies(graph, signal.SIGKILL, False))
        for step in plan:
            record(step())
            if not graph.alive():
                break
    finally:
        codes = graph.close()
        probe.close()
    return summarize(scenarios, graph, codes, loads, time.monotonic() - started, log_dir)


def summarize(scenarios: List[Dict], graph: FaultGraph, codes: Dict[str, int],
              loads: List[List[float]], duration: float, log_dir: str) -> Dict:
    """Build the results dictionary written to faults.json."""
    stops = {}
    for s in scenarios:
        value = s.get('stop_from_last_frame_s', s.get('stop_from_signal_s'))
        if value is not None and s.get('bounded', True):
            stops.setdefault(s['name'], []).append(value)
    worst = max((v for values in stops.values() for v in values), default=None)
    node_output = graph.node.output if graph.node else ''
    return {
        'faults_injected': len(scenarios),
        'faults_survived': sum(1 for s in scenarios if not s['problems'] and s['node_alive']),
        'crashes': sum(1 for s in scenarios if not s['node_alive'])
        + (0 if codes.get(FaultGraph.NODE, 0) == 0 else 1),
        'unsafe_commands': len(graph.commands.violations),
        'unsafe_examples': graph.commands.violations[:10],
        'commands_checked': len(graph.commands),
        'worst_stop_s': worst,
        'stop_bound_s': STOP_BOUND,
        'watchdog_timeout_s': WATCHDOG,
        'camera_rate_hz': CAMERA_RATE,
        'short_lease_s': lease_seconds(),
        'stop_times_s': stops,
        'final_exit_codes': codes,
        'traceback_in_node_output': 'Traceback' in node_output,
        'scenarios': scenarios,
        'load_average_samples': loads,
        'cpu_count': os.cpu_count(),
        'duration_s': duration,
        'git_commit': git_commit(),
        'rmw': os.environ.get('RMW_IMPLEMENTATION', 'rmw_fastrtps_cpp (default)'),
        'distro': os.environ.get('VFR_DISTRO', 'kilted'),
        'log_dir': log_dir,
    }
