# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The report of the fusion comparison: cost measurements, a table, a verdict and a plot.

For every variant: pooled success over seeds with its Wilson 95% interval, the per-seed rates
(their spread), parameters and FLOPs (:mod:`vla_fusion_ros.model.introspect`) and the CPU
latency of one ``VLAPolicy.predict`` call (batch 1, one torch thread, median of 200 calls after
a warm-up). The verdict on the seed's claim compares each intermediate variant with the early
and late baselines by a two-sided two-proportion z-test on the pooled episodes.
"""

import json
import math
import os
import statistics
import time
from typing import Any, Dict, List

import numpy as np
import torch

from vla_fusion_ros.model import count_flops, count_parameters, VLAPolicy
from vla_fusion_ros.sim.world import EVAL_SEED_START
from vla_fusion_ros.train import train_config as tc
from vla_fusion_ros.train.metrics import wilson_interval

#: A run at or below this success has not left the initial plateau (chance-level steering).
STUCK = 0.12
#: A difference is significant below this p-value (two-sided two-proportion z-test).
ALPHA = 0.05


def latency_ms(config, calls: int = 200) -> float:
    """Median milliseconds of one batch-1 ``predict`` on the CPU with one thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        policy = VLAPolicy.from_config(config)
        side = config.vision.image_size
        image = np.random.default_rng(0).integers(0, 255, (side, side, 3), dtype=np.uint8)
        times = []
        for i in range(calls + 20):
            start = time.perf_counter()
            policy.predict(image, 'go to the red circle')
            if i >= 20:
                times.append(time.perf_counter() - start)
        return 1000.0 * statistics.median(times)
    finally:
        torch.set_num_threads(threads)


