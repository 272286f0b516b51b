# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Fuzzing the running fusion node over DDS with hypothesis (a few hundred cases).

Two ``fusion_node`` processes (raw and compressed images) receive hypothesis-generated images,
compressed images and instructions, interleaved with valid ones (see
:mod:`vla_fusion_ros.tools.fuzz`; ``python -m vla_fusion_ros.tools.fuzz --cases 10000`` is the
long run). Neither may crash, publish a non-finite or out-of-limit command, or miscount: each
malformed input must appear in the node's ``frames_rejected`` or ``instructions_rejected``.

``VFR_FUZZ_CASES`` sets the number of cases (default 300), ``VFR_FUZZ_SEED`` the seed (default:
a new one each run, printed on failure).
"""

import json
import os
import random

import pytest

from vla_fusion_ros.tools.fuzz.run import run_fuzz

# Nodes over DDS: run on every tested distribution (scripts/test: -m ros on Jazzy).
pytestmark = pytest.mark.ros


def test_fuzzed_inputs_never_crash_the_node_or_move_it_unsafely(tmp_path):
    cases = int(os.environ.get('VFR_FUZZ_CASES', '300'))
    seed = int(os.environ.get('VFR_FUZZ_SEED', str(random.SystemRandom().randint(0, 99999))))
    result = run_fuzz(cases, seed=seed, compressed_share=0.2, log_dir=str(tmp_path),
                      progress=lambda line: None)
    summary = {k: result[k] for k in ('cases_tried', 'crashes', 'died', 'exit_codes',
                                      'tracebacks', 'unsafe_commands', 'unsafe_examples',
                                      'commands_checked', 'moving_commands',
                                      'inference_errors', 'counter_mismatches')}
    report = f'VFR_FUZZ_SEED={seed}\n' + json.dumps(summary, indent=1, default=str)[:6000]
    print(f'\nfuzz: {result["cases_tried"]} cases (seed {seed}) in {result["duration_s"]:.0f} s,'
          f' {result["commands_checked"]} commands checked')
    assert result['cases_tried'] >= cases, report
    assert result['crashes'] == 0 and not any(result['tracebacks'].values()), report
    assert result['unsafe_commands'] == 0, report
    assert not result['counter_mismatches'], report
    assert result['inference_errors'] == 0, report
    kinds = result['categories']
    assert {'image', 'instruction', 'compressed'} <= set(kinds), report
    rejected = {kind: sum(c['expected_rejected'] for c in cats.values())
                for kind, cats in kinds.items()}
    assert all(rejected.values()), f'every kind of input must include malformed ones: {rejected}'
    assert result['moving_commands'] > 0, 'the node never acted on a valid frame'
