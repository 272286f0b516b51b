# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The statistics of the fusion comparison: curves, their area, paired tests, seed agreement.

Every run of the comparison is evaluated on the same scenes at every point of its learning
curve, and stores each episode's outcome in scene order (a string of ``'0'``/``'1'``). So two
variants (or two points of one run) can be compared episode by episode:
:func:`mcnemar_exact` is McNemar's exact test on the discordant pairs (an exact two-sided
binomial test, written out here: scipy is not a dependency). Pairs are formed by seed index and
scene: seed ``s`` of variant A against seed ``s`` of variant B, on the same scene.
"""

import math
from typing import Dict, List, Optional, Sequence

from vla_fusion_ros.train.metrics import wilson_interval

#: Significance level of the paired tests.
ALPHA = 0.05
#: At the largest budget, a variant's seeds "agree" when their success differs by at most this.
SEED_AGREEMENT = 0.10


def binomial_two_sided(k: int, n: int) -> float:
    """Exact two-sided p-value of ``k`` successes in ``n`` fair coin flips (doubled tail)."""
    if n <= 0:
        return 1.0
    low = min(k, n - k)
    tail = sum(math.comb(n, i) for i in range(low + 1)) / 2.0 ** n
    return min(1.0, 2.0 * tail)


def discordant(first: Sequence[str], second: Sequence[str]) -> List[int]:
    """
    Count ``[b, c]``: pairs where only the first succeeded, and where only the second did.

    ``first`` and ``second`` are lists of outcome strings, one per seed, paired by position
    (seed index); pairs run over the seeds both have and the scenes both strings cover.
    """
    b = c = 0
    for one, two in zip(first, second):
        for x, y in zip(one, two):
            b += x == '1' and y == '0'
            c += x == '0' and y == '1'
    return [b, c]


def mcnemar_exact(first: Sequence[str], second: Sequence[str]) -> Dict[str, float]:
    """Run McNemar's exact test on two sets of paired outcomes: ``{'b', 'c', 'p'}``."""
    b, c = discordant(first, second)
    return {'b': b, 'c': c, 'p': binomial_two_sided(b, b + c)}


def format_p(p: float) -> str:
    """Print a p-value as the reports do: three decimals, or '< 0.001'."""
    return '< 0.001' if p < 0.001 else f'{p:.3f}'


def format_pct(x: Optional[float]) -> str:
    """Print a rate in [0, 1] as the reports do: one decimal and '%', or '-' when missing."""
    return '-' if x is None else f'{100 * x:.1f}%'


def pooled(outcomes: Sequence[str]) -> Dict[str, object]:
    """Pool success over seeds: episodes, successes, rate and its Wilson 95% interval."""
    n = sum(len(o) for o in outcomes)
    wins = sum(o.count('1') for o in outcomes)
    return {'episodes': n, 'successes': wins, 'success_rate': wins / n if n else None,
            'ci95': wilson_interval(wins, n)}


def area_under_curve(samples: Sequence[int], rates: Sequence[float]) -> Optional[float]:
    """
    Return the mean success over the curve, samples on a log scale (trapezoids; 0 to 1).

    The points of a comparison double (or nearly), so each doubling of the budget weighs the
    same; one point alone gives its own rate.
    """
    if not rates:
        return None
    if len(rates) == 1:
        return float(rates[0])
    xs = [math.log2(s) for s in samples]
    area = sum((xs[i + 1] - xs[i]) * (rates[i] + rates[i + 1]) / 2 for i in range(len(xs) - 1))
    return area / (xs[-1] - xs[0])


def samples_to_reach(samples: Sequence[int], rates: Sequence[float],
                     target: float) -> Optional[float]:
    """
    Return the samples at which the curve first reaches ``target`` (log-linear between).

    ``None`` when it never does within the budget; the first point when it starts above.
    """
    for i, rate in enumerate(rates):
        if rate >= target:
            if i == 0:
                return float(samples[0])
            x0, x1 = math.log2(samples[i - 1]), math.log2(samples[i])
            frac = (target - rates[i - 1]) / (rate - rates[i - 1])
            return float(2.0 ** (x0 + frac * (x1 - x0)))
    return None


def seed_spread(rates: Sequence[float]) -> Optional[float]:
    """Return the largest minus the smallest per-seed success (``None``: one seed)."""
    return max(rates) - min(rates) if len(rates) > 1 else None


def flat_at_end(previous: Sequence[str], last: Sequence[str]) -> Dict[str, object]:
    """
    Tell whether a curve has stopped rising: its last two points, paired by seed and scene.

    ``flat`` when the change from the second-to-last point to the last is not significant
    (McNemar, p >= ALPHA) or is a fall, and the last pooled rate lies inside the previous
    point's Wilson interval.
    """
    test = mcnemar_exact(last, previous)
    before, after = pooled(previous), pooled(last)
    inside = before['ci95'][0] <= after['success_rate'] <= before['ci95'][1]
    rising = test['p'] < ALPHA and test['b'] > test['c']
    return {'delta': after['success_rate'] - before['success_rate'], 'p': test['p'],
            'flat': bool(inside and not rising)}
