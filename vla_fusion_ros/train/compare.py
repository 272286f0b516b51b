# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The fusion comparison: learning curves of every fusion design, tuned alike, in every world.

::

    python -m vla_fusion_ros.train.compare --workers 2          # the whole sweep (hours)
    python -m vla_fusion_ros.train.compare --dry-run            # the plan and its estimate
    python -m vla_fusion_ros.train.compare --report results/comparison/comparison.json

What runs, and in which order, is :mod:`.compare_plan` (tuning on validation scenes, the
placement sweep, then the seeded runs on test scenes); one run is :mod:`.compare_run`, a
process of its own with one torch thread; ``--workers`` of them run at once. Each run writes its
result atomically, so a stopped sweep started again goes on where it stopped (finished runs are
read back, an interrupted one resumes its training). A progress bar counts training samples
(those of the running runs too, from their training logs), with an ETA. At the end the costs
of every seeded variant are measured (parameters, FLOPs, the latency of one
``VLAPolicy.predict``) and the report is written (:mod:`.compare_report`): ``comparison.json``,
``comparison.md`` and the curves' plot under ``--out``.
"""

import argparse
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from typing import Any, Dict, List, Optional, Sequence

from tqdm import tqdm

from vla_fusion_ros.train import compare_plan as cp
from vla_fusion_ros.train.compare_run import JOB, read_json, RESULT, write_json

#: Per run folder: the wall time and exit status of every process that ran the job.
ATTEMPTS = 'attempts.json'
#: What --dry-run's estimate assumes, per world: seconds per 1,000 training samples of the
#: world's model (width 32, batch 128, one thread, two runs at a time, channels-last, DAgger
#: rounds included) and per closed-loop evaluation of one curve point (200 test scenes,
#: batched). Measured on this 2-core machine, December 2026 (see the comparison's report for
#: the sweep's own figures); width 16 trains about 1.7 times faster.
MEASURED = {'overhead': (1.0, 5.0), 'first_person': (1.15, 8.0)}

#: Plans by name; ``--set`` changes any field.
PLANS: Dict[str, Dict[str, Any]] = {
    # The comparison as designed (compare_plan's defaults): curves to 1,024,000 samples in both
    # worlds, two finalists; --dry-run estimates it at about 19 process-hours (words alone).
    'full': {},
    # The plan this machine runs (about 20 process-hours by --dry-run, so several sessions,
    # kept by the ledger): curves to 1,024,000 samples (the shipped width-32 model converges
    # near 1M samples; at 512,000 FiLM was still rising), two learning rates tuned at 256,000
    # samples (at 64,000 every variant sat on the initial plateau, 3-13% success, so a choice
    # there was noise), one finalist with early and late to the end, the other variants to
    # 256,000 on the same schedule, no seeded sweep of the best operators' other placements;
    # MiniLM (second) runs the words sweep's finalist and late.
    'budget': {'languages': ['words', 'minilm'],
               'points': [64_000, 128_000, 256_000, 512_000, 1_024_000],
               'tune_budget': 256_000, 'short_budget': 256_000, 'finalists': 1,
               'lrs': [2e-3, 4e-3], 'sweep_top': 0, 'full_baselines': ['early', 'late'],
               'secondary_baselines': ['late']},
    # A handful of runs that exercise every stage in a few minutes (tests, a dry check).
    'tiny': {'worlds': ['overhead'], 'points': [64, 128], 'tune_budget': 64, 'batch_size': 16,
             'lrs': [2e-3], 'seeds': 1, 'val_episodes': 4, 'test_episodes': 4,
             'operators': ['film'], 'placements': ['multi'], 'baselines': ['late'],
             'sweep_top': 0, 'finalists': 0, 'anneal': False},
}


def make_plan(name: str, changes: Sequence[str] = ()) -> cp.SweepPlan:
    """Build a plan from a preset and ``field=value`` changes (values parsed as YAML)."""
    import yaml
    fields = {f.name for f in dataclasses.fields(cp.SweepPlan)}
    values = dict(PLANS[name])
    for item in changes:
        key, _, text = item.partition('=')
        if key not in fields:
            raise ValueError(f'--set {item}: unknown plan field {key!r} (valid: '
                             f'{", ".join(sorted(fields))})')
        values[key] = yaml.safe_load(text)
    return cp.SweepPlan(**values)


def ledger_path(ledger: str, job: Dict[str, Any]) -> str:
    """Return where the ledger keeps ``job``'s result."""
    return os.path.join(ledger, job['id'] + '.json')


