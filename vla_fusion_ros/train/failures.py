# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
r"""
Why a policy fails: where it leaves the expert, what it saw then, and what would have helped.

The policy drives the held-out scenes exactly as :func:`.evaluate.run_episodes` does, while the
expert's action for the same state is recorded beside it (the expert reads the world's state
and never steers). For every failed episode:

- **divergence**: the first step where the two disagree by more than :data:`ANGULAR_GAP` rad/s
  in ``angular_z`` or :data:`LINEAR_GAP` m/s in ``linear_x``; whether the target had been in
  view by then, and which objects the camera had in view (first-person world) with their
  distances;
- **two counterfactuals on that very frame** (the world is replayed to it with the policy's
  own actions): the model with a fresh memory (is the recurrent state at fault?), and told the
  canonical ``'go to the <colour> <shape>'`` instead of the scene's phrasing (is the language at
  fault?). Where neither brings the action within the gaps, the model misreads the frame:
  perception;
- **what a collision hit** (the episode replayed to its end): an object of the named colour
  with another shape, of the named shape with another colour, or neither. The first two are
  the policy taking another object for the named one; the last, a path that clipped an object.

In the first-person world a **probe** follows: the robot is put facing a single object at a few
distances (nothing else in view), fresh memory, and told ``'go to the <colour> <shape>'`` with
the object's own name, with another shape of its colour, and with another colour of its shape.
It "goes" when ``linear_x >= 0.25`` and ``|angular_z| < 0.6`` (the expert's action there is
``[0.5, 0]``): the right name should make it go, a wrong one should not. Misses and false goes
are counted by distance and by shape.

CLI::

    python -m vla_fusion_ros.train.failures --checkpoint models/first_person.safetensors \\
        --episodes 200 --render-size 640x480 --out results/training/first_person_failures

writes ``<out>.json`` (every failed episode) and ``<out>.md``.
"""

import argparse
from collections import Counter, defaultdict
import json
import math
import os
import sys
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from vla_fusion_ros.model.preprocess import prepare_rgb
from vla_fusion_ros.sim.base import EVAL_SEED_START
from vla_fusion_ros.sim.expert import ExpertPolicy
from vla_fusion_ros.sim.geometry import in_view
from vla_fusion_ros.sim.registry import make_config, make_world, parse_size
from vla_fusion_ros.sim.shapes import COLORS, SHAPES
from vla_fusion_ros.train.evaluate import checkpoint_world, run_episodes

#: Disagreements smaller than these are the same action (rad/s, m/s).
ANGULAR_GAP, LINEAR_GAP = 0.8, 0.3
#: Probe: distances (m) from the single object, and what counts as going for it.
PROBE_DISTANCES = (0.6, 0.9, 1.2)
GO_LINEAR, GO_ANGULAR = 0.25, 0.6

__all__ = ['analyse', 'main', 'probe']


def _differs(a: Sequence[float], b: Sequence[float]) -> bool:
    return abs(a[1] - b[1]) > ANGULAR_GAP or abs(a[0] - b[0]) > LINEAR_GAP


def _in_view(world) -> List[Tuple[str, float]]:
    """Return the objects the camera sees (first person; overhead: all), nearest first."""
    fov = getattr(world, 'horizontal_fov', None)
    x, y = world.pose[0], world.pose[1]
    seen = [(f'{o.color} {o.shape}', round(math.hypot(o.x - x, o.y - y), 2))
            for o in world.objects
            if fov is None or in_view(world.pose, o, 0.5 * fov, world.objects)]
    return sorted(seen, key=lambda s: s[1])


def _frame(policy, world, render_size: Tuple[int, int]) -> np.ndarray:
    return prepare_rgb(world.render(*render_size), 'rgb8', policy.image_size)


def _act(policy, frames: List[np.ndarray], texts: List[str]) -> np.ndarray:
    """First actions [N, 2] with a fresh memory per frame."""
    memory = policy.new_memory(len(frames))
    rows = list(range(len(frames))) if memory is not None else None
    return policy.predict_batch(np.stack(frames), texts, memory=memory, rows=rows)[:, 0]


