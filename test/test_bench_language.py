# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The language benchmark's in-process half, small: per-frame and encoder cost, the report."""

from vla_fusion_ros.model import FusionModel, ModelConfig, save_checkpoint
from vla_fusion_ros.model.language import create_tokenizer
from vla_fusion_ros.tools import bench_language

from conftest import tiny_model  # noqa: I100 (the tests' own)


def test_frame_and_encoder_cost_of_a_minilm_checkpoint(tmp_path):
    config = ModelConfig.from_dict(tiny_model(language={'kind': 'minilm'}))
    path = str(tmp_path / 'minilm.safetensors')
    save_checkpoint(path, FusionModel(config), create_tokenizer(config.language), config)
    cost = bench_language.frame_cost(bench_language.REPO, path, iterations=20)
    assert cost['backend'] == 'onnxruntime'
    assert cost['frame']['n'] == 20 and cost['frame']['p50'] > 0
    # Every prepare() was of a new instruction: the encoder really ran each time, and it
    # costs more than a frame of this tiny model.
    assert cost['encoder']['n'] == 20 and cost['encoder']['p50'] > cost['frame']['p50']
    results = {'command': 'x', 'machine': {'cpu': 'cpu', 'usable_cores': 2},
               'load_start': [1.0], 'load_end': [1.0],
               'models': {'minilm': {**cost, 'startup': {'first_command_s': 2.0,
                                                         'rss_mb': 400.0}}}}
    report = bench_language.format_report(results)
    assert '| minilm |' in report and f'{cost["frame"]["p50"]:.2f}' in report
