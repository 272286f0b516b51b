# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The fusion comparison: every operator at every placement, against early, late and no fusion.

::

    python -m vla_fusion_ros.train.compare                    # the committed 'small' budget
    python -m vla_fusion_ros.train.compare --budget full --seeds 3 --jobs 2

Variants (24): each of the 7 operators of :data:`FUSION_OPERATORS` at three placements in the
default 4-layer CNN (grids 16x16, 8x8, 8x8, 8x8 after layers 0-3):

- ``early``: layer [0], low-level features on the finest grid;
- ``middle``: layer [2], the middle of the encoder;
- ``multi``: layers [1, 2], the two middle stages (the shipped design);

plus the ``early`` baseline (one joint transformer over patches and words from the input on),
``late`` fusion (the pooled sentence joins the pooled image at the head) and ``vision_only``
(the instruction is never read). Every variant uses the default model config apart from the
fusion settings, the same data file, the same optimizer, schedule and number of optimizer steps
times batch, and ``--seeds`` seeds (the seed sets initial weights and data order).

Each run is ``python -m vla_fusion_ros.train.train`` in a subprocess with one torch thread;
``--jobs`` run at once. A run whose ``summary.json`` exists is skipped and an interrupted one
resumes from its state, so the command can be stopped and started again. The final model of
each run is evaluated in-process on the same held-out episodes. Results go to
``results/comparison/`` (:mod:`vla_fusion_ros.train.compare_report`).
"""

import argparse
from concurrent.futures import ThreadPoolExecutor
import json
import os
import subprocess
import sys
import time
from typing import Any, Dict, List, Optional, Sequence

from vla_fusion_ros.model import FUSION_OPERATORS

#: Placements of the intermediate operators: name -> vision layers.
PLACEMENTS = {'early': [0], 'middle': [2], 'multi': [1, 2]}

#: Training budgets: the same for every variant. 'small' takes a tenth of the samples of
#: 'full', the shipped model's budget; comparison.md reports how long a run took.
BUDGETS: Dict[str, Dict[str, Any]] = {
    'small': {'episodes': 1500, 'steps': 400, 'batch_size': 64, 'eval_episodes': 100},
    'full': {'episodes': 3000, 'steps': 2000, 'batch_size': 128, 'eval_episodes': 100},
}


def variants() -> List[Dict[str, Any]]:
    """Return the 24 variants: name, group, mode, operator, layers."""
    out = []
    for operator in FUSION_OPERATORS:
        for placement, layers in PLACEMENTS.items():
            out.append({'name': f'{operator}@{placement}', 'group': 'intermediate',
                        'mode': 'intermediate', 'operator': operator, 'layers': layers,
                        'placement': placement})
    for mode in ('early', 'late', 'vision_only'):
        out.append({'name': mode, 'group': mode, 'mode': mode, 'operator': 'film',
                    'layers': [], 'placement': '-'})
    return out


def run_dir(root: str, variant: Dict[str, Any], seed: int) -> str:
    """Return the run folder of one variant and seed."""
    return os.path.join(root, variant['name'].replace('@', '_'), f'seed{seed}')


def train_command(variant: Dict[str, Any], seed: int, budget: Dict[str, Any], data: str,
                  out: str, config: str) -> List[str]:
    """Return the command line that trains one variant with one seed."""
    layers = '[' + ', '.join(str(i) for i in variant['layers']) + ']'
    return [sys.executable, '-m', 'vla_fusion_ros.train.train', '--config', config,
            '--out', out, '--resume', '--no-progress', '--set',
            f'seed={seed}', f'data.path={data}', 'threads=1',
            f'model.fusion.mode={variant["mode"]}',
            f'model.fusion.operator={variant["operator"]}', f'model.fusion.layers={layers}',
            f'schedule.steps={budget["steps"]}', f'schedule.batch_size={budget["batch_size"]}',
            f'schedule.val_every={budget["steps"]}', 'schedule.warmup_steps='
            f'{max(1, budget["steps"] // 15)}', 'eval.val_episodes=0',
            f'eval.episodes={budget["eval_episodes"]}']


def prepare_data(path: str, episodes: int) -> None:
    """Generate the shared dataset once, before the parallel runs start."""
    if os.path.isfile(path):
        return
    from vla_fusion_ros.train import dataset
    print(f'generating {path}: {episodes} episodes', flush=True)
    dataset.save(path, dataset.generate(episodes, seed=0))


def run_all(jobs: List[Dict[str, Any]], parallel: int) -> None:
    """Run the jobs that are not finished yet, ``parallel`` at a time."""
    todo = [j for j in jobs if not os.path.isfile(os.path.join(j['out'], 'summary.json'))]
    print(f'{len(jobs) - len(todo)} of {len(jobs)} runs already finished; '
          f'{len(todo)} to go, {parallel} at a time', flush=True)
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    env.pop('WORLD_SIZE', None)
    start = time.monotonic()
    done = [0]

    def one(job: Dict[str, Any]) -> None:
        os.makedirs(job['out'], exist_ok=True)
        with open(os.path.join(job['out'], 'train.log'), 'a', encoding='utf-8') as log:
            code = subprocess.call(job['cmd'], stdout=log, stderr=subprocess.STDOUT, env=env)
        done[0] += 1
        status = 'ok' if code == 0 else f'FAILED ({code}, see {job["out"]}/train.log)'
        print(f'[{done[0]}/{len(todo)} {time.monotonic() - start:6.0f} s] {job["name"]} '
              f'seed {job["seed"]}: {status}', flush=True)

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        list(pool.map(one, todo))


def collect(jobs: List[Dict[str, Any]]) -> Dict[str, List[Dict[str, Any]]]:
    """Read every finished run's summary, grouped by variant name."""
    found: Dict[str, List[Dict[str, Any]]] = {}
    for job in jobs:
        path = os.path.join(job['out'], 'summary.json')
        if os.path.isfile(path):
            with open(path, encoding='utf-8') as handle:
                summary = json.load(handle)
            found.setdefault(job['name'], []).append({
                'seed': job['seed'], 'successes': summary['eval']['successes'],
                'episodes': summary['eval']['episodes'],
                'success_rate': summary['eval']['success_rate'],
                'train_wall_time_s': summary['training']['wall_time_s'],
                'final_train_loss': summary['training']['train_loss'],
                'val_loss': (summary['training']['best'] or {}).get('val_loss')})
    return found


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run (or continue) the comparison and write its report."""
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--budget', choices=tuple(BUDGETS), default='small')
    parser.add_argument('--seeds', type=int, default=3)
    parser.add_argument('--jobs', type=int, default=2, help='training processes at once')
    parser.add_argument('--config', default='config/train_overhead.yaml')
    parser.add_argument('--runs', default='runs/compare', help='where the runs live')
    parser.add_argument('--out', default='results/comparison')
    parser.add_argument('--only', nargs='*', help='restrict to these variant names')
    parser.add_argument('--report-only', action='store_true',
                        help='write the report from finished runs, train nothing')
    parser.add_argument('--report', metavar='COMPARISON_JSON',
                        help='measure nothing: re-render comparison.md/png from a '
                        'comparison.json')
    args = parser.parse_args(argv)
    if args.report:
        from vla_fusion_ros.train.compare_report import rerender
        print('wrote ' + ', '.join(rerender(args.report, args.out)))
        return 0
    budget = dict(BUDGETS[args.budget], name=args.budget)
    data = f'data/compare_{args.budget}.npz'
    root = os.path.join(args.runs, args.budget)
    chosen = [v for v in variants() if not args.only or v['name'] in args.only]
    jobs = []
    for seed in range(args.seeds):  # seed-major: partial results cover every variant
        for variant in chosen:
            out = run_dir(root, variant, seed)
            jobs.append({'name': variant['name'], 'seed': seed, 'out': out,
                         'cmd': train_command(variant, seed, budget, data, out, args.config)})
    started = time.monotonic()
    if not args.report_only:
        prepare_data(data, budget['episodes'])
        run_all(jobs, max(1, args.jobs))
    from vla_fusion_ros.train.compare_report import write_report
    paths = write_report(chosen, collect(jobs), budget, args.seeds, args.out,
                         wall_time_s=0.0 if args.report_only else time.monotonic() - started,
                         config=args.config)
    print('wrote ' + ', '.join(paths))
    return 0


if __name__ == '__main__':
    sys.exit(main())
