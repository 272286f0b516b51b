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


def wilson_interval(successes: int, trials: int, z: float = 1.959964) -> List[float]:
    """Return the Wilson score interval ``[low, high]`` of a binomial proportion (95%)."""
    if trials <= 0:
        return [0.0, 1.0]
    p = successes / trials
    denom = 1.0 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    return [max(0.0, centre - half), min(1.0, centre + half)]


def summarize(reports: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
    """Success rate with its Wilson 95% interval, and step counts, of episode reports."""
    n = len(reports)
    wins = sum(1 for r in reports if r['success'])
    steps = [r['steps'] for r in reports]
    won = [r['steps'] for r in reports if r['success']]
    return {'episodes': n, 'successes': wins, 'success_rate': wins / n if n else 0.0,
            'ci95': wilson_interval(wins, n),
            'mean_steps': float(np.mean(steps)) if steps else 0.0,
            'mean_steps_success': float(np.mean(won)) if won else 0.0,
            'seeds': [min(r['seed'] for r in reports), max(r['seed'] for r in reports)]
            if n else []}


def format_summary(name: str, summary: Dict[str, Any]) -> str:
    """One line: success rate, its interval and the step counts."""
    low, high = summary['ci95']
    return (f'{name}: success {summary["successes"]}/{summary["episodes"]} = '
            f'{summary["success_rate"]:.1%} (95% CI {low:.1%}-{high:.1%}), mean steps '
            f'{summary["mean_steps"]:.1f} (successes {summary["mean_steps_success"]:.1f}), '
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
