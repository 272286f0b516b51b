# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The robot-data proof's report: ``proof.json`` (everything measured) and ``proof.md``.

Every figure comes from the run's own data (:mod:`vla_fusion_ros.tools.robot_data_proof`);
the only numbers of its own are the issue's target (``TARGET_POINTS``) and the interval level.
``python -m vla_fusion_ros.tools.robot_data_report results/robot_data/proof.json`` renders the
Markdown again from a saved JSON.
"""

import json
import math
import os
import sys
from typing import Any, Dict, List, Optional

from vla_fusion_ros.train.metrics import agreement, format_rate, spearman
import yaml

#: The issue's bar: the recorded-data model within this many points of the in-process one.
TARGET_POINTS = 3
#: Training seeds of the recorded and in-process models unless ``--seeds`` says otherwise.
DEFAULT_SEEDS = 3
#: Every model the proof can train or evaluate, in the report's order (``--models``).
ALL_MODELS = ('recorded', 'in_process', 'in_process_probe', 'shipped')
LABELS = {'recorded': 'recorded over DDS, converted (LeRobot v3), no probe',
          'in_process': 'same episodes generated in-process, no probe',
          'in_process_probe': 'same episodes in-process, with the probe',
          'shipped': 'shipped models/overhead.safetensors (its own recipe)'}


def arm(name: str) -> str:
    """Return the model a run belongs to: ``in_process_seed1`` -> ``in_process``."""
    return name.split('_seed')[0]


def seed_of(name: str) -> int:
    """Return the training seed of a run: ``in_process_seed1`` -> 1, ``in_process`` -> 0."""
    return int(name.split('_seed')[1]) if '_seed' in name else 0


def _order(name: str):
    return (seed_of(name), ALL_MODELS.index(arm(name)) if arm(name) in ALL_MODELS else 99)


def pooled(ev: Dict[str, Any], model: str) -> Dict[str, Any]:
    """Pool the strict success of every seed of ``model``: rate, n, per-seed rates, spread."""
    runs = sorted((n for n in ev if arm(n) == model), key=seed_of)
    wins = sum(ev[n]['ros']['successes'] for n in runs)
    total = sum(ev[n]['ros']['episodes'] for n in runs)
    rates = [ev[n]['ros']['success_rate'] for n in runs]
    return {'runs': runs, 'successes': wins, 'episodes': total, 'success_rate': wins / total,
            'per_seed': rates, 'spread': max(rates) - min(rates) if len(rates) > 1 else None}


def mcnemar_p(first: List[Dict[str, Any]], second: List[Dict[str, Any]]) -> Dict[str, Any]:
    """Exact two-sided McNemar test on the episodes both runs played (paired by seed)."""
    a = {r['seed']: bool(r['success']) for r in first}
    b = {r['seed']: bool(r['success']) for r in second}
    only_first = sum(1 for s in a if s in b and a[s] and not b[s])
    only_second = sum(1 for s in a if s in b and b[s] and not a[s])
    n = only_first + only_second
    tail = sum(math.comb(n, k) for k in range(min(only_first, only_second) + 1)) / 2 ** n \
        if n else 1.0
    return {'only_first': only_first, 'only_second': only_second, 'p': min(1.0, 2 * tail)}


def _points(x: float) -> str:
    return f'{100 * x:+.1f}'


def _bar(gap: float) -> str:
    """Judge a recorded-minus-in-process gap against the bar: at most 3 points behind."""
    if abs(gap) * 100 <= TARGET_POINTS:
        return f'within the {TARGET_POINTS}-point bar'
    if gap > 0:
        return f'ahead: meets the {TARGET_POINTS}-point bar'
    return f'not within the {TARGET_POINTS}-point bar'


def _row(name: str, evaluation: Dict[str, Any], model: Dict[str, Any]) -> str:
    ros, floor = evaluation['ros'], evaluation['floor']
    frames = model.get('train_frames', '') if model else ''
    minutes = f'{model.get("loop_time_s", model["wall_time_s"]) / 60:.1f}' if model else ''
    label = LABELS.get(arm(name), name) + (f', training seed {seed_of(name)}'
                                           if seed_of(name) else '')
    return (f'| {label} | {format_rate(ros)} | {format_rate(ros["present"])} '
            f'| {format_rate(ros["absent"])} | {format_rate(floor)} | {frames} | {minutes} |')


def model_design(out: str) -> Dict[str, Any]:
    """Return the fusion design a training run used (from its ``config.yaml``)."""
    with open(os.path.join(out, 'config.yaml'), encoding='utf-8') as handle:
        model = yaml.safe_load(handle)['model']
    return {'mode': model['fusion']['mode'], 'operator': model['fusion']['operator'],
            'layers': model['fusion']['layers'], 'language': model['language']['kind']}


def _design(model: Optional[Dict[str, Any]]) -> str:
    """Describe a run's design: ': hadamard fusion at vision layers [0], minilm language..'."""
    if not model:
        return ''
    fusion = (f'{model["operator"]} fusion at vision layers {model["layers"]}'
              if model['mode'] == 'intermediate' else f'{model["mode"]} fusion')
    return f': {fusion}, {model["language"]} language encoder'


