# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The benchmark's derived text and rows: computed from a run's results whenever a report is written.

Nothing here is stored in benchmark.json, and every figure comes from the results it is given,
so a report re-rendered from an old run (``--report``) says what that run measured.
"""

from typing import Dict, List, Optional, Tuple


def ros_variants(results: Dict) -> list:
    """Rows of the optimisation table measured over DDS (executor, engine)."""
    rows = []

    def row(variant, phase, baseline, kept, note):
        if not phase or not baseline:
            return
        lat, ref = phase['latency'], baseline['latency']
        rows.append({'variant': variant, 'p50': lat.get('p50'), 'p99': lat.get('p99'),
                     'ratio': (f'{lat["p50"] / ref["p50"]:.2f}x' if ref.get('p50') else ''),
                     'kept': kept, 'note': note})

    floor, node = results.get('floor', {}), results.get('node', {})
    row('floor: EventsExecutor (vs SingleThreadedExecutor)', floor.get('events'),
        floor.get('single'), True,
        f'rclpy floor, {floor["single"]["rate_hz"]:g} Hz' if floor.get('single') else '')
    single = node.get('executor:=single')
    multi, events = node.get('executor:=multi'), node.get('executor:=events')
    if single and events:
        row('fusion_node: EventsExecutor (vs SingleThreadedExecutor)', events, single, True,
            f'node CPU {events["node_cpu_percent"]:.0f}% vs {single["node_cpu_percent"]:.0f}%')
    if multi and events:
        row('fusion_node: EventsExecutor (vs MultiThreadedExecutor)', events, multi, True,
            f'node CPU {events["node_cpu_percent"]:.0f}% vs {multi["node_cpu_percent"]:.0f}%')
    row('fusion_node: engine auto (vs eager torch)', node.get('default'),
        node.get('inference_backend:=torch (eager)'), True,
        f'served: {results.get("served_backend")}')
    return rows


def _optimisation(results: Dict, variant: str) -> Optional[float]:
    """Return the p50 (ms) of an optimisation row of this run, or None."""
    row = next((o for o in results.get('optimisations', []) if o['variant'] == variant), None)
    return row.get('p50') if row else None


def frame_labels(results: Dict) -> Tuple[str, str]:
    """Return this run's frame ('640x480 rgb8') and model input ('64x64') as the data say."""
    frame = (results.get('conversion') or {}).get('frame', '')
    source, _, target = frame.partition(' -> ')
    return source or 'camera', target or 'model input'


def notes(results: Dict) -> List[str]:
    """Return the notes benchmark.md prints under its tables, every figure from ``results``."""
    source, target = frame_labels(results)
    floor = results.get('floor', {}).get('single') or {}
    rate = floor.get('rate_hz')
    frame_bytes = (results.get('conversion') or {}).get('frame_bytes')
    size = f'{frame_bytes / 1024:.0f} KiB ' if frame_bytes else ''
    lines = [
        '## How it is measured',
        f'- One process publishes the frames (pre-rendered {source} scenes of the simulated '
        'camera, best effort, depth 1), stamping each just before `publish`, and receives the '
        "commands (reliable) and /diagnostics; it waits for the next frame inside the executor's"
        ' `spin_once`, so a command is timestamped as it arrives. The node under test is a '
        'separate process started from the colcon install tree with `config/fusion.yaml`, '
        '`output_type:=twist_stamped`, a fixed instruction and `threads:=1`; it is warmed up '
        + (f'at {rate:g} Hz ' if rate else '') + 'before each measured stretch. A fresh node '
        'serves the flood.',
        f'- Latency therefore holds both DDS legs (the {size}image and the command) and every '
        'executor and thread hand-off; the floor holds the same legs with nothing in between.',
        '- Model figures are `perf_counter` times of single calls in the benchmark process, one '
        'torch/ONNX Runtime thread unless said, after a warm-up; every engine is built and '
        'checked against eager PyTorch first (as the node does at start-up).',
        '- All processes get their own ROS_DOMAIN_ID, ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST '
        'and the shipped Fast DDS profile [config/fastdds.xml](../../config/fastdds.xml), whose '
        'shared-memory segment holds a whole frame (the file says why; the README says what is '
        'lost without it).',
        '',
        '## What the node does for these figures',
        '- **Inference engine** (`inference_backend`, default `auto`): the model is exported to '
        'ONNX at start-up (uint8 frame to actions in one graph), checked against eager PyTorch '
        'on probe inputs, and run by ONNX Runtime; TorchScript where onnxruntime is missing, '
        'eager PyTorch on CUDA (`precision:=fp16` there: implemented, not measured here). Under '
        'an engine the debug overlay re-runs the last frame through the eager model.',
        "- **Executor** (`executor`, default `events`): rclpy's EventsExecutor where it exists "
        '(Jazzy and newer), SingleThreadedExecutor elsewhere (Humble).',
        '- **Rate limit** (`control_rate`): the inference thread waits first, then takes the '
        'newest frame; the limit is a token bucket (vla_fusion_ros.ros.pacing), so frames that '
        'arrive at the rate with jitter are not held back.',
    ]
    before = _optimisation(results, 'preprocess: one INTER_AREA resize (before)')
    after = _optimisation(results, 'preprocess: halve, then INTER_AREA')
    two = _optimisation(results, 'preprocess: halve, then INTER_AREA, OpenCV 2 threads')
    resize = ("- **Resize**: `prepare_rgb` halves a large frame exactly (2x2 means, OpenCV's "
              'fast path) into a per-thread scratch buffer before the area resize')
    if before and after:
        resize += f': {source} to {target} in {after:.2f} ms instead of {before:.2f} ms (p50)'
    lines.append(resize + '; the model input stays the only new array.')
    threads = "- **Threads**: OpenCV's pool follows the `threads` parameter"
    if after and two:
        threads += (f'; with two OpenCV threads the resize took {two / after:.2f}x the time of '
                    'one (p50)')
    lines.append(threads + '.')
    return lines


def node_note(results: Dict) -> str:
    """Explain a low answered share of the floor, if this run had one ('' otherwise)."""
    floor = results.get('floor', {}).get('single')
    if not floor or floor['delivered'] >= 0.95:
        return ''
    return (f'"answered" is the share of the frames sent that came back as a command. Even the '
            f'echo node answered only {100 * floor["delivered"]:.0f}% here: Fast DDS dropped '
            "best-effort frames before any node code ran (the fusion node's own counters, in "
            'benchmark.json, show what it received and dropped).')


def load_note(results: Dict) -> str:
    """Describe the machine's load during the run."""
    machine, load = results['machine'], results['load']
    return (f'Load: {machine["usable_cores"]} usable cores; the 1-minute load average was '
            f'{load["start"][0]:.2f} at the start and {load["end"][0]:.2f} at the end. Other '
            f'processes busy at the start: {load.get("busy_at_start", "not recorded")}. Each DDS '
            'phase records its own load in benchmark.json.')