def _replay(world: str, config, seed: int, steps: List[Dict[str, Any]]):
    """Return the world of scene ``seed`` after ``steps``' actions (a pure function of both)."""
    env = make_world(world, config)
    env.reset(seed)
    for step in steps:
        env.step(step['action'])
    return env


def _hit(world: str, config, seed: int, steps: List[Dict[str, Any]]) -> Dict[str, str]:
    """Replay a collision; return the object hit and what it shares with the named one."""
    env = _replay(world, config, seed, steps)
    reason, index = env.contact(env.pose[0], env.pose[1])
    if reason != 'collision':
        raise RuntimeError(f'seed {seed}: the replay did not end in the collision')
    hit, (color, shape) = env.objects[index], env.named
    shares = [name for name, same in (('colour', hit.color == color),
                                      ('shape', hit.shape == shape)) if same]
    return {'object': f'{hit.color} {hit.shape}', 'shares': shares[0] if shares else 'neither'}


def analyse(policy, world: str, episodes: int, seed_start: int = EVAL_SEED_START,
            render_size: Optional[Tuple[int, int]] = None) -> Dict[str, Any]:
    """Run the episodes beside the expert; return the failures with their divergences."""
    config = make_config(world)
    size = render_size or (config.image_size, config.image_size)
    expert = ExpertPolicy()
    trace: Dict[int, List[Dict[str, Any]]] = defaultdict(list)

    def observe(index: int, env, action: np.ndarray) -> None:
        trace[index].append({'action': [float(v) for v in action[:2]],
                             'expert': [float(v) for v in expert.act(env)[:2]],
                             'seen': bool(env.target_seen), 'in_view': _in_view(env),
                             'distance_m': round(env.distance_to_target(), 3)})

    reports = run_episodes(policy, episodes, seed_start, config, world=world,
                           render_size=size, observe=observe)
    failures, frames, texts, canonical = [], [], [], []
    for index, report in enumerate(reports):
        if report['success']:
            continue
        steps = trace[index]
        split = next((k for k, s in enumerate(steps) if _differs(s['action'], s['expert'])),
                     None)
        failure = {key: report[key] for key in ('seed', 'instruction', 'target', 'absent',
                                                'reason', 'steps', 'final_distance_m')}
        failure['divergence'] = None
        if report['reason'] == 'collision':
            failure['hit'] = _hit(world, config, report['seed'], steps)
        if split is not None:
            env = _replay(world, config, report['seed'], steps[:split])
            at = steps[split]
            if abs(env.distance_to_target() - at['distance_m']) > 1e-3:
                raise RuntimeError(f'seed {report["seed"]}: the replay left the episode at step '
                                   f'{split}; the world is not deterministic')
            failure['divergence'] = {'step': split, **at}
            frames.append(_frame(policy, env, size))
            texts.append(report['instruction'])
            canonical.append(f'go to the {report["target"]}')
        failures.append(failure)
    if frames:
        fresh = _act(policy, frames, texts)
        named = _act(policy, frames, canonical)
        diverged = [f for f in failures if f['divergence']]
        for failure, a, b in zip(diverged, fresh, named):
            d = failure['divergence']
            d['fresh_memory'] = [round(float(v), 3) for v in a[:2]]
            d['canonical'] = [round(float(v), 3) for v in b[:2]]
            d['cause'] = ('memory' if policy.memory_size and not _differs(a, d['expert'])
                          else 'language' if not _differs(b, d['expert']) else 'perception')
    return {'world': world, 'episodes': episodes, 'seed_start': seed_start,
            'render_size': list(size), 'successes': sum(r['success'] for r in reports),
            'memory': bool(policy.memory_size), 'failures': failures}


