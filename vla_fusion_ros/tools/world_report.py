# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Measure the simulated worlds: render speed, data-generation speed and the expert's quality.

    python -m vla_fusion_ros.tools.world_report [--scenes 1000] [--out results/training]

Writes ``worlds.md`` and ``worlds.json``: for each world, milliseconds per rendered frame at the
camera sizes the datasets use (median of ``--frames`` renders of moving scenes), frames per
second of dataset generation (expert, noise, render, the node's preprocessing), and the
expert's strict success on ``--scenes`` held-out scenes with how every episode ended.
"""

import argparse
import json
import os
import platform
import sys
import time
from typing import Any, Dict

import numpy as np

from vla_fusion_ros.sim.base import EVAL_SEED_START
from vla_fusion_ros.sim.expert import ExpertPolicy
from vla_fusion_ros.sim.registry import make_world, WORLDS
from vla_fusion_ros.train.dataset import generate, RENDER_SIZES
from vla_fusion_ros.train.metrics import format_rate, summarize

SIZES = ((64, 64), (160, 120), (320, 240), (640, 480))


def render_speed(name: str, frames: int) -> Dict[str, float]:
    """Median milliseconds per frame at each size, the robot turning through a scene."""
    world = make_world(name)
    out = {}
    for width, height in SIZES:
        world.reset(EVAL_SEED_START)
        world.render(width, height)  # first frame: context and buffers
        times = []
        for k in range(frames):
            world.set_pose(world.pose[0], world.pose[1], world.pose[2] + 0.05)
            start = time.perf_counter()
            world.render(width, height)
            times.append(time.perf_counter() - start)
        out[f'{width}x{height}'] = round(1e3 * float(np.median(times)), 3)
    return out


def generation_speed(name: str, episodes: int) -> Dict[str, float]:
    """Frames per second of dataset generation with the default camera-size mix."""
    start = time.perf_counter()
    data = generate(episodes, 0, world=name, render_sizes=RENDER_SIZES)
    seconds = time.perf_counter() - start
    return {'episodes': episodes, 'frames': int(len(data['images'])),
            'seconds': round(seconds, 2), 'frames_per_s': round(len(data['images']) / seconds, 1)}


def expert_quality(name: str, scenes: int) -> Dict[str, Any]:
    """Return the expert's strict success on held-out scenes, without noise."""
    world, expert = make_world(name), ExpertPolicy()
    reports = []
    for seed in range(EVAL_SEED_START, EVAL_SEED_START + scenes):
        world.reset(seed)
        while not world.done:
            world.step(expert.act(world))
        reports.append(world.report())
    summary = summarize(reports)
    return {k: summary[k] for k in ('episodes', 'successes', 'success_rate', 'ci95', 'reasons',
                                    'present', 'absent', 'mean_steps')}


def write_report(results: Dict[str, Any], folder: str) -> None:
    """Write ``worlds.json`` and ``worlds.md``."""
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, 'worlds.json'), 'w', encoding='utf-8') as handle:
        json.dump(results, handle, indent=1)
    lines = ['# The simulated worlds: speed and the expert', '',
             f'Measured by `{results["command"]}` on {results["machine"]} (load average '
             f'{results["load_average"]} at the start: other jobs shared the 2 cores).', '',
             '## Render time per frame (median, ms)', '',
             '| world | ' + ' | '.join(results['sizes']) + ' |',
             '|---|' + '---|' * len(results['sizes'])]
    for name in results['worlds']:
        speed = results['worlds'][name]['render_ms']
        lines.append(f'| {name} | ' + ' | '.join(
            f'{speed[s]:.2f} ({1e3 / speed[s]:.0f}/s)' for s in results['sizes']) + ' |')
    lines += ['', "The first-person world renders with MuJoCo offscreen (EGL; Mesa's software "
              'renderer here, no GPU), shadows and multisampling off; the overhead world draws '
              'with OpenCV (a non-square frame is drawn square and area-resized).', '',
              '## Dataset generation (expert, noise, render at a camera size drawn per episode '
              f'from {", ".join(results["sizes"])}, the node\'s `prepare_rgb`)', '',
              '| world | episodes | frames | seconds | frames/s |', '|---|---|---|---|---|']
    for name in results['worlds']:
        gen = results['worlds'][name]['generation']
        lines.append(f'| {name} | {gen["episodes"]} | {gen["frames"]} | {gen["seconds"]} | '
                     f'{gen["frames_per_s"]} |')
    lines += ['', f'## The expert on {results["scenes"]} held-out scenes (strict success)', '',
              '| world | strict success | target present | target absent | ends | '
              'mean steps |', '|---|---|---|---|---|---|']
    for name in results['worlds']:
        q = results['worlds'][name]['expert']
        ends = ', '.join(f'{k} {v}' for k, v in q['reasons'].items() if v)
        lines.append(f'| {name} | {format_rate(q)} | {format_rate(q["present"])} | '
                     f'{format_rate(q["absent"])} | {ends} | {q["mean_steps"]:.1f} |')
    lines.append('')
    with open(os.path.join(folder, 'worlds.md'), 'w', encoding='utf-8') as handle:
        handle.write('\n'.join(lines))


def main(argv=None) -> int:
    """Measure both worlds and write the report."""
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--scenes', type=int, default=1000)
    parser.add_argument('--frames', type=int, default=200)
    parser.add_argument('--episodes', type=int, default=100, help='for the generation speed')
    parser.add_argument('--out', default='results/training')
    args = parser.parse_args(argv)
    results: Dict[str, Any] = {
        'command': 'python -m vla_fusion_ros.tools.world_report ' + ' '.join(
            argv if argv is not None else sys.argv[1:]),
        'machine': f'{os.cpu_count()} cores, {platform.processor() or platform.machine()}',
        'load_average': [round(v, 2) for v in os.getloadavg()],
        'sizes': [f'{w}x{h}' for w, h in SIZES], 'scenes': args.scenes, 'worlds': {}}
    for name in WORLDS:
        results['worlds'][name] = {'render_ms': render_speed(name, args.frames),
                                   'generation': generation_speed(name, args.episodes),
                                   'expert': expert_quality(name, args.scenes)}
        print(name, json.dumps(results['worlds'][name]['render_ms']),
              json.dumps(results['worlds'][name]['generation']),
              format_rate(results['worlds'][name]['expert']), flush=True)
    write_report(results, args.out)
    print(f'wrote {args.out}/worlds.md')
    return 0


if __name__ == '__main__':
    sys.exit(main())
