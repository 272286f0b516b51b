# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The final choice between a run's best and last checkpoints (train.selection)."""

import json
import shutil

from vla_fusion_ros.train import results_report, selection, train

from conftest import tiny_training_config  # noqa: I100 (the tests' own)


def _run(tmp_path, select_episodes):
    """Train a tiny model for 6 steps, validating at 3 and 6; return its folder."""
    path = tiny_training_config(
        tmp_path, data={'generate': {'episodes': 12, 'seed': 0}, 'val_max_frames': 64},
        schedule={'batch_size': 16, 'steps': 6, 'warmup_steps': 2, 'val_every': 3},
        eval={'val_episodes': 2, 'episodes': 0, 'select_episodes': select_episodes})
    out = tmp_path / 'run'
    assert train.main(['--config', str(path), '--out', str(out), '--no-progress']) == 0
    return out


def _state(best_loss, last_loss):
    return {'step': 6, 'best': {'step': 3, 'val_loss': best_loss},
            'history': [{'step': 3, 'val_loss': best_loss}, {'step': 6, 'val_loss': last_loss}]}


def test_a_tie_in_success_keeps_the_lower_validation_loss(tmp_path):
    out = _run(tmp_path, 0)
    # The same weights under both names: the same successes on the same scenes, a tie.
    shutil.copyfile(out / 'last.safetensors', out / 'best.safetensors')
    path, record = selection.choose(str(out), _state(0.5, 0.4), 3, 'overhead', log=lambda _: 0)
    assert path.endswith('last.safetensors') and record['chosen'] == 'last'
    assert record['best']['successes'] == record['last']['successes']
    assert record['seed_start'] == selection.SELECT_SEED_START and record['episodes'] == 3
    path, record = selection.choose(str(out), _state(0.3, 0.4), 3, 'overhead', log=lambda _: 0)
    assert path.endswith('best.safetensors') and record['chosen'] == 'best'
    assert record['best']['step'] == 3 and record['last']['step'] == 6
    # The report names the shipped checkpoint and both scores.
    line = results_report._selection(record)
    assert 'the best one' in line and 'last (step 6)' in line


def test_nothing_to_choose(tmp_path):
    out = _run(tmp_path, 0)
    quiet = {'log': lambda _: 0}
    assert selection.choose(str(out), _state(0.5, 0.4), 0, 'overhead', **quiet)[1] is None
    state = _state(0.5, 0.4)
    state['best']['step'] = 6  # the best step is the last one
    path, record = selection.choose(str(out), state, 3, 'overhead', **quiet)
    assert record is None and path.endswith('best.safetensors')
    assert 'the best step' in results_report._selection(None)


def test_the_trainer_records_the_choice_and_resuming_a_finished_run_redoes_it(tmp_path):
    out = _run(tmp_path, 2)
    summary = json.loads((out / 'summary.json').read_text())
    log = [json.loads(line) for line in (out / 'log.jsonl').read_text().splitlines()]
    best_step = summary['training']['best']['step']
    assert [e['step'] for e in log if 'val_loss' in e] == [3, 6]
    # Selection runs only when the best step is not the last.
    assert ('selection' in summary['training']) == (best_step != 6)
    seconds = summary['training']['command_wall_time_s']
    # Resuming the finished run runs only the final stage, here with a selection forced by
    # a state whose best step is the first; the command time adds up across both commands.
    state_path = out / 'state' / 'state.json'
    saved = json.loads(state_path.read_text())
    saved['state']['best'] = {'step': 3, 'val_loss': 9.0}
    state_path.write_text(json.dumps(saved))
    config = out / 'config.yaml'
    assert train.main(['--config', str(config), '--out', str(out), '--resume',
                       '--no-progress']) == 0
    again = json.loads((out / 'summary.json').read_text())
    assert again['training']['selection']['chosen'] in ('best', 'last')
    assert again['training']['selection']['episodes'] == 2
    assert again['training']['command_wall_time_s'] >= seconds


def test_no_choice_without_closed_loop_validation(tmp_path):
    # The comparison's runs and training on robot data set eval.val_episodes: 0.
    assert selection.episodes({'val_episodes': 0, 'select_episodes': 400}) == 0
    assert selection.episodes({'val_episodes': 50, 'select_episodes': 400}) == 400
    out = _run(tmp_path, 2)
    state_path = out / 'state' / 'state.json'
    saved = json.loads(state_path.read_text())
    saved['state']['best'] = {'step': 3, 'val_loss': 9.0}
    state_path.write_text(json.dumps(saved))
    assert train.main(['--config', str(out / 'config.yaml'), '--out', str(out), '--resume',
                       '--no-progress', '--set', 'eval.val_episodes=0']) == 0
    assert 'selection' not in json.loads((out / 'summary.json').read_text())['training']
