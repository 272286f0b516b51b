# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
One run of the fusion comparison, in its own process: train, then evaluate every curve point.

::

    python -m vla_fusion_ros.train.compare_run runs/compare/<job id>/job.json

The job (:mod:`.compare_plan`) names the world's training config and its overrides. Training
(:class:`~vla_fusion_ros.train.train.Trainer`, one torch thread) keeps the weights at every
curve point (``schedule.keep_steps``), stops at the job's last point (the learning rate's
schedule may run further) and resumes from its state when the process was stopped.
Then each kept checkpoint is evaluated closed loop on the job's scenes, and, for test runs,
again with :data:`UNINFORMATIVE_INSTRUCTION` (the same policy without information: the floor).
Each evaluation is cached in ``eval_<step>.json``; ``result.json`` is written last. Every file
is written to a temporary name and renamed, so a stopped run never leaves a half-written one.
"""

import json
import os
import sys
import time
from typing import Any, Dict, List, Optional, Sequence

import torch

from vla_fusion_ros.model import VLAPolicy
from vla_fusion_ros.train import train_config as tc
from vla_fusion_ros.train.evaluate import run_episodes, UNINFORMATIVE_INSTRUCTION
from vla_fusion_ros.train.metrics import wilson_interval
from vla_fusion_ros.train.train import Trainer

RESULT = 'result.json'
JOB = 'job.json'


def write_json(path: str, data: Any) -> None:
    """Write ``data`` as JSON atomically: to a temporary file in the same folder, then rename."""
    tmp = f'{path}.tmp{os.getpid()}'
    with open(tmp, 'w', encoding='utf-8') as handle:
        json.dump(data, handle, indent=1)
    os.replace(tmp, path)


def read_json(path: str) -> Optional[Any]:
    """Return the JSON in ``path``, or ``None`` when it does not exist."""
    if not os.path.isfile(path):
        return None
    with open(path, encoding='utf-8') as handle:
        return json.load(handle)


def evaluate(policy, job: Dict[str, Any], instruction: Optional[str] = None) -> Dict[str, Any]:
    """Closed-loop outcomes of ``policy`` on the job's scenes, in scene order."""
    start = time.monotonic()
    reports = run_episodes(policy, job['episodes'], job['seed_start'], world=job['world'],
                           instruction=instruction)
    outcomes = ''.join('1' if r['success'] else '0' for r in reports)
    wins = outcomes.count('1')
    reasons: Dict[str, int] = {}
    for report in reports:  # how episodes ended, where the world says (strict worlds do)
        if report.get('reason'):
            reasons[report['reason']] = reasons.get(report['reason'], 0) + 1
    return {'episodes': len(outcomes), 'successes': wins,
            'success_rate': wins / len(outcomes), 'ci95': wilson_interval(wins, len(outcomes)),
            'outcomes': outcomes, 'reasons': reasons,
            'wall_time_s': round(time.monotonic() - start, 2)}


def saved_state(out: str) -> Optional[Dict[str, Any]]:
    """Return the training state saved in ``out`` (step, history, time), or ``None``."""
    saved = read_json(os.path.join(out, 'state', 'state.json'))
    return None if saved is None else saved['state']


def train(job: Dict[str, Any], out: str) -> Dict[str, Any]:
    """
    Train the job's model up to its last point (resuming a stopped run); return its state.

    The schedule runs to ``job['schedule'][-1]`` samples; a job whose points end before that
    pauses there (its state saved), so a later job can continue the same run.
    """
    stop = job['points'][-1] // job['batch_size']
    total = job['schedule'][-1] // job['batch_size']
    state = saved_state(out)
    if state is None or state['step'] < stop:
        config = tc.load_config(job['config'], job['overrides'])
        trainer = Trainer(config, out, progress=False)
        trainer.run(resume=True, stop_after=stop if stop < total else 0)
        if trainer.stopped:  # SIGTERM: the state is saved at this step; the next sweep resumes
            raise SystemExit(143)
        state = saved_state(out)
    return state


def _val_losses(state: Dict[str, Any]) -> Dict[int, float]:
    return {h['step']: h['val_loss'] for h in state['history'] if 'val_loss' in h}


def run_job(job: Dict[str, Any], out: str) -> Dict[str, Any]:
    """Train, evaluate every curve point and write ``result.json``; return the result."""
    started = time.monotonic()
    state = train(job, out)
    losses = _val_losses(state)
    points: List[Dict[str, Any]] = []
    for samples in job['points']:
        step = samples // job['batch_size']
        cache = os.path.join(out, f'eval_{step}.json')
        point = read_json(cache)
        if point is None:
            policy = VLAPolicy.from_checkpoint(os.path.join(out, f'step_{step}.safetensors'))
            point = {'samples': samples, 'step': step, 'val_loss': losses.get(step),
                     'eval': evaluate(policy, job)}
            if job['floor']:
                point['floor'] = evaluate(policy, job, UNINFORMATIVE_INSTRUCTION)
            write_json(cache, point)
        points.append(point)
    eval_s = sum(p['eval']['wall_time_s'] + p.get('floor', {}).get('wall_time_s', 0.0)
                 for p in points)
    result = {'job': job, 'points': points,
              'train_wall_time_s': round(state['wall_time_s'], 1),
              'eval_wall_time_s': round(eval_s, 1),
              'this_process_s': round(time.monotonic() - started, 1),
              'torch_threads': torch.get_num_threads()}
    result['process_s'] = round(result['train_wall_time_s'] + eval_s, 1)
    write_json(os.path.join(out, RESULT), result)
    return result


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the job whose ``job.json`` is given."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print('usage: python -m vla_fusion_ros.train.compare_run <run folder>/job.json',
              file=sys.stderr)
        return 2
    job = read_json(args[0])
    if job is None:
        print(f'compare_run: {args[0]}: no such job file', file=sys.stderr)
        return 2
    torch.set_num_threads(1)
    try:
        result = run_job(job, os.path.dirname(os.path.abspath(args[0])))
    except (tc.TrainConfigError, FileNotFoundError) as exc:
        print(f'compare_run: {exc}', file=sys.stderr)
        return 2
    last = result['points'][-1]['eval']
    print(f'{job["id"]}: {last["successes"]}/{last["episodes"]} at '
          f'{job["points"][-1]:,} samples', flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
