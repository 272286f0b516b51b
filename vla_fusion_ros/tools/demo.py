# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The closed-loop demo: the simulated world and the fusion node, as processes over DDS.

    python -m vla_fusion_ros.tools.demo ["go to the blue square" ...] [--episodes N] \
        [--world overhead|first_person] [--camera 640x480]

For each instruction (typed ones, or the world's own for ``--episodes`` random scenes) the
demo stages a held-out scene whose target is the named object, sends the instruction to the
fusion node, prints the velocity commands as they are published and the episode's outcome,
and saves a GIF of the first episode: what the robot's camera saw (at the camera's resolution,
640x480 by default) beside the arena seen from above, replayed in-process from the actions the
world executed (deterministic renderers make it the same episode). Each
world serves its own shipped model unless ``--checkpoint`` says otherwise. The nodes are the
colcon-installed ``sim_world`` and
``fusion_node`` executables, configured from ``config/fusion.yaml`` like the launch file.
"""

import argparse
import json
import os
import sys
import time
from typing import List, Optional, Tuple

import numpy as np

from vla_fusion_ros.harness.executables import default_params_file, share_file
from vla_fusion_ros.harness.graph import Graph, NodeSpec
from vla_fusion_ros.harness.probe import Probe
from vla_fusion_ros.ros import dds
from vla_fusion_ros.sim.base import EVAL_SEED_START
from vla_fusion_ros.sim.instructions import parse_instruction
from vla_fusion_ros.sim.registry import make_world, parse_size, WORLDS
from vla_fusion_ros.sim.world import draw_overhead

CAMERA = (640, 480)  # the simulated camera's default resolution
PANEL = 192         # GIF panel height in pixels


def find_scene(target: Tuple[str, str], start: int, limit: int = 5000,
               world: str = 'overhead') -> int:
    """Return the first held-out seed from ``start`` whose scene holds ``(colour, shape)``."""
    env = make_world(world)
    for seed in range(start, start + limit):
        env.reset(seed)
        if env.named == tuple(target) and not env.target_absent:
            return seed
    raise ValueError(f'no scene with a {target[0]} {target[1]} target in {limit} seeds')


def plan_episodes(instructions: List[str], episodes: int,
                  world: str = 'overhead') -> List[Tuple[int, str]]:
    """Return ``(seed, instruction)`` pairs: typed instructions, else the world's own."""
    plan, seed = [], EVAL_SEED_START + 7000  # held-out scenes, away from the evaluation set
    if instructions:
        for text in instructions:
            target = parse_instruction(text)
            if target is None:
                raise ValueError(
                    f'cannot stage a scene for "{text}": name a colour (red, green, blue, '
                    'yellow) and a shape (circle, square, triangle)')
            seed = find_scene(target, seed, world=world)
            plan.append((seed, text))
            seed += 1
        return plan
    env = make_world(world)
    for i in range(episodes):
        env.reset(seed + i)
        plan.append((seed + i, env.instruction))
    return plan


def graph_nodes(params_file: str, checkpoint: str, world: str = 'overhead',
                camera: Tuple[int, int] = CAMERA) -> List[NodeSpec]:
    """Return the demo's graph: world (lockstep, with its map view) and fusion node."""
    if world != 'overhead' and not checkpoint:
        checkpoint = share_file('models', f'{world}.safetensors')
    world = NodeSpec('sim_world', 'sim_world', params_file, overrides={
        'world': world, 'image_width': camera[0], 'image_height': camera[1],
        'mode': 'lockstep', 'cmd_type': 'twist_stamped', 'episodes': 0,
        'on_finish': 'idle', 'seed': EVAL_SEED_START + 9_000_000})
    fusion = NodeSpec('fusion_node', 'fusion_node', params_file, overrides={
        'output_type': 'twist_stamped', 'checkpoint': checkpoint},
        remaps={'~/image_raw': '/sim_world/image_raw', '~/instruction': '/demo/instruction'})
    return [world, fusion]


