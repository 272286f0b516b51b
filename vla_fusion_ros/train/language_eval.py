# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
r"""
Closed-loop success per group of the held-out language suite, with Wilson intervals.

The suite (``vla_fusion_ros/sim/heldout_language.yaml``) holds phrasings, colour and shape
synonyms and distractor words that training never says; its ``templates`` group is the
reference: the training templates with the objects' own names. Every group runs on the same
held-out scenes, and each scene's instruction names its target in the group's way, so the
groups differ only in wording. Beside them: the no-information floor (every instruction
replaced by one that names neither colour nor shape).

::

    python -m vla_fusion_ros.train.language_eval --checkpoint runs/words/model.safetensors \\
        --checkpoint runs/minilm/model.safetensors --episodes 200 \\
        --json results/language/overhead.json --markdown results/language/overhead.md

With ``--out DIR`` the checkpoints may come from both worlds: each is evaluated in its own
world, and every world gets ``DIR/<world>.json`` and ``DIR/<world>.md``.
"""

import argparse
from dataclasses import dataclass, field
import json
import os
import shlex
import sys
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
from vla_fusion_ros import sim
from vla_fusion_ros.sim.base import EVAL_SEED_START
from vla_fusion_ros.sim.registry import WORLDS
from vla_fusion_ros.sim.shapes import COLORS, SHAPES
from vla_fusion_ros.train.evaluate import checkpoint_world, run_episodes
from vla_fusion_ros.train.metrics import summarize
import yaml

SUITE_PATH = os.path.join(os.path.dirname(sim.__file__), 'heldout_language.yaml')
#: Names neither a colour nor a shape: the no-information floor.
UNINFORMATIVE_INSTRUCTION = 'go to the object'
#: Done-when of issue 14: held-out groups within this of the templates; synonyms at least.
MAX_GAP, MIN_SYNONYM = 0.03, 0.85
SYNONYM_GROUPS = ('unseen_color_synonyms', 'unseen_shape_synonyms')


@dataclass
class Group:
    """One way of phrasing instructions: phrasings, and synonyms per colour and shape."""

    name: str
    phrasings: List[str]
    colors: Dict[str, List[str]] = field(default_factory=dict)
    shapes: Dict[str, List[str]] = field(default_factory=dict)
    reference: bool = False

    def instruction(self, color: str, shape: str, seed: int, salt: int) -> str:
        """Phrase the ``color`` ``shape`` this group's way; the choices follow ``seed``."""
        rng = np.random.default_rng([int(seed), salt])
        text = self.phrasings[int(rng.integers(len(self.phrasings)))]
        if self.colors:
            color = self.colors[color][int(rng.integers(len(self.colors[color])))]
        if self.shapes:
            shape = self.shapes[shape][int(rng.integers(len(self.shapes[shape])))]
        return text.format(color=color, shape=shape)


def load_suite(path: str = SUITE_PATH) -> Dict[str, Group]:
    """Read and check the suite; a ValueError names the file, the group and the fault."""
    try:
        with open(path, encoding='utf-8') as handle:
            data = yaml.safe_load(handle)
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f'{path}: cannot read the language suite ({exc})') from None
    if not isinstance(data, dict) or not isinstance(data.get('groups'), dict):
        raise ValueError(f'{path}: expected a mapping with a "groups" mapping')
    groups = {}
    for name, spec in data['groups'].items():
        where = f'{path}: groups.{name}'
        if not isinstance(spec, dict) or not spec.get('phrasings'):
            raise ValueError(f'{where}: needs a non-empty "phrasings" list')
        unknown = set(spec) - {'phrasings', 'colors', 'shapes', 'reference'}
        if unknown:
            raise ValueError(f'{where}: unknown key {sorted(unknown)[0]!r}')
        for text in spec['phrasings']:
            if (not isinstance(text, str) or text.count('{color}') != 1
                    or text.count('{shape}') != 1):
                raise ValueError(f'{where}.phrasings: {text!r} must hold {{color}} and '
                                 '{shape} once each')
        for key, names in (('colors', COLORS), ('shapes', SHAPES)):
            table = spec.get(key) or {}
            if table and set(table) != set(names):
                raise ValueError(f'{where}.{key}: must list every one of {", ".join(names)}')
            if any(not words or not all(isinstance(w, str) and w for w in words)
                   for words in table.values()):
                raise ValueError(f'{where}.{key}: each needs a non-empty list of words')
        groups[name] = Group(name, list(spec['phrasings']), dict(spec.get('colors') or {}),
                             dict(spec.get('shapes') or {}), bool(spec.get('reference')))
    if sum(g.reference for g in groups.values()) != 1:
        raise ValueError(f'{path}: exactly one group must be the reference')
    return groups


def named_pair(world) -> Tuple[str, str]:
    """Return the (colour, shape) that a reset world's own instruction names."""
    named = getattr(world, 'named', None)
    if named:
        return tuple(named)
    return world.target.color, world.target.shape