def z_test(k1: int, n1: int, k2: int, n2: int) -> float:
    """Two-sided p-value of the difference of two proportions (pooled z-test)."""
    if not n1 or not n2:
        return 1.0
    pooled = (k1 + k2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 1.0
    z = (k1 / n1 - k2 / n2) / se
    return math.erfc(abs(z) / math.sqrt(2))


def summarize_variant(variant: Dict[str, Any], runs: List[Dict[str, Any]], config: str
                      ) -> Dict[str, Any]:
    """Pool one variant's seeds and measure its cost."""
    overrides = [f'model.fusion.mode={variant["mode"]}',
                 f'model.fusion.operator={variant["operator"]}',
                 f'model.fusion.layers={variant["layers"]}']
    model = tc.model_config(tc.load_config(config, overrides))
    wins = sum(r['successes'] for r in runs)
    n = sum(r['episodes'] for r in runs)
    rates = [r['success_rate'] for r in sorted(runs, key=lambda r: r['seed'])]
    return {**variant, 'seeds': len(runs), 'successes': wins, 'episodes': n,
            'success_rate': wins / n if n else None, 'ci95': wilson_interval(wins, n),
            'per_seed': rates, 'seed_std': statistics.pstdev(rates) if rates else None,
            'parameters': count_parameters(model), 'flops': count_flops(model),
            'latency_ms_p50': round(latency_ms(model), 3),
            'train_wall_time_s': round(statistics.mean(r['train_wall_time_s'] for r in runs), 1)
            if runs else None, 'runs': runs}


def verdict(rows: List[Dict[str, Any]]) -> Dict[str, Any]:
    """Count intermediate variants that beat both baselines, and how many significantly."""
    by = {r['name']: r for r in rows}
    early, late = by.get('early'), by.get('late')
    inter = [r for r in rows if r['group'] == 'intermediate' and r['episodes']]
    if not early or not late or not early['episodes'] or not late['episodes'] or not inter:
        return {'claim': 'not tested (runs missing)'}
    out = {'intermediate_variants': len(inter)}
    for name, base in (('early', early), ('late', late)):
        better = [r for r in inter if r['success_rate'] > base['success_rate']]
        signif = [r for r in better if z_test(r['successes'], r['episodes'], base['successes'],
                                              base['episodes']) < ALPHA]
        worse = [r for r in inter if r['success_rate'] < base['success_rate'] and z_test(
            r['successes'], r['episodes'], base['successes'], base['episodes']) < ALPHA]
        out[f'beat_{name}'] = len(better)
        out[f'beat_{name}_significant'] = len(signif)
        out[f'worse_than_{name}_significant'] = len(worse)
    half = len(inter) / 2
    best = max(inter, key=lambda r: r['success_rate'])
    out['best_intermediate'] = best['name']
    if out['beat_early_significant'] > half and out['beat_late_significant'] > half:
        out['claim'] = 'confirmed'
    elif (out['beat_early'] < half and out['beat_late'] < half) or (
            out['worse_than_early_significant'] > half
            or out['worse_than_late_significant'] > half):
        out['claim'] = 'refuted'
    else:
        out['claim'] = 'partly supported'
    return out


def _pct(x) -> str:
    return '-' if x is None else f'{100 * x:.1f}%'


def markdown(rows, verdict_info, budget, seeds, wall_time_s) -> str:
    """Return comparison.md."""
    train_s = sum(run['train_wall_time_s'] for r in rows for run in r['runs'])
    placements = {r['placement']: r['layers'] for r in rows
                  if r['group'] == 'intermediate' and r.get('placement')}
    where = ', '.join(f'`@{name}` after {"layers" if len(layers) > 1 else "layer"} '
                      f'{" and ".join(str(i) for i in layers)}'
                      for name, layers in placements.items())
    lines = ['# Fusion comparison', '',
             f'Budget `{budget["name"]}`: every variant trained on the same '
             f'{budget["episodes"]}-episode dataset for {budget["steps"]} optimizer steps of '
             f'batch {budget["batch_size"]}, {seeds} seeds each, evaluated closed-loop on the '
             f'same {budget["eval_episodes"]} held-out episodes (seeds from '
             f'{EVAL_SEED_START:,}) per seed. Success is pooled over seeds (Wilson 95% '
             'interval); per-seed rates show the spread. Latency: one `VLAPolicy.predict`, '
             'batch 1, one CPU thread, median.', '',
             f'Placements in the default CNN: {where}. Baselines: `early` is one joint '
             'transformer over image patches and words from the input on, `late` joins the '
             'pooled sentence to the pooled image features at the action head, `vision_only` '
             'never reads the instruction, so it can only guess which object is meant. Every '
             'run uses the same recipe as the shipped model (AdamW, warm-up and cosine decay, '
             'mirror augmentation, the auxiliary state probe), scaled to this budget.', '',
             f'This budget is {budget["steps"] * budget["batch_size"]:,} training samples per '
             "run, a fraction of the shipped model's (config/train_overhead.yaml), so absolute "
             "success here is below the shipped model's (results/training/overhead.md): it "
             'measures how fast each design learns. It is identical for every variant, so the '
             'comparison is fair.', '',
             'Regenerate: `python -m vla_fusion_ros.train.compare --budget '
             f'{budget["name"]} --seeds {seeds}` (finished runs are skipped, interrupted ones '
             f'resume). Training time summed over all runs: {train_s / 3600:.1f} process-hours '
             '(two at a time, on two cores shared with other jobs)'
             + (f'; this invocation took {wall_time_s / 60:.0f} min.' if wall_time_s else '.'),
             '',
             '| variant | group | layers | success (pooled) | 95% CI | per seed | params | '
             'MFLOPs | latency ms |', '|---|---|---|---|---|---|---|---|---|']
    for r in sorted(rows, key=lambda r: -(r['success_rate'] or 0)):
        per_seed = ' / '.join(f'{100 * x:.0f}' for x in r['per_seed']) or '-'
        lines.append(
            f'| {r["name"]} | {r["group"]} | {r["layers"] or "-"} | {_pct(r["success_rate"])} '
            f'| {_pct(r["ci95"][0])}-{_pct(r["ci95"][1])} | {per_seed} | '
            f'{r["parameters"]:,} | {r["flops"] / 1e6:.1f} | {r["latency_ms_p50"]:.2f} |')
    v = verdict_info
    lines += ['', '## Does intermediate fusion beat early and late fusion?', '']
    if 'beat_early' in v:
        lines.append(
            f'Verdict: **{v["claim"]}** at this budget. Of {v["intermediate_variants"]} '
            f'intermediate variants, {v["beat_early"]} beat the early-fusion baseline '
            f'({v["beat_early_significant"]} significantly, p < {ALPHA:g}; '
            f'{v["worse_than_early_significant"]} significantly worse) and {v["beat_late"]} '
            f'beat late fusion ({v["beat_late_significant"]} significantly; '
            f'{v["worse_than_late_significant"]} significantly worse). The best intermediate '
            f'variant is {v["best_intermediate"]}.')
    else:
        lines.append(f'Verdict: {v["claim"]}.')
    rates = [x for r in rows for x in r['per_seed']]
    stuck = sum(1 for x in rates if x <= STUCK)
    above = [x for x in rates if x > STUCK]
    if rates:
        lines += ['', f'Read with care: {stuck} of {len(rates)} runs ended at or below '
                  f'{100 * STUCK:.0f}% success, the level of a policy that has not yet learned '
                  'to find its target (a run that has not left the initial loss plateau)'
                  + (f', and the others at {100 * min(above):.0f}% or more' if above else '')
                  + '. At this budget a run either escapes the plateau '
                  'or not, so the pooled rate mostly counts how many seeds escaped, and the '
                  'spread between seeds is larger than most differences between variants. '
                  'Differences between the top variants are robust only where every seed '
                  'escaped.']
    return '\n'.join(lines) + '\n'


def plot(rows, path: str) -> None:
    """Write comparison.png: success with intervals per variant, and success against FLOPs."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    colors = {'intermediate': '#1f77b4', 'early': '#d62728', 'late': '#2ca02c',
              'vision_only': '#7f7f7f'}
    rows = sorted(rows, key=lambda r: -(r['success_rate'] or 0))
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(15, 6.5), gridspec_kw={'width_ratios': [2, 1]})
    xs = np.arange(len(rows))
    rates = [100 * (r['success_rate'] or 0) for r in rows]
    err = [[rate - 100 * r['ci95'][0] for rate, r in zip(rates, rows)],
           [100 * r['ci95'][1] - rate for rate, r in zip(rates, rows)]]
    ax.bar(xs, rates, yerr=err, capsize=2, color=[colors[r['group']] for r in rows])
    for x, r in zip(xs, rows):
        ax.scatter([x] * len(r['per_seed']), [100 * p for p in r['per_seed']], s=8, c='k',
                   zorder=3)
    ax.set_xticks(xs, [r['name'] for r in rows], rotation=75, fontsize=8)
    ax.set_ylabel('closed-loop success, % (pooled, 95% CI; dots: seeds)')
    ax.set_ylim(0, 100)
    ax.set_title('Fusion variants, same data and budget')
    for group, color in colors.items():
        ax.bar([0], [0], color=color, label=group)
    ax.legend(loc='upper right', fontsize=8)
    for r in rows:
        ax2.scatter(r['flops'] / 1e6, 100 * (r['success_rate'] or 0), c=colors[r['group']])
    ax2.set_xlabel('MFLOPs per frame')
    ax2.set_ylabel('success, %')
    ax2.set_title('Success against compute')
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(variants, results, budget, seeds, out, wall_time_s, config) -> List[str]:
    """Write comparison.json, comparison.md and comparison.png under ``out``."""
    os.makedirs(out, exist_ok=True)
    rows = [summarize_variant(v, results.get(v['name'], []), config) for v in variants]
    info = verdict(rows)
    paths = [os.path.join(out, f'comparison.{ext}') for ext in ('json', 'md', 'png')]
    with open(paths[0], 'w', encoding='utf-8') as handle:
        json.dump({'budget': budget, 'seeds': seeds, 'wall_time_s': round(wall_time_s, 1),
                   'verdict': info, 'variants': rows}, handle, indent=1)
    with open(paths[1], 'w', encoding='utf-8') as handle:
        handle.write(markdown(rows, info, budget, seeds, wall_time_s))
    plot(rows, paths[2])
    return paths


def rerender(path: str, out: str) -> List[str]:
    """Write comparison.md and comparison.png again from a comparison.json: nothing measured."""
    with open(path, encoding='utf-8') as handle:
        saved = json.load(handle)
    os.makedirs(out, exist_ok=True)
    paths = [os.path.join(out, f'comparison.{ext}') for ext in ('md', 'png')]
    with open(paths[0], 'w', encoding='utf-8') as handle:
        handle.write(markdown(saved['variants'], saved['verdict'], saved['budget'],
                              saved['seeds'], saved['wall_time_s']))
    plot(saved['variants'], paths[1])
    return paths
