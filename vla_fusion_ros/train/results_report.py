# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Write a shipped model's results page from its runs: training summary and evaluation JSON.

    python -m vla_fusion_ros.train.results_report --world overhead
        --summary runs/overhead/summary.json --eval results/training/overhead_eval.json
        --out results/training/overhead.md

Every figure on the page is read from those two files (written by ``train`` and by
``evaluate --json``): strict success in-process and through ROS, each beside its
no-information floors with Wilson intervals and n, how episodes ended, the camera-resolution
parity table, and the training's wall time and validation curve.
"""

import argparse
import json
import os
import sys
from typing import Any, Dict, List, Optional

from vla_fusion_ros.train.metrics import format_rate

ENV_LINE = 'source scripts/env.sh kilted'  # the first command of every page


def _row(label: str, summary: Optional[Dict[str, Any]]) -> str:
    if not summary:
        return f'| {label} | not measured | | | |'
    ends = ', '.join(f'{k} {v}' for k, v in summary.get('reasons', {}).items() if v)
    return (f'| {label} | {format_rate(summary)} | {format_rate(summary["present"])} | '
            f'{format_rate(summary["absent"])} | {ends} |')


def _absent_share(result: Dict[str, Any]) -> str:
    run = result.get('in_process') or result.get('ros') or {}
    absent, total = run.get('absent', {}).get('episodes'), run.get('episodes')
    return f'{absent}/{total}' if total else 'some'


def _selection(choice: Optional[Dict[str, Any]]) -> str:
    """Return the line that says which checkpoint shipped (train.selection's record)."""
    if not choice:
        return '- checkpoint shipped: the best step (it was the last step, or no selection)'
    parts = [f'{name} (step {choice[name]["step"]}) {choice[name]["successes"]}/'
             f'{choice["episodes"]}' for name in ('best', 'last')]
    return (f'- checkpoint shipped: the {choice["chosen"]} one, by strict success on '
            f'{choice["episodes"]} more validation scenes (seeds from {choice["seed_start"]}; '
            f'a tie keeps the lower validation loss): {", ".join(parts)}')


def _training(training: Dict[str, Any], log: List[Dict[str, Any]]) -> List[str]:
    """Return the Training section: budget, wall times, load, data, DAgger, validation."""
    data = training.get('data', {})
    config = training.get('config', {})
    load = training.get('load_average')
    lines = ['## Training', '',
             f'- steps: {training.get("steps")} of {config.get("schedule", {}).get("batch_size")}'
             f' frames; {training.get("processes", 1)} process(es) x '
             f'{training.get("threads", "?")} torch thread(s)',
             f'- wall time of the whole command (data generation, training, DAgger rollouts, '
             f'validations, final evaluation): {training.get("command_wall_time_s")} s; of the '
             f'training loop with its rollouts and validations: {training.get("wall_time_s")} s']
    if load:
        lines.append(f'- 1-minute load average during training: mean {load["mean"]}, max '
                     f'{load["max"]} on {load["cores"]} cores (above the core count, other '
                     'jobs shared the cores: the times are upper bounds)')
    lines += [f'- data: {json.dumps(data.get("frames"))} frames of '
              f'{json.dumps(data.get("episodes"))} expert episodes, then '
              f'{data.get("dagger_frames", 0)} DAgger frames: {data.get("train_frames")} '
              'training frames at the end',
              f'- best step during training: {json.dumps(training.get("best"))}',
              _selection(training.get('selection')), '']
    rounds = [h for h in log if 'dagger_round' in h]
    if rounds:
        lines += ['| DAgger round | before step | episodes (training seeds) | frames | '
                  'on-policy strict success | seconds |', '|---|---|---|---|---|---|']
        lines += [f'| {h["dagger_round"]} | {h["step"]} | {h["episodes"]} | {h["frames"]} | '
                  f'{h["rollout_success"]:.0%} | {h["seconds"]} |' for h in rounds]
        lines.append('')
    curve = [f'| {h["step"]} | {h["val_loss"]:.4f} | {h.get("val_success", 0):.0%} |'
             for h in log if 'val_loss' in h]
    if curve:
        lines += ['| step | validation action MSE | strict success, validation scenes |',
                  '|---|---|---|', *curve, '']
    return lines


def render(world: str, summary: Dict[str, Any], result: Dict[str, Any],
           commands: List[str], log: List[Dict[str, Any]] = (), title: str = '') -> str:
    """Return the Markdown page (``title``: the heading, by default the shipped model's)."""
    training = summary.get('training', {})
    n = result.get('episodes')
    size = (result.get('in_process') or {}).get('render_size') or ['model input']
    title = title or f'The shipped {world} model: `models/{world}.safetensors`'
    lines = [f'# {title}', '',
             '## Commands', '', '```bash', ENV_LINE, *[c for c in commands if c != ENV_LINE],
             '```', '',
             f'## Strict success on {n} held-out scenes (seeds from {result.get("seed_start")})',
             '',
             'Strict: reach the named object without touching another; when it is absent '
             f'({_absent_share(result)} of these scenes), stop without touching anything. Camera: '
             f'{"x".join(str(s) for s in size)}. Wilson 95% intervals.', '',
             '| policy | strict success | target present | target absent | ends |',
             '|---|---|---|---|---|',
             _row('the model, in-process', result.get('in_process')),
             _row('the model, through ROS (sim_world + fusion_node over DDS)',
                  result.get('ros')),
             _row('floor: the same model told "go to the object"', result.get('uninformed')),
             _row('floor: vision-only model, same recipe', result.get('vision_only')), '']
    if result.get('vision_only_from'):
        source = result['vision_only_from']
        lines += [f'The vision-only floor is the one of an earlier evaluation on the same scenes '
                  f'and camera (`{source["path"]}`, beside `{source["evaluated_with"]}`): it '
                  'reads no language, so it does not change with the language model.', '']
    if 'agreement' in result:
        match = result['agreement']
        lines += [f'In-process and ROS runs agree on {match["same_outcome"]} of '
                  f'{match["common_episodes"]} episodes (differing seeds: '
                  f'{match["differing_seeds"] or "none"}).', '']
    if result.get('parity'):
        rates = {k: v['success_rate'] for k, v in result['parity'].items()}
        spread = 100 * (max(rates.values()) - min(rates.values()))
        lines += ['## Camera resolution (train/deploy parity)', '',
                  "Frames rendered at each camera size and preprocessed by the node's "
                  '`prepare_rgb`, in-process, same scenes.', '',
                  '| camera | strict success |', '|---|---|']
        lines += [f'| {k} | {format_rate(v)} |' for k, v in result['parity'].items()]
        lines += ['', f'Spread between the best and the worst resolution: {spread:.1f} points.',
                  '']
    lines += _training(training, log)
    return '\n'.join(lines)


def main(argv=None) -> int:
    """Write the page."""
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--world', required=True)
    parser.add_argument('--summary', required=True, help='summary.json of the training run')
    parser.add_argument('--eval', required=True, help='JSON written by evaluate --json')
    parser.add_argument('--log', default='', help='log.jsonl of the training run')
    parser.add_argument('--notes', default='', help='Markdown appended as written (design, '
                        'reasons; no figures)')
    parser.add_argument('--out', required=True)
    parser.add_argument('--title', default='', help="the page's heading (default: the shipped "
                        'model of WORLD); name a candidate that is not shipped')
    parser.add_argument('--command', action='append', default=[],
                        help='a command that produced these files (repeatable)')
    args = parser.parse_args(argv)
    with open(args.summary, encoding='utf-8') as handle:
        summary = json.load(handle)
    with open(args.eval, encoding='utf-8') as handle:
        result = json.load(handle)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w', encoding='utf-8') as handle:
        log = []
        if args.log:
            with open(args.log, encoding='utf-8') as lines:
                log = [json.loads(line) for line in lines if line.strip()]
        handle.write(render(args.world, summary, result, args.command, log, args.title))
        if args.notes:
            with open(args.notes, encoding='utf-8') as notes:
                handle.write('\n' + notes.read())
    print(f'wrote {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