def _same_job(result: Dict[str, Any], job: Dict[str, Any]) -> bool:
    """Tell whether ``result`` was made by ``job`` as the plan states it now (same recipe)."""
    made = result.get('job', {})
    return all(made.get(k) == job.get(k) for k in ('config', 'overrides', 'points',
                                                   'seed_start', 'episodes'))


def load_results(root: str, jobs: List[Dict[str, Any]],
                 ledger: Optional[str] = None) -> Dict[str, Dict[str, Any]]:
    """
    Read the result of every finished job among ``jobs``.

    ``process_wall_s`` is added: the wall time of every process that worked on the job
    (:data:`ATTEMPTS`, written by the sweep), start-up, data loading and stopped attempts
    included.

    ``ledger``: a folder that keeps a copy of every finished result (small JSON files, meant
    to be committed). The runs' folder holds checkpoints of gigabytes and is not kept between
    machines; with the ledger a sweep spread over several sessions goes on where it stopped.
    A result is taken from the ledger only when its job is the plan's job now (same config,
    overrides, points and scenes); a stale one is ignored and the job runs again.
    """
    found = {}
    for job in jobs:
        result = read_json(os.path.join(root, job['id'], RESULT))
        if result is not None and _same_job(result, job):
            attempts = read_json(os.path.join(root, job['id'], ATTEMPTS)) or []
            result['process_wall_s'] = round(sum(a['wall_s'] for a in attempts), 1) or None
            found[job['id']] = result
        elif ledger:
            kept = read_json(ledger_path(ledger, job))
            if kept is not None and _same_job(kept, job):
                found[job['id']] = kept
    return found


def keep_in_ledger(ledger: Optional[str], jobs: List[Dict[str, Any]],
                   results: Dict[str, Dict[str, Any]]) -> None:
    """
    Copy each of ``jobs``' finished results into the ledger where it differs.

    A result read from the ledger itself is equal to its copy and is not written again, so this
    is safe to call on everything :func:`all_results` returns.
    """
    if not ledger:
        return
    for job in jobs:
        result = results.get(job['id'])
        if result is not None and read_json(ledger_path(ledger, job)) != result:
            os.makedirs(os.path.dirname(ledger_path(ledger, job)), exist_ok=True)
            write_json(ledger_path(ledger, job), result)


def all_results(plan: cp.SweepPlan, root: str,
                ledger: Optional[str] = None) -> Dict[str, Dict[str, Any]]:
    """Read every finished job's result, stage after stage as the choices allow."""
    results: Dict[str, Dict[str, Any]] = {}
    while True:
        found = load_results(root, cp.ready_jobs(plan, results), ledger)
        if len(found) == len(results):
            return found
        results = found


