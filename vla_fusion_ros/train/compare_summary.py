# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The summary of the fusion comparison: every variant's curve, tests, costs, verdicts, advice.

:func:`summarize` turns the plan and the finished runs into the one structure the report
renders (``comparison.json``); nothing the report prints is computed anywhere else. Per world
and language encoder (a group):

- each seeded variant's curve: success pooled over seeds at every point (Wilson 95%), the
  per-seed rates, the same policy's floor (uninformative instruction), the area under the curve
  (:func:`~.compare_stats.area_under_curve`), the samples it needs to reach ``TARGET_SHARE`` of
  the best variant's final success, whether its curve is flat at the end, its seeds' spread;
- McNemar's exact test at its last point against the best variant and every late/early
  baseline at the same point, paired by seed and scene (a variant that stopped at the short
  budget is compared there);
- the verdict on the seed document's claim (intermediate fusion beats early and late fusion:
  the intermediate variant validation ranked first, against each baseline, on test scenes),
  the recommendations ("if you have X, use Y"), and the anneal check;

and, across worlds, the variant that is not significantly worse than the best in any of them.
"""

import statistics
from typing import Any, Dict, List, Optional

from vla_fusion_ros.train import compare_plan as cp
from vla_fusion_ros.train import compare_stats as st
from vla_fusion_ros.train.compare_cost import measure

#: The samples-to-reach target, as a share of the best variant's final success.
TARGET_SHARE = 0.9
#: The baselines every intermediate variant is tested against.
REFERENCES = ('early', 'late', 'late_tokens')


def _runs(plan, results, world, language, name, lr) -> List[Dict[str, Any]]:
    found = []
    for seed in range(plan.seeds):
        job = cp.make_job(plan, 'seeded', world, language, name, lr, seed, plan.points, 'test')
        if job['id'] in results:
            found.append(results[job['id']])
    return found


def _curve(runs: List[Dict[str, Any]], key: str) -> List[Dict[str, Any]]:
    curve = []
    for i, samples in enumerate(runs[0]['job']['points']):
        outcomes = [r['points'][i][key]['outcomes'] for r in runs]
        curve.append({'samples': samples, **st.pooled(outcomes),
                      'per_seed': [r['points'][i][key]['success_rate'] for r in runs],
                      'outcomes': outcomes})
    return curve


def _at(variant: Dict[str, Any], samples: int) -> Optional[List[str]]:
    """Return a variant's per-seed outcomes at ``samples``, or ``None`` off its curve."""
    for point in variant['curve']:
        if point['samples'] == samples:
            return point['outcomes']
    return None