def _seed_lines(ev: Dict[str, Any]) -> List[str]:
    """Return the lines comparing the gap pooled over training seeds with each arm's spread."""
    rec, gen = pooled(ev, 'recorded'), pooled(ev, 'in_process')
    if len(rec['runs']) < 2 or len(gen['runs']) < 2:
        return []
    gap = rec['success_rate'] - gen['success_rate']
    spread = max(rec['spread'], gen['spread'])
    pairs = [mcnemar_p(ev[r]['ros']['reports'], ev[g]['ros']['reports'])
             for r, g in zip(rec['runs'], gen['runs'])]
    return [
        f'- **Pooled over {len(rec["runs"])} training seeds**: recorded {rec["successes"]}/'
        f'{rec["episodes"]} = {100 * rec["success_rate"]:.1f}%, in-process '
        f'{gen["successes"]}/{gen["episodes"]} = {100 * gen["success_rate"]:.1f}%: '
        f'{_points(gap)} points ({_bar(gap)}). Per seed, recorded '
        + ' / '.join(f'{100 * r:.1f}%' for r in rec['per_seed']) + ', in-process '
        + ' / '.join(f'{100 * r:.1f}%' for r in gen['per_seed'])
        + '; paired by scene, seed by seed, exact McNemar p = '
        + ', '.join(f'{t["p"]:.3f}' for t in pairs) + '.',
        f'- **Run-to-run noise**: the same recipe trained twice on the same data differs by '
        f'{100 * gen["spread"]:.1f} points (in-process seeds) and {100 * rec["spread"]:.1f} '
        f'points (recorded seeds); the pooled gap of {abs(100 * gap):.1f} points is '
        + ('smaller than that spread: with this recipe a training seed moves success more than '
           'the recorded data does, so these runs cannot settle a '
           f'{TARGET_POINTS}-point question either way'
           if abs(gap) < spread else 'larger than that spread: the recorded data costs '
           'something beyond training noise')
        + _signs(rec, gen) + '.',
    ]


def _selection_lines(ev: Dict[str, Any], models: Dict[str, Any]) -> List[str]:
    """
    Return the lines on choosing a training seed by validation loss, as a robot user can.

    A user with no simulator trains a few seeds and keeps the one with the lowest validation
    loss (the held-out 5% of the episodes); this compares the two arms so chosen, and says how
    well validation loss ranks the runs by closed-loop success (Spearman).
    """
    runs = [n for n in ev if arm(n) in ('recorded', 'in_process') and n in models
            and 'val_loss' in models[n].get('best', {})]
    chosen = {}
    for side in ('recorded', 'in_process'):
        mine = [n for n in runs if arm(n) == side]
        if len(mine) < 2:
            return []
        chosen[side] = min(mine, key=lambda n: models[n]['best']['val_loss'])
    rec, gen = (ev[chosen[side]]['ros'] for side in ('recorded', 'in_process'))
    gap = rec['success_rate'] - gen['success_rate']
    test = mcnemar_p(rec['reports'], gen['reports'])
    rho = spearman([models[n]['best']['val_loss'] for n in runs],
                   [ev[n]['ros']['success_rate'] for n in runs])

    def said(side: str) -> str:
        name = chosen[side]
        return (f'{side.replace("_", "-")} seed {seed_of(name)} (validation loss '
                f'{models[name]["best"]["val_loss"]:.3f}) {format_rate(ev[name]["ros"])}')
    return [
        f'- **Each arm choosing its training seed by validation loss** (what a robot user '
        f'can do: no simulator needed): {said("recorded")}; {said("in_process")}: '
        f'{_points(gap)} points ({_bar(gap)}; paired by scene, exact McNemar p = '
        f'{test["p"]:.3f}). Over the {len(runs)} runs, '
        + (f'the lower the validation loss, the higher the closed-loop success (Spearman rho '
           f'= {rho:+.2f}): train a few seeds and keep the lowest validation loss.'
           if rho <= -0.5 else f'validation loss does not rank the runs by closed-loop '
           f'success (Spearman rho = {rho:+.2f}).'),
    ]