class Sweep:
    """Runs the plan's jobs, ``workers`` processes at a time, until none is left to run."""

    def __init__(self, plan: cp.SweepPlan, root: str, workers: int,
                 ledger: Optional[str] = None):
        self.plan, self.root, self.workers, self.ledger = plan, root, max(1, workers), ledger
        self.results = all_results(plan, root, ledger)
        self.failed: Dict[str, int] = {}
        self.running: Dict[str, Any] = {}
        self.total = sum(cp.stage_samples(plan).values())

    def _units(self, job: Dict[str, Any]) -> int:
        return job['points'][-1]

    def _launch(self, job: Dict[str, Any]) -> None:
        folder = os.path.join(self.root, job['id'])
        os.makedirs(folder, exist_ok=True)
        write_json(os.path.join(folder, JOB), job)
        env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
        env.pop('WORLD_SIZE', None)
        log = open(os.path.join(folder, 'run.log'), 'a', encoding='utf-8')
        proc = subprocess.Popen(
            [sys.executable, '-m', 'vla_fusion_ros.train.compare_run',
             os.path.join(folder, JOB)], stdout=log, stderr=subprocess.STDOUT, env=env)
        self.running[job['id']] = (proc, job, log, time.monotonic())

    def _reap(self) -> None:
        for key, (proc, job, log, start) in list(self.running.items()):
            if proc.poll() is None:
                continue
            log.close()
            del self.running[key]
            wall = time.monotonic() - start
            self._record(key, wall, proc.returncode)
            result = load_results(self.root, [job], self.ledger).get(key)
            minutes = wall / 60
            if proc.returncode == 0 and result is not None:
                keep_in_ledger(self.ledger, [job], {key: result})
                self.results[key] = result
                last = result['points'][-1]['eval']
                self.finished += self._units(job)
                tqdm.write(f'{key}: {last["successes"]}/{last["episodes"]} '
                           f'({minutes:.1f} min)')
            else:
                self.failed[key] = proc.returncode
                tqdm.write(f'{key}: FAILED (exit {proc.returncode}, see '
                           f'{os.path.join(self.root, key, "run.log")})')

    def _partial(self) -> int:
        """Count the samples the running jobs have trained so far (their logs' last step)."""
        total = 0
        for key, (_, job, _, _) in self.running.items():
            try:
                with open(os.path.join(self.root, key, 'log.jsonl'), 'rb') as handle:
                    handle.seek(max(0, os.fstat(handle.fileno()).st_size - 512))
                    last = handle.read().decode('utf-8', 'replace').strip().splitlines()[-1]
                total += json.loads(last).get('step', 0) * job['batch_size']
            except (OSError, IndexError, ValueError):
                continue
        return total

    def _record(self, key: str, wall_s: float, returncode: int) -> None:
        path = os.path.join(self.root, key, ATTEMPTS)
        attempts = read_json(path) or []
        write_json(path, attempts + [{'wall_s': round(wall_s, 1), 'returncode': returncode}])

    def run(self, poll_s: float = 1.0, hours: float = 0.0) -> None:
        """
        Run every job that is not finished, as the stages allow, then return.

        With ``hours`` > 0, no job starts after that many hours; the running ones finish. A
        later invocation goes on from there (a sweep can run in windows of a shared machine).
        """
        deadline = time.monotonic() + 3600 * hours if hours > 0 else float('inf')
        self.finished = sum(self._units(job) for job in cp.ready_jobs(self.plan, self.results)
                            if job['id'] in self.results)
        bar = tqdm(total=self.total, initial=self.finished, unit=' samples', unit_scale=True,
                   dynamic_ncols=True, desc='sweep', smoothing=0.05)
        try:
            while True:
                todo = [j for j in cp.ready_jobs(self.plan, self.results)
                        if j['id'] not in self.results and j['id'] not in self.failed
                        and j['id'] not in self.running]
                while todo and len(self.running) < self.workers and (
                        time.monotonic() < deadline):
                    self._launch(todo.pop(0))
                if not self.running:
                    break
                time.sleep(poll_s)
                self._reap()
                bar.n = self.finished + self._partial()
                bar.refresh()
        finally:  # stop every run first: each saves its state at its step, then exits
            for proc, _, _, _ in self.running.values():
                proc.terminate()
            for key, (proc, _, log, start) in self.running.items():
                proc.wait()
                log.close()
                self._record(key, time.monotonic() - start, proc.returncode)
            bar.close()


