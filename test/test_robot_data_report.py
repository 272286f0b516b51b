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
    from vla_fusion_ros.tools.robot_data_proof import model_design
    (tmp_path / 'config.yaml').write_text(
        'model:\n  fusion: {mode: intermediate, operator: film, layers: [1, 2]}\n'
        '  language: {kind: words}\n')
    assert model_design(str(tmp_path)) == {'mode': 'intermediate', 'operator': 'film',
                                           'layers': [1, 2], 'language': 'words'}
