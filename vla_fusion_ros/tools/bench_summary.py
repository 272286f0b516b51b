# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The benchmark's derived results: DDS-level variant rows and notes."""

from typing import Dict


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
        floor.get('single'), True, 'rclpy floor, 30 Hz')
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


NOTES = [
    '## How it is measured',
    '- One process publishes the frames (8 pre-rendered 640x480 rgb8 scenes of the simulated '
    'camera, best effort, depth 1), stamping each just before `publish`, and receives the '
    "commands (reliable) and /diagnostics; it waits for the next frame inside the executor's "
    '`spin_once`, so a command is timestamped as it arrives. The node under test is a separate '
    'process started from the colcon install tree with `config/fusion.yaml`, '
    '`output_type:=twist_stamped`, a fixed instruction and `threads:=1`; it is warmed up at '
    '30 Hz before each measured stretch. A fresh node serves the flood.',
    '- Latency therefore holds both DDS legs (the 900 KB image and the command) and every '
    'executor and thread hand-off; the floor holds the same legs with nothing in between.',
    '- Model figures are `perf_counter` times of single calls in the benchmark process, one '
    'torch/ONNX Runtime thread unless said, after a warm-up; every engine is built and checked '
    'against eager PyTorch first (as the node does at start-up).',
    '- All processes get their own ROS_DOMAIN_ID, ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST and '
    'the shipped Fast DDS profile [config/fastdds.xml](../../config/fastdds.xml) (an 8 MiB '
    'shared-memory segment, so a 900 KB frame travels whole). With the built-in Fast DDS '
    'transports (512 KiB segment; `LARGE_DATA` too) about a third of the 640x480 frames were '
    'lost at 30 Hz, for the floor as for the node, on Kilted and Jazzy alike.',
    '',
    '## What changed in the node for these figures',
    '- **Inference engine** (`inference_backend`, default `auto`): the model is exported to '
    'ONNX at start-up (uint8 frame to actions in one graph), checked against eager PyTorch on '
    'probe inputs, and run by ONNX Runtime; TorchScript where onnxruntime is missing, eager '
    'PyTorch on CUDA (`precision:=fp16` halves it there: implemented, untested, no GPU here). '
    'Under an engine the debug overlay re-runs the last frame through the eager model.',
    "- **Executor** (`executor`, default `events`): rclpy's EventsExecutor where it exists "
    '(Jazzy and newer), SingleThreadedExecutor elsewhere (Humble).',
    '- **Rate limiter**: the inference loop took the frame, then slept until one period after '
    'the previous start, so with a camera at exactly `control_rate` every late frame delayed '
    'all the frames after it, and under a flood the processed frame aged by up to a period '
    'while it waited. Now it waits first, then takes the newest frame, and the limit is a '
    "two-frame token bucket (the replay rows above compare both on this run's arrivals).",
    "- **Resize**: `prepare_rgb` halves a large frame exactly (2x2 means, OpenCV's fast "
    'path) into a per-thread scratch buffer before the area resize: 640x480 to 64x64 in about '
    '0.4 ms instead of 1.3 ms, within a few hundredths of a grey level of one INTER_AREA on '
    'average; the model input stays the only new array.',
    "- **Threads**: OpenCV's pool follows the `threads` parameter (1): two OpenCV threads "
    'on two busy cores made the resize several times slower at the median.',
]


def add_notes(results: Dict) -> None:
    """Add the explanatory notes benchmark.md prints under its tables."""
    floor = results.get('floor', {}).get('single')
    if floor and floor['delivered'] < 0.95:
        results['node_note'] = (
            f'"answered" is the share of the frames sent that came back as a command. Even the '
            f'echo node answered only {100 * floor["delivered"]:.0f}% here: Fast DDS dropped '
            'best-effort 640x480 frames on this loaded machine before any node code ran (the '
            "fusion node's own counters, in benchmark.json, show what it received and "
            'dropped). The brief measured every frame delivered on an idle machine of this '
            'kind.')
    results['notes'] = NOTES
