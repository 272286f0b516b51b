# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""In-process closed-loop evaluation: intervals, episode bookkeeping, held-out seeds."""

import os

import numpy as np
import pytest
from vla_fusion_ros.sim.base import EVAL_SEED_START
from vla_fusion_ros.sim.expert import ExpertPolicy
from vla_fusion_ros.sim.registry import make_world
from vla_fusion_ros.train import evaluate, metrics

from conftest import REPO  # noqa: I100 (the tests' own)


class ConstantPolicy:
    """A stand-in for VLAPolicy: the same action for every frame, and a call log."""

    image_size = (64, 64)

    def __init__(self, action):
        self.action = np.asarray(action, dtype=np.float32)
        self.batches = []

    def predict_batch(self, images, instructions):
        assert images.dtype == np.uint8 and images.ndim == 4
        assert len(images) == len(instructions)
        self.batches.append(len(images))
        return np.tile(self.action, (len(images), 1, 1))  # [B, chunk=1, 2]


def test_wilson_interval_known_values():
    assert metrics.wilson_interval(0, 10) == pytest.approx([0.0, 0.2775], abs=1e-4)
    assert metrics.wilson_interval(10, 10) == pytest.approx([0.7225, 1.0], abs=1e-4)
    assert metrics.wilson_interval(50, 100) == pytest.approx([0.4038, 0.5962], abs=1e-4)
    assert metrics.wilson_interval(95, 100) == pytest.approx([0.8882, 0.9785], abs=1e-4)
    assert metrics.wilson_interval(0, 0) == [0.0, 1.0]


def test_a_policy_that_spins_fails_every_held_out_episode():
    policy = ConstantPolicy([[0.0, 1.0]])
    reports = evaluate.run_episodes(policy, 5, batch_size=3)
    assert [r['seed'] for r in reports] == list(range(EVAL_SEED_START, EVAL_SEED_START + 5))
    assert all(not r['success'] and r['steps'] == 60 and r['reason'] == 'timeout'
               for r in reports)
    assert policy.batches[:2] == [3, 3] and sum(policy.batches) == 5 * 60
    summary = metrics.summarize(reports)
    assert summary['success_rate'] == 0.0 and summary['mean_steps'] == 60.0
    assert summary['ci95'][0] == 0.0 and summary['seeds'] == [EVAL_SEED_START,
                                                              EVAL_SEED_START + 4]
    assert summary['reasons']['timeout'] == 5


def test_standing_still_succeeds_only_where_the_target_is_absent():
    reports = evaluate.run_episodes(ConstantPolicy([[0.0, 0.0]]), 40)
    assert all(r['reason'] == 'stopped' and r['steps'] == 3 for r in reports)
    assert [r['success'] for r in reports] == [r['absent'] for r in reports]
    summary = metrics.summarize(reports)
    assert 0 < summary['absent']['episodes'] < 40
    assert summary['absent']['success_rate'] == 1.0 and summary['present']['successes'] == 0


@pytest.mark.parametrize('name', ['overhead', 'first_person'])
def test_the_expert_in_the_loop_succeeds(monkeypatch, name):
    # An oracle that reads the running worlds' state (in the order run_episodes feeds them)
    # and answers with the expert's action: the evaluator must count its successes.
    worlds = []

    def recording_world(world_name, config=None):
        worlds.append(make_world(world_name, config))
        return worlds[-1]

    class Oracle:
        expert = ExpertPolicy()
        image_size = (64, 64)

        def predict_batch(self, images, instructions):
            running = [w for w in worlds if not w.done]
            assert [w.instruction for w in running] == list(instructions)
            for world, image in zip(running, images):
                assert np.array_equal(world.render(), image)
            return np.stack([self.expert.act(w) for w in running])[:, None, :]

    monkeypatch.setattr(evaluate, 'make_world', recording_world)
    summary = evaluate.evaluate_in_process(Oracle(), 6, world=name)
    assert summary['successes'] == 6 and summary['ci95'][1] == 1.0
    assert 1 <= summary['mean_steps_success'] < 40
    assert 'strict success 6/6 = 100.0%' in metrics.format_summary('expert', summary)


def test_the_uninformative_instruction_replaces_every_scene_s_own():
    seen = []

    class Listener(ConstantPolicy):
        def predict_batch(self, images, instructions):
            seen.extend(instructions)
            return super().predict_batch(images, instructions)

    evaluate.evaluate_in_process(Listener([[0.0, 1.0]]), 2,
                                 instruction=evaluate.UNINFORMATIVE_INSTRUCTION)
    assert set(seen) == {'go to the object'}


def test_agreement_compares_outcomes_by_seed():
    a = [{'seed': 1, 'success': True}, {'seed': 2, 'success': False}, {'seed': 3,
                                                                       'success': True}]
    b = [{'seed': 1, 'success': True}, {'seed': 2, 'success': True}]
    assert metrics.agreement(a, b) == {'common_episodes': 2, 'same_outcome': 1,
                                       'differing_seeds': [2]}


def test_cli_refuses_a_broken_checkpoint(tmp_path, capsys):
    bad = tmp_path / 'bad.safetensors'
    bad.write_bytes(b'not a checkpoint')
    assert evaluate.main(['--checkpoint', str(bad), '--episodes', '1']) == 2
    assert 'bad.safetensors' in capsys.readouterr().err


