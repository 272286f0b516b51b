# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The failure analysis (``train/failures.py``).

The same episodes as the evaluation, a divergence found by replaying the world,
counterfactuals on that frame, the first-person probe, the CLI.

An untrained tiny model fails nearly every scene (it barely moves and stops), so failures exist
after a few episodes.
"""

import json
import math

import pytest

from conftest import tiny_model  # noqa: I100 (the tests' own)
from vla_fusion_ros.model import ModelConfig, save_checkpoint, VLAPolicy
from vla_fusion_ros.train import failures
from vla_fusion_ros.train.evaluate import evaluate_in_process


def tiny_policy(**head):
    return VLAPolicy.from_config(ModelConfig.from_dict(tiny_model(head=head)))


def test_the_analysis_sees_the_evaluation_episodes_and_finds_where_they_left_the_expert():
    policy = tiny_policy()
    result = failures.analyse(policy, 'overhead', 4)
    reference = evaluate_in_process(policy, 4, world='overhead')
    assert result['successes'] == reference['successes']
    assert [f['seed'] for f in result['failures']] == [
        r['seed'] for r in reference['reports'] if not r['success']]
    assert result['failures'] and not result['memory']
    for failure in result['failures']:
        divergence = failure['divergence']
        assert divergence is not None and 0 <= divergence['step'] < failure['steps']
        assert failures._differs(divergence['action'], divergence['expert'])
        assert divergence['cause'] in ('language', 'perception')  # no memory to blame
        assert len(divergence['in_view']) == 4  # overhead: every object is in view
    text = failures.render_markdown({**result, 'checkpoint': 'tiny'}, 'cmd')
    assert f'{result["successes"]} strict successes, {len(result["failures"])} failures' in text
    assert '- (no memory)' in text


def test_first_person_memory_counterfactual_and_probe():
    policy = tiny_policy(memory=8)
    result = failures.analyse(policy, 'first_person', 2)
    assert result['memory'] and len(result['failures']) == 2
    for failure in result['failures']:
        assert failure['divergence']['cause'] in ('memory', 'language', 'perception')
        assert len(failure['divergence']['fresh_memory']) == 2
    found = failures.probe(policy, 'first_person', scenes=2)
    counts = found['counts']
    assert set(counts) == {'right name', 'other shape', 'other colour'}
    totals = [sum(v[1] for k, v in counts[kind].items() if k.endswith(' m')) for kind in counts]
    assert totals[0] > 0 and len(set(totals)) == 1  # one frame, three instructions
    assert failures.probe(policy, 'overhead', scenes=1) is None


def test_cli_writes_the_page_and_refuses_a_bad_size(tmp_path, capsys):
    checkpoint = tmp_path / 'tiny.safetensors'
    policy = tiny_policy()
    save_checkpoint(str(checkpoint), policy.model, policy.tokenizer, policy.config)
    out = tmp_path / 'report'
    assert failures.main(['--checkpoint', str(checkpoint), '--episodes', '2',
                          '--out', str(out)]) == 0
    saved = json.loads((tmp_path / 'report.json').read_text())
    assert saved['world'] == 'overhead' and saved['episodes'] == 2
    assert (tmp_path / 'report.md').read_text().startswith('# Failure analysis')
    assert failures.main(['--checkpoint', str(checkpoint), '--render-size', '64x',
                          '--out', str(out)]) == 2
    assert "render size: expected WIDTHxHEIGHT (e.g. 640x480), got '64x'" in (
        capsys.readouterr().err)
    assert failures.main(['--checkpoint', str(tmp_path / 'none.safetensors'),
                          '--out', str(out)]) == 2


def test_a_collision_is_replayed_to_name_what_was_hit():
    from vla_fusion_ros.sim.registry import make_config, make_world
    config = make_config('overhead')
    env = make_world('overhead', config)
    env.reset(1000003)
    other = next(o for i, o in enumerate(env.objects) if i != env.target_index)
    steps = []
    while not env.done:   # turn toward the other object, then drive onto it
        x, y, theta = env.pose
        bearing = math.atan2(other.y - y, other.x - x) - theta
        bearing = math.atan2(math.sin(bearing), math.cos(bearing))
        action = [0.0, max(-1.5, min(1.5, 3.0 * bearing))] if abs(bearing) > 0.1 else [0.5, 0.0]
        steps.append({'action': action})
        env.step(action)
    assert env.reason == 'collision'
    hit = failures._hit('overhead', config, 1000003, steps)
    struck = env.objects[env.contact(env.pose[0], env.pose[1])[1]]
    assert hit['object'] == f'{struck.color} {struck.shape}'
    color, shape = env.named
    assert hit['shares'] == ('colour' if struck.color == color else
                             'shape' if struck.shape == shape else 'neither')
    with pytest.raises(RuntimeError, match='did not end in the collision'):
        failures._hit('overhead', config, 1000003, steps[:-1])