def _signs(rec: Dict[str, Any], gen: Dict[str, Any]) -> str:
    """Say whether one arm was ahead at every training seed (and by how much)."""
    gaps = [r - g for r, g in zip(rec['per_seed'], gen['per_seed'])]
    if all(g < 0 for g in gaps) or all(g > 0 for g in gaps):
        side = 'behind' if gaps[0] < 0 else 'ahead'
        return (f' (the recorded model was {side} at every seed: '
                + ', '.join(f'{abs(100 * g):.1f}' for g in gaps) + ' points)')
    return ' (neither arm was ahead at every seed)'


def markdown(result: Dict[str, Any]) -> str:
    """Render the report from the proof's result."""
    s, rec, conv, cost = (result['settings'], result['record'], result['convert'],
                          result['cost'])
    ev, models = result['evaluations'], result['models']
    width, height = s['camera']
    rate = {n: e['ros']['success_rate'] for n, e in ev.items()}
    gap = rate['recorded'] - rate['in_process']
    test = mcnemar_p(ev['recorded']['ros']['reports'], ev['in_process']['ros']['reports'])
    same = agreement(ev['recorded']['ros']['reports'], ev['in_process']['ros']['reports'])
    lines = [
        '# Robot data, closed loop: record over DDS, convert, train, evaluate through ROS',
        '',
        'Regenerate: `flock /work/cpu.lock nice -n 5 python -m '
        'vla_fusion_ros.tools.robot_data_proof --out runs/robot_data --results '
        f'results/robot_data --episodes {s["episodes"]} --rate {s["rate"]:g} '
        f'--instruction-lead {s["instruction_lead"]:g} --camera '
        f'{width}x{height} --eval-episodes {s["eval_episodes"]}'
        + (f' --steps {s["steps"]}' if s['steps'] else '')
        + (f' --seeds {s.get("seeds", 1)}' if s.get('seeds', 1) != DEFAULT_SEEDS else '')
        + (f' --models {s["models"]}' if s.get('models', ','.join(ALL_MODELS))
           != ','.join(ALL_MODELS) else '')
        + '`.',
        '',
        f'## Strict success on {s["eval_episodes"]} held-out scenes, through ROS',
        '',
        f'Camera {width}x{height}; `sim_world` (lockstep) and `fusion_node` over DDS. Floor: '
        'the same model told "go to the object" (in-process, same scenes). Wilson 95% '
        'intervals.',
        '',
        '| model | strict success | target present | target absent | floor | training frames '
        '| training loop, min |',
        '|---|---|---|---|---|---|---|',
    ]
    lines += [_row(n, ev[n], models.get(n)) for n in sorted(ev, key=_order)]
    # A model whose interval reaches down to its floor's learned nothing this comparison can
    # see: two such models agree however good or bad the data is.
    learned = {n: ev[n]['ros']['ci95'][0] > ev[n]['floor']['ci95'][1]
               for n in ('recorded', 'in_process')}
    lines += [
        '',
        f'- **Recorded vs in-process, same recipe, same episodes, training seed 0**: '
        f'{_points(gap)} points ({_bar(gap)}). Paired by scene: same outcome on '
        f'{same["same_outcome"]} of {same["common_episodes"]}; only the recorded model won '
        f'{test["only_first"]}, only the in-process one {test["only_second"]} (exact McNemar '
        f'p = {test["p"]:.3f}).' + (
            '' if all(learned.values()) else
            ' **But ' + ' and '.join(n for n, ok in learned.items() if not ok)
            + ' did not rise above the no-information floor** (the interval of its success '
            "overlaps the floor's), so this run says nothing about the data's quality: the "
            'recipe did not learn from this many episodes.'),
    ] + _seed_lines(ev) + _selection_lines(ev, models)
    if 'in_process_probe' in ev:
        lines.append("- **The auxiliary probe** (training only; it needs the world's poses): "
                     f'{_points(rate["in_process_probe"] - rate["in_process"])} points on the '
                     'same in-process data and recipe.')
    if 'shipped' in ev:
        lines.append('- **The shipped model** (probe, camera sizes from 64x64 to 640x480, '
                     'closed-loop model selection) on the same scenes: '
                     f'{format_rate(ev["shipped"]["ros"])}.')
    lines += [
        '',
        '## What each model saw',
        '',
        f'- **recorded**: {rec["episodes"]} expert episodes (scene seeds 0 to '
        f'{rec["episodes"] - 1}) driven by `sim_world teleop:=expert` at {rec["rate_hz"]:g} '
        f'Hz, camera {rec["camera"]}, recorded by `recorder` into {rec["bags"]} MCAP bags '
        f'({rec["bag_bytes"] / 1e9:.2f} GB) in {rec["wall_time_s"] / 60:.1f} min: '
        f'{rec["frames_recorded"]} of {rec["frames_published"]} frames published, '
        f'{rec["queue_drops"]} queue drops, recorder CPU {rec["recorder_cpu_s"]:.0f} s. '
        f'The expert succeeded in {rec["expert_successes"]} (actuation noise on). '
        f'Converted with `--clock header --keep-failed` to {conv["episodes"]} episodes, '
        f'{conv["frames"]} frames at {conv["frames_per_second"]:.0f} frames/s '
        f'({conv["seconds"]:.0f} s); dropped by the alignment: '
        f'{conv["totals"]["no_command"]} without a command, {conv["totals"]["gaps"]} '
        f'empty ticks, {conv["totals"]["unused_images"]} unused images.',
        '- **in_process**: the same seeds generated by `train.dataset.generate` at the same '
        'camera size, with the same actuation-noise stream (`sim.teleop.ActuationNoise`).',
    ]
    if 'data_check' in result:
        d = result['data_check']
        text = (f'- **Same episodes?** {d["frames_recorded"]} recorded frames against '
                f'{d["frames_in_process"]} in-process ones')
        if d.get('episodes_other_length'):
            text += (f'; {d["episodes_other_length"]} recorded episodes are shorter (their '
                     f'{d["frames_missing_in_those"]} frames were lost on the way: the '
                     'recorder subscribes to the camera best-effort, as to a real one)')
        if d.get('compared'):
            text += (f'; over the {d.get("episodes_compared", "")} episodes of equal length, '
                     f'actions identical on {d["actions_equal"]} of {d["compared"]} frames '
                     f'(largest difference {d["action_max_abs_diff"]:.2g}); the model\'s 64x64 '
                     f'input differs by {d["image_mean_abs_diff"]:.2f} grey levels on average '
                     '(video compression)')
        lines.append(text + '.')
    lines += [
        '- **Recipe**: `config/train_overhead.yaml` (model'
        + _design(models['recorded'].get('model')) + ', optimiser, '
        f'{models["recorded"]["steps"]} steps, mirroring); each model chooses its checkpoint '
        'by validation loss on the same held-out 5% of the episodes (no closed-loop '
        f'selection: a robot has no simulator); the {models["recorded"].get("parallel", 1)} '
        'trained side by side, one torch thread each; overrides: `'
        + ' '.join(models['in_process']['sets']) + '`.',
        '',
        "## The recorder's own cost",
        '',
        f'`sim_camera` at {cost["camera"]} (it delivered {cost["frame_rate_hz"]:.1f} Hz on '
        f'this machine) into `recorder` (one bag, {cost["bag_seconds"]:.0f} s), the teleop '
        f'played by the proof process; CPU measured over {cost["seconds_measured"]:.0f} s:',
        '',
        '| frames published while subscribed | recorded | lost | queue drops | recorder CPU '
        '| bag MB/s |',
        '|---|---|---|---|---|---|',
        f'| {cost["published_while_subscribed"]} | {cost["recorded"]} | {cost["lost"]} | '
        f'{cost["queue_drops"]} | {cost["recorder_cpu_percent"]:.1f}% of a core | '
        f'{cost["bag_mb_per_s"]:.1f} |',
        '',
        f'Converter throughput: {cost["convert"]["frames_per_second"]:.0f} frames/s at 640x480 '
        f'({cost["convert"]["frames"]} frames, {cost["convert"]["seconds"]:.1f} s, libx264 '
        f'yuv444p), {conv["frames_per_second"]:.0f} frames/s at {width}x{height}.',
        '',
    ]
    return '\n'.join(lines)


