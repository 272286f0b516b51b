# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
What a variant of the fusion comparison costs at run time: parameters, FLOPs and latency.

Parameters and FLOPs come from :mod:`vla_fusion_ros.model.introspect` (one batch-1 forward pass;
a multiply-add counts as two). Latency is what the node pays per frame for the model: one
``VLAPolicy.predict`` (64x64 RGB in, actions out, the default backend of the policy: eager
PyTorch), batch 1, one CPU thread, the median of 200 calls after 20 warm-up calls.
"""

import statistics
import time
from typing import Any, Dict

import numpy as np
import torch

from vla_fusion_ros.model import count_flops, count_parameters, ModelConfig, VLAPolicy
from vla_fusion_ros.train import train_config as tc


def latency_ms(config: ModelConfig, calls: int = 200, warmup: int = 20) -> float:
    """Median milliseconds of one batch-1 ``predict`` on the CPU with one thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        policy = VLAPolicy.from_config(config)
        side = config.vision.image_size
        image = np.random.default_rng(0).integers(0, 255, (side, side, 3), dtype=np.uint8)
        times = []
        for i in range(calls + warmup):
            start = time.perf_counter()
            policy.predict(image, 'go to the red circle')
            if i >= warmup:
                times.append(time.perf_counter() - start)
        return 1000.0 * statistics.median(times)
    finally:
        torch.set_num_threads(threads)


def job_model(job: Dict[str, Any]) -> ModelConfig:
    """Return the model config one job of the comparison trains."""
    return tc.model_config(tc.load_config(job['config'], job['overrides']))


def measure(job: Dict[str, Any], calls: int = 200) -> Dict[str, Any]:
    """Parameters, FLOPs per frame and median latency (ms) of the job's model."""
    config = job_model(job)
    return {'parameters': count_parameters(config), 'flops': count_flops(config),
            'latency_ms': round(latency_ms(config, calls), 3)}
