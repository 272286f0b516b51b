# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The robot-data proof's report: runs pooled over training seeds, read against their spread."""

from vla_fusion_ros.tools import robot_data_report as report


def _evaluation(wins, episodes=100):
    reports = [{'seed': s, 'success': s < wins} for s in range(episodes)]
    return {'ros': {'successes': wins, 'episodes': episodes, 'success_rate': wins / episodes,
                    'reports': reports}}


def test_seed_names_belong_to_their_model():
    assert report.arm('in_process_seed1') == 'in_process' and report.seed_of('recorded') == 0
    assert report.arm('recorded_seed2') == 'recorded' and report.seed_of('recorded_seed2') == 2


def test_pooled_success_and_the_spread_of_seeds():
    ev = {'recorded': _evaluation(55), 'recorded_seed1': _evaluation(61),
          'in_process': _evaluation(59), 'in_process_seed1': _evaluation(53)}
    rec = report.pooled(ev, 'recorded')
    assert rec['runs'] == ['recorded', 'recorded_seed1'] and rec['successes'] == 116
    assert abs(rec['spread'] - 0.06) < 1e-9 and rec['per_seed'] == [0.55, 0.61]
    text = '\n'.join(report._seed_lines(ev))
    assert '+2.0 points (within the 3-point bar)' in text
    assert 'smaller than that spread' in text and 'neither arm was ahead' in text


def test_a_gap_beyond_the_spread_is_said_to_cost_something():
    ev = {'recorded': _evaluation(40), 'recorded_seed1': _evaluation(41),
          'in_process': _evaluation(60), 'in_process_seed1': _evaluation(62)}
    text = '\n'.join(report._seed_lines(ev))
    assert '-20.5 points (not within' in text and 'larger than that spread' in text
    assert 'the recorded model was behind at every seed: 20.0, 21.0 points' in text
    assert report._seed_lines({'recorded': _evaluation(40),
                               'in_process': _evaluation(60)}) == []


def test_the_recipe_names_the_fusion_design():
    design = {'mode': 'intermediate', 'operator': 'hadamard', 'layers': [0],
              'language': 'minilm'}
    assert report._design(design) == (
        ': hadamard fusion at vision layers [0], minilm language encoder')
    assert report._design({**design, 'mode': 'late'}) == ': late fusion, minilm language encoder'
    assert report._design(None) == ''


def test_the_proof_reads_the_design_from_a_run_config(tmp_path):
    (tmp_path / 'config.yaml').write_text(
        'model:\n  fusion: {mode: intermediate, operator: film, layers: [1, 2]}\n'
        '  language: {kind: words}\n')
    assert report.model_design(str(tmp_path)) == {
        'mode': 'intermediate', 'operator': 'film', 'layers': [1, 2], 'language': 'words'}


def test_a_recorded_model_ahead_meets_the_bar():
    assert report._bar(0.02) == 'within the 3-point bar'
    assert report._bar(0.10) == 'ahead: meets the 3-point bar'
    assert report._bar(-0.04) == 'not within the 3-point bar'


def test_choosing_the_seed_by_validation_loss():
    ev = {'recorded': _evaluation(60), 'recorded_seed1': _evaluation(84),
          'in_process': _evaluation(16), 'in_process_seed1': _evaluation(80)}
    for name in ev:
        ev[name]['ros'].update(present={'successes': 0, 'episodes': 0},
                               ci95=[0.0, 1.0])
    losses = {'recorded': 0.14, 'recorded_seed1': 0.09, 'in_process': 0.24,
              'in_process_seed1': 0.11}
    models = {n: {'best': {'val_loss': v}} for n, v in losses.items()}
    (line,) = report._selection_lines(ev, models)
    assert 'recorded seed 1 (validation loss 0.090) 84/100' in line
    assert 'in-process seed 1 (validation loss 0.110) 80/100' in line
    assert '+4.0 points (ahead: meets the 3-point bar; paired by scene, exact McNemar p = 0.125)' \
        in line
    assert 'Spearman rho = -1.00): train a few seeds' in line
    models['recorded_seed1']['best']['val_loss'] = 0.5  # now the worst loss picks 60/100
    (line,) = report._selection_lines(ev, models)
    assert 'recorded seed 0' in line and 'does not rank the runs' in line
    assert report._selection_lines({'recorded': ev['recorded']}, models) == []


def test_spearman_matches_its_definition():
    from vla_fusion_ros.train.metrics import spearman
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == 1.0
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == -1.0
    # Ties share their mean rank: ranks (1.5, 1.5, 3) and (1, 2, 3).
    assert abs(spearman([5, 5, 9], [1, 2, 3]) - 0.8660254) < 1e-6
    assert spearman([1, 1, 1], [1, 2, 3]) != spearman([1, 1, 1], [1, 2, 3])  # NaN
