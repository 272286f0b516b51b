# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The benchmark's optimisation table: each optimisation beside its baseline, timed in turns.

The default model, batch 1, one thread unless said: eager variants, TorchScript,
torch.compile, ONNX Runtime, and the preprocessing's resize plans.
"""

import time
from typing import Callable, Dict, List

import cv2
import torch

from vla_fusion_ros.model import ModelConfig, VLAPolicy
from vla_fusion_ros.model.engines import onnxruntime_available
from vla_fusion_ros.ros.image_conversion import ImageDecoder, prepare_rgb
from vla_fusion_ros.tools.bench_model import BUDGET_S, INSTRUCTION, make_policy, summarize, timed


def _eager_variant(policy: VLAPolicy, mode: str) -> Callable:
    """Return predict-like callables for eager variants the policy does not ship."""
    language = policy.prepare(INSTRUCTION)  # the instruction's cache: encoded once
    model, scale = policy.model, policy._scale
    width, height = policy.image_size
    if mode == 'no_grad':
        def run(rgb):
            with torch.no_grad():
                return (model.act(policy._images(rgb[None]), language)[0] * scale).numpy()
        return run
    if mode == 'preallocated':
        buffer = torch.empty(1, 3, height, width)

        def run(rgb):
            with torch.inference_mode():
                buffer[0].copy_(torch.from_numpy(rgb).permute(2, 0, 1)).div_(255.0)
                return (model.act(buffer, language)[0] * scale).numpy()
        return run
    if mode == 'channels_last':  # ``policy`` is its own copy: its model is converted in place
        cl_model = model.to(memory_format=torch.channels_last)

        def run(rgb):
            with torch.inference_mode():
                x = policy._images(rgb[None]).contiguous(memory_format=torch.channels_last)
                return (cl_model.act(x, language)[0] * scale).numpy()
        return run
    raise ValueError(mode)


def optimisations(config: ModelConfig, checkpoint: str, msg, iterations: int,
                  with_compile: bool, log=print, rounds: int = 10) -> List[Dict[str, object]]:
    """
    Each optimisation beside its baseline: the default model, batch 1, one thread unless said.

    The variants are timed in ``rounds`` interleaved turns (each gets ``iterations / rounds``
    calls per turn), so a change of load on a shared machine hits them all alike.
    """
    view = ImageDecoder().decode(msg)
    size = (config.vision.image_size,) * 2
    rgb = prepare_rgb(view, 'rgb8', size)
    rows, timed_rows = [], []

    def bind(run):
        return lambda: run(rgb)

    def threads(torch_threads=1, cv2_threads=1):
        def setup():
            torch.set_num_threads(torch_threads)
            cv2.setNumThreads(cv2_threads)
        return setup

    def add(name, fn, baseline, kept, note='', setup=threads()):
        row = {'variant': name, 'baseline': baseline, 'kept': kept, 'note': note}
        rows.append(row)
        timed_rows.append((row, fn, setup, []))

    eager = make_policy(config, checkpoint, 'torch', 1)
    add('eager, no_grad (before)', bind(_eager_variant(eager, 'no_grad')), '', False)
    add('eager, inference_mode', lambda: eager.predict(rgb, INSTRUCTION),
        'eager, no_grad (before)', True, 'VLAPolicy.predict')
    add('eager, preallocated input tensor', bind(_eager_variant(eager, 'preallocated')),
        'eager, inference_mode', False, 'the ONNX graph takes the uint8 frame itself')
    # A second policy, not a deepcopy: a MiniLM model holds an ONNX Runtime session.
    channels_last = make_policy(config, checkpoint, 'torch', 1)
    add('eager, channels_last', bind(_eager_variant(channels_last, 'channels_last')),
        'eager, inference_mode', False, 'tokens are reshaped between layers')
    add('eager, 2 torch threads', lambda: eager.predict(rgb, INSTRUCTION),
        'eager, inference_mode', False, '2 shared cores', threads(2))
    script = make_policy(config, checkpoint, 'torchscript', 1)
    add('TorchScript (trace, freeze)', lambda: script.predict(rgb, INSTRUCTION),
        'eager, inference_mode', not onnxruntime_available(),
        f'auto falls back to it without onnxruntime; built in '
        f'{script.engine.build_seconds:.1f} s')
    if with_compile:
        start = time.perf_counter()
        try:
            compiled = make_policy(config, checkpoint, 'compile', 1)
            seconds = time.perf_counter() - start
            add('torch.compile (inductor)', lambda: compiled.predict(rgb, INSTRUCTION),
                'eager, inference_mode', False, f'{seconds:.0f} s to compile at start-up')
        except ValueError as exc:
            rows.append({'variant': 'torch.compile (inductor)', 'skipped': str(exc)[:160]})
    else:
        rows.append({'variant': 'torch.compile (inductor)', 'skipped': 'not run (--quick)'})
    if onnxruntime_available():
        for n in (1, 2):
            ort = make_policy(config, checkpoint, 'onnxruntime', n)
            add(f'ONNX Runtime, {n} thread{"s" if n > 1 else ""}',
                (lambda policy: lambda: policy.predict(rgb, INSTRUCTION))(ort),
                'eager, inference_mode', n == 1,
                f'export + check {ort.engine.build_seconds:.1f} s at start-up')
    else:
        rows.append({'variant': 'ONNX Runtime', 'skipped': 'onnxruntime/onnx not installed'})
    rows.append({'variant': 'fp16 on CUDA', 'skipped': 'no CUDA device here: implemented '
                 '(precision:=fp16, device:=cuda), untested'})
    add('preprocess: one INTER_AREA resize (before)',
        lambda: cv2.resize(view, size, interpolation=cv2.INTER_AREA), '', False,
        '640x480 -> 64x64, OpenCV 1 thread')
    add('preprocess: halve, then INTER_AREA', lambda: prepare_rgb(view, 'rgb8', size),
        'preprocess: one INTER_AREA resize (before)', True, 'prepare_rgb, OpenCV 1 thread')
    add('preprocess: halve, then INTER_AREA, OpenCV 2 threads',
        lambda: prepare_rgb(view, 'rgb8', size), 'preprocess: halve, then INTER_AREA', False,
        'the node sets OpenCV threads = threads (1)', threads(1, 2))

    per_round = max(5, iterations // rounds)
    for turn in range(rounds):
        for row, fn, setup, samples in timed_rows:
            setup()
            samples.extend(timed(fn, per_round, warmup=3 if turn else 10,
                                 budget=BUDGET_S / rounds, least=2))
    threads()()
    for row, _, _, samples in timed_rows:
        stats = summarize(samples)
        row.update({k: stats[k] for k in ('p50', 'p99', 'n')})
        log(f'  {row["variant"]:<52} p50 {stats["p50"]:7.3f} ms  p99 {stats["p99"]:7.3f} ms')
    return rows