def probe(policy, world: str, scenes: int = 60, seed_start: int = EVAL_SEED_START,
          render_size: Optional[Tuple[int, int]] = None) -> Optional[Dict[str, Any]]:
    """Single object in view: go rates by instruction kind, distance and shape (first person)."""
    config = make_config(world)
    env = make_world(world, config)
    fov = getattr(env, 'horizontal_fov', None)
    if fov is None:
        return None  # overhead: every object is always in view
    size = render_size or (config.image_size, config.image_size)
    rng = np.random.default_rng(0)
    half = 0.5 * fov - math.radians(config.visible_margin_deg)
    edge = 0.5 * config.arena_size_m - config.robot_radius_m - 0.05
    counts: Dict[str, Dict[str, List[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for seed in range(seed_start, seed_start + scenes):
        env.reset(seed)
        for obj in env.objects:
            for distance in PROBE_DISTANCES:
                heading = rng.uniform(0.0, 2.0 * math.pi)
                x = obj.x - distance * math.cos(heading)
                y = obj.y - distance * math.sin(heading)
                if max(abs(x), abs(y)) > edge or any(
                        math.hypot(x - o.x, y - o.y) < o.radius + config.robot_radius_m + 0.05
                        for o in env.objects):
                    continue
                env.set_pose(x, y, heading)
                if not in_view(env.pose, obj, half, env.objects) or any(
                        in_view(env.pose, o, 0.5 * fov, env.objects)
                        for o in env.objects if o is not obj):
                    continue
                other_shape = [s for s in SHAPES if s != obj.shape]
                other_color = [c for c in COLORS if c != obj.color]
                texts = {'right name': f'go to the {obj.color} {obj.shape}',
                         'other shape': f'go to the {obj.color} '
                                        f'{other_shape[rng.integers(len(other_shape))]}',
                         'other colour': f'go to the '
                                         f'{other_color[rng.integers(len(other_color))]} '
                                         f'{obj.shape}'}
                frame = _frame(policy, env, size)
                actions = _act(policy, [frame] * len(texts), list(texts.values()))
                for kind, action in zip(texts, actions):
                    go = int(action[0] >= GO_LINEAR and abs(action[1]) < GO_ANGULAR)
                    for key in (f'{distance} m', obj.shape):
                        counts[kind][key][0] += go
                        counts[kind][key][1] += 1
    return {'scenes': scenes, 'seed_start': seed_start,
            'counts': {k: {key: list(v) for key, v in c.items()} for k, c in counts.items()}}


def _pct(part: int, whole: int) -> str:
    return f'{part}/{whole} ({100.0 * part / whole:.0f}%)' if whole else '-'


def render_markdown(result: Dict[str, Any], command: str) -> str:
    """Return the report page of :func:`analyse` (and :func:`probe`) results."""
    failures = result['failures']
    lines = [f'# Failure analysis: {result["checkpoint"]}', '',
             f'{result["episodes"]} held-out scenes of the {result["world"]} world (seeds '
             f'{result["seed_start"]}..{result["seed_start"] + result["episodes"] - 1}), camera '
             f'{result["render_size"][0]}x{result["render_size"][1]}: '
             f'{result["successes"]} strict successes, {len(failures)} failures. '
             f'Command: `{command}`', '',
             '| how it failed | present target | absent target |', '|---|---|---|']
    reasons = Counter((f['reason'], f['absent']) for f in failures)
    for reason in sorted({r for r, _ in reasons}):
        lines.append(f'| {reason} | {reasons[(reason, False)]} | {reasons[(reason, True)]} |')
    hits = Counter((f['hit']['shares'], f['absent']) for f in failures if 'hit' in f)
    if hits:
        lines += ['', "**What the collisions hit**, against the named object (an absent target's "
                  'name included):', '', '| the object hit has | present target | absent target |',
                  '|---|---|---|']
        for shares, label in (('colour', 'the named colour, another shape'),
                              ('shape', 'the named shape, another colour'),
                              ('neither', 'neither')):
            lines.append(f'| {label} | {hits[(shares, False)]} | {hits[(shares, True)]} |')
    diverged = [f for f in failures if f['divergence']]
    causes = Counter(f['divergence']['cause'] for f in diverged)
    seen = sum(f['divergence']['seen'] for f in diverged)
    lines += ['', f'**Where it left the expert** (first step with |angular_z| off by more '
              f'than {ANGULAR_GAP} rad/s or linear_x by more than {LINEAR_GAP} m/s): '
              f'{len(diverged)} of {len(failures)} failures; the target had been in view by '
              f'then in {seen}. On that frame:', '',
              '| the model, given | brings it back to the expert | cause |', '|---|---|---|',
              f'| a fresh memory | {causes["memory"]} | memory |'
              if result['memory'] else '| a fresh memory | - (no memory) | - |',
              f'| "go to the <target>" | {causes["language"]} | language |',
              f'| neither | {causes["perception"]} | perception: the frame is misread |']
    turning = [f for f in diverged if f['divergence']['action'][1] > ANGULAR_GAP
               and f['divergence']['seen'] and not f['absent']]
    lines += ['', f'In {len(turning)} of them the target was present and had been in view, and '
              'the model turned left (counter-clockwise, the search direction) where the expert '
              'drove for it.']
    by_shape = Counter(f['target'].split()[-1] for f in failures if not f['absent'])
    lines += ['', "Present-target failures by the target's shape: " + ', '.join(
        f'{shape} {by_shape[shape]}' for shape in SHAPES) + '.']
    found = result.get('probe')
    if found:
        counts = found['counts']
        keys = [f'{d} m' for d in PROBE_DISTANCES] + list(SHAPES)
        lines += ['', f'## Probe: one object in view ({found["scenes"]} scenes from seed '
                  f'{found["seed_start"]})', '',
                  f'The robot faces a single object (nothing else in view), fresh memory; it '
                  f'"goes" when linear_x >= {GO_LINEAR} m/s and |angular_z| < {GO_ANGULAR} '
                  'rad/s. The right name should make it go; the other names should not.', '',
                  '| told | ' + ' | '.join(keys) + ' |', '|---' * (len(keys) + 1) + '|']
        for kind in ('right name', 'other shape', 'other colour'):
            row = counts.get(kind, {})
            lines.append(f'| {kind} | ' + ' | '.join(_pct(*row.get(k, [0, 0])) for k in keys)
                         + ' |')
    return '\n'.join(lines) + '\n'


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Analyse a checkpoint's failures; write ``<out>.json`` and ``<out>.md``."""
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--checkpoint', required=True)
    parser.add_argument('--world', default='', help="default: the checkpoint's own")
    parser.add_argument('--episodes', type=int, default=200)
    parser.add_argument('--seed-start', type=int, default=EVAL_SEED_START)
    parser.add_argument('--render-size', default='', metavar='WxH',
                        help="camera size (default: the world's native square)")
    parser.add_argument('--probe-scenes', type=int, default=60,
                        help='first-person probe scenes (0: no probe)')
    parser.add_argument('--out', required=True, help='path prefix of the .json and .md')
    args = parser.parse_args(argv)
    from vla_fusion_ros.model import VLAPolicy
    try:
        size = parse_size(args.render_size) if args.render_size else None
    except ValueError as error:
        print(f'failures: {error}', file=sys.stderr)
        return 2
    if not os.path.isfile(args.checkpoint):
        print(f'failures: --checkpoint {args.checkpoint}: no such file', file=sys.stderr)
        return 2
    policy = VLAPolicy.from_checkpoint(args.checkpoint)
    world = args.world or checkpoint_world(args.checkpoint)
    result = analyse(policy, world, args.episodes, args.seed_start, size)
    result['checkpoint'] = args.checkpoint
    if args.probe_scenes > 0:
        result['probe'] = probe(policy, world, args.probe_scenes, args.seed_start, size)
    command = 'python -m vla_fusion_ros.train.failures ' + ' '.join(
        argv if argv is not None else sys.argv[1:])
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out + '.json', 'w', encoding='utf-8') as handle:
        json.dump(result, handle, indent=1)
    with open(args.out + '.md', 'w', encoding='utf-8') as handle:
        handle.write(render_markdown(result, command))
    print(f'{len(result["failures"])} failures of {args.episodes}: {args.out}.md')
    return 0


if __name__ == '__main__':
    sys.exit(main())
