# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The comparison report's convergence section: whether the largest budget settled the verdict.

A learning curve that still rises at its last point has not converged, so its absolute success
is not final. What a user needs to know is whether that can change the verdict. For every
world and encoder this section reads, from the comparison's own JSON, the variants that trained
to the largest budget: how much the best gained over its last doubling of samples, how far
each baseline of the verdict stands below it now and a doubling before, and, where that gap is
closing, how many more doublings it would take to close at the rate of the last one (a
straight line in log-samples; a flattening curve only makes it longer). It also prices one
more doubling (new runs: the learning rate decays to the end of each run's budget, so a run
cannot be continued) from the measured cost of the runs that exist. Evidence from beyond the
largest budget, and the reason it was not bought, is a note written by hand from measured runs
(``<notes>/convergence.md``), copied in.
"""

import os
from typing import Any, Dict, List, Optional

from vla_fusion_ros.train.compare_stats import format_pct

__all__ = ['convergence_section']


def _points(x: float) -> str:
    return f'{100 * x:+.1f}'


def _best(group: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """Return the group's best variant when it trained to the largest budget (with a curve)."""
    return next((v for v in group['variants'] if v['full'] and 'flat' in v
                 and v['name'] == group.get('best')), None)


def _group_line(group: Dict[str, Any]) -> str:
    full = [v for v in group['variants'] if v['full'] and 'flat' in v]
    best = _best(group)
    if best is None:
        return ''
    samples, previous = best['final']['samples'], best['curve'][-2]['samples']
    state = 'flat' if best['flat']['flat'] else 'still rising'
    parts = [f'**{group["world"]}, {group["language"]}**: {best["name"]} is {state} '
             f'({format_pct(best["final"]["success_rate"])} at {samples:,}; '
             f'{_points(best["flat"]["delta"])} points from {previous:,})']
    against = group['verdict'].get('against') or {}
    for ref in (v for v in full if v['name'] in against):
        gap = best['final']['success_rate'] - ref['final']['success_rate']
        before = best['curve'][-2]['success_rate'] - ref['curve'][-2]['success_rate']
        text = (f'{ref["name"]} is {100 * gap:.1f} points below it '
                f'({100 * before:.1f} a doubling before)')
        if gap <= 0:
            text = f'{ref["name"]} is level with it or ahead'
        elif gap >= before:
            text += ': the gap is not closing'
        else:
            text += (f': {gap / (before - gap):.1f} more doublings at that rate to close the '
                     'gap')
        parts.append(text)
    return '; '.join(parts) + '.'


def _doubling_cost(groups: List[Dict[str, Any]]) -> float:
    """Process-hours of one more doubling for every variant trained to the largest budget."""
    seconds = sum(2 * v['process_s'] * v['seeds']
                  for g in groups for v in g['variants'] if v['full'])
    return seconds / 3600


def convergence_section(data: Dict[str, Any], notes: str) -> List[str]:
    """Return the report's lines on convergence at the largest budget (empty before a verdict)."""
    groups = [g for g in data['groups'] if g['variants'] and _best(g) is not None]
    if not groups:
        return []
    lines = [_group_line(g) for g in groups]
    rising = sum(not _best(g)['flat']['flat'] for g in groups)
    budget = data['plan']['points'][-1]
    out = ['## Convergence at the largest budget', '',
           f'The best variant is still rising at {budget:,} samples in {rising} of '
           f'{len(lines)} groups, so its success there is not its final level. What that '
           'leaves of each verdict:', '']
    for line in lines:
        out += [f'- {line}']
    out += ['', f'One more doubling ({2 * budget:,} samples) for the '
            f'{sum(v["full"] for g in groups for v in g["variants"])} variants trained to '
            f'{budget:,} would cost about {_doubling_cost(groups):.1f} process-hours '
            '(new runs, at twice their measured time).', '']
    path = os.path.join(notes, 'convergence.md')
    if os.path.isfile(path):
        with open(path, encoding='utf-8') as handle:
            out += [f'**Beyond the largest budget** (`{path}`): ' + handle.read().strip(), '']
    return out
