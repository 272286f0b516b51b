# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The ROS evaluation path: sim_world and fusion_node as installed processes over DDS.

Lockstep makes the episodes a function of the seeds and the policy only, so the deployed path
must reproduce the in-process episodes step for step (up to float rounding between batched and
single-frame inference). A tiny untrained model keeps the run short; what is checked is the
plumbing: stamps, remaps, reports, isolation and shutdown.
"""

import pytest
from vla_fusion_ros.model import FusionModel, ModelConfig, save_checkpoint, Tokenizer, VLAPolicy
from vla_fusion_ros.sim.base import EVAL_SEED_START
from vla_fusion_ros.train import evaluate

from conftest import tiny_model  # noqa: I100 (the tests' own)

TINY_MODEL = tiny_model(seed=5)

# Nodes over DDS: run on every tested distribution (scripts/test: -m ros on Jazzy).
pytestmark = pytest.mark.ros


@pytest.mark.slow
@pytest.mark.parametrize('world, memory', [('overhead', 0), ('first_person', 8)])
def test_ros_path_reproduces_the_in_process_episodes(tmp_path, world, memory):
    """Both worlds; the first-person model carries memory from frame to frame in the node."""
    from vla_fusion_ros.train.ros_eval import evaluate_ros
    config = ModelConfig.from_dict({**TINY_MODEL, 'head': {**TINY_MODEL.get('head', {}),
                                                           'memory': memory}})
    path = str(tmp_path / 'tiny.safetensors')
    save_checkpoint(path, FusionModel(config), Tokenizer(max_length=8), config)
    episodes = 2
    local = evaluate.evaluate_in_process(VLAPolicy.from_checkpoint(path), episodes,
                                         world=world)
    ros = evaluate_ros(path, episodes, timeout=120.0, log_dir=str(tmp_path), world=world)
    assert [r['seed'] for r in ros['reports']] == [EVAL_SEED_START, EVAL_SEED_START + 1]
    assert ros['timeouts'] == 0 and 101 <= ros['domain_id'] <= 200
    for mine, theirs in zip(local['reports'], ros['reports']):
        assert mine['instruction'] == theirs['instruction']
        assert mine['success'] == theirs['success'] and mine['steps'] == theirs['steps']
        assert mine['reason'] == theirs['reason'] and theirs['world'] == world
        assert mine['final_distance_m'] == pytest.approx(theirs['final_distance_m'], abs=2e-3)


def test_missing_checkpoint_is_an_error(tmp_path):
    from vla_fusion_ros.train.ros_eval import evaluate_ros
    with pytest.raises(RuntimeError, match='no such checkpoint'):
        evaluate_ros(str(tmp_path / 'nope.safetensors'), 1)