def _test(first: Dict[str, Any], second: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """Test ``first`` at its last point against ``second`` at the same point (McNemar)."""
    other = _at(second, first['final']['samples'])
    return None if other is None else st.mcnemar_exact(first['final_outcomes'], other)


def variant_summary(name: str, lr: float, runs: List[Dict[str, Any]],
                    cost: Dict[str, Any]) -> Dict[str, Any]:
    """Summarise one variant: its curve (and its floor's), area, flatness, seed agreement."""
    curve = _curve(runs, 'eval')
    rates = [p['success_rate'] for p in curve]
    samples = [p['samples'] for p in curve]
    final = [r['points'][-1]['eval']['outcomes'] for r in runs]
    out = {**cp.variant(name), 'lr': lr, 'seeds': len(runs), 'curve': curve,
           'auc': st.area_under_curve(samples, rates),
           'auc_per_seed': [st.area_under_curve(samples, [p['eval']['success_rate']
                                                          for p in r['points']]) for r in runs],
           'final': curve[-1], 'final_outcomes': final, 'full': False,
           'seed_spread': st.seed_spread(curve[-1]['per_seed']),
           'train_wall_time_s': statistics.mean(r['train_wall_time_s'] for r in runs),
           'process_s': statistics.mean(r.get('process_wall_s') or r['process_s']
                                        for r in runs), **cost}
    out['seeds_agree'] = (None if out['seed_spread'] is None
                          else out['seed_spread'] <= st.SEED_AGREEMENT)
    if len(curve) > 1:
        out['flat'] = st.flat_at_end([r['points'][-2]['eval']['outcomes'] for r in runs], final)
    if all('floor' in r['points'][-1] for r in runs):
        out['floor_curve'] = _curve(runs, 'floor')
    return out


def _better(test: Optional[Dict[str, Any]]) -> Optional[str]:
    """Return 'first' or 'second' when a McNemar test found that side significantly better."""
    if test is None or test['p'] >= st.ALPHA:
        return None
    return 'first' if test['b'] > test['c'] else 'second'


def verdict(variants: List[Dict[str, Any]], order: List[str], seeds: int = 0
            ) -> Dict[str, Any]:
    """
    Test the seed's claim: the best intermediate variant against each baseline, on test scenes.

    The best intermediate variant is the one validation chose (the first intermediate name of
    ``order``, the seeded variants best first, that trained to the largest budget), so that the
    test scenes that judge it did not also pick it. While it or a baseline has fewer than the
    plan's ``seeds`` seeds, the claim is only provisional: a seed still to come can move it.
    """
    inter = [v for v in variants if v['group'] == 'intermediate' and v['full']]
    refs = [v for v in variants if v['name'] in REFERENCES and v['full']]
    if not inter or not refs:
        return {'claim': 'not tested (runs missing)'}
    rank = {name: i for i, name in enumerate(order)}
    best = min(inter, key=lambda v: rank.get(v['name'], len(rank)))
    against, wins, losses = {}, {}, {}
    for ref in refs:
        test = _test(best, ref)
        against[ref['name']] = {**test, 'success_rate': ref['final']['success_rate'],
                                'better': _better(test)}
        tests = [_better(_test(v, ref)) for v in inter]
        wins[ref['name']] = tests.count('first')
        losses[ref['name']] = tests.count('second')
    if all(a['better'] == 'first' for a in against.values()):
        claim = 'confirmed'
    elif any(a['better'] == 'second' for a in against.values()):
        claim = 'refuted'
    else:
        claim = 'not separated'
    missing = {v['name']: seeds - v['seeds'] for v in (best, *refs) if v['seeds'] < seeds}
    if missing:
        claim = (f'provisional, {claim} so far ({sum(missing.values())} seeded runs of '
                 f'{", ".join(sorted(missing))} still to come)')
    return {'claim': claim, 'complete': not missing, 'best_intermediate': best['name'],
            'best_success': best['final']['success_rate'], 'best_ci95': best['final']['ci95'],
            'episodes': best['final']['episodes'], 'samples': best['final']['samples'],
            'against': against,
            'intermediate_variants': len(inter), 'significantly_better_than': wins,
            'significantly_worse_than': losses}


def recommendations(variants: List[Dict[str, Any]], best: Dict[str, Any]) -> List[Dict]:
    """Advise 'if you have X, use Y', from the variants not significantly worse than the best."""
    usable = [v for v in variants if v['mode'] != 'vision_only']
    tied = [v for v in usable if v['full'] and _better(v['tests']['best']) != 'second'] or [
        best]

    def row(want: str, chosen: Dict[str, Any]) -> Dict[str, Any]:
        return {'want': want, 'use': chosen['name'],
                'success_rate': chosen['final']['success_rate'],
                'ci95': chosen['final']['ci95'], 'auc': chosen['auc_common'],
                'flops': chosen['flops'], 'latency_ms': chosen['latency_ms'],
                'tied_with_best': len(tied)}
    return [row('compute to spare (the highest success)', best),
            row('a tight compute budget (FLOPs per frame)',
                min(tied, key=lambda v: v['flops'])),
            row('a tight latency budget', min(tied, key=lambda v: v['latency_ms'])),
            row('little training data or time',
                max(usable, key=lambda v: v['auc_common'] or 0.0))]


def _anneal(plan, results, world, language, decided) -> Optional[Dict[str, Any]]:
    if not plan.anneal or 'ranking' not in decided:
        return None
    op = decided['ranking'][0]
    name = f'{op}@{decided["placement"][op]}'
    lr = cp._lr_of(decided, name)
    short = results.get(cp.make_job(plan, 'anneal', world, language, name, lr, 0,
                                    [p for p in plan.points if p <= plan.middle], 'test')['id'])
    long = results.get(cp.make_job(plan, 'seeded', world, language, name, lr, 0, plan.points,
                                   'test')['id'])
    if short is None or long is None:
        return None
    index = plan.points.index(plan.middle)
    a, b = short['points'][-1]['eval'], long['points'][index]['eval']
    return {'variant': name, 'samples': plan.middle, 'budget': plan.points[-1],
            'own_schedule': st.pooled([a['outcomes']]), 'long_schedule': st.pooled(
                [b['outcomes']]), 'test': st.mcnemar_exact([a['outcomes']], [b['outcomes']])}


def group_summary(plan, results, world: str, language: str, costs: Dict[str, Any]
                  ) -> Dict[str, Any]:
    """Summarise everything the report shows for one world and language encoder."""
    decided = cp.choices(plan, results, world, language)
    out: Dict[str, Any] = {'world': world, 'language': language, 'choices': decided,
                           'variants': []}
    for name in decided.get('seeded', []):
        lr = cp._lr_of(decided, name)
        runs = _runs(plan, results, world, language, name, lr)
        if runs:
            key = f'{world}/{language}/{name}'
            if key not in costs:
                costs[key] = measure(cp.make_job(plan, 'seeded', world, language, name, lr, 0,
                                                 plan.points, 'test'))
            out['variants'].append(variant_summary(name, lr, runs, costs[key]))
    variants = out['variants']
    if not variants:
        return out
    for v in variants:
        v['full'] = v['final']['samples'] == plan.points[-1]
    best = max([v for v in variants if v['full']] or variants,
               key=lambda v: v['final']['success_rate'])
    target = TARGET_SHARE * best['final']['success_rate']
    common = min(v['final']['samples'] for v in variants)
    by_name = {v['name']: v for v in variants}
    for v in variants:
        curve = [p for p in v['curve'] if p['samples'] <= common]
        v['auc_common'] = st.area_under_curve([p['samples'] for p in curve],
                                              [p['success_rate'] for p in curve])
        v['samples_to_target'] = st.samples_to_reach(
            [p['samples'] for p in v['curve']], [p['success_rate'] for p in v['curve']], target)
        v['tests'] = {ref: _test(v, by_name[ref] if ref != 'best' else best)
                      for ref in ('best', *REFERENCES) if ref == 'best' or ref in by_name}
    out.update({'best': best['name'], 'target': target, 'common_samples': common,
                'verdict': verdict(variants, decided.get('seeded', []), plan.seeds),
                'recommendations': recommendations(variants, best),
                'floors': {'uninformed_variant': best['name'],
                           'uninformed': best.get('floor_curve'),
                           'vision_only': by_name['vision_only']['curve']
                           if 'vision_only' in by_name else None},
                'anneal': _anneal(plan, results, world, language, decided),
                'all_seeds_agree': None if any(v['seeds_agree'] is None for v in variants)
                else all(v['seeds_agree'] for v in variants)})
    return out


def overall(groups: List[Dict[str, Any]], language: str) -> Dict[str, Any]:
    """
    Pick one variant for every world of a language encoder: if you do not know your camera.

    Among the variants trained to the largest budget in every world, those not significantly
    worse than each world's best; of them (or, when there is none, of all), the one with the
    highest lowest success across worlds.
    """
    mine = [g for g in groups if g['language'] == language and g['variants']]
    if not mine:
        return {'language': language, 'use': None}
    full = [{v['name']: v for v in g['variants'] if v['full']} for g in mine]
    names = [n for n in full[0] if all(n in f for f in full[1:])]
    tied = [n for n in names if all(_better(f[n]['tests']['best']) != 'second' for f in full)]
    pick = max(tied or names, key=lambda n: min(f[n]['final']['success_rate'] for f in full),
               default=None)
    return {'language': language, 'use': pick, 'tied_everywhere': bool(tied),
            'worlds': [g['world'] for g in mine],
            'success_rate': [f[pick]['final']['success_rate'] for f in full] if pick else []}


def summarize(plan, results: Dict[str, Dict[str, Any]], costs: Optional[Dict] = None
              ) -> Dict[str, Any]:
    """Summarise the comparison: groups, process time per stage, constants of the analysis."""
    costs = {} if costs is None else costs
    stages: Dict[str, float] = {}
    for result in results.values():
        stage = result['job']['stage']
        spent = result.get('process_wall_s') or result['process_s']
        stages[stage] = stages.get(stage, 0.0) + spent
    groups = [group_summary(plan, results, w, lang, costs)
              for w in plan.worlds for lang in plan.languages]
    finished: Dict[str, int] = {}
    for result in results.values():
        finished[result['job']['stage']] = finished.get(result['job']['stage'], 0) + 1
    return {'groups': groups, 'overall': [overall(groups, lang) for lang in plan.languages],
            'runs': len(results),
            # How far the sweep is: finished runs against the plan's, per stage.
            'progress': {stage: [finished.get(stage, 0), planned]
                         for stage, planned in cp.job_counts(plan).items()},
            'process_hours': {k: v / 3600 for k, v in stages.items()},
            'process_hours_total': sum(stages.values()) / 3600,
            'constants': {'alpha': st.ALPHA, 'seed_agreement': st.SEED_AGREEMENT,
                          'target_share': TARGET_SHARE}}
