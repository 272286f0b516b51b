# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Closed-loop evaluation of a policy in a simulated world, on held-out scene seeds, honestly.

Success is **strict** (:mod:`vla_fusion_ros.sim.base`): reach the named object without touching
another, or, when it is absent, stop without touching anything. Every figure stands beside its
**no-information floors** on the same scenes, with Wilson 95% intervals and n: the same policy
told :data:`UNINFORMATIVE_INSTRUCTION` (``'go to the object'``), and a vision-only model trained
with the same recipe (``--vision-only``). ``--parity 64x64 160x120 320x240 640x480`` adds the
camera-resolution table: frames rendered at each size, preprocessed by the node's
:func:`~vla_fusion_ros.model.preprocess.prepare_rgb`. ``--against OTHER.safetensors`` runs
another checkpoint on the same scenes and camera and tests the difference, paired by scene
(McNemar's exact test: is one model better, or are they within noise?).

Episode ``i`` is the scene of seed ``seed_start + i`` (``EVAL_SEED_START`` = 1,000,000 by
default: never seen in training or validation). Two paths give the same episodes:

- in-process (default, fast): many worlds step together and one
  :meth:`VLAPolicy.predict_batch` call acts for all running episodes;
- ``--ros``: the deployed path. ``sim_world`` (lockstep, ``TwistStamped``) and ``fusion_node``
  run as separate installed processes talking over DDS, in a private ROS domain; this process
  collects the world's ``~/episode`` reports (see :mod:`vla_fusion_ros.train.ros_eval`).

A policy that predicts a chunk of actions executes the first action of each chunk, once per
frame (what the fusion node does when a new frame arrives every step).

CLI::

    python -m vla_fusion_ros.train.evaluate --checkpoint models/overhead.safetensors --ros
    python -m vla_fusion_ros.train.evaluate --checkpoint models/first_person.safetensors \
        --vision-only models/first_person_vision_only.safetensors
    python -m vla_fusion_ros.train.evaluate --checkpoint runs/new/model.safetensors \
        --against models/first_person.safetensors --episodes 1000 --seed-start 3000000
"""

import argparse
import json
import os
import sys
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from tqdm import tqdm

from vla_fusion_ros.model.preprocess import prepare_rgb
from vla_fusion_ros.sim.base import BaseWorldConfig, EVAL_SEED_START
from vla_fusion_ros.sim.registry import make_config, make_world, WORLDS
from vla_fusion_ros.train.compare_stats import format_p, mcnemar_exact
from vla_fusion_ros.train.metrics import agreement, format_rate, format_summary, summarize

#: The no-information instruction: names neither a colour nor a shape.
UNINFORMATIVE_INSTRUCTION = 'go to the object'

__all__ = ['evaluate_in_process', 'main', 'run_episodes', 'UNINFORMATIVE_INSTRUCTION']


def run_episodes(policy, episodes: int, seed_start: int = EVAL_SEED_START,
                 world_config: Optional[BaseWorldConfig] = None, batch_size: int = 100,
                 progress: bool = False, world: str = 'overhead',
                 render_size: Optional[Tuple[int, int]] = None,
                 instruction: Union[None, str, Callable[[Any], str]] = None,
                 observe: Optional[Callable[[int, Any, np.ndarray], None]] = None
                 ) -> List[Dict[str, Any]]:
    """
    Run ``episodes`` closed-loop episodes of ``policy`` (a :class:`VLAPolicy`) in-process.

    Frames are rendered at ``render_size`` (width, height; default the world's square
    ``image_size``) and go through :func:`prepare_rgb`, as the node's frames do. ``instruction``
    replaces every scene's own (the no-information floor uses
    :data:`UNINFORMATIVE_INSTRUCTION`); a function of the reset world instead phrases each
    scene's own way, and becomes the scene's instruction (the held-out language suite,
    :mod:`.language_eval`). Returns one report per episode, in seed order, with the keys of
    ``sim_world``'s ``~/episode`` reports (:meth:`BaseWorld.report`). ``observe(episode, world,
    action)``, if given, sees every action before the world steps with it (:mod:`.failures`).
    """
    if episodes < 1:
        raise ValueError(f'episodes: must be >= 1, got {episodes}')
    config = world_config or make_config(world)
    width, height = render_size or (config.image_size, config.image_size)
    reports: List[Dict[str, Any]] = []
    bar = tqdm(total=episodes, desc='episodes', unit='ep', disable=not progress)
    for first in range(0, episodes, batch_size):
        worlds = []
        for seed in range(seed_start + first, seed_start + min(episodes, first + batch_size)):
            env = make_world(world, config)
            env.reset(seed)
            if callable(instruction):
                env.instruction = instruction(env)
            worlds.append(env)
        memory = policy.new_memory(len(worlds)) if hasattr(policy, 'new_memory') else None
        while True:
            running = [i for i, w in enumerate(worlds) if not w.done]
            if not running:
                break
            images = np.stack([prepare_rgb(worlds[i].render(width, height), 'rgb8',
                                           policy.image_size) for i in running])
            fixed = instruction if isinstance(instruction, str) else None
            texts = [fixed or worlds[i].instruction for i in running]
            if memory is not None:
                actions = policy.predict_batch(images, texts, memory=memory, rows=running)
            else:
                actions = policy.predict_batch(images, texts)
            for i, action in zip(running, actions[:, 0]):  # first action of each chunk
                if observe is not None:
                    observe(first + i, worlds[i], action)
                if worlds[i].step(action).done:
                    bar.update(1)
        reports.extend(w.report() for w in worlds)
    bar.close()
    return reports


def evaluate_in_process(policy, episodes: int, seed_start: int = EVAL_SEED_START,
                        progress: bool = False, world: str = 'overhead',
                        world_config: Optional[BaseWorldConfig] = None,
                        render_size: Optional[Tuple[int, int]] = None,
                        instruction: Optional[str] = None) -> Dict[str, Any]:
    """Run and summarise in-process episodes; the summary carries the reports and the time."""
    start = time.monotonic()
    reports = run_episodes(policy, episodes, seed_start, world_config, progress=progress,
                           world=world, render_size=render_size, instruction=instruction)
    summary = summarize(reports)
    summary['wall_time_s'] = round(time.monotonic() - start, 2)
    summary['world'] = world
    if render_size:
        summary['render_size'] = list(render_size)
    if instruction:
        summary['instruction'] = instruction
    summary['reports'] = reports
    return summary


def held_out(policy, episodes: int, world: str, log=print) -> Tuple[Dict, Dict]:
    """Strict success on held-out seeds and the uninformative-instruction floor (no reports)."""
    result = evaluate_in_process(policy, episodes, EVAL_SEED_START, world=world)
    floor = evaluate_in_process(policy, episodes, EVAL_SEED_START, world=world,
                                instruction=UNINFORMATIVE_INSTRUCTION)
    result.pop('reports')
    floor.pop('reports')
    log(format_summary(f'held-out {world} scenes', result))
    log(format_summary(f'  floor: same policy told "{UNINFORMATIVE_INSTRUCTION}"', floor))
    log('  floor: the vision-only model of the same recipe: train it with '
        '--set model.fusion.mode=vision_only and evaluate with --vision-only')
    return result, floor


def checkpoint_world(path: str) -> str:
    """Return the world a checkpoint was trained in (from its metadata; overhead if unsaid)."""
    from vla_fusion_ros.model import read_checkpoint_info
    metadata = read_checkpoint_info(path)[1] or {}
    training = metadata.get('training', {}) if isinstance(metadata, dict) else {}
    name = training.get('world_name') or (training.get('data') or {}).get('world_name')
    return name if name in WORLDS else 'overhead'


def evaluate_with_floors(policy, episodes: int, seed_start: int, world: str,
                         vision_only=None, render_size=None, progress: bool = False
                         ) -> Dict[str, Any]:
    """
    Strict success of ``policy`` beside its no-information floors, on the same scenes.

    ``uninformed``: the same policy, every instruction replaced by
    :data:`UNINFORMATIVE_INSTRUCTION`; ``vision_only``: a vision-only model trained with the
    same recipe (when given).
    """
    out = {'policy': evaluate_in_process(policy, episodes, seed_start, progress, world,
                                         render_size=render_size),
           'uninformed': evaluate_in_process(policy, episodes, seed_start, progress, world,
                                             render_size=render_size,
                                             instruction=UNINFORMATIVE_INSTRUCTION)}
    if vision_only is not None:
        out['vision_only'] = evaluate_in_process(vision_only, episodes, seed_start, progress,
                                                 world, render_size=render_size)
    return out


def _outcomes(run: Dict[str, Any]) -> str:
    return ''.join('1' if r['success'] else '0' for r in run['reports'])


def paired(mine: Dict[str, Any], other: Dict[str, Any]) -> Dict[str, Any]:
    """
    Return ``other``'s summary with the paired test of ``mine`` against it.

    ``test``: ``b`` scenes only ``mine`` succeeded in, ``c`` only ``other``, and McNemar's exact
    two-sided ``p``; both runs must hold the same scenes.
    """
    if [r['seed'] for r in mine['reports']] != [r['seed'] for r in other['reports']]:
        raise ValueError('paired: the two runs hold different scenes')
    return {**other, 'test': mcnemar_exact(_outcomes(mine), _outcomes(other))}


def format_paired(name: str, result: Dict[str, Any]) -> str:
    """One line: the other model's success and the paired test against it."""
    t = result['test']
    return (f'  against {name}: strict success {format_rate(result)}; scenes only this '
            f"checkpoint won: {t['b']}, only {name}: {t['c']} (McNemar's exact test, "
            f"p {format_p(t['p'])})")


