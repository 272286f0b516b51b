# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The benchmark's in-process half: model cost, cost growth, conversion and optimisation variants.

Every figure is a distribution of wall-clock times of single batch-1 calls (``perf_counter``),
summarised as p50/p90/p99/max in milliseconds. Frames are 640x480 rgb8 ``sensor_msgs/Image``
messages drawn by the simulated camera's scene, decoded by the node's own zero-copy decoder.
"""

import os
import platform
import sys
import time
import tracemalloc
from typing import Callable, Dict, List, Optional, Sequence

import cv2
import numpy as np
import torch

from vla_fusion_ros.model import (count_flops, count_parameters, FUSION_OPERATORS, ModelConfig,
                                  VLAPolicy)
from vla_fusion_ros.ros.image_conversion import ImageDecoder, prepare_rgb

INSTRUCTION = 'go to the red circle'
WIDTH, HEIGHT = 640, 480
BASELINES = ('early', 'late', 'vision_only')
GROWTH_LAYERS = ([1], [1, 2], [1, 2, 3], [0, 1, 2, 3])
GROWTH_SIZES = (32, 64, 96, 128)
#: The layer sweep runs for the default operator and for attention, whose cost is per token.
GROWTH_OPERATORS = ('film', 'cross_attention')


def summarize(seconds: Sequence[float]) -> Dict[str, float]:
    """Return n, mean and the p50/p90/p99/max of durations given in seconds, in ms."""
    ms = np.asarray(seconds, dtype=np.float64) * 1e3
    if ms.size == 0:
        return {'n': 0}
    return {'n': int(ms.size), 'mean': float(ms.mean()), 'p50': float(np.percentile(ms, 50)),
            'p90': float(np.percentile(ms, 90)), 'p99': float(np.percentile(ms, 99)),
            'max': float(ms.max())}


#: Longest a single measurement may take (s): on a loaded 2-core machine two torch threads
#: can cost half a second a call; such a cell stops early with fewer samples (``n``).
BUDGET_S = 15.0


def timed(fn: Callable[[], object], iterations: int, warmup: int = 10,
          budget: float = BUDGET_S, least: int = 10) -> List[float]:
    """
    Call ``fn`` ``warmup`` times untimed, then ``iterations`` times; return the durations.

    Stops early once ``budget`` seconds are spent, keeping at least ``least`` samples.
    """
    for _ in range(warmup):
        fn()
    times = []
    deadline = time.monotonic() + budget
    for i in range(iterations):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
        if i + 1 >= least and time.monotonic() > deadline:
            break
    return times


def frame_message(width: int = WIDTH, height: int = HEIGHT, index: int = 0):
    """Return a ``sensor_msgs/Image`` rgb8 frame of the simulated camera's scene."""
    from sensor_msgs.msg import Image

    from vla_fusion_ros.ros.image_conversion import array_to_image_msg
    from vla_fusion_ros.sim.shapes import SyntheticScene
    scene = SyntheticScene(width, height, seed=0, num_shapes=4)
    return array_to_image_msg(scene.render(index), 'rgb8', Image)


def _version(*names: str) -> Optional[str]:
    from importlib import metadata
    for name in names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def machine() -> Dict[str, object]:
    """Describe the machine and the software the figures come from."""
    import psutil
    cpu = platform.processor() or 'unknown'
    try:
        with open('/proc/cpuinfo', encoding='utf-8') as handle:
            names = [line.split(':', 1)[1].strip() for line in handle
                     if line.startswith('model name')]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        usable = os.cpu_count()
    return {
        'cpu': cpu, 'logical_cores': os.cpu_count(), 'usable_cores': usable,
        'memory_gb': round(psutil.virtual_memory().total / 2**30, 1),
        'os': platform.platform(), 'python': sys.version.split()[0],
        'torch': torch.__version__, 'numpy': np.__version__, 'opencv': cv2.__version__,
        'onnxruntime': _version('onnxruntime'),
        'rclpy': _version('ros-rclpy', 'ros-jazzy-rclpy', 'rclpy'),
        'ros_distro': os.environ.get('ROS_DISTRO') or os.environ.get('VFR_DISTRO', ''),
        'rmw': os.environ.get('RMW_IMPLEMENTATION', 'rmw_fastrtps_cpp (default)'),
        'fastdds_transports': os.environ.get('FASTDDS_BUILTIN_TRANSPORTS', ''),
        'fastdds_profile': os.path.basename(os.environ.get('FASTDDS_DEFAULT_PROFILES_FILE', '')),
        'cuda': torch.cuda.is_available(),
    }