def test_results_page_puts_every_figure_beside_its_floors():
    from vla_fusion_ros.train import results_report
    reports = evaluate.run_episodes(ConstantPolicy([[0.0, 0.0]]), 20)
    summary = metrics.summarize(reports)
    page = results_report.render(
        'overhead', {'training': {'steps': 10, 'wall_time_s': 1.0}},
        {'episodes': 20, 'seed_start': EVAL_SEED_START, 'in_process': summary,
         'uninformed': summary, 'parity': {'64x64': summary, '640x480': summary}},
        [results_report.ENV_LINE, 'python -m vla_fusion_ros.train.evaluate'],
        [{'step': 10, 'val_loss': 0.5, 'val_success': 0.1}])
    assert page.count(results_report.ENV_LINE) == 1  # given or not, it is written once
    assert page.count(metrics.format_rate(summary)) >= 4
    assert 'floor: the same model told "go to the object"' in page
    assert 'vision-only model, same recipe | not measured' in page
    assert 'Spread between the best and the worst resolution: 0.0 points' in page


def test_against_pairs_two_policies_scene_by_scene(tmp_path, capsys):
    stop = evaluate.evaluate_in_process(ConstantPolicy([[0.0, 0.0]]), 30)  # wins absent targets
    spin = evaluate.evaluate_in_process(ConstantPolicy([[0.0, 1.0]]), 30)
    result = evaluate.paired(stop, spin)
    won = [r['success'] for r in stop['reports']]
    assert result['successes'] == spin['successes'] == 0 and sum(won) > 0
    assert result['test']['b'] == sum(won) and result['test']['c'] == 0
    assert result['test']['p'] == pytest.approx(0.5 ** (sum(won) - 1))
    other = evaluate.evaluate_in_process(ConstantPolicy([[0.0, 1.0]]), 30, EVAL_SEED_START + 1)
    with pytest.raises(ValueError, match='different scenes'):
        evaluate.paired(stop, other)
    # The CLI: a checkpoint against itself wins and loses nothing.
    from test_failures import tiny_policy  # noqa: I100 (the tests' own)
    from vla_fusion_ros.model import save_checkpoint
    policy = tiny_policy()
    path = str(tmp_path / 'tiny.safetensors')
    save_checkpoint(path, policy.model, policy.tokenizer, policy.config)
    out = tmp_path / 'eval.json'
    assert evaluate.main(['--checkpoint', path, '--against', path, '--episodes', '3',
                          '--no-floors', '--no-progress', '--json', str(out)]) == 0
    import json
    saved = json.loads(out.read_text())['against'][path]
    assert saved['test'] == {'b': 0, 'c': 0, 'p': 1.0} and saved['episodes'] == 3
    assert f'only {path}: 0 (McNemar' in capsys.readouterr().out
    # A checkpoint of another world is refused by name, unless --world says where to run both.
    first_person = os.path.join(REPO, 'models', 'first_person.safetensors')
    assert evaluate.main(['--checkpoint', path, '--against', first_person, '--episodes', '1',
                          '--no-floors', '--no-progress']) == 2
    assert 'trained in the first_person world, not overhead' in capsys.readouterr().err


def test_vision_only_floor_from_an_earlier_run_on_the_same_scenes(tmp_path, capsys):
    """The floor is copied, with its source, only from a run on the same scenes and camera."""
    import json
    from test_failures import tiny_policy  # noqa: I100 (the tests' own)
    from vla_fusion_ros.model import save_checkpoint
    from vla_fusion_ros.train import results_report
    policy = tiny_policy()
    path = str(tmp_path / 'tiny.safetensors')
    save_checkpoint(path, policy.model, policy.tokenizer, policy.config)
    first, second = tmp_path / 'first.json', tmp_path / 'second.json'
    assert evaluate.main(['--checkpoint', path, '--vision-only', path, '--episodes', '3',
                          '--no-floors', '--no-progress', '--json', str(first)]) == 0
    assert evaluate.main(['--checkpoint', path, '--vision-only-from', str(first),
                          '--episodes', '3', '--no-floors', '--no-progress',
                          '--json', str(second)]) == 0
    before, after = (json.loads(p.read_text()) for p in (first, second))
    assert after['vision_only'] == before['vision_only']
    assert after['vision_only_from'] == {'path': str(first), 'evaluated_with': path}
    page = results_report.render('overhead', {'training': {'steps': 1, 'wall_time_s': 1.0}},
                                 after, [results_report.ENV_LINE], [])
    assert f'an earlier evaluation on the same scenes and camera (`{first}`' in page
    # Other scenes, another camera or a file without the floor are refused by name.
    capsys.readouterr()
    assert evaluate.main(['--checkpoint', path, '--vision-only-from', str(first),
                          '--episodes', '4', '--no-progress']) == 2
    assert 'another run: episodes 3 (not 4)' in capsys.readouterr().err
    assert evaluate.main(['--checkpoint', path, '--vision-only-from', str(first),
                          '--episodes', '3', '--render-size', '128x96', '--no-progress']) == 2
    assert 'render_size None (not [128, 96])' in capsys.readouterr().err
    (tmp_path / 'none.json').write_text('{}')
    assert evaluate.main(['--checkpoint', path, '--vision-only-from',
                          str(tmp_path / 'none.json'), '--episodes', '3',
                          '--no-progress']) == 2
    assert 'none.json: no vision-only floor there' in capsys.readouterr().err
    with pytest.raises(SystemExit):  # one floor or the other, not both
        evaluate.main(['--checkpoint', path, '--vision-only', path, '--vision-only-from',
                       str(first), '--episodes', '3', '--no-progress'])
    assert 'not allowed with argument' in capsys.readouterr().err
