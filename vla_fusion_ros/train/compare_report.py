# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The report of the fusion comparison: comparison.json, comparison.md and comparison.png.

:func:`write_report` summarises the runs (:mod:`.compare_summary`, which also measures each
variant's cost) into ``comparison.json``; :func:`markdown` and :func:`plot` render only that
JSON, so ``python -m vla_fusion_ros.train.compare --report comparison.json`` re-renders both
without measuring anything, and every figure they print comes from the run's data.
"""

import dataclasses
import json
import os
from typing import Any, Dict, List

from vla_fusion_ros.train.compare_convergence import convergence_section
from vla_fusion_ros.train.compare_shipped import NOTES, shipped_against_recommended
from vla_fusion_ros.train.compare_stats import format_p, format_pct as _pct
from vla_fusion_ros.train.compare_summary import summarize


def _ci(ci) -> str:
    return f'{100 * ci[0]:.1f}-{100 * ci[1]:.1f}%'


def _n(x) -> str:
    return '-' if x is None else f'{round(x):,}'


def _seeds(variant: Dict[str, Any]) -> str:
    return ' / '.join(f'{100 * r:.0f}' for r in variant['final']['per_seed'])


def _intro(data: Dict[str, Any]) -> List[str]:
    plan = data['plan']
    points = ', '.join(f'{p:,}' for p in plan['points'])
    hours = ', '.join(f'{stage} {h:.2f}' for stage, h in data['process_hours'].items())
    width = (f'vision, language and fusion width {plan["width"]}' if plan['width']
             else "the world's model widths")
    return [
        '# Fusion comparison: learning curves', '',
        f'Plan `{data["plan_name"]}`: worlds {", ".join(plan["worlds"])}; language encoders '
        f'{", ".join(plan["languages"])}; {width}. Every run trains on its world\'s data with '
        f"its world's recipe ({', '.join(plan['configs'][w] for w in plan['worlds'])}), "
        'changing only the fusion, the learning rate, the seed and the length of the '
        f'schedule (batch {plan["batch_size"]}). A seeded run trains to {plan["points"][-1]:,} '
        f'samples and is evaluated closed loop at {points} samples, on the same '
        f'{plan["test_episodes"]} test scenes for every run, and again on them with an '
        'uninformative instruction (the floor). Success is pooled over seeds, with Wilson 95% '
        "intervals; paired tests are McNemar's exact test on episodes paired by seed and "
        'scene.', '',
        '**One schedule per run.** The learning rate warms up, then decays (cosine) to the end '
        'of the largest budget, and the curve is read off that one run. Separate runs per '
        'point would cost the sum of all budgets instead of the largest alone, and the curve '
        'would mix schedules. The price: an earlier point is taken at a higher learning rate '
        'than a run that ended there would have, so it understates what that budget can give '
        'to every variant alike; the anneal check below measures it once per world.', '',
        f'**Fair recipes.** Each base variant was trained at learning rates '
        f'{", ".join(f"{lr:g}" for lr in plan["lrs"])} (seed {plan["tune_seed"]}, not one of '
        f'the seeded runs\', {plan["tune_budget"]:,} samples) and scored on '
        f'{plan["val_episodes"]} validation scenes, never the test scenes; it keeps the rate '
        'with the best validation success (ties: the better curve, then the lower validation '
        f'loss). Each operator was then tried at placements {", ".join(plan["placements"])} '
        'at its rate on the same scenes and keeps its best'
        + (f'; the {plan["sweep_top"]} best operators are also shown at their other '
           'placements.' if plan['sweep_top'] else '.')
        + (f' Only the {plan["finalists"]} best operators (at their best placements, on '
           f'validation) and {", ".join(plan["full_baselines"]) or "no baseline"} train to '
           f'the largest budget; the other variants stop at {plan["short_budget"]:,} samples, '
           'on the same schedule, so their curves are what a full run would show up to there.'
           if plan['finalists'] and plan['short_budget'] else ''), '',
        f'**Cost.** {data["runs"]} runs took {data["process_hours_total"]:.2f} process-hours '
        f'({hours}), one torch thread each, {data["workers"]} at a time; this invocation ran '
        f'{data["wall_time_s"] / 3600:.2f} hours.', ''] + _progress(data)


def _progress(data: Dict[str, Any]) -> List[str]:
    """Say how much of the plan has run, when not all of it has."""
    progress = data.get('progress')
    if not progress or all(done >= planned for done, planned in progress.values()):
        return []
    done = sum(d for d, _ in progress.values())
    planned = sum(p for _, p in progress.values())
    return [f"**In progress.** {done} of the plan's {planned} runs have finished ("
            + ', '.join(f'{stage} {d}/{p}' for stage, (d, p) in progress.items())
            + '). A stage starts when the one before it has finished for its world and '
            'encoder, and no verdict is drawn before the seeded runs; the sections below show '
            'what exists. Go on: `python -m vla_fusion_ros.train.compare --plan '
            f'{data["plan_name"]} --workers 2` (finished runs are read from the ledger).', '']


def _verdict_line(group: Dict[str, Any]) -> str:
    v, name = group['verdict'], f'{group["world"]} ({group["language"]})'
    if 'against' not in v:
        return f'**{name}: {v["claim"]}.**'
    parts = [f'{ref} {_pct(a["success_rate"])} (p {format_p(a["p"])})'
             for ref, a in v['against'].items()]
    floors = group['floors']
    floor = []
    if floors['uninformed']:
        floor.append(f'{_pct(floors["uninformed"][-1]["success_rate"])} '
                     f'({floors["uninformed_variant"]} told nothing)')
    if floors['vision_only']:
        floor.append(f'{_pct(floors["vision_only"][-1]["success_rate"])} vision_only')
    return (f'**{name}: intermediate fusion beats early and late fusion - {v["claim"]}**: '
            f'{v["best_intermediate"]} (ranked first on validation) succeeds in '
            f'{_pct(v["best_success"])} of {v["episodes"]} test episodes ({_ci(v["best_ci95"])}) '
            f'after {v["samples"]:,} samples, against {", ".join(parts)}'
            + (f'; floors: {", ".join(floor)}.' if floor else '.'))


def _curve_table(group: Dict[str, Any]) -> List[str]:
    points = [p['samples'] for p in max((v['curve'] for v in group['variants']), key=len)]
    head = ' | '.join(f'{p:,}' for p in points)
    lines = [f'| variant | lr | {head} | 95% CI (last) | per seed (last) | flat at end | '
             f'AUC to {group["common_samples"]:,} | samples to {_pct(group["target"])} | '
             'params | MFLOPs | latency ms |', '|' + '---|' * (10 + len(points))]
    for v in sorted(group['variants'], key=lambda v: (-v['final']['samples'],
                                                      -v['final']['success_rate'])):
        rate = {p['samples']: p['success_rate'] for p in v['curve']}
        rates = ' | '.join(_pct(rate.get(p)) for p in points)
        seeds = _seeds(v)
        flat = v.get('flat')
        flat_text = '-' if not flat else (
            f'{"yes" if flat["flat"] else "no"} ({100 * flat["delta"]:+.1f}, '
            f'p {format_p(flat["p"])})')
        lines.append(
            f'| {v["name"]} | {v["lr"]:g} | {rates} | {_ci(v["final"]["ci95"])} | {seeds} | '
            f'{flat_text} | {_pct(v["auc_common"])} | {_n(v["samples_to_target"])} | '
            f'{_n(v["parameters"])} | {v["flops"] / 1e6:.1f} | {v["latency_ms"]:.2f} |')
    return lines


def _tests_table(group: Dict[str, Any]) -> List[str]:
    refs = [r for r in ('best', 'early', 'late', 'late_tokens')
            if any(r in v['tests'] for v in group['variants'])]
    lines = ['| variant | ' + ' | '.join(f'vs {r} (b/c, p)' for r in refs) + ' |',
             '|---|' + '---|' * len(refs)]
    for v in sorted(group['variants'], key=lambda v: -v['final']['success_rate']):
        cells = []
        for ref in refs:
            t = v['tests'].get(ref)
            cells.append('-' if t is None else f'{t["b"]}/{t["c"]}, {format_p(t["p"])}')
        lines.append(f'| {v["name"]} | ' + ' | '.join(cells) + ' |')
    return lines


def _choice_tables(group: Dict[str, Any]) -> List[str]:
    c = group['choices']
    lines = []
    if 'tune_scores' in c:
        lrs = list(next(iter(c['tune_scores'].values())))
        lines += ['Validation success at the tuning budget, by learning rate (chosen in bold):',
                  '', '| variant | ' + ' | '.join(lrs) + ' |', '|---|' + '---|' * len(lrs)]
        for name, scores in c['tune_scores'].items():
            cells = [f'**{_pct(s[0])}**' if float(lr) == c['lr'][name] else _pct(s[0])
                     for lr, s in scores.items()]
            lines.append(f'| {name} | ' + ' | '.join(cells) + ' |')
        lines.append('')
    if 'place_scores' in c:
        places = list(next(iter(c['place_scores'].values())))
        lines += ['Validation success by placement, at the tuned rate (chosen in bold):', '',
                  '| operator | ' + ' | '.join(places) + ' |', '|---|' + '---|' * len(places)]
        for op, scores in c['place_scores'].items():
            cells = [f'**{_pct(scores[p][0])}**' if p == c.get('placement', {}).get(op)
                     else _pct(scores[p][0]) for p in places]
            lines.append(f'| {op} | ' + ' | '.join(cells) + ' |')
        lines.append('')
    return lines


def _group(group: Dict[str, Any]) -> List[str]:
    lines = [f'## {group["world"]}, {group["language"]} encoder', '']
    if not group['variants']:
        return lines + ['No seeded run has finished yet.', ''] + _choice_tables(group)
    lines += [_verdict_line(group), '',
              f'| if you have | use | success (95% CI) | AUC to {group["common_samples"]:,} | '
              'MFLOPs | latency ms |', '|---|---|---|---|---|---|']
    for r in group['recommendations']:
        lines.append(f'| {r["want"]} | {r["use"]} | {_pct(r["success_rate"])} '
                     f'({_ci(r["ci95"])}) | {_pct(r["auc"])} | {r["flops"] / 1e6:.1f} | '
                     f'{r["latency_ms"]:.2f} |')
    first = group['recommendations'][0]
    lines += ['', 'Variants trained to the largest budget and not significantly worse than the '
              f'best there (the pool the compute and latency rows choose from): '
              f'{first["tied_with_best"]}.', '',
              "Curves: pooled success at each point (samples), then at the run's last point. "
              '"Flat at end": the change from the point before, in points, with its paired '
              'test; AUC: mean success over the points every variant has, on a log scale of '
              'samples.', '']
    lines += _curve_table(group) + ['', "Paired tests at each variant's last point (b: "
                                    'episodes only the row succeeded in; c: only the '
                                    'reference, at the same point):', '']
    lines += _tests_table(group) + ['']
    if group['all_seeds_agree'] is None:
        lines += ['Some variants ran with one seed: their seeds have no spread to compare.', '']
    elif group['all_seeds_agree']:
        lines += ["At the largest budget, every variant's seeds agree within "
                  f'{100 * group["seed_agreement"]:.0f} points.', '']
    else:
        apart = [v for v in group['variants'] if not v['seeds_agree']]
        flat = [v for v in apart if v.get('flat', {}).get('flat')]
        lines += [f'At the largest budget, {len(apart)} '
                  f'{"variant has" if len(apart) == 1 else "variants have"} seeds further apart '
                  f'than {100 * group["seed_agreement"]:.0f} points: ' + '; '.join(
                      f'{v["name"]} ({_seeds(v)}, '
                      f'{"flat" if v in flat else "still rising"})'
                      for v in apart) + '.']
        if len(flat) < len(apart):
            lines += ['Why, where still rising: its seeds leave the initial plateau at different '
                      'sample counts, so they differ until the curve flattens; a longer budget '
                      'would be needed to show whether they meet.']
        if flat:
            lines += ['Why, where flat: its seeds settled at different levels, so its result '
                      'depends on the seed; the pooled interval (one per episode) understates '
                      'that spread.']
        lines += ['']
    a = group.get('anneal')
    if a:
        lines += [f'Anneal check ({a["variant"]}, seed 0, at {a["samples"]:,} samples): a '
                  f'schedule ending there gives {_pct(a["own_schedule"]["success_rate"])}, the '
                  f'schedule to {a["budget"]:,} samples {_pct(a["long_schedule"]["success_rate"])}'
                  f' at that point (McNemar p {format_p(a["test"]["p"])}).', '']
    return lines + _choice_tables(group)


def _model(model: Dict[str, Any]) -> str:
    return (f'{model["variant"]}, {model["language"]} encoder' if 'variant' in model
            else f'unreadable ({model["error"]})')


def _shipped(data: Dict[str, Any]) -> List[str]:
    """Say whether each shipped model is the recommended one, and if not, why."""
    rows = data.get('shipped') or []
    if not rows:
        return []
    lines = ['## The shipped models against the recommendation', '',
             '| world | shipped | recommended (highest success at the largest budget) | '
             'same |', '|---|---|---|---|']
    for row in rows:
        want = row['recommended']
        lines.append(
            f'| {row["world"]} | {_model(row["shipped"])} | '
            + (f'{_model(want)} ({_pct(want["success_rate"])})' if want else
               'not final: some seeded runs of this world are still to come')
            + ' | ' + {True: 'yes', False: '**no**', None: '-'}[row['match']] + ' |')
    lines.append('')
    for row in rows:
        if row['match'] is not True and row['note']:
            lines += [f'**{row["world"]}, why the shipped model is what it is** '
                      f'(`{row["note_path"]}`): ' + row['note'], '']
        elif row['match'] is False:
            lines += [f'**{row["world"]}: the shipped model is not the recommended one, and no '
                      f'reason is recorded** (`{row["note_path"]}` is missing).', '']
    return lines


def markdown(data: Dict[str, Any], notes: str = NOTES) -> str:
    """Return comparison.md for a comparison.json (``notes``: the hand-written notes' folder)."""
    lines = _intro(data)
    for pick in data['overall']:
        if pick['use']:
            worlds = zip(pick['worlds'], pick['success_rate'])
            rates = ', '.join(f'{_pct(r)} {w}' for w, r in worlds)
            lines += [f'**If you do not know your camera ({pick["language"]} encoder), use '
                      f'{pick["use"]}** ({rates}): '
                      + ('in every world it is not significantly worse than the best.'
                         if pick['tied_everywhere'] else
                         'no variant is within reach of the best in every world; this one has '
                         'the highest lowest success.'), '']
    lines += _shipped(data)
    for group in data['groups']:
        group = {**group, 'seed_agreement': data['constants']['seed_agreement']}
        lines += _group(group)
    lines += convergence_section(data, notes)
    return '\n'.join(lines).rstrip() + '\n'


def plot(data: Dict[str, Any], path: str) -> None:
    """
    Curves with their floors per world and encoder (top); success against latency (bottom).

    Each variant keeps one colour in every panel; a hollow marker below is a variant that
    stopped before the largest budget (its last point).
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FixedLocator, NullLocator
    groups = [g for g in data['groups'] if g['variants']] or data['groups']
    names = sorted({v['name'] for g in groups for v in g['variants']})
    palette = plt.get_cmap('tab20')
    colors = {n: palette(i % 20) for i, n in enumerate(names)}
    colors['vision_only'] = 'grey'
    fig, axes = plt.subplots(2, max(1, len(groups)), figsize=(8 * len(groups) + 3, 11),
                             squeeze=False)
    styles = {'intermediate': '-', 'early': '--', 'late': '-.', 'late_tokens': ':',
              'vision_only': (0, (1, 3))}
    for col, group in enumerate(groups):
        ax, ax2 = axes[0][col], axes[1][col]
        for v in group['variants']:
            xs = [p['samples'] for p in v['curve']]
            ys = [100 * p['success_rate'] for p in v['curve']]
            err = [[y - 100 * p['ci95'][0] for y, p in zip(ys, v['curve'])],
                   [100 * p['ci95'][1] - y for y, p in zip(ys, v['curve'])]]
            ax.errorbar(xs, ys, yerr=err, capsize=2, linestyle=styles[v['group']],
                        color=colors[v['name']], label=v['name'], marker='o', markersize=3)
            y = 100 * v['final']['success_rate']
            ax2.scatter(v['latency_ms'], y, edgecolors=colors[v['name']],
                        facecolors=colors[v['name']] if v['full'] else 'none')
            ax2.annotate(v['name'], (v['latency_ms'], y), fontsize=7)
        floor = group.get('floors', {}).get('uninformed')
        if floor:
            ax.plot([p['samples'] for p in floor], [100 * p['success_rate'] for p in floor],
                    color='black', linestyle=':', linewidth=2,
                    label=f'floor: {group["floors"]["uninformed_variant"]}, told nothing')
        ticks = sorted({p['samples'] for v in group['variants'] for p in v['curve']})
        ax.set_xscale('log')
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xticklabels([f'{t:,}' for t in ticks], fontsize=8)
        ax.set_xlabel('training samples')
        ax.set_ylabel('success, % (pooled over seeds, 95% CI)')
        ax.set_ylim(0, 100)
        ax.set_title(f'{group["world"]}, {group["language"]} encoder')
        ax.legend(fontsize=7, loc='upper left', bbox_to_anchor=(1.01, 1.0))
        ax2.set_xlabel('latency of one predict, ms (1 thread)')
        ax2.set_ylabel("success at the variant's last point, % (hollow: stopped early)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _render(data: Dict[str, Any], out: str) -> List[str]:
    paths = [os.path.join(out, 'comparison.md'), os.path.join(out, 'comparison.png')]
    with open(paths[0], 'w', encoding='utf-8') as handle:
        handle.write(markdown(data))
    plot(data, paths[1])
    return paths


def write_report(plan, results: Dict[str, Dict[str, Any]], out: str, plan_name: str,
                 wall_time_s: float, workers: int) -> List[str]:
    """Summarise the runs (measuring each variant's cost) and write the three files."""
    os.makedirs(out, exist_ok=True)
    data = {'plan_name': plan_name, 'plan': dataclasses.asdict(plan),
            'wall_time_s': round(wall_time_s, 1), 'workers': workers,
            **summarize(plan, results)}
    data['shipped'] = shipped_against_recommended(data['groups'])
    path = os.path.join(out, 'comparison.json')
    tmp = path + '.tmp'
    with open(tmp, 'w', encoding='utf-8') as handle:
        json.dump(data, handle, indent=1)
    os.replace(tmp, path)
    return [path] + _render(data, out)


def rerender(path: str, out: str) -> List[str]:
    """Write comparison.md and comparison.png again from a comparison.json: nothing measured."""
    with open(path, encoding='utf-8') as handle:
        data = json.load(handle)
    os.makedirs(out, exist_ok=True)
    return _render(data, out)