def default_model() -> Dict[str, object]:
    """Return what the node serves by default: the shipped checkpoint, else the config."""
    from vla_fusion_ros.ros.policy_loader import default_checkpoint
    checkpoint = default_checkpoint()
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    config_path = os.path.join(repo, 'config', 'model_default.yaml')
    if checkpoint:
        policy = VLAPolicy.from_checkpoint(checkpoint)
        return {'label': f'shipped checkpoint {policy.identity}', 'checkpoint': checkpoint,
                'config': policy.config}
    return {'label': 'untrained model of config/model_default.yaml (no checkpoint shipped)',
            'checkpoint': '', 'config': ModelConfig.from_yaml(config_path)}


def make_policy(config: ModelConfig, checkpoint: str = '', backend: str = 'torch',
                threads: int = 1) -> VLAPolicy:
    """Build a policy as the node does (threads, engine, warm-up) from a checkpoint or config."""
    torch.set_num_threads(threads)
    cv2.setNumThreads(threads)  # as the node's loader does
    policy = (VLAPolicy.from_checkpoint(checkpoint) if checkpoint
              else VLAPolicy.from_config(config))
    policy.warmup(backend=backend, threads=threads)
    return policy


def model_cost(policy: VLAPolicy, msg, iterations: int) -> Dict[str, Dict[str, float]]:
    """Time preprocessing (prepare_rgb of the message view) and predict, call by call."""
    view = ImageDecoder().decode(msg)
    size = policy.image_size
    pre, fwd = [], []
    deadline = time.monotonic() + BUDGET_S
    for i in range(iterations + 10):
        t0 = time.perf_counter()
        rgb = prepare_rgb(view, 'rgb8', size)
        t1 = time.perf_counter()
        policy.predict(rgb, INSTRUCTION)
        t2 = time.perf_counter()
        if i >= 10:
            pre.append(t1 - t0)
            fwd.append(t2 - t1)
            if i >= 20 and time.monotonic() > deadline:
                break
    total = np.asarray(pre) + np.asarray(fwd)
    return {'preprocess': summarize(pre), 'forward': summarize(fwd), 'total': summarize(total)}


def paced_cost(policy: Optional[VLAPolicy], msgs: Sequence, rate: float = 30.0,
               iterations: int = 120) -> Dict[str, Dict[str, float]]:
    """
    Time message -> tensor (and ``predict``) at the camera's pace, on fresh frames.

    The node meets them once per camera period, each on a frame not seen for a while. A hot
    loop over one message keeps the frame in cache and the core awake; in the node every frame
    is a fresh 900 KB buffer and the core has idled since the last one. Here the calls
    follow a ``rate`` Hz schedule (sleeping between them) and rotate over ``msgs``. With
    ``policy=None`` only the conversion (decode, resize, ``torch.from_numpy``) is timed.
    """
    decoder = ImageDecoder()
    size = policy.image_size if policy is not None else (64, 64)
    period = 1.0 / rate
    pre, fwd = [], []
    start = time.monotonic()
    for i in range(iterations + 5):
        time.sleep(max(0.0, start + i * period - time.monotonic()))
        msg = msgs[i % len(msgs)]
        t0 = time.perf_counter()
        tensor = torch.from_numpy(prepare_rgb(decoder.decode(msg), msg.encoding, size))
        t1 = time.perf_counter()
        if policy is not None:
            policy.predict(tensor.numpy(), INSTRUCTION)
        t2 = time.perf_counter()
        if i >= 5:
            pre.append(t1 - t0)
            fwd.append(t2 - t1)
    out = {'rate_hz': rate, 'frames': len(msgs), 'preprocess': summarize(pre)}
    if policy is not None:
        out['forward'] = summarize(fwd)
        out['total'] = summarize(np.asarray(pre) + np.asarray(fwd))
    return out


def configurations(base: ModelConfig, checkpoint: str = '') -> List[Dict[str, object]]:
    """
    Every fusion operator at the default layers, then the early/late/vision_only baselines.

    The default configuration is the shipped ``checkpoint`` where there is one; the others
    are untrained models of the same size (an untrained model costs what a trained one does).
    """
    rows = []
    # The model's registry, the default operator first.
    for operator in sorted(FUSION_OPERATORS, key=lambda op: op != base.fusion.operator):
        default = operator == base.fusion.operator and base.fusion.mode == 'intermediate'
        rows.append({'name': operator + (' (default)' if default else ''),
                     'checkpoint': checkpoint if default else '',
                     'config': base.with_overrides(operator=operator, mode='intermediate')})
    for mode in BASELINES:
        rows.append({'name': mode, 'checkpoint': '', 'config': base.with_overrides(mode=mode)})
    return rows


def _describe_config(config: ModelConfig) -> Dict[str, object]:
    return {'mode': config.fusion.mode, 'operator': config.fusion.operator,
            'layers': list(config.fusion.layers), 'image_size': config.vision.image_size,
            'parameters': count_parameters(config), 'mflops': count_flops(config) / 1e6}


