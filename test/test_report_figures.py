# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Reports hold only figures of their own run: every report writer, fed two altered runs.

Each writer renders a committed results file twice, each time with every number in it changed
in its own way (an affine map, so no figure keeps its value). A number that stands in both
texts did not come from the data: it is a claim the writer makes whatever was measured (the
"about 0.4 ms instead of 1.3 ms" that once sat in every benchmark report). Such numbers may
only be the writer's stated targets and labels, listed below with their reasons. Numbers that
the data hold as text (a frame size in a label, a CPU's name) and counts of the data's lists
count as data. Runs nothing over DDS and measures nothing: seconds.
"""

import difflib
import json
import os
import random
import re

import pytest

from conftest import REPO  # noqa: I100 (the tests' own)
from vla_fusion_ros.tools import bench_report, soak
from vla_fusion_ros.tools.faults import report as faults_report
from vla_fusion_ros.tools.fuzz import report as fuzz_report
from vla_fusion_ros.train import compare_report, results_report, runs_report

NUMBER = re.compile(r'(?<![\w.,])\d{1,3}(?:,\d{3})+(?![\w,])|(?<![\w.])\d+(?:\.\d+)?(?![\w.]?\w)')


def numbers(text):
    """Return the numbers in ``text`` that stand alone (not inside p50, 640x480 or fp16)."""
    return set(NUMBER.findall(text))


def fixed_numbers(texts):
    """
    Return the numbers that stand at the same place in every text.

    Lines are aligned with the first text's on their shape (numbers blanked); numbers are
    compared place by place on lines of the same shape, and as sets within blocks that differ.
    """
    first = texts[0].splitlines()
    places = None
    for other in texts[1:]:
        lines = other.splitlines()
        shapes = difflib.SequenceMatcher(a=[NUMBER.sub('#', line) for line in first],
                                         b=[NUMBER.sub('#', line) for line in lines],
                                         autojunk=False)
        same = set()
        for tag, i1, i2, j1, j2 in shapes.get_opcodes():
            if tag == 'equal':
                for row, (a, b) in enumerate(zip(first[i1:i2], lines[j1:j2]), i1):
                    same |= {(row, k, x) for k, (x, y) in enumerate(
                        zip(NUMBER.findall(a), NUMBER.findall(b))) if x == y}
            else:
                block = numbers('\n'.join(first[i1:i2])) & numbers('\n'.join(lines[j1:j2]))
                same |= {(i1, -1, x) for x in block}
        places = same if places is None else places & same
    return {x for _, _, x in places}


def _alter(value, seed):
    """
    Return ``value`` with every number changed: ``x * a + b``, ``a`` and ``b`` drawn per number.

    Drawn per number, so that neither ranks nor ratios survive; bools, strings and None stay.
    """
    rng = random.Random(seed)

    def walk(item):
        if isinstance(item, bool) or item is None or isinstance(item, str):
            return item
        if isinstance(item, int):
            return item * rng.randint(2, 9) + rng.randint(1, 9)
        if isinstance(item, float):
            return item * rng.uniform(1.2, 3.0) + rng.uniform(0.1, 0.9)
        if isinstance(item, list):
            return [walk(v) for v in item]
        return {k: walk(v) for k, v in item.items()}
    return walk(value)


def _data_numbers(value, found=None):
    """Numbers the data hold as text (strings and keys), and the sizes of its lists."""
    found = set() if found is None else found
    if isinstance(value, str):
        found |= numbers(value)
    elif isinstance(value, list):
        found.add(str(len(value)))
        for v in value:
            _data_numbers(v, found)
    elif isinstance(value, dict):
        found.add(str(len(value)))
        for k, v in value.items():
            found |= numbers(str(k))
            _data_numbers(v, found)
        lists = {}
        for v in value.values():   # sibling rows: the total size of their lists, per key
            if isinstance(v, list):
                for row in v:
                    if isinstance(row, dict):
                        for k, inner in row.items():
                            if isinstance(inner, list):
                                lists[k] = lists.get(k, 0) + len(inner)
        found |= {str(n) for n in lists.values()}
    return found


def _in(token, data_numbers):
    """Return whether ``token`` is one of the data's own numbers, as printed (rounded)."""
    digits = len(token.split('.')[1]) if '.' in token else 0
    value = float(token.replace(',', ''))
    return any(abs(round(float(d.replace(',', '')), digits) - value) < 1e-9
               for d in data_numbers)


def _folder(tmp_path, name):
    folder = tmp_path / name
    folder.mkdir()
    return folder


def _load(*parts):
    with open(os.path.join(REPO, 'results', *parts), encoding='utf-8') as handle:
        return json.load(handle)


def _benchmark(results, tmp_path):
    path = tmp_path / 'benchmark.md'
    bench_report.write_markdown(results, str(path))
    return path.read_text()


def _soak(result, tmp_path):
    soak.write_outputs(result, str(tmp_path), result['duration_s'] / 60.0)
    return (tmp_path / 'soak.md').read_text()


def _faults(results, tmp_path):
    path = tmp_path / 'faults.md'
    faults_report.write_markdown(results, str(path))
    return path.read_text()


def _fuzz(result, tmp_path):
    path = tmp_path / 'fuzz.md'
    fuzz_report.write_markdown(result, str(path))
    return path.read_text()


def _comparison(saved, tmp_path):
    # Hand-written notes (why a shipped model differs, what lies past the largest budget) are
    # copied in as written; the figures checked here are the ones the writer derives.
    return compare_report.markdown(saved, notes=str(tmp_path))


def _comparison_runs():
    """
    Return a comparison summarised from synthetic runs (test/comparison_runs.py).

    Until the sweep of issue 15 commits results/comparison/comparison.json in this format, the
    writer is checked on the summary of runs made on paper, through the same summarize().
    """
    from comparison_runs import complete, costs
    from test_compare import _rates, PLAN
    from vla_fusion_ros.train.compare_summary import summarize
    from vla_fusion_ros.train.compare_plan import SweepPlan
    plan = SweepPlan(**{**PLAN.__dict__, 'finalists': 2, 'short_budget': PLAN.points[1]})
    results = complete(plan, _rates)
    return {'plan_name': 'test', 'plan': dict(plan.__dict__), 'wall_time_s': 3600.0,
            'workers': 2, **summarize(plan, results, costs(plan))}


def _training_data(world):
    """Return a loader of the files a shipped model's page is written from."""
    def load():
        with open(os.path.join(REPO, 'results', 'training', f'{world}_log.jsonl')) as handle:
            log = [json.loads(line) for line in handle if line.strip()]
        return {'summary': _load('training', f'{world}_summary.json'),
                'eval': _load('training', f'{world}_eval.json'), 'log': log}
    return load


def _training(data, tmp_path):
    return results_report.render('overhead', data['summary'], data['eval'], [], data['log'])


def _probes():
    folder = os.path.join(REPO, 'results', 'training', 'probes')
    return {name: dict(zip(('config', 'log'), runs_report.load_run(os.path.join(folder, name))))
            for name in sorted(os.listdir(folder))
            if os.path.isfile(os.path.join(folder, name, 'log.jsonl'))}


def _robot_data(data, tmp_path):
    from vla_fusion_ros.tools import robot_data_report
    return robot_data_report.markdown(data)


def _runs(data, tmp_path):
    return runs_report.render('probes', {k: (v['config'], v['log']) for k, v in data.items()})


#: Labels that every report may print: the load average's windows (1/5/15 min), batch 1,
#: depth 1, one thread, ROS 2, zero bounds ("crashes: bound 0").
LABELS = {'0', '1', '2', '5', '15'}
#: writer -> (results file, render, the numbers it states itself, with their reasons)
WRITERS = {
    'benchmark': (('benchmark', 'benchmark.json'), _benchmark, {
        '1.25', '97', '29.1', '30', '3',     # targets: P50_FACTOR, SUSTAINED_SHARE x CAMERA_RATE
        '0.5',                               # CONVERSION_LIMIT_MS
        '95',                                # the answered share below which a note explains
    }),
    'soak': (('reliability', 'soak.json'), _soak, {'10'}),   # bounds: 5 % RSS, 10 % p99 drift
    'faults': (('reliability', 'faults.json'), _faults, set()),
    'fuzz': (('reliability', 'fuzz.json'), _fuzz, {'64', '512'}),  # the oracle's limits
    'comparison': (_comparison_runs, _comparison, {
        '95',                                # Wilson 95% intervals
        '0.001',                             # p-values below it print as '< 0.001'
    }),
    'overhead model': (_training_data('overhead'), _training, {'95'}),  # Wilson 95% intervals
    'first-person model': (_training_data('first_person'), _training, {'95'}),
    'training runs': (_probes, _runs, set()),
    # the 3-point bar, Wilson 95% intervals, the model's 64x64 input; an exact McNemar
    # p of 0 against 4 discordant episodes (the altered runs pair few episodes, since their
    # scene seeds are altered too, and outcomes are bools, which stay: small counts recur)
    'robot data proof': (('robot_data', 'proof.json'), _robot_data,
                         {'3', '95', '64', '0.125'}),
}


@pytest.mark.parametrize('writer', sorted(WRITERS))
def test_every_figure_in_a_report_comes_from_its_run(writer, tmp_path):
    parts, render, stated = WRITERS[writer]
    data = parts() if callable(parts) else _load(*parts)
    if writer == 'benchmark':   # older runs stored text derived from the figures: not data
        data = bench_report.measured(data)
    texts = [render(_alter(data, seed), _folder(tmp_path, str(seed))) for seed in (1, 2, 3)]
    assert len(set(texts)) == 3
    fixed = fixed_numbers(texts)
    claims = {n for n in fixed - LABELS - stated if not _in(n, _data_numbers(data))}
    assert not claims, (f'{writer}: numbers that do not change with the data: '
                        f'{sorted(claims, key=float)}')


def test_the_check_catches_a_fixed_claim(tmp_path):
    """A writer that prints a figure of its own is caught, so the test above can fail."""
    data = _load('reliability', 'fuzz.json')

    def stale(result, folder):
        return _fuzz(result, folder) + '\nThe resize takes about 0.4 ms instead of 1.3 ms.\n'
    fixed = fixed_numbers([stale(_alter(data, seed), _folder(tmp_path, str(seed)))
                           for seed in (1, 2, 3)])
    assert {'0.4', '1.3'} <= {n for n in fixed - LABELS if not _in(n, _data_numbers(data))}