def compose(camera: np.ndarray, overhead: np.ndarray, height: int = PANEL) -> np.ndarray:
    """Return one GIF frame: what the robot's camera saw, beside the arena from above."""
    import cv2
    width = int(round(camera.shape[1] * height / camera.shape[0]))
    left = cv2.resize(camera, (width, height), interpolation=cv2.INTER_AREA)
    right = cv2.resize(overhead, (height, height), interpolation=cv2.INTER_NEAREST)
    gap = np.full((height, 4, 3), 255, dtype=np.uint8)
    return np.concatenate([left, gap, right], axis=1)


def replay(world_name: str, seed: int, commands, camera: Tuple[int, int]):
    """
    Re-run an episode in-process from the actions the world executed; return its frames.

    The actions are the world's report's ``actions``.

    The world is a function of the seed and the actions, and the renderers are deterministic,
    so this shows exactly what the robot's camera saw, without pulling every 640x480 frame
    through a second DDS subscriber. Returns ``(frames, world)``.
    """
    world = make_world(world_name)
    world.reset(seed)
    frames = []
    for action in commands:
        frames.append(compose(world.render(*camera), draw_overhead(world, 192)))
        if world.step(action).done:
            break
    frames.append(compose(world.render(*camera), draw_overhead(world, 192)))  # the end
    return frames, world


def save_gif(frames: List[np.ndarray], path: str) -> None:
    """Write frames as an animated GIF."""
    from PIL import Image as PILImage
    images = [PILImage.fromarray(f) for f in frames]
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

    def wait_ready(self, timeout: float) -> bool:
        """Wait until the world and the fusion node are up and connected to this client."""
        return self.probe.spin_until(
            lambda: (self.probe.count_subscribers('/sim_world/reset') > 0
                     and self.probe.count_subscribers('/demo/instruction') > 0
                     and self.probe.count_publishers('/cmd_vel') > 0), timeout, poll=0.1)

    def run_episode(self, seed: int, instruction: str, timeout: float) -> Optional[dict]:
        """
        Stage ``seed``, send ``instruction``, print commands, return the world's report.

        The reset goes first: the world then waits ``instruction_lead`` (0.2 s) before the
        scene's first frame, so the instruction, which also clears a model's memory in the
        node, arrives after every frame of the abandoned scene and before the new one.
        """
        start = len(self.commands)
        self.reset_pub.publish(self._Int64(data=seed))
        self.probe.publish_instruction(self.instruction_pub, instruction)
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
    parser.add_argument('--world', choices=WORLDS, default='overhead',
                        help='the simulated world (default overhead)')
    parser.add_argument('--camera', default=f'{CAMERA[0]}x{CAMERA[1]}',
                        help='camera resolution WIDTHxHEIGHT (default %(default)s)')
    parser.add_argument('--checkpoint', default='', help='model to serve (default: the '
                        'shipped model of the world)')
    parser.add_argument('--gif', default='out/demo.gif', help='GIF of the first episode')
    parser.add_argument('--timeout', type=float, default=60.0, help='seconds per episode')
    args = parser.parse_args(argv)
    try:
        plan = plan_episodes(args.instructions, args.episodes, args.world)
        camera = parse_size(args.camera)
        nodes = graph_nodes(default_params_file(), args.checkpoint, args.world, camera)
    except (ValueError, FileNotFoundError) as exc:
        print(f'demo: {exc}', file=sys.stderr)
        return 2
    dds.use_profile()  # config/fastdds.xml: camera frames through shared memory
    graph = Graph(nodes,
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
            print(f'\nepisode {index}/{len(plan)} (scene {seed}): "{text}"', flush=True)
            report = client.run_episode(seed, text, args.timeout)
            if report is None:
                print('  no result (timed out)', flush=True)
                results.append(False)
                continue
            outcome = 'SUCCESS' if report['success'] else 'failure'
            print(f'  -> {outcome} ({report.get("reason", "?")}) in {report["steps"]} steps, '
                  f'final distance {report.get("final_distance_m", float("nan")):.2f} m',
                  flush=True)
            results.append(bool(report['success']))
            if index == 1:
                frames, again = replay(args.world, seed, report.get('actions', []), camera)
                save_gif(frames, args.gif)
                same = (again.reason, again.steps) == (report.get('reason'), report['steps'])
                print(f'  saved {len(frames)} frames to {args.gif} (the episode replayed from '
                      f'the executed actions: {"the same" if same else "a DIFFERENT"} '
                      'outcome)', flush=True)
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
