# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Synthetic results of comparison runs, for the tests of the sweep's logic and its report.

A run's result has the shape :mod:`vla_fusion_ros.train.compare_run` writes; the outcomes of
its episodes are drawn so that each point succeeds at the rate the test asks for. Nothing here
trains a model: these feed the pure functions (the plan's choices, the summary, the report).
"""

import random

from vla_fusion_ros.train import compare_plan as cp
from vla_fusion_ros.train.metrics import wilson_interval

#: Costs the summary would measure, fixed so that the tests measure nothing.
COST = {'parameters': 84_642, 'flops': 12_000_000, 'latency_ms': 3.5}


def outcomes(rate, episodes, seed):
    """Return an outcome string of ``episodes`` episodes, ``round(rate * episodes)`` won."""
    wins = set(random.Random(seed).sample(range(episodes), round(rate * episodes)))
    return ''.join('1' if i in wins else '0' for i in range(episodes))


def evaluation(rate, episodes, seed):
    """Return an evaluation entry as compare_run stores it."""
    text = outcomes(rate, episodes, seed)
    wins = text.count('1')
    return {'episodes': episodes, 'successes': wins, 'success_rate': wins / episodes,
            'ci95': wilson_interval(wins, episodes), 'outcomes': text, 'wall_time_s': 1.0}


def result(job, rates, floor=0.1):
    """Return the result of ``job`` whose points succeed at ``rates``."""
    points = []
    for i, (samples, rate) in enumerate(zip(job['points'], rates)):
        point = {'samples': samples, 'step': samples // job['batch_size'],
                 'val_loss': 0.3 - 0.2 * rate, 'eval': evaluation(rate, job['episodes'],
                                                                  job['seed'] * 31 + i)}
        if job['floor']:
            point['floor'] = evaluation(floor, job['episodes'], job['seed'] * 31 + i + 7)
        points.append(point)
    return {'job': job, 'points': points, 'train_wall_time_s': 60.0, 'eval_wall_time_s': 5.0,
            'process_s': 65.0, 'this_process_s': 66.0, 'torch_threads': 1}


def complete(plan, rate_of):
    """
    Run the whole plan on paper: every job's result, stage after stage.

    ``rate_of(job, index)`` gives the success of point ``index`` of ``job``.
    """
    results = {}
    while True:
        new = {job['id']: result(job, [rate_of(job, i) for i in range(len(job['points']))])
               for job in cp.ready_jobs(plan, results) if job['id'] not in results}
        if not new:
            return results
        results.update(new)


def costs(plan):
    """Return the cost table for every variant the plan could seed (nothing measured)."""
    names = [f'{op}@{p}' for op in plan.operators for p in cp.PLACEMENTS] + list(plan.baselines)
    # Floats, though measured counts are ints: the report-figures test alters ints by small
    # whole factors, and equal costs altered alike would read as a figure that never changes.
    return {f'{w}/{lang}/{name}': dict(COST, latency_ms=COST['latency_ms'] + i / 10,
                                       flops=COST['flops'] + i * 123_457.0,
                                       parameters=COST['parameters'] + i * 1_111.0)
            for w in plan.worlds for lang in plan.languages for i, name in enumerate(names)}
