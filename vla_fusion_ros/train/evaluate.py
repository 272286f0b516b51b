# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Closed-loop evaluation of a policy in the simulated world, on held-out scene seeds.

Episode ``i`` is the scene of seed ``seed_start + i`` (``EVAL_SEED_START`` = 1,000,000 by
default: never seen in training or validation). Two paths give the same episodes:

- in-process (default, fast): many :class:`World` instances step together and one
  :meth:`VLAPolicy.predict_batch` call acts for all running episodes;
- ``--ros``: the deployed path. ``sim_world`` (lockstep, ``TwistStamped``) and ``fusion_node``
  run as separate installed processes talking over DDS, in a private ROS domain; this process
  collects the world's ``~/episode`` reports (see :mod:`vla_fusion_ros.train.ros_eval`).

A policy that predicts a chunk of actions executes the first action of each chunk, once per
frame (what the fusion node does when a new frame arrives every step).

CLI::

    python -m vla_fusion_ros.train.evaluate --checkpoint models/default.safetensors --ros
"""

import argparse
import json
import os
import sys
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

import numpy as np
from tqdm import tqdm

from vla_fusion_ros.sim.world import EVAL_SEED_START, World, WorldConfig
from vla_fusion_ros.train.metrics import agreement, format_summary, summarize

__all__ = ['evaluate_in_process', 'main', 'run_episodes']


def run_episodes(policy, episodes: int, seed_start: int = EVAL_SEED_START,
                 world_config: Optional[WorldConfig] = None, batch_size: int = 100,
                 progress: bool = False,
                 instruction: Union[None, str, Callable[[Any], str]] = None
                 ) -> List[Dict[str, Any]]:
    """
    Run ``episodes`` closed-loop episodes of ``policy`` (a :class:`VLAPolicy`) in-process.

    ``instruction`` replaces every scene's own: one text, or a function of the reset world
    (the held-out language suite, :mod:`.language_eval`, phrases each scene's target its way).

    Returns one report per episode, in seed order, with the keys of ``sim_world``'s
    ``~/episode`` reports: seed, instruction, target, success, steps, final_distance_m.
    """
    if episodes < 1:
        raise ValueError(f'episodes: must be >= 1, got {episodes}')
    config = world_config or WorldConfig()
    reports: List[Dict[str, Any]] = []
    bar = tqdm(total=episodes, desc='episodes', unit='ep', disable=not progress)
    for first in range(0, episodes, batch_size):
        worlds = []
        for seed in range(seed_start + first, seed_start + min(episodes, first + batch_size)):
            world = World(config)
            world.reset(seed)
            if instruction is not None:
                world.instruction = (instruction(world) if callable(instruction)
                                     else instruction)
            worlds.append(world)
        while True:
            running = [w for w in worlds if not w.done]
            if not running:
                break
            images = np.stack([w.render() for w in running])  # [B, S, S, 3] uint8
            actions = policy.predict_batch(images, [w.instruction for w in running])
            for world, action in zip(running, actions[:, 0]):  # first action of each chunk
                world.step(action)
                if world.done:
                    bar.update(1)
        for world in worlds:
            reports.append({'seed': world.seed, 'instruction': world.instruction,
                            'target': f'{world.target.color} {world.target.shape}',
                            'success': bool(world.success), 'steps': world.steps,
                            'final_distance_m': round(world.distance_to_target(), 4)})
    bar.close()
    return reports


def evaluate_in_process(policy, episodes: int, seed_start: int = EVAL_SEED_START,
                        progress: bool = False) -> Dict[str, Any]:
    """Run and summarise in-process episodes; the summary carries the reports and the time."""
    start = time.monotonic()
    reports = run_episodes(policy, episodes, seed_start, progress=progress)
    summary = summarize(reports)
    summary['wall_time_s'] = round(time.monotonic() - start, 2)
    summary['reports'] = reports
    return summary


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Evaluate a checkpoint from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--checkpoint', default='models/default.safetensors')
    parser.add_argument('--episodes', type=int, default=100)
    parser.add_argument('--seed-start', type=int, default=EVAL_SEED_START)
    parser.add_argument('--ros', action='store_true',
                        help='also evaluate through ROS (sim_world + fusion_node over DDS)')
    parser.add_argument('--ros-only', action='store_true', help='skip the in-process run')
    parser.add_argument('--threads', type=int, default=1, help='torch threads (in-process)')
    parser.add_argument('--ros-timeout', type=float, default=0.0,
                        help='seconds for the ROS run; 0 = 60 s + 3 s per episode')
    parser.add_argument('--json', help='write the summaries (and every episode) here')
    parser.add_argument('--no-progress', action='store_true')
    args = parser.parse_args(argv)

    import torch
    from vla_fusion_ros.model import CheckpointError, VLAPolicy
    torch.set_num_threads(max(1, args.threads))
    try:
        policy = VLAPolicy.from_checkpoint(args.checkpoint)
    except CheckpointError as exc:
        print(f'evaluate: {exc}', file=sys.stderr)
        return 2
    out: Dict[str, Any] = {'checkpoint': args.checkpoint, 'identity': policy.identity,
                           'episodes': args.episodes, 'seed_start': args.seed_start}
    if not args.ros_only:
        out['in_process'] = evaluate_in_process(policy, args.episodes, args.seed_start,
                                                progress=not args.no_progress)
        print(format_summary('in-process', out['in_process']))
    if args.ros or args.ros_only:
        from vla_fusion_ros.train.ros_eval import evaluate_ros
        timeout = args.ros_timeout or 60.0 + 3.0 * args.episodes
        try:
            out['ros'] = evaluate_ros(os.path.abspath(args.checkpoint), args.episodes,
                                      args.seed_start, timeout=timeout,
                                      progress=not args.no_progress)
        except RuntimeError as exc:
            print(f'evaluate: ROS run failed: {exc}', file=sys.stderr)
            return 1
        print(format_summary('ROS (sim_world + fusion_node over DDS)', out['ros']))
        if 'in_process' in out:
            out['agreement'] = agreement(out['in_process']['reports'], out['ros']['reports'])
            match = out['agreement']
            print(f'same outcome in {match["same_outcome"]}/{match["common_episodes"]} '
                  f'episodes; differing seeds: {match["differing_seeds"]}')
    if args.json:
        folder = os.path.dirname(os.path.abspath(args.json))
        os.makedirs(folder, exist_ok=True)
        with open(args.json, 'w', encoding='utf-8') as handle:
            json.dump(out, handle, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
