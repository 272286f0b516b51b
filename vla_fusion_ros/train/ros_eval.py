# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Closed-loop evaluation through ROS: the deployed nodes in the loop, over DDS.

Two installed executables run as separate processes, in a private ROS domain (a random
``ROS_DOMAIN_ID``, discovery limited to localhost):

- ``sim_world`` in lockstep mode with ``cmd_type:=twist_stamped``: it publishes a frame, waits
  for the command stamped with that frame's stamp, steps, and reports every episode as JSON on
  ``/sim_world/episode``; it runs ``episodes`` scenes from ``seed`` and exits;
- ``fusion_node`` with ``output_type:=twist_stamped`` and the checkpoint under test, its
  ``~/image_raw`` and ``~/instruction`` remapped to the world's topics, publishing ``cmd_vel``.

This process only listens to the reports. Lockstep makes the outcome independent of timing, so
it matches the in-process evaluation up to float rounding (batched vs single-frame inference).
The node's safety timeouts are widened (``max_image_age``, ``watchdog_timeout``) so that a
loaded machine slows the run down instead of dropping frames.
"""

import json
import os
import random
import tempfile
import time
from typing import Any, Dict, List, Optional, Tuple

from tqdm import tqdm

from vla_fusion_ros.harness.environment import isolated_env
from vla_fusion_ros.harness.executables import default_params_file
from vla_fusion_ros.harness.graph import Graph, NodeSpec
from vla_fusion_ros.sim.base import EVAL_SEED_START
from vla_fusion_ros.train.metrics import summarize

#: fusion_node parameters for evaluation: every frame answered, nothing dropped for age.
FUSION_OVERRIDES = {'output_type': 'twist_stamped', 'control_rate': 1000.0,
                    'max_image_age': 5.0, 'watchdog_timeout': 5.0, 'threads': 1,
                    'device': 'cpu', 'instruction': ''}


def eval_graph(checkpoint: str, episodes: int, seed_start: int, world: str = 'overhead',
               render_size: Optional[Tuple[int, int]] = None) -> List[NodeSpec]:
    """Return the two nodes of the evaluation graph (the camera at ``render_size``)."""
    params = default_params_file()
    width, height = render_size or (0, 0)
    # exit_delay: sim_world keeps its latched reports up for 5 s after the last one, so an
    # evaluator slow to discover it (a loaded machine, a two-episode run) still receives them;
    # the evaluator stops the graph as soon as every report is in.
    world = NodeSpec('sim_world', 'sim_world', params, overrides={
        'world': world, 'image_width': width, 'image_height': height,
        'mode': 'lockstep', 'cmd_type': 'twist_stamped', 'episodes': episodes,
        'seed': seed_start, 'on_finish': 'exit', 'command_timeout': 30.0, 'exit_delay': 5.0})
    fusion = NodeSpec('fusion_node', 'fusion_node', params,
                      overrides={**FUSION_OVERRIDES, 'checkpoint': checkpoint},
                      remaps={'~/image_raw': '/sim_world/image_raw',
                              '~/instruction': '/sim_world/instruction'})
    return [world, fusion]


class _Reports:
    """
    Listens on ``/sim_world/episode`` for the episode reports.

    Made before the graph starts: the listener is then in the domain while the nodes come up,
    so discovery cannot lag behind a short run whose reports are all sent within seconds (the
    listener made after the start once missed every report of a two-episode run on a loaded
    machine).
    """

    def __init__(self, domain_id: int, episodes: int, progress: bool):
        from std_msgs.msg import String
        from vla_fusion_ros.harness.probe import Probe
        from vla_fusion_ros.ros.qos import make_qos

        os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
        self.episodes = episodes
        self.reports: Dict[int, Dict[str, Any]] = {}
        self.bar = tqdm(total=episodes, desc='ROS episodes', unit='ep', disable=not progress)
        self.probe = Probe(f'vla_eval_{os.getpid()}', background=False, domain_id=domain_id)
        self.probe.create_subscription(
            String, '/sim_world/episode', self._on_report,
            make_qos('reliable', 'keep_last', 1000, 'transient_local'))

    def _on_report(self, msg: Any) -> None:
        report = json.loads(msg.data)
        report.pop('actions', None)  # the replay log: not needed for a summary
        if not report.get('aborted') and report['seed'] not in self.reports:
            self.reports[report['seed']] = report
            self.bar.update(1)

    def collect(self, graph: Graph, deadline: float) -> Tuple[List[Dict[str, Any]], str]:
        """Spin until every report is in (or a failure); return the reports and the problem."""
        problem = ''
        exited_at = None
        while len(self.reports) < self.episodes:
            self.probe.spin_for(0.05)
            if time.monotonic() > deadline:
                problem = f'timed out with {len(self.reports)}/{self.episodes} episodes reported'
                break
            codes = graph.poll()
            if codes['fusion_node'] is not None:
                problem = f'fusion_node exited with status {codes["fusion_node"]}'
                break
            if codes['sim_world'] is not None:
                exited_at = exited_at or time.monotonic()
                if time.monotonic() - exited_at > 5.0:  # reports still in flight get 5 s
                    problem = (f'sim_world exited (status {codes["sim_world"]}) after '
                               f'{len(self.reports)}/{self.episodes} episodes')
                    break
        return [self.reports[s] for s in sorted(self.reports)], problem

    def close(self) -> None:
        """Close the progress bar and the listener."""
        self.bar.close()
        self.probe.close()


def evaluate_ros(checkpoint: str, episodes: int, seed_start: int = EVAL_SEED_START,
                 timeout: float = 300.0, progress: bool = False,
                 domain_id: Optional[int] = None, log_dir: Optional[str] = None,
                 world: str = 'overhead', render_size: Optional[Tuple[int, int]] = None
                 ) -> Dict[str, Any]:
    """
    Run ``episodes`` episodes through ``sim_world`` and ``fusion_node``; summarise them.

    ``checkpoint`` ``''`` lets the node load its default: the model installed in the package's
    share directory.

    Raises ``RuntimeError`` (with the tail of the nodes' logs) if the graph fails to deliver
    every report within ``timeout`` seconds.
    """
    if checkpoint and not os.path.isfile(checkpoint):
        raise RuntimeError(f'{checkpoint}: no such checkpoint')
    domain_id = domain_id if domain_id is not None else random.SystemRandom().randint(101, 200)
    graph = Graph(eval_graph(checkpoint, episodes, seed_start, world, render_size),
                  env=isolated_env(domain_id),
                  log_dir=log_dir or tempfile.mkdtemp(prefix='vla_ros_eval_'))
    listener = _Reports(domain_id, episodes, progress)
    start = time.monotonic()
    try:
        graph.start()
        reports, problem = listener.collect(graph, start + timeout)
    finally:
        graph.stop()
        listener.close()
    if problem:
        raise RuntimeError(problem + '\n' + graph.tails())
    summary = summarize(reports)
    summary['wall_time_s'] = round(time.monotonic() - start, 2)
    summary['timeouts'] = sum(int(r.get('timeouts', 0)) for r in reports)
    summary['domain_id'] = domain_id
    summary['reports'] = reports
    return summary
