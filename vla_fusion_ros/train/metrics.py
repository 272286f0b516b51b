# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Summaries of closed-loop episodes: success rate with its Wilson interval, steps, agreement.

Shared by the in-process evaluation (:mod:`.evaluate`), the ROS one (:mod:`.ros_eval`) and the
fusion comparison's report.
"""

import math
from typing import Any, Dict, List, Sequence

import numpy as np

from vla_fusion_ros.sim.base import REASONS


def wilson_interval(successes: int, trials: int, z: float = 1.959964) -> List[float]:
    """Return the Wilson score interval ``[low, high]`` of a binomial proportion (95%)."""
    if trials <= 0:
        return [0.0, 1.0]
    p = successes / trials
    denom = 1.0 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    return [max(0.0, centre - half), min(1.0, centre + half)]


def _rate(reports: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
    n = len(reports)
    wins = sum(1 for r in reports if r['success'])
    return {'episodes': n, 'successes': wins, 'success_rate': wins / n if n else 0.0,
            'ci95': wilson_interval(wins, n)}


def summarize(reports: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
    """
    Strict success with its Wilson 95% interval, by end reason and by target presence.

    ``reasons`` counts how episodes ended (:data:`vla_fusion_ros.sim.base.REASONS`);
    ``present`` and ``absent`` split the rate by whether the named object was in the scene.
    """
    steps = [r['steps'] for r in reports]
    won = [r['steps'] for r in reports if r['success']]
    out = _rate(reports)
    out.update({
        'reasons': {k: sum(1 for r in reports if r.get('reason') == k) for k in REASONS},
        'present': _rate([r for r in reports if not r.get('absent')]),
        'absent': _rate([r for r in reports if r.get('absent')]),
        'mean_steps': float(np.mean(steps)) if steps else 0.0,
        'mean_steps_success': float(np.mean(won)) if won else 0.0,
        'seeds': [min(r['seed'] for r in reports), max(r['seed'] for r in reports)]
        if reports else []})
    return out


def format_rate(summary: Dict[str, Any]) -> str:
    """``'k/n = p% (95% CI a%-b%)'``."""
    low, high = summary['ci95']
    return (f'{summary["successes"]}/{summary["episodes"]} = {summary["success_rate"]:.1%} '
            f'(95% CI {low:.1%}-{high:.1%})')


def format_summary(name: str, summary: Dict[str, Any]) -> str:
    """One line: strict success, its interval, the split and how episodes ended."""
    reasons = ', '.join(f'{k} {v}' for k, v in summary.get('reasons', {}).items() if v)
    line = f'{name}: strict success {format_rate(summary)}'
    if 'present' in summary:
        line += (f'; target present {format_rate(summary["present"])}, absent '
                 f'{format_rate(summary["absent"])}')
    return (line + f'; ends: {reasons or "-"}; mean steps {summary["mean_steps"]:.1f}, '
            f'{summary.get("wall_time_s", 0):.1f} s')


def agreement(first: Sequence[Dict[str, Any]], second: Sequence[Dict[str, Any]]
              ) -> Dict[str, Any]:
    """Compare two runs episode by episode (by seed): same outcome, differing seeds."""
    a = {r['seed']: bool(r['success']) for r in first}
    b = {r['seed']: bool(r['success']) for r in second}
    common = sorted(set(a) & set(b))
    differ = [s for s in common if a[s] != b[s]]
    return {'common_episodes': len(common), 'same_outcome': len(common) - len(differ),
            'differing_seeds': differ}


def _ranks(values: Sequence[float]) -> List[float]:
    """Return the ranks of ``values`` (1 = smallest; ties share their mean rank)."""
    ordered = sorted(values)
    return [ordered.index(v) + (ordered.count(v) + 1) / 2 for v in values]


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Return Spearman's rank correlation of ``x`` and ``y``; NaN when either is constant."""
    rx, ry = _ranks(x), _ranks(y)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    norm = math.sqrt(sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry))
    return cov / norm if norm else float('nan')