def prepare_data(plan: cp.SweepPlan) -> None:
    """Generate each world's training and validation data once, before the runs share it."""
    from vla_fusion_ros.train import train_config as tc
    for world in plan.worlds:
        tc.prepare_data(tc.load_config(plan.configs[world]))


def estimate(plan: cp.SweepPlan, costs: Dict[str, Sequence[float]]) -> Dict[str, float]:
    """
    Process-hours of the plan per world and stage, from measured costs.

    ``costs``: world -> (seconds per 1,000 training samples, seconds per evaluation of one
    curve point); see :data:`MEASURED`.
    """
    hours: Dict[str, float] = {}
    for world in plan.worlds:
        one = dataclasses.replace(plan, worlds=[world])
        per_ksample, per_evaluation = costs[world]
        samples, evaluations = cp.stage_samples(one), cp.stage_evaluations(one)
        for stage in samples:
            hours[f'{world} {stage}'] = (samples[stage] / 1000 * per_ksample
                                         + evaluations[stage] * per_evaluation) / 3600
    hours['total'] = sum(hours.values())
    return hours


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run (or continue) the sweep and write its report."""
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--plan', choices=tuple(PLANS), default='full')
    parser.add_argument('--set', nargs='*', default=[], metavar='FIELD=VALUE',
                        help='change a plan field, e.g. seeds=5 "worlds=[overhead]"')
    parser.add_argument('--workers', type=int, default=2, help='runs at once (processes)')
    parser.add_argument('--hours', type=float, default=0.0,
                        help='start no run after this many hours (0: no limit); run again to '
                        'go on')
    parser.add_argument('--runs', default='runs/compare', help='where the runs live')
    parser.add_argument('--out', default='results/comparison')
    parser.add_argument('--ledger', default=None,
                        help='folder keeping every finished result (default: OUT/ledger/PLAN); '
                        'commit it, and a sweep goes on in a later session from there')
    parser.add_argument('--dry-run', action='store_true',
                        help='print the plan, its job counts and an estimate; run nothing')
    parser.add_argument('--report-only', action='store_true',
                        help='write the report from the finished runs; train nothing')
    parser.add_argument('--report', metavar='COMPARISON_JSON',
                        help='measure nothing: re-render comparison.md and the plot from JSON')
    args = parser.parse_args(argv)
    from vla_fusion_ros.train import compare_report
    if args.report:
        print('wrote ' + ', '.join(compare_report.rerender(args.report, args.out)))
        return 0
    try:
        plan = make_plan(args.plan, args.set)
    except (ValueError, TypeError) as exc:
        print(f'compare: {exc}', file=sys.stderr)
        return 2
    root = os.path.join(args.runs, args.plan)
    ledger = args.ledger or os.path.join(args.out, 'ledger', args.plan)
    if args.dry_run:
        counts = cp.job_counts(plan)
        print(f'plan {args.plan}: {dataclasses.asdict(plan)}')
        print('jobs: ' + ', '.join(f'{k} {v}' for k, v in counts.items()))
        hours = estimate(plan, MEASURED)
        print('estimated process-hours: ' + ', '.join(f'{k} {v:.1f}' for k, v in hours.items()))
        return 0
    started = time.monotonic()
    failed = 0
    if not args.report_only:
        prepare_data(plan)
        # A TERM (kill, a CI limit) ends the sweep like Ctrl-C: its runs are stopped too, not
        # left training without a parent; each resumes from its saved state next time.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        sweep = Sweep(plan, root, args.workers, ledger)
        sweep.run(hours=args.hours)
        failed = len(sweep.failed)
        if failed:
            print(f'{failed} runs failed: {", ".join(sorted(sweep.failed))}', file=sys.stderr)
    results = all_results(plan, root, ledger)
    keep_in_ledger(ledger, cp.ready_jobs(plan, results), results)
    paths = compare_report.write_report(plan, results, args.out, args.plan,
                                        time.monotonic() - started, args.workers)
    print('wrote ' + ', '.join(paths))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
