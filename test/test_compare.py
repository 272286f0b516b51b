# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The fusion comparison: its variants, the verdict rule, and a tiny run that can resume."""

import json
import os

import pytest
from vla_fusion_ros.model import FUSION_OPERATORS
from vla_fusion_ros.train import compare, compare_report
import yaml

from conftest import tiny_model  # noqa: I100 (the tests' own)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: Four vision layers: the comparison's placements reach layer 3.
TINY_MODEL = tiny_model(vision={'depth': 4})


def test_every_operator_at_every_placement_plus_the_baselines():
    found = compare.variants()
    names = [v['name'] for v in found]
    assert len(found) == 24 and len(set(names)) == 24
    for operator in FUSION_OPERATORS:
        for placement, layers in compare.PLACEMENTS.items():
            (match,) = [v for v in found if v['name'] == f'{operator}@{placement}']
            assert match['layers'] == layers and match['mode'] == 'intermediate'
    assert {v['name'] for v in found if v['group'] != 'intermediate'} == {
        'early', 'late', 'vision_only'}


def test_every_variant_gets_the_same_budget():
    budget = compare.BUDGETS['small']
    commands = [compare.train_command(v, 0, budget, 'data/x.npz', 'out', 'c.yaml')
                for v in compare.variants()]
    shared = [set(c) - {a for a in c if a.startswith('model.fusion.')} for c in commands]
    assert all(s == shared[0] for s in shared)
    assert f'schedule.steps={budget["steps"]}' in commands[0]


def row(name, group, wins, n=300):
    return {'name': name, 'group': group, 'successes': wins, 'episodes': n,
            'success_rate': wins / n}


def test_verdict_rule():
    base = [row('early', 'early', 90), row('late', 'late', 100)]
    strong = [row(f'op{i}', 'intermediate', 200) for i in range(5)]
    assert compare_report.verdict(base + strong)['claim'] == 'confirmed'
    weak = [row(f'op{i}', 'intermediate', 60) for i in range(5)]
    assert compare_report.verdict(base + weak)['claim'] == 'refuted'
    close = [row(f'near{i}', 'intermediate', 105) for i in range(2)]
    mixed = strong[:2] + close + weak[:1]  # most beat both, but not significantly
    assert compare_report.verdict(base + mixed)['claim'] == 'partly supported'
    assert compare_report.z_test(50, 100, 50, 100) == pytest.approx(1.0)
    assert compare_report.z_test(80, 100, 50, 100) < 1e-4


@pytest.mark.slow
def test_tiny_comparison_runs_skips_finished_runs_and_reports(tmp_path, monkeypatch, capsys):
    config = tmp_path / 'tiny.yaml'
    config.write_text(yaml.safe_dump({
        'model': TINY_MODEL, 'threads': 1,
        'data': {'val_path': '', 'val_fraction': 0.2, 'val_max_frames': 32},
        'schedule': {'log_every': 1}}))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv('PYTHONPATH', os.pathsep.join([REPO, os.environ.get('PYTHONPATH', '')]))
    monkeypatch.setitem(compare.BUDGETS, 'small', {'episodes': 8, 'steps': 2, 'batch_size': 8,
                                                   'eval_episodes': 2})
    args = ['--config', str(config), '--seeds', '1', '--only', 'film@multi', '--runs', 'runs',
            '--out', 'results']
    assert compare.main(args) == 0
    assert '0 of 1 runs already finished' in capsys.readouterr().out
    report = json.loads((tmp_path / 'results' / 'comparison.json').read_text())
    (row,) = report['variants']
    assert row['name'] == 'film@multi' and row['layers'] == [1, 2] and row['episodes'] == 2
    assert row['parameters'] > 0 and row['flops'] > 0 and row['latency_ms_p50'] > 0
    assert (tmp_path / 'results' / 'comparison.png').stat().st_size > 1000
    assert '| film@multi |' in (tmp_path / 'results' / 'comparison.md').read_text()
    assert compare.main(args) == 0  # finished runs are skipped, the report is rewritten
    assert '1 of 1 runs already finished' in capsys.readouterr().out
