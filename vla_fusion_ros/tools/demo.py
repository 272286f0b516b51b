# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The closed-loop demo: the simulated world and the fusion node, as processes over DDS.

    python -m vla_fusion_ros.tools.demo ["go to the blue square" ...] [--episodes N]

For each instruction (typed ones, or the world's own for ``--episodes`` random scenes) the
demo stages a held-out scene whose target is the named object, sends the instruction to the
fusion node, prints the velocity commands as they are published and the episode's outcome,
and saves a GIF of the first episode. The nodes are the colcon-installed ``sim_world`` and
``fusion_node`` executables, configured from ``config/fusion.yaml`` like the launch file.
"""

import argparse
import json
import os
import sys
import time
from typing import List, Optional, Tuple

import numpy as np

from vla_fusion_ros.harness.executables import default_params_file
from vla_fusion_ros.harness.graph import Graph, NodeSpec
from vla_fusion_ros.harness.probe import Probe
from vla_fusion_ros.ros import dds
from vla_fusion_ros.sim.instructions import parse_instruction
from vla_fusion_ros.sim.world import EVAL_SEED_START, World

GIF_SCALE = 4


def find_scene(target: Tuple[str, str], start: int, limit: int = 5000) -> int:
    """Return the first held-out seed from ``start`` whose target is ``(colour, shape)``."""
    world = World()
    for seed in range(start, start + limit):
        world.reset(seed)
        if (world.target.color, world.target.shape) == tuple(target):
            return seed
    raise ValueError(f'no scene with a {target[0]} {target[1]} target in {limit} seeds')


def plan_episodes(instructions: List[str], episodes: int) -> List[Tuple[int, str]]:
    """Return ``(seed, instruction)`` pairs: typed instructions, else the world's own."""
    plan, seed = [], EVAL_SEED_START + 7000  # held-out scenes, away from the evaluation set
    if instructions:
        for text in instructions:
            target = parse_instruction(text)
            if target is None:
                raise ValueError(
                    f'cannot stage a scene for "{text}": name a colour (red, green, blue, '
                    'yellow) and a shape (circle, square, triangle)')
            seed = find_scene(target, seed)
            plan.append((seed, text))
            seed += 1
        return plan
    world = World()
    for i in range(episodes):
        world.reset(seed + i)
        plan.append((seed + i, world.instruction))
    return plan


def graph_nodes(params_file: str, checkpoint: str) -> List[NodeSpec]:
    """Return the demo's graph: world (lockstep) and fusion node, wired together."""
    world = NodeSpec('sim_world', 'sim_world', params_file, overrides={
        'mode': 'lockstep', 'cmd_type': 'twist_stamped', 'episodes': 0, 'on_finish': 'idle',
        'seed': EVAL_SEED_START + 9_000_000})
    fusion = NodeSpec('fusion_node', 'fusion_node', params_file, overrides={
        'output_type': 'twist_stamped', 'checkpoint': checkpoint},
        remaps={'~/image_raw': '/sim_world/image_raw', '~/instruction': '/demo/instruction'})
    return [world, fusion]


def save_gif(frames: List[np.ndarray], path: str) -> None:
    """Write frames (upscaled for visibility) as an animated GIF."""
    from PIL import Image as PILImage
    images = [PILImage.fromarray(np.kron(f, np.ones((GIF_SCALE, GIF_SCALE, 1), np.uint8)))
              for f in frames]
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    images[0].save(path, save_all=True, append_images=images[1:], duration=120, loop=0)


class DemoClient:
    """The demo's probe: sends instructions and resets, watches commands, frames and reports."""

    def __init__(self):
        from std_msgs.msg import Int64, String

        from vla_fusion_ros.ros.qos import latched_qos, make_qos

        self._Int64 = Int64
        self.probe = Probe('vla_demo')
        self.instruction_pub = self.probe.instruction_publisher('/demo/instruction')
        self.reset_pub = self.probe.create_publisher(Int64, '/sim_world/reset', latched_qos())
        self.reports = self.probe.record(String, '/sim_world/episode',
                                         make_qos('reliable', 'keep_last', 100,
                                                  'transient_local'),
                                         lambda m: json.loads(m.data))
        self.commands = self.probe.watch_commands('/cmd_vel', stamped=True, depth=10)
        self.images = self.probe.watch_images('/sim_world/image_raw', 'best_effort')

    @property
    def frames(self) -> List[np.ndarray]:
        """Return the frames recorded so far."""
        return self.images.frames

    def wait_ready(self, timeout: float) -> bool:
        """Wait until the world and the fusion node are up and connected to this client."""
        return self.probe.spin_until(
            lambda: (self.probe.count_subscribers('/sim_world/reset') > 0
                     and self.probe.count_subscribers('/demo/instruction') > 0
                     and self.probe.count_publishers('/cmd_vel') > 0), timeout, poll=0.1)

    def run_episode(self, seed: int, instruction: str, timeout: float) -> Optional[dict]:
        """Stage ``seed``, send ``instruction``, print commands, return the world's report."""
        self.probe.publish_instruction(self.instruction_pub, instruction)
        self.probe.spin_for(0.3)
        start = len(self.commands)
        self.reset_pub.publish(self._Int64(data=seed))
        end, shown = time.monotonic() + timeout, start
        while time.monotonic() < end:
            self.probe.spin_for(0.05)
            records = self.commands.records
            while shown < len(records):
                if (shown - start) % 4 == 0:
                    print(f'    cmd_vel: linear.x {records[shown].linear:+.3f} m/s, '
                          f'angular.z {records[shown].angular:+.3f} rad/s', flush=True)
                shown += 1
            for report in list(self.reports):
                if report.get('seed') == seed and not report.get('aborted'):
                    return report
        return None

    def close(self) -> None:
        """Destroy the probe."""
        self.probe.close()


def main(argv=None) -> int:
    """Run the demo and return 0 when every episode ran (success or not)."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('instructions', nargs='*', help='instructions to send (optional)')
    parser.add_argument('--episodes', type=int, default=5, help='random scenes when no '
                        'instruction is given (default 5)')
    parser.add_argument('--checkpoint', default='', help='model to serve (default: shipped)')
    parser.add_argument('--gif', default='out/demo.gif', help='GIF of the first episode')
    parser.add_argument('--timeout', type=float, default=60.0, help='seconds per episode')
    args = parser.parse_args(argv)
    try:
        plan = plan_episodes(args.instructions, args.episodes)
    except ValueError as exc:
        print(f'demo: {exc}', file=sys.stderr)
        return 2
    dds.use_profile()  # config/fastdds.xml: camera frames through shared memory
    graph = Graph(graph_nodes(default_params_file(), args.checkpoint),
                  log_dir=os.path.join(os.path.dirname(os.path.abspath(args.gif)), 'logs'))
    graph.start()
    client = DemoClient()
    results = []
    try:
        print(f'demo: world and fusion node started (pids '
              f'{[p.pid for p in graph.processes.values()]}); waiting for them...', flush=True)
        if not client.wait_ready(60.0):
            print(f'demo: the nodes did not come up (exit codes {graph.poll()})',
                  file=sys.stderr)
            return 1
        for index, (seed, text) in enumerate(plan, 1):
            client.images.recording = index == 1
            print(f'\nepisode {index}/{len(plan)} (scene {seed}): "{text}"', flush=True)
            report = client.run_episode(seed, text, args.timeout)
            client.images.recording = False
            if report is None:
                print('  no result (timed out)', flush=True)
                results.append(False)
                continue
            outcome = 'SUCCESS' if report['success'] else 'failure'
            print(f'  -> {outcome} in {report["steps"]} steps, final distance '
                  f'{report.get("final_distance_m", float("nan")):.2f} m', flush=True)
            results.append(bool(report['success']))
        if client.frames:
            save_gif(client.frames, args.gif)
            print(f'\nsaved {len(client.frames)} frames of episode 1 to {args.gif}')
    except KeyboardInterrupt:
        pass
    finally:
        client.close()
        codes = graph.stop()
    print(f'\n{sum(results)}/{len(results)} episodes succeeded; nodes exited with {codes} '
          f'(their output: {graph.log_dir})')
    return 0 if len(results) == len(plan) else 1


if __name__ == '__main__':
    sys.exit(main())
