# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
r"""
Compare training runs side by side: how their configs differ and their validation curves.

    python -m vla_fusion_ros.train.runs_report --run hflip0=runs/fp_hflip0 \\
        --run dagger=runs/fp_dagger --title 'First person, 2000 steps' --out probes.md

Each run folder holds what ``train`` writes (``config.yaml``, ``log.jsonl``). The page lists
the config keys whose values differ between the runs (everything else is shared), then one
row per validation with closed-loop strict success on the validation scenes and the action
MSE, then the DAgger rounds (on-policy strict success on training scenes). Every figure is read
from the runs' files.
"""

import argparse
import json
import os
import sys
from typing import Any, Dict, List, Sequence, Tuple

from vla_fusion_ros.train.train_config import flatten
import yaml


def load_run(folder: str) -> Tuple[Dict[str, Any], List[Dict[str, Any]]]:
    """Return a run's resolved config (flattened) and its log entries."""
    with open(os.path.join(folder, 'config.yaml'), encoding='utf-8') as handle:
        config = flatten(yaml.safe_load(handle))
    with open(os.path.join(folder, 'log.jsonl'), encoding='utf-8') as handle:
        log = [json.loads(line) for line in handle if line.strip()]
    return config, log


def render(title: str, loaded: Dict[str, Tuple[Dict[str, Any], List[Dict[str, Any]]]],
           commands: Sequence[str] = ()) -> str:
    """Return the Markdown page for runs {name: (flat config, log entries)}."""
    keys = sorted({k for config, _ in loaded.values() for k in config})
    differ = [k for k in keys if len({json.dumps(c.get(k)) for c, _ in loaded.values()}) > 1
              and not k.startswith('data.path') and k != 'data.val_path']
    lines = [f'# {title}', '']
    if commands:
        lines += ['```bash', *commands, '```', '']
    lines += ['| run | ' + ' | '.join(f'`{k}`' for k in differ) + ' |',
              '|---|' + '---|' * len(differ)]
    for name, (config, _) in loaded.items():
        lines.append(f'| {name} | ' + ' | '.join(json.dumps(config.get(k)) for k in differ)
                     + ' |')
    lines += ['', '## Validation: strict success on the validation scenes (action MSE)', '']
    steps = sorted({h['step'] for _, log in loaded.values() for h in log if 'val_loss' in h})
    lines += ['| step | ' + ' | '.join(loaded) + ' |', '|---|' + '---|' * len(loaded)]
    for step in steps:
        cells = []
        for _, log in loaded.values():
            hit = [h for h in log if 'val_loss' in h and h['step'] == step]
            cells.append(f'{hit[-1].get("val_success", 0):.0%} ({hit[-1]["val_loss"]:.4f})'
                         if hit else '')
        lines.append(f'| {step} | ' + ' | '.join(cells) + ' |')
    rounds = [(name, h) for name, (_, log) in loaded.items() for h in log if 'dagger_round' in h]
    if rounds:
        lines += ['', '## DAgger rounds', '',
                  '| run | round | before step | episodes | frames | on-policy strict success '
                  '| seconds |', '|---|---|---|---|---|---|---|']
        lines += [f'| {name} | {h["dagger_round"]} | {h["step"]} | {h["episodes"]} | '
                  f'{h["frames"]} | {h["rollout_success"]:.0%} | {h["seconds"]} |'
                  for name, h in rounds]
    walls = []
    for name, (_, log) in loaded.items():
        timed = [h for h in log if 'wall_time_s' in h]
        if timed:
            walls.append(f'{name} {timed[-1]["wall_time_s"]} s')
    if walls:
        lines += ['', 'Wall time of the training loops: ' + ', '.join(walls) + '.']
    return '\n'.join(lines) + '\n'


def main(argv=None) -> int:
    """Write the page."""
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--run', action='append', required=True, metavar='NAME=DIR')
    parser.add_argument('--title', default='Training runs')
    parser.add_argument('--command', action='append', default=[],
                        help='a command that produced the runs (repeatable)')
    parser.add_argument('--out', required=True)
    args = parser.parse_args(argv)
    runs = []
    for item in args.run:
        name, _, folder = item.partition('=')
        if not folder or not os.path.isfile(os.path.join(folder, 'log.jsonl')):
            print(f'runs_report: --run {item!r}: expected NAME=DIR with DIR/log.jsonl',
                  file=sys.stderr)
            return 2
        runs.append((name, folder))
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w', encoding='utf-8') as handle:
        handle.write(render(args.title, {name: load_run(folder) for name, folder in runs},
                            args.command))
    print(f'wrote {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