#: What proof.json keeps of each episode report (enough to pair runs by scene).
REPORT_KEYS = ('seed', 'success', 'absent', 'reason', 'steps')


def _slim(result: Dict[str, Any]) -> Dict[str, Any]:
    """Return ``result`` with every episode report cut down to :data:`REPORT_KEYS`."""
    out = json.loads(json.dumps(result))
    for evaluation in out.get('evaluations', {}).values():
        for run in evaluation.values():
            run['reports'] = [{k: r[k] for k in REPORT_KEYS if k in r}
                              for r in run.get('reports', [])]
    return out


def write(result: Dict[str, Any], folder: str) -> List[str]:
    """Write ``proof.json`` and ``proof.md`` into ``folder``; return their paths."""
    result = _slim(result)
    os.makedirs(folder, exist_ok=True)
    paths = [os.path.join(folder, 'proof.json'), os.path.join(folder, 'proof.md')]
    with open(paths[0], 'w', encoding='utf-8') as handle:
        json.dump(result, handle, indent=1)
    with open(paths[1], 'w', encoding='utf-8') as handle:
        handle.write(markdown(result))
    return paths


if __name__ == '__main__':
    with open(sys.argv[1], encoding='utf-8') as source:
        print(write(json.load(source), os.path.dirname(sys.argv[1]))[1])