def evaluate_suite(policy, episodes: int, seed_start: int = EVAL_SEED_START,
                   suite: Optional[Dict[str, Group]] = None, progress: bool = False,
                   **world) -> Dict[str, Any]:
    """
    Run every group (and the floor) on the same scenes; return summaries per group.

    ``world`` goes to :func:`run_episodes` (the world and its config). Each summary carries
    its episodes' reports and, for held-out groups, the paired comparison with the reference
    on the same scenes.
    """
    suite = suite if suite is not None else load_suite()
    out: Dict[str, Any] = {}
    for salt, group in enumerate(suite.values()):
        def phrase(env, group=group, salt=salt):
            return group.instruction(*named_pair(env), env.seed, salt)
        start = time.monotonic()
        reports = run_episodes(policy, episodes, seed_start, progress=progress,
                               instruction=phrase, **world)
        out[group.name] = {**summarize(reports), 'reference': group.reference,
                           'wall_time_s': round(time.monotonic() - start, 1),
                           'examples': [r['instruction'] for r in reports[:3]],
                           'reports': reports}
    reports = run_episodes(policy, episodes, seed_start, progress=progress,
                           instruction=UNINFORMATIVE_INSTRUCTION, **world)
    out['uninformative'] = {**summarize(reports), 'floor': True,
                            'examples': [UNINFORMATIVE_INSTRUCTION], 'reports': reports}
    reference = next(name for name, s in out.items() if s.get('reference'))
    for name, summary in out.items():
        summary['vs_reference'] = paired(out[reference]['reports'], summary['reports'])
    return out


def paired(reference: Sequence[Dict], other: Sequence[Dict]) -> Dict[str, Any]:
    """Return the success difference on common scenes, and the discordant scene counts."""
    a = {r['seed']: bool(r['success']) for r in reference}
    b = {r['seed']: bool(r['success']) for r in other}
    common = sorted(set(a) & set(b))
    lost = sum(1 for s in common if a[s] and not b[s])
    won = sum(1 for s in common if b[s] and not a[s])
    n = max(1, len(common))
    return {'scenes': len(common), 'difference': (won - lost) / n, 'lost': lost, 'won': won}


def verdict(groups: Dict[str, Any]) -> Dict[str, Any]:
    """Issue 14's done-when on one model's results: held-out gap and synonym success."""
    reference = next(s for s in groups.values() if s.get('reference'))
    held = {n: s for n, s in groups.items() if not s.get('reference') and not s.get('floor')}
    wins = sum(s['successes'] for s in held.values())
    trials = sum(s['episodes'] for s in held.values())
    pooled = wins / max(1, trials)
    gap = reference['success_rate'] - pooled
    synonyms = {n: held[n]['success_rate'] for n in SYNONYM_GROUPS if n in held}
    return {'reference': reference['success_rate'], 'held_out_pooled': pooled,
            'held_out_episodes': trials, 'gap': gap, 'gap_ok': gap <= MAX_GAP,
            'worst_group': min(held, key=lambda n: held[n]['success_rate']) if held else None,
            'synonyms': synonyms,
            'synonyms_ok': all(v >= MIN_SYNONYM for v in synonyms.values())}


