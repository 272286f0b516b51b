# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Choosing among training seeds by validation loss, as a robot user without a simulator can."""

import json

from vla_fusion_ros.train import best_run


def _run(folder, loss):
    folder.mkdir()
    best = {'step': 10, 'val_loss': loss}
    (folder / 'summary.json').write_text(json.dumps({'training': {'best': best}}))
    return str(folder)


def test_the_lowest_validation_loss_wins(tmp_path, capsys):
    runs = [_run(tmp_path / f'seed{k}', loss) for k, loss in enumerate([0.14, 0.09, 0.27])]
    assert best_run.main(runs) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == f'{runs[1]}/model.safetensors'
    assert lines[0].startswith(f'{runs[1]}: validation loss 0.0900')


def test_a_folder_that_is_not_a_run_is_named(tmp_path, capsys):
    good = _run(tmp_path / 'good', 0.1)
    assert best_run.main([good, str(tmp_path / 'missing')]) == 2
    err = capsys.readouterr().err
    assert 'missing/summary.json: not a finished training run' in err
    (tmp_path / 'noval').mkdir()
    (tmp_path / 'noval' / 'summary.json').write_text('{"training": {"best": {"step": 3}}}')
    assert best_run.main([good, str(tmp_path / 'noval')]) == 2
    assert 'has no validation loss' in capsys.readouterr().err
