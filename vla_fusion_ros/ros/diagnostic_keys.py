# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The names in the fusion node's ``/diagnostics`` status: defined here once.

:mod:`vla_fusion_ros.ros.diagnostics` writes them and :mod:`vla_fusion_ros.harness.diagnostics`
reads them (for the tests, the benchmark and the reliability tools), so a renamed key cannot
go unnoticed on one side. Nothing here imports ROS.
"""

from typing import Sequence

#: The status of node ``n`` is named ``f'{n}{STATUS_SUFFIX}'``.
STATUS_SUFFIX = ': policy'

MODEL = 'model'
FUSION = 'fusion'
DEVICE = 'device'
IMAGE_DECODER = 'image decoder'
IMAGE_RATE = 'image rate (Hz)'
INSTRUCTION = 'instruction'
ACTIVE = 'active'
ESTOP = 'e-stop'
WATCHDOG = 'watchdog'
#: The camera's rate measured from the header stamps, and the frames lost on the way.
IMAGE_SOURCE_RATE = 'image source rate (Hz)'
IMAGE_FRAMES_LOST = 'image frames lost (%)'
#: Keys whose values are text, even where the text looks like a number.
TEXT_KEYS = (MODEL, FUSION, DEVICE, IMAGE_DECODER, INSTRUCTION, ACTIVE, ESTOP, WATCHDOG)

#: Percentiles of a latency window; 100 is written as ``max``.
TAIL = (50, 95, 99)
#: "never older than...": the median, p99 and the worst of the last 1000 frames.
WORST = (50, 99, 100)


def status_name(node_name: str) -> str:
    """Return the name of ``node_name``'s status in a DiagnosticArray."""
    return f'{node_name}{STATUS_SUFFIX}'


def latency_key(label: str, percentiles: Sequence[int]) -> str:
    """Return the key of a latency window, e.g. ``'inference p50/p95/p99 (ms)'``."""
    names = '/'.join('max' if q == 100 else f'p{q}' for q in percentiles)
    return f'{label} {names} (ms)'


#: The latency windows in the order they are reported: (label, percentiles).
LATENCY_WINDOWS = (('preprocess', TAIL), ('inference', TAIL), ('stamp to command', TAIL),
                   ('frame age', TAIL), ('receipt to inference', WORST),
                   ('control_rate wait', TAIL))
PREPROCESS_MS = latency_key('preprocess', TAIL)
INFERENCE_MS = latency_key('inference', TAIL)
STAMP_TO_COMMAND_MS = latency_key('stamp to command', TAIL)
FRAME_AGE_MS = latency_key('frame age', TAIL)
RECEIPT_TO_INFERENCE_MS = latency_key('receipt to inference', WORST)
CONTROL_RATE_WAIT_MS = latency_key('control_rate wait', TAIL)