def format_report(results: Dict[str, Any]) -> str:
    """Markdown: one column per model, one row per group, Wilson intervals and n."""
    models = results['models']
    names = list(models)
    groups = list(next(iter(models.values()))['groups'])
    suite = os.path.basename(results.get('suite', SUITE_PATH))
    held_out = suite == os.path.basename(SUITE_PATH)  # else the validation suite, say
    heading = 'Held-out language suite' if held_out else f'Language suite {suite}'
    lines = [f'# {heading}: {results.get("title", "")}'.rstrip(': '), '',
             f'{results["episodes"]} {"held-out " if held_out else ""}scenes (seeds '
             f'{results["seed_start"]}..'
             f'{results["seed_start"] + results["episodes"] - 1}), the same in every group; '
             'success with its 95% Wilson interval; Δ: paired difference from the templates '
             'on the same scenes. Command: `' + results.get('command', '') + '`', '',
             '| group | e.g. | ' + ' | '.join(names) + ' |',
             '|---|---|' + '---|' * len(names)]
    for group in groups:
        first = models[names[0]]['groups'][group]
        cells = []
        for name in names:
            s = models[name]['groups'][group]
            low, high = s['ci95']
            delta = '' if s.get('reference') else f', Δ {s["vs_reference"]["difference"]:+.1%}'
            cells.append(f'{s["success_rate"]:.1%} [{low:.1%}, {high:.1%}] '
                         f'({s["successes"]}/{s["episodes"]}{delta})')
        label = group + (' (reference)' if first.get('reference') else '')
        label += ' (floor)' if first.get('floor') else ''
        lines.append(f'| {label} | "{first["examples"][0]}" | ' + ' | '.join(cells) + ' |')
    lines += ['', '| verdict | ' + ' | '.join(names) + ' |', '|---|' + '---|' * len(names),
              '| text encoder | ' + ' | '.join(
                  models[n].get('language_kind', '?')
                  + (' + colour lexicon' if models[n].get('color_lexicon') else '')
                  + (' (colour names masked)' if models[n].get('mask_colors') else '')
                  for n in names) + ' |']
    rows = [('held-out, pooled' if held_out else 'pooled (all but the reference)',
             lambda v: f'{v["held_out_pooled"]:.1%} '
             f'(n={v["held_out_episodes"]})'),
            (f'gap to templates (<= {MAX_GAP:.0%})',
             lambda v: f'{v["gap"]:+.1%} ({"met" if v["gap_ok"] else "NOT met"})'),
            (f'unseen synonyms (>= {MIN_SYNONYM:.0%})',
             lambda v: ', '.join(f'{k.split("_")[1]} {x:.1%}' for k, x in v['synonyms'].items())
             + f' ({"met" if v["synonyms_ok"] else "NOT met"})' if v['synonyms']
             else 'no such group in this suite'),
            ('worst group', lambda v: str(v['worst_group']))]
    for label, cell in rows:
        lines.append(f'| {label} | ' + ' | '.join(cell(models[n]['verdict']) for n in names)
                     + ' |')
    return '\n'.join(lines) + '\n'


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Evaluate one or more checkpoints on the held-out language suite."""
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--checkpoint', action='append', required=True,
                        help='a checkpoint (repeat to compare models on the same scenes)')
    parser.add_argument('--name', action='append', help='a column name per checkpoint')
    parser.add_argument('--episodes', type=int, default=200)
    parser.add_argument('--seed-start', type=int, default=EVAL_SEED_START)
    parser.add_argument('--world', choices=WORLDS, default=None,
                        help="default: each checkpoint's own (the world it was trained in)")
    parser.add_argument('--suite', default=SUITE_PATH)
    parser.add_argument('--title', default='')
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--json', help='write every figure (and episode) here')
    parser.add_argument('--markdown', help='write the report here')
    parser.add_argument('--out', help='write <world>.json and <world>.md here, per world')
    parser.add_argument('--no-progress', action='store_true')
    args = parser.parse_args(argv)
    import torch
    from vla_fusion_ros.model import CheckpointError
    torch.set_num_threads(max(1, args.threads))
    names = args.name or [os.path.basename(os.path.dirname(os.path.abspath(p))) or p
                          for p in args.checkpoint]
    if len(names) != len(args.checkpoint):
        print('language_eval: give one --name per --checkpoint', file=sys.stderr)
        return 2
    command = 'python -m vla_fusion_ros.train.language_eval ' + shlex.join(
        argv if argv is not None else sys.argv[1:])
    try:
        suite = load_suite(args.suite)
        worlds = [args.world or checkpoint_world(p) for p in args.checkpoint]
        if not args.out and len(set(worlds)) > 1:
            raise ValueError('checkpoints of several worlds need --out DIR (one report each)')
        reports = {}
        for world in dict.fromkeys(worlds):
            chosen = [(n, p) for n, p, w in zip(names, args.checkpoint, worlds) if w == world]
            reports[world] = evaluate_world(world, chosen, suite, args, command)
    except (ValueError, CheckpointError) as exc:
        print(f'language_eval: {exc}', file=sys.stderr)
        return 2
    for world, results in reports.items():
        report = format_report(results)
        print(report)
        outputs = ((args.json, json.dumps(results, indent=1)), (args.markdown, report))
        if args.out:
            outputs = ((os.path.join(args.out, f'{world}.json'), outputs[0][1]),
                       (os.path.join(args.out, f'{world}.md'), report))
        for path, text in outputs:
            if path:
                os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
                with open(path, 'w', encoding='utf-8') as handle:
                    handle.write(text)
    return 0


def evaluate_world(world: str, checkpoints: Sequence[Tuple[str, str]], suite, args,
                   command: str) -> Dict[str, Any]:
    """Evaluate ``(name, path)`` checkpoints in ``world``; return the results of its report."""
    from vla_fusion_ros.model import VLAPolicy
    results = {'title': args.title or world, 'world': world, 'episodes': args.episodes,
               'seed_start': args.seed_start, 'suite': os.path.abspath(args.suite),
               'command': command, 'models': {}}
    for name, path in checkpoints:
        policy = VLAPolicy.from_checkpoint(path)
        start = time.monotonic()
        groups = evaluate_suite(policy, args.episodes, args.seed_start, suite,
                                progress=not args.no_progress, world=world)
        language = policy.config.language
        results['models'][name] = {
            'checkpoint': path, 'identity': policy.identity,
            'language_kind': language.kind, 'color_lexicon': language.color_lexicon,
            'mask_colors': language.mask_colors,
            'groups': groups, 'verdict': verdict(groups),
            'wall_time_s': round(time.monotonic() - start, 1)}
        for group, s in groups.items():
            print(f'{world} {name} {group}: {s["successes"]}/{s["episodes"]} = '
                  f'{s["success_rate"]:.1%} (95% CI {s["ci95"][0]:.1%}-'
                  f'{s["ci95"][1]:.1%})', flush=True)
    return results


if __name__ == '__main__':
    sys.exit(main())
