# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The fusion comparison: its statistics, its staged plan, its report, and a tiny real sweep.

The plan and the report are checked on synthetic runs (:mod:`comparison_runs`); the tiny sweep
trains and evaluates real models in separate processes, two at a time, and resumes.
"""

import json
import math
import os
import shutil

import pytest
from vla_fusion_ros.train import compare, compare_plan as cp, compare_report
from vla_fusion_ros.train import compare_shipped, compare_stats as st, compare_summary
import yaml

from comparison_runs import complete, costs, outcomes  # noqa: I100 (the tests' own)
from conftest import REPO, tiny_model  # noqa: I100

PLAN = cp.SweepPlan(worlds=['overhead'], points=[1280, 2560, 5120], tune_budget=2560,
                    batch_size=128, lrs=[1e-3, 3e-3], seeds=3, val_episodes=40, test_episodes=60,
                    finalists=0,
                    configs={'overhead': os.path.join(REPO, 'config', 'train_overhead.yaml')})


def test_exact_binomial_and_mcnemar():
    assert st.binomial_two_sided(0, 5) == pytest.approx(2 / 32)
    assert st.binomial_two_sided(1, 10) == pytest.approx(2 * 11 / 1024)
    assert st.binomial_two_sided(5, 10) == 1.0 and st.binomial_two_sided(0, 0) == 1.0
    assert st.binomial_two_sided(9, 10) == st.binomial_two_sided(1, 10)
    # Two seeds each: b counts pairs only the first won, c pairs only the second won.
    assert st.discordant(['1100', '1010'], ['1000', '0110']) == [2, 1]
    assert st.mcnemar_exact(['1' * 20], ['0' * 20])['p'] == pytest.approx(2 / 2 ** 20)
    assert st.mcnemar_exact(['10' * 10], ['01' * 10])['p'] == 1.0


def test_curve_area_samples_to_reach_and_flatness():
    samples = [1000, 2000, 4000]
    assert st.area_under_curve(samples, [0.5, 0.5, 0.5]) == pytest.approx(0.5)
    assert st.area_under_curve(samples, [0.0, 1.0, 1.0]) == pytest.approx(0.75)
    assert st.samples_to_reach(samples, [0.2, 0.4, 0.9], 0.4) == pytest.approx(2000)
    assert st.samples_to_reach(samples, [0.2, 0.4, 0.8], 0.6) == pytest.approx(
        2 ** (math.log2(2000) + 0.5))
    assert st.samples_to_reach(samples, [0.2, 0.4, 0.5], 0.6) is None
    assert st.seed_spread([0.9, 0.7, 0.8]) == pytest.approx(0.2)
    rising = st.flat_at_end([outcomes(0.3, 100, s) for s in range(3)],
                            [outcomes(0.9, 100, s) for s in range(3)])
    assert not rising['flat'] and rising['delta'] == pytest.approx(0.6)
    same = [outcomes(0.8, 100, s) for s in range(3)]
    assert st.flat_at_end(same, same) == {'delta': 0.0, 'p': 1.0, 'flat': True}


def _rates(job, index):
    """Bidirectional learns best, at placement middle; lr 3e-3 beats 1e-3; baselines lag."""
    v = job['variant']
    top = {'bidirectional': 0.9, 'cross_attention': 0.8}.get(v['operator'], 0.6)
    if v['mode'] != 'intermediate':
        top = {'early': 0.4, 'late': 0.5, 'late_tokens': 0.55, 'vision_only': 0.15}[v['mode']]
    elif v['placement'] == 'middle':
        top += 0.05
    if job['lr'] < 2e-3:
        top -= 0.1
    return top * (index + 1) / len(job['points'])


def test_the_stages_follow_from_validation_choices():
    first = cp.ready_jobs(PLAN, {})
    assert {j['stage'] for j in first} == {'tune'}
    assert len(first) == len(cp.base_variants(PLAN)) * len(PLAN.lrs)
    assert all(j['split'] == 'val' and j['seed'] == PLAN.tune_seed for j in first)
    assert PLAN.tune_seed not in range(PLAN.seeds)
    results = complete(PLAN, _rates)
    jobs = cp.ready_jobs(PLAN, results)
    assert len(jobs) == len(results) == sum(cp.job_counts(PLAN).values())
    decided = cp.choices(PLAN, results, 'overhead', 'words')
    assert set(decided['lr'].values()) == {3e-3}
    assert decided['placement']['bidirectional'] == 'middle'
    assert decided['ranking'][:2] == ['bidirectional', 'cross_attention']
    seeded = [j for j in jobs if j['stage'] == 'seeded']
    names = {j['variant']['name'] for j in seeded}
    assert {'bidirectional@early', 'bidirectional@multi', 'cross_attention@early',
            'film@middle', *cp.BASELINES} <= names and 'film@early' not in names
    assert all(j['split'] == 'test' and j['seed_start'] == cp.SPLIT_SEEDS['test']
               for j in seeded)
    assert {j['split'] for j in jobs if j['stage'] != 'seeded' and j['stage'] != 'anneal'} == {
        'val'}
    # The same recipe for every seeded run: only fusion, rate and seed differ.
    shared = {frozenset(o for o in j['overrides']
                        if not o.startswith(('model.fusion.', 'optim.lr', 'seed=')))
              for j in seeded}
    assert len(shared) == 1
    (anneal,) = [j for j in jobs if j['stage'] == 'anneal']
    assert anneal['variant']['name'] == 'bidirectional@middle'
    assert anneal['points'][-1] == PLAN.middle and anneal['seed'] == 0


def test_only_the_finalists_train_to_the_largest_budget():
    plan = cp.SweepPlan(**{**PLAN.__dict__, 'finalists': 2, 'short_budget': 2560})
    results = complete(plan, _rates)
    seeded = [j for j in cp.ready_jobs(plan, results) if j['stage'] == 'seeded']
    full = {j['variant']['name'] for j in seeded if j['points'][-1] == plan.points[-1]}
    assert full == {'bidirectional@middle', 'cross_attention@middle', 'early', 'late',
                    'late_tokens'}
    assert all(j['points'][-1] == 2560 and j['schedule'] == plan.points
               for j in seeded if j['variant']['name'] not in full)
    assert sum(j['points'][-1] for j in seeded) == cp.stage_samples(plan)['seeded']
    group = compare_summary.summarize(plan, results, costs(plan))['groups'][0]
    by_name = {v['name']: v for v in group['variants']}
    assert not by_name['film@middle']['full'] and by_name['late']['full']
    assert by_name['film@middle']['tests']['best'] is not None  # compared at 2,560 samples
    assert group['common_samples'] == 2560 and group['verdict']['claim'] == 'confirmed'
    assert all(by_name[r['use']]['full'] for r in group['recommendations'][:3])
    text = compare_report.markdown({'plan_name': 'test', 'plan': plan.__dict__,
                                    'wall_time_s': 1.0, 'workers': 2,
                                    **compare_summary.summarize(plan, results, costs(plan))})
    assert 'the other variants stop at 2,560 samples' in text


def test_a_second_encoder_runs_the_first_ones_finalists(monkeypatch):
    monkeypatch.setitem(cp.LANGUAGE_OVERRIDES, 'other', ['model.language.width=16'])
    plan = cp.SweepPlan(**{**PLAN.__dict__, 'languages': ['words', 'other']})
    assert all(j['language'] == 'words' for j in cp.ready_jobs(plan, {}))
    results = complete(plan, _rates)
    jobs = cp.ready_jobs(plan, results)
    assert len(jobs) == len(results) == sum(cp.job_counts(plan).values())
    other = [j for j in jobs if j['language'] == 'other']
    assert {j['stage'] for j in other} == {'tune', 'seeded'}
    assert {j['variant']['name'] for j in other} == {'bidirectional@middle', 'early', 'late'}
    assert all('model.language.width=16' in j['overrides'] for j in other)
    assert sum(j['points'][-1] for j in jobs if j['stage'] == 'seeded') == cp.stage_samples(
        plan)['seeded']
    summary = compare_summary.summarize(plan, results, costs(plan))
    assert [g['language'] for g in summary['groups']] == ['words', 'other']
    assert summary['groups'][1]['verdict']['claim'] == 'confirmed'
    assert [o['use'] for o in summary['overall']] == ['bidirectional@middle'] * 2


def test_plan_fields_are_checked():
    with pytest.raises(ValueError, match='tune_budget'):
        cp.SweepPlan(points=[1280, 2560], tune_budget=640, finalists=0)
    with pytest.raises(ValueError, match='points'):
        cp.SweepPlan(points=[1000])
    with pytest.raises(ValueError, match='placements'):
        cp.SweepPlan(placements=['early'])
    with pytest.raises(ValueError, match='short_budget'):
        cp.SweepPlan(finalists=2, short_budget=1_024_000)
    with pytest.raises(ValueError, match='unknown plan field'):
        compare.make_plan('full', ['seed=3'])


def test_summary_verdict_recommendations_and_report(tmp_path):
    results = complete(PLAN, _rates)
    data = {'plan_name': 'test', 'plan': PLAN.__dict__, 'wall_time_s': 100.0, 'workers': 2,
            **compare_summary.summarize(PLAN, results, costs(PLAN))}
    (group,) = data['groups']
    assert group['best'] == 'bidirectional@middle'
    assert group['verdict']['claim'] == 'confirmed'
    assert group['recommendations'][0]['use'] == 'bidirectional@middle'
    by_name = {v['name']: v for v in group['variants']}
    best = by_name['bidirectional@middle']
    assert best['final']['episodes'] == PLAN.seeds * PLAN.test_episodes
    assert best['curve'][0]['samples'] == PLAN.points[0] and 'floor_curve' in best
    assert 'floor_curve' not in by_name['vision_only']
    assert group['floors']['vision_only'][-1]['success_rate'] == pytest.approx(0.15)
    assert group['anneal']['variant'] == 'bidirectional@middle'
    assert data['process_hours_total'] == pytest.approx(len(results) * 65.0 / 3600)
    text = compare_report.markdown(data)
    assert 'intermediate fusion beats early and late fusion - confirmed**' in text
    assert '| compute to spare (the highest success) | bidirectional@middle |' in text
    assert 'use bidirectional@middle** (' in text  # one world: the best there
    assert text.count('| bidirectional@middle |') >= 2
    (tmp_path / 'comparison.json').write_text(json.dumps(data))
    paths = compare_report.rerender(str(tmp_path / 'comparison.json'), str(tmp_path / 'out'))
    assert open(paths[0]).read() == text
    assert os.path.getsize(paths[1]) > 10_000


def test_the_report_says_what_an_unconverged_curve_leaves_of_the_verdict(tmp_path):
    data = {'plan_name': 'test', 'plan': PLAN.__dict__, 'wall_time_s': 1.0, 'workers': 2,
            **compare_summary.summarize(PLAN, complete(PLAN, _rates), costs(PLAN))}
    notes = tmp_path / 'notes'
    text = compare_report.markdown(data, notes=str(notes))
    section = text[text.index('## Convergence at the largest budget'):]
    # _rates: success grows linearly with the point's index, so nothing is flat at the end;
    # the best ends at 95% (63.3% a doubling before), late at 50% (33.3%): the gap went from
    # 30.0 to 45.0 points. Early (40%, 26.7%): from 36.7 to 55.0. Only the verdict's
    # references are weighed.
    assert 'bidirectional@middle is still rising (95.0% at 5,120; +31.7 points from 2,560)' \
        in section
    assert 'late is 45.0 points below it (30.0 a doubling before): the gap is not closing' \
        in section
    assert 'early is 55.0 points below it (36.7 a doubling before)' in section
    assert 'hadamard@middle' not in section
    # 15 variants x 3 seeds x 65 s, twice: 1.6 process-hours.
    assert 'for the 15 variants trained to 5,120 would cost about 1.6 process-hours' in section
    assert 'Beyond the largest budget' not in section
    notes.mkdir()
    (notes / 'convergence.md').write_text('Measured: the shipped recipe, longer.\n')
    section = compare_report.markdown(data, notes=str(notes)).split('## Convergence')[1]
    assert 'Measured: the shipped recipe, longer.' in section


def test_a_closing_gap_is_priced_in_doublings():
    from vla_fusion_ros.train.compare_convergence import _group_line

    def variant(name, rates, flat=False):
        curve = [{'samples': 1000 * 2 ** i, 'success_rate': r} for i, r in enumerate(rates)]
        return {'name': name, 'full': True, 'curve': curve, 'final': curve[-1],
                'flat': {'flat': flat, 'delta': rates[-1] - rates[-2]}}

    group = {'world': 'w', 'language': 'words', 'best': 'film@early',
             'verdict': {'against': {'late': {}, 'early': {}}},
             'variants': [variant('film@early', [0.5, 0.8]), variant('late', [0.1, 0.6]),
                          variant('early', [0.5, 0.9], flat=True)]}
    line = _group_line(group)
    # late: 40 points below, then 20: one more doubling at that rate closes it.
    assert 'late is 20.0 points below it (40.0 a doubling before): 1.0 more doublings' in line
    assert 'early is level with it or ahead' in line


def _ship(path, **fusion):
    from vla_fusion_ros.model import ModelConfig, save_checkpoint, VLAPolicy
    model = tiny_model(vision={'depth': 4}, fusion=fusion)
    policy = VLAPolicy.from_config(ModelConfig.from_dict(model))
    save_checkpoint(str(path), policy.model, policy.tokenizer, policy.config)
    return str(path)


def test_the_report_holds_the_shipped_model_against_the_recommendation(tmp_path):
    data = {'plan_name': 'test', 'plan': PLAN.__dict__, 'wall_time_s': 1.0, 'workers': 2,
            **compare_summary.summarize(PLAN, complete(PLAN, _rates), costs(PLAN))}
    notes = tmp_path / 'notes'

    def report(**fusion):
        shipped = {'overhead': _ship(tmp_path / 'shipped.safetensors', **fusion)}
        rows = compare_shipped.shipped_against_recommended(data['groups'], shipped, str(notes))
        return rows[0], compare_report.markdown({**data, 'shipped': rows})

    row, text = report(mode='intermediate', operator='bidirectional', layers=[2])
    assert row['shipped']['variant'] == 'bidirectional@middle'
    assert row['recommended']['variant'] == 'bidirectional@middle' and row['match'] is True
    assert '| overhead | bidirectional@middle, words encoder | bidirectional@middle, words ' \
        'encoder (' in text and 'no reason is recorded' not in text
    row, text = report(mode='intermediate', operator='film', layers=[1, 3])
    assert row['shipped']['variant'] == 'film@[1, 3]' and row['match'] is False
    assert 'the shipped model is not the recommended one, and no reason is recorded' in text
    notes.mkdir()
    (notes / 'shipped_overhead.md').write_text('Measured: film at layers 1 and 3 wins.\n')
    row, text = report(mode='late')
    assert row['shipped']['variant'] == 'late' and row['match'] is False
    assert 'why the shipped model is what it is** (' in text
    assert text.count('Measured: film at layers 1 and 3 wins.') == 1
    # Not final while a seeded run is missing; an unreadable checkpoint is named, not raised.
    results = complete(PLAN, _rates)
    late = [k for k, r in results.items() if r['job']['stage'] == 'seeded'
            and r['job']['variant']['name'] == 'late']
    partial = compare_summary.summarize(
        PLAN, {k: r for k, r in results.items() if k != late[-1]}, costs(PLAN))
    (tmp_path / 'broken.safetensors').write_bytes(b'\0' * 4)
    (row,) = compare_shipped.shipped_against_recommended(
        partial['groups'], {'overhead': str(tmp_path / 'broken.safetensors')}, str(notes))
    assert row['recommended'] is None and row['match'] is None
    assert 'truncated or not a safetensors file' in row['shipped']['error']


def test_a_sweep_in_progress_says_how_far_it_is():
    results = {k: r for k, r in complete(PLAN, _rates).items() if r['job']['stage'] == 'tune'}
    data = {'plan_name': 'test', 'plan': PLAN.__dict__, 'wall_time_s': 1.0, 'workers': 2,
            **compare_summary.summarize(PLAN, results, costs(PLAN))}
    tunes = cp.job_counts(PLAN)['tune']
    assert len(results) == tunes and data['progress']['tune'] == [tunes, tunes]
    assert data['progress']['seeded'][0] == 0
    text = compare_report.markdown(data)
    assert f'**In progress.** {tunes} of the plan' in text and f'tune {tunes}/{tunes}' in text
    assert 'No seeded run has finished yet.' in text
    assert 'Validation success at the tuning budget, by learning rate' in text
    full = {'plan_name': 'test', 'plan': PLAN.__dict__, 'wall_time_s': 1.0, 'workers': 2,
            **compare_summary.summarize(PLAN, complete(PLAN, _rates), costs(PLAN))}
    assert 'In progress' not in compare_report.markdown(full)


def test_a_verdict_waits_for_every_seed():
    results = complete(PLAN, _rates)
    last = [k for k, r in results.items() if r['job']['stage'] == 'seeded'
            and r['job']['variant']['name'] == 'late' and r['job']['seed'] == PLAN.seeds - 1]
    assert len(last) == 1
    del results[last[0]]
    verdict = compare_summary.summarize(PLAN, results, costs(PLAN))['groups'][0]['verdict']
    assert verdict['claim'] == (
        'provisional, confirmed so far (1 seeded runs of late still to come)')
    assert not verdict['complete']
    full = compare_summary.summarize(PLAN, complete(PLAN, _rates), costs(PLAN))['groups'][0]
    assert full['verdict']['complete']


def test_a_baseline_ahead_refutes_the_claim():
    def rates(job, index):
        return 1.0 if job['variant']['name'] == 'late' else _rates(job, index)
    group = compare_summary.summarize(PLAN, complete(PLAN, rates), costs(PLAN))['groups'][0]
    assert group['verdict']['claim'] == 'refuted'
    assert group['verdict']['against']['late']['better'] == 'second'


@pytest.mark.slow
def test_tiny_sweep_runs_in_processes_resumes_and_reports(tmp_path, monkeypatch, capsys):
    """Two variants, one seed, two curve points: trained, evaluated and reported for real."""
    config = tmp_path / 'tiny.yaml'
    config.write_text(yaml.safe_dump({
        'model': tiny_model(vision={'depth': 4}, fusion={'layers': [1, 2]}), 'threads': 1,
        'data': {'path': 'data/tiny.npz', 'generate': {'episodes': 10, 'seed': 0},
                 'val_path': 'data/tiny_val.npz', 'val_generate': {'episodes': 3,
                                                                   'seed': 900_000},
                 'val_max_frames': 32}}))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv('PYTHONPATH', os.pathsep.join([REPO, os.environ.get('PYTHONPATH', '')]))
    changes = [f'configs={{overhead: {config}}}', 'finalists=1', 'short_budget=64',
               'full_baselines=[]']  # late stops half-way: the paused-run path
    args = ['--plan', 'tiny', '--set', *changes, '--runs', 'runs', '--out', 'results',
            '--workers', '2']
    plan = compare.make_plan('tiny', changes)
    # An interrupted run: its training stopped half-way, so the sweep must resume it.
    job = cp.make_job(plan, 'tune', 'overhead', 'words', 'late', plan.lrs[0], plan.tune_seed,
                      plan.tune_points, 'val')
    compare.prepare_data(plan)
    from vla_fusion_ros.train import train_config as tc
    from vla_fusion_ros.train.train import Trainer
    folder = os.path.join('runs', 'tiny', job['id'])
    Trainer(tc.load_config(str(config), job['overrides']), folder, progress=False).run(
        stop_after=2)
    assert compare.main(args) == 0
    assert 'resumed at step 2' in open(os.path.join(folder, 'run.log')).read()
    data = json.loads((tmp_path / 'results' / 'comparison.json').read_text())
    (group,) = data['groups']
    assert {v['name'] for v in group['variants']} == {'film@multi', 'late'}
    for v in group['variants']:
        expected = plan.points if v['name'] == 'film@multi' else plan.points[:1]
        assert [p['samples'] for p in v['curve']] == expected
        assert v['final']['episodes'] == plan.test_episodes and v['latency_ms'] > 0
        assert v['parameters'] > 0 and v['flops'] > 0 and 'floor_curve' in v
    assert data['runs'] == 4 and data['process_hours_total'] > 0
    assert '## overhead, words encoder' in (tmp_path / 'results' / 'comparison.md').read_text()
    capsys.readouterr()
    before = os.path.getmtime(os.path.join(folder, 'result.json'))
    assert compare.main(args) == 0  # everything finished: nothing runs again
    assert 'FAILED' not in capsys.readouterr().err
    assert os.path.getmtime(os.path.join(folder, 'result.json')) == before
    # The ledger (committed, small) carries the finished results to a machine without the runs.
    ledger = tmp_path / 'results' / 'ledger' / 'tiny'
    kept = sorted(str(p.relative_to(ledger)) for p in ledger.rglob('*.json'))
    assert len(kept) == 4 and all(name.startswith('overhead/words/') for name in kept)
    shutil.rmtree('runs')
    again = compare.all_results(plan, os.path.join('runs', 'tiny'), str(ledger))
    assert len(again) == 4 and again[job['id']]['points'] == json.loads(
        (ledger / (job['id'] + '.json')).read_text())['points']
    # A result made by another recipe is stale: the test-scene runs must run again, while the
    # validation runs (unchanged) still count.
    changed = compare.make_plan('tiny', changes + ['test_episodes=5'])
    fresh = compare.all_results(changed, os.path.join('runs', 'tiny'), str(ledger))
    assert fresh and not any(r['job']['split'] == 'test' for r in fresh.values())