def earlier_vision_only(path: str, world: str, episodes: int, seed_start: int,
                        size: Optional[Tuple[int, int]]
                        ) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """
    Return the vision-only floor of an earlier ``evaluate --json`` file and its source.

    A ValueError names the file and what differs when it is not a run on the same scenes
    (world, episodes, first seed) at the same camera resolution.
    """
    try:
        with open(path, encoding='utf-8') as handle:
            data = json.load(handle)
        floor = data['vision_only']
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f'--vision-only-from {path}: no vision-only floor there ({exc})')
    want = {'world': world, 'episodes': episodes, 'seed_start': seed_start,
            'render_size': list(size) if size else None}
    have = {'world': data.get('world'), 'episodes': data.get('episodes'),
            'seed_start': data.get('seed_start'), 'render_size': floor.get('render_size')}
    wrong = [f'{k} {have[k]} (not {want[k]})' for k in want if have[k] != want[k]]
    if wrong:
        raise ValueError(f'--vision-only-from {path}: another run: ' + ', '.join(wrong))
    return floor, {'path': path, 'evaluated_with': data.get('checkpoint')}


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Evaluate a checkpoint from the command line."""
    from vla_fusion_ros.train.dataset import parse_size
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--checkpoint', default='models/overhead.safetensors')
    parser.add_argument('--world', choices=WORLDS, default=None,
                        help="default: the checkpoint's own world")
    parser.add_argument('--episodes', type=int, default=100)
    parser.add_argument('--seed-start', type=int, default=EVAL_SEED_START)
    parser.add_argument('--render-size', default='',
                        help='camera resolution WIDTHxHEIGHT (default: the model input size)')
    parser.add_argument('--parity', nargs='*', default=None, metavar='WxH',
                        help='also evaluate at these camera resolutions (the parity table)')
    floor = parser.add_mutually_exclusive_group()
    floor.add_argument('--vision-only', default='',
                       help='a vision-only checkpoint trained with the same recipe: its '
                       'success is reported as a no-information floor')
    floor.add_argument('--vision-only-from', default='', metavar='EVAL_JSON',
                       help='instead of --vision-only: the vision-only floor of an earlier '
                       '--json run on the same scenes and camera (it reads no language, so a '
                       'new language model does not change it); the report names its source')
    parser.add_argument('--no-floors', action='store_true',
                        help='skip the uninformative-instruction floor')
    parser.add_argument('--ros', action='store_true',
                        help='also evaluate through ROS (sim_world + fusion_node over DDS)')
    parser.add_argument('--ros-only', action='store_true', help='skip the in-process runs')
    parser.add_argument('--threads', type=int, default=1, help='torch threads (in-process)')
    parser.add_argument('--ros-timeout', type=float, default=0.0,
                        help='seconds for the ROS run; 0 = 60 s + 3 s per episode')
    parser.add_argument('--against', action='append', default=[], metavar='CHECKPOINT',
                        help='also run this checkpoint on the same scenes (in-process) and '
                        'test the difference, paired by scene (repeatable)')
    parser.add_argument('--json', help='write the summaries (and every episode) here')
    parser.add_argument('--no-progress', action='store_true')
    args = parser.parse_args(argv)

    import torch
    from vla_fusion_ros.model import CheckpointError, VLAPolicy
    torch.set_num_threads(max(1, args.threads))
    try:
        policy = VLAPolicy.from_checkpoint(args.checkpoint)
        world = args.world or checkpoint_world(args.checkpoint)
        blind = VLAPolicy.from_checkpoint(args.vision_only) if args.vision_only else None
        others = {path: VLAPolicy.from_checkpoint(path) for path in args.against}
        for path in others:
            trained = checkpoint_world(path)
            if not args.world and trained != world:
                raise ValueError(f'--against {path}: trained in the {trained} world, not '
                                 f'{world} (pass --world to run both in one world)')
        size = parse_size(args.render_size) if args.render_size else None
        parity = [parse_size(t) for t in (args.parity or [])]
        earlier = (earlier_vision_only(args.vision_only_from, world, args.episodes,
                                       args.seed_start, size)
                   if args.vision_only_from else None)
    except (CheckpointError, ValueError) as exc:
        print(f'evaluate: {exc}', file=sys.stderr)
        return 2
    progress = not args.no_progress
    out: Dict[str, Any] = {'checkpoint': args.checkpoint, 'identity': policy.identity,
                           'world': world, 'episodes': args.episodes,
                           'seed_start': args.seed_start}
    if not args.ros_only:
        out['in_process'] = evaluate_in_process(policy, args.episodes, args.seed_start,
                                                progress, world, render_size=size)
        print(format_summary(f'{world}, in-process', out['in_process']))
        if not args.no_floors:
            out['uninformed'] = evaluate_in_process(
                policy, args.episodes, args.seed_start, progress, world, render_size=size,
                instruction=UNINFORMATIVE_INSTRUCTION)
            print(format_summary(f'  floor: same policy told "{UNINFORMATIVE_INSTRUCTION}"',
                                 out['uninformed']))
        if blind is not None:
            out['vision_only'] = evaluate_in_process(blind, args.episodes, args.seed_start,
                                                     progress, world, render_size=size)
            print(format_summary('  floor: vision-only model, same recipe',
                                 out['vision_only']))
        elif earlier is not None:
            out['vision_only'], out['vision_only_from'] = earlier
            print(format_summary(f'  floor: vision-only model, same recipe (from '
                                 f'{args.vision_only_from})', out['vision_only']))
        for path, other in others.items():
            out.setdefault('against', {})[path] = paired(
                out['in_process'], evaluate_in_process(other, args.episodes, args.seed_start,
                                                       progress, world, render_size=size))
            print(format_paired(path, out['against'][path]))
        if parity:
            out['parity'] = {}
            for w, h in parity:
                result = evaluate_in_process(policy, args.episodes, args.seed_start, progress,
                                             world, render_size=(w, h))
                out['parity'][f'{w}x{h}'] = result
                print(format_summary(f'  camera {w}x{h}', result))
    if args.ros or args.ros_only:
        from vla_fusion_ros.train.ros_eval import evaluate_ros
        timeout = args.ros_timeout or 60.0 + 3.0 * args.episodes
        try:
            out['ros'] = evaluate_ros(os.path.abspath(args.checkpoint), args.episodes,
                                      args.seed_start, timeout=timeout, progress=progress,
                                      world=world, render_size=size)
        except RuntimeError as exc:
            print(f'evaluate: ROS run failed: {exc}', file=sys.stderr)
            return 1
        print(format_summary(f'{world}, ROS (sim_world + fusion_node over DDS)', out['ros']))
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