def fusion_table(base: ModelConfig, checkpoint: str, msg, backends: Sequence[str],
                 threads: Sequence[int], iterations: int, log=print,
                 subset: Optional[int] = None) -> List[Dict[str, object]]:
    """Model cost of every configuration (the first and last ``subset``), per engine/threads."""
    rows = []
    entries = configurations(base, checkpoint)
    if subset:
        entries = entries[:subset // 2] + entries[-(subset - subset // 2):]
    for entry in entries:
        row = {'name': entry['name'], **_describe_config(entry['config']), 'cost': {}}
        for backend in backends:
            for n in threads:
                policy = make_policy(entry['config'], entry['checkpoint'], backend, n)
                key = f'{policy.backend}/{n}t'
                row['cost'][key] = model_cost(policy, msg, iterations)
                total = row['cost'][key]['total']
                log(f'  {entry["name"]:<28} {key:<16} total p50 {total["p50"]:6.2f} ms '
                    f'p99 {total["p99"]:6.2f} ms')
        rows.append(row)
    return rows


def growth(base: ModelConfig, msg, backends: Sequence[str], iterations: int,
           log=print, subset: Optional[int] = None) -> Dict[str, List[Dict[str, object]]]:
    """Model cost against the number of fusion layers and against the input resolution."""
    from dataclasses import replace
    result = {'layers': [], 'resolution': []}
    layer_sets = GROWTH_LAYERS[:subset] if subset else GROWTH_LAYERS
    sides = GROWTH_SIZES[:subset] if subset else GROWTH_SIZES
    operators = [base.fusion.operator] + [op for op in GROWTH_OPERATORS
                                          if op != base.fusion.operator]
    cases = [('layers', str(len(layers)), base.with_overrides(
        operator=op, layers=list(layers), mode='intermediate'))
        for op in operators[:1 if subset else None] for layers in layer_sets]
    cases += [('resolution', str(side), replace(base, vision=replace(base.vision,
                                                                     image_size=side)))
              for side in sides]
    for kind, label, config in cases:
        row = {'x': label, **_describe_config(config), 'cost': {}}
        for backend in backends:
            policy = make_policy(config, backend=backend, threads=1)
            row['cost'][policy.backend] = model_cost(policy, msg, iterations)
            fwd = row['cost'][policy.backend]['forward']
            log(f'  {kind:<10} {label:>4} {config.fusion.operator:<16} {policy.backend:<12} '
                f'forward p50 {fwd["p50"]:6.2f} ms')
        result[kind].append(row)
    return result


def conversion(msg, size=(64, 64), iterations: int = 500) -> Dict[str, object]:
    """
    Cost and copies of message -> model input for one frame.

    Decoding must be a view of the message's buffer (no copy); the resize writes the only new
    array. Copies are checked with numpy's ``OWNDATA``/``shares_memory`` and by tracing every
    allocation (tracemalloc sees numpy's and OpenCV's arrays) during one conversion.
    """
    decoder = ImageDecoder()
    buffer = np.frombuffer(memoryview(msg.data).cast('B'), dtype=np.uint8)
    view = decoder.decode(msg)
    rgb = prepare_rgb(view, msg.encoding, size)
    tensor = torch.from_numpy(rgb)
    frame_bytes = int(msg.height) * int(msg.step)
    tracemalloc.start()
    before, _ = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    traced = prepare_rgb(decoder.decode(msg), msg.encoding, size)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # A longer warm-up than the model's: the first few hundred calls of a fresh process run
    # up to twice as slow (scratch buffers, caches, clocks).
    decode = timed(lambda: decoder.decode(msg), iterations, warmup=200)
    prepare = timed(lambda: prepare_rgb(view, msg.encoding, size), iterations, warmup=200)
    total = timed(lambda: torch.from_numpy(prepare_rgb(decoder.decode(msg), msg.encoding, size)),
                  iterations, warmup=200)
    new_bytes = max(0, peak - before)
    return {
        'frame': f'{msg.width}x{msg.height} {msg.encoding} -> {size[0]}x{size[1]}',
        'decoder': decoder.backend, 'frame_bytes': frame_bytes,
        'view_owns_data': bool(view.flags['OWNDATA']),
        'view_shares_message_buffer': bool(np.shares_memory(view, buffer)),
        'output_owns_data': bool(rgb.flags['OWNDATA']), 'output_bytes': int(traced.nbytes),
        'tensor_shares_output': bool(np.shares_memory(tensor.numpy(), rgb)),
        'peak_new_bytes': int(new_bytes),
        'frame_copies': int(new_bytes // frame_bytes),
        'decode': summarize(decode), 'prepare': summarize(prepare), 'total': summarize(total),
    }
