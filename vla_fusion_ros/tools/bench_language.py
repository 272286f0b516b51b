# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
r"""
What the language encoder costs the node, per checkpoint (``language.kind`` words or minilm).

::

    python -m vla_fusion_ros.tools.bench_language \\
        --checkpoint words=runs/lang_words/model.safetensors \\
        --checkpoint minilm=runs/lang_minilm/model.safetensors \\
        --before main=/path/to/a/checkout/of/main --out results/language

For each checkpoint (and, with ``--before``, the shipped model of another checkout, run with
that checkout's code):

1. **per frame**, in a fresh process: ``VLAPolicy.predict`` served as the node serves it
   (``inference_backend`` auto, 1 thread), p50/p99, on a prepared instruction;
2. **the encoder's own time**: ``VLAPolicy.prepare`` of instructions it has not seen
   (tokenizer, text encoder, adapters), p50/p99;
3. **start-up**, over DDS: from spawning ``fusion_node`` (given an instruction, frames
   streaming at 30 Hz) to the first command received, and the node's RSS then;
4. **instruction changes**, over DDS: 640x480 frames of one scene at 30 Hz; every 0.5 s the
   ``~/instruction`` switches between two texts whose actions on that frame differ (both known
   in advance from the same checkpoint); latency from publishing the ``String`` to receiving
   the first command equal to the new instruction's action, p50/p99, beside the node's
   frame-to-command latency in the same run.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Tuple

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PERIOD = 1.0 / 30.0
#: Instructions whose actions on the benchmark frame are compared to pick a switching pair.
CANDIDATES = [f'go to the {c} {s}' for c in ('red', 'green', 'blue', 'yellow')
              for s in ('circle', 'square', 'triangle')]

# Runs in a fresh interpreter, with ``repo`` first on sys.path: the same code measures this
# checkout and an older one (whose API has predict and warmup but not prepare).
_FRAME_COST = r"""
import json, sys, time
repo, checkpoint, iterations = sys.argv[1], sys.argv[2], int(sys.argv[3])
sys.path.insert(0, repo)
import numpy as np, torch
torch.set_num_threads(1)
from vla_fusion_ros.model import VLAPolicy
from vla_fusion_ros.tools.bench_model import summarize
policy = VLAPolicy.from_checkpoint(checkpoint)
policy.warmup(backend='auto', threads=1)
width, height = policy.image_size
rng = np.random.default_rng(0)
frames = [rng.integers(0, 256, (height, width, 3), dtype=np.uint8) for _ in range(8)]
text = 'go to the red circle'
policy.predict(frames[0], text)
times = []
for i in range(iterations):
    start = time.perf_counter()
    policy.predict(frames[i % 8], text)
    times.append(time.perf_counter() - start)
out = {'backend': policy.backend, 'frame': summarize(times)}
if hasattr(policy, 'prepare'):
    encode = []
    for i in range(min(iterations, 200)):
        start = time.perf_counter()
        policy.prepare(f'please find the object number {i} quickly')
        encode.append(time.perf_counter() - start)
    out['encoder'] = summarize(encode)
print(json.dumps(out))
"""


# The two runtimes of the frozen MiniLM, each in a fresh interpreter (torch already imported,
# as in the node): construction (imports included), first encode, steady encode, RSS growth.
_RUNTIME_COST = r"""
import json, resource, sys, time
import torch
torch.set_num_threads(1)
from vla_fusion_ros.model.minilm import MiniLMRuntime, MiniLMTokenizer
from vla_fusion_ros.tools.bench_model import summarize
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
runtime = MiniLMRuntime(sys.argv[1])
tokenizer = MiniLMTokenizer(24)
loaded = time.perf_counter() - start
ids, mask = tokenizer.encode('go to the crimson ball')
start = time.perf_counter()
runtime(ids, mask)
first = time.perf_counter() - start
times = []
for i in range(100):
    ids, mask = tokenizer.encode(f'please drive over to object number {i}')
    start = time.perf_counter()
    runtime(ids, mask)
    times.append(time.perf_counter() - start)
rss = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024
print(json.dumps({'load_s': loaded, 'first_encode_ms': first * 1e3,
                  'encode': summarize(times), 'rss_growth_mb': rss}))
"""


def runtime_cost(runtime: str) -> Dict:
    """Measure one MiniLM runtime (onnxruntime or torch) in a fresh interpreter."""
    done = subprocess.run([sys.executable, '-c', _RUNTIME_COST, runtime], capture_output=True,
                          text=True, timeout=600, cwd=REPO)
    if done.returncode:
        raise RuntimeError(f'runtime {runtime} failed: {done.stderr[-2000:]}')
    return json.loads(done.stdout.strip().splitlines()[-1])


def frame_cost(repo: str, checkpoint: str, iterations: int) -> Dict:
    """Measure per-frame and encoder cost in a fresh process running ``repo``'s code."""
    done = subprocess.run([sys.executable, '-c', _FRAME_COST, repo, checkpoint,
                           str(iterations)], capture_output=True, text=True, timeout=600,
                          cwd=tempfile.gettempdir())
    if done.returncode:
        raise RuntimeError(f'frame cost of {checkpoint} failed: {done.stderr[-2000:]}')
    return json.loads(done.stdout.strip().splitlines()[-1])


def _node_cmd(repo: str, checkpoint: str, instruction: str) -> List[str]:
    from vla_fusion_ros.harness.ros_args import ros_args
    from vla_fusion_ros.tools.bench_ros import REMAPS
    params = {'checkpoint': os.path.abspath(checkpoint), 'instruction': instruction,
              'output_type': 'twist_stamped', 'threads': 1}
    remaps = {**REMAPS, '~/instruction': '/bench/instruction'}
    code = (f'import sys; sys.path.insert(0, {repo!r}); '
            'from vla_fusion_ros.ros.fusion_node import main; sys.exit(main())')
    return [sys.executable, '-c', code] + ros_args(
        'fusion_node', os.path.join(REPO, 'config', 'fusion.yaml'), params, remaps)


def startup(harness, repo: str, checkpoint: str, log_path: str,
            timeout: float = 120.0) -> Dict:
    """Spawn the node with frames streaming; return seconds to the first command and RSS."""
    from vla_fusion_ros.harness.process import NodeProcess
    # The node before this one publishes a final zero as it stops; let it arrive first, or
    # it would count as this node's first command.
    harness.spin_until(time.monotonic() + 1.0)
    mark = len(harness.commands)
    start = time.monotonic()
    process = NodeProcess(_node_cmd(repo, checkpoint, CANDIDATES[0]), log_path=log_path)
    try:
        k = 0
        while len(harness.commands) == mark:
            if not process.alive() or time.monotonic() - start > timeout:
                raise RuntimeError(f'no command from {checkpoint}:\n{process.log_tail()}')
            harness.spin_until(start + k * PERIOD)
            _publish_frame(harness)
            k += 1
        first = harness.commands.records[mark].t_mono - start
        rss = process.rss()
        return {'first_command_s': first, 'rss_mb': rss / 2 ** 20}
    finally:
        process.stop()


def _publish_frame(harness) -> int:
    msg = harness.frames[0]
    now = time.time_ns()
    msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(now, 1_000_000_000)
    harness.image_pub.publish(msg)
    return now


def switching_pair(checkpoint: str, harness) -> Tuple[Tuple[str, str], Dict[str, np.ndarray]]:
    """Pick the two candidate instructions whose actions on the frame differ most."""
    from vla_fusion_ros.model import VLAPolicy
    from vla_fusion_ros.ros.image_conversion import ImageDecoder, prepare_rgb
    policy = VLAPolicy.from_checkpoint(checkpoint)
    policy.warmup(backend='auto', threads=1)
    rgb = prepare_rgb(ImageDecoder().decode(harness.frames[0]), 'rgb8', policy.image_size)
    actions = {t: policy.predict(rgb, t)[0] for t in CANDIDATES}
    pair = max(((a, b) for a in CANDIDATES for b in CANDIDATES if a < b),
               key=lambda p: np.abs(actions[p[0]] - actions[p[1]]).max())
    return pair, actions


def changes(harness, repo: str, checkpoint: str, log_path: str, count: int,
            every: int = 15) -> Dict:
    """Switch the instruction ``count`` times at 30 Hz frames; return the latencies."""
    from vla_fusion_ros.harness.process import NodeProcess
    from vla_fusion_ros.tools.bench_model import summarize
    (first, second), actions = switching_pair(checkpoint, harness)
    gap = float(np.abs(actions[first] - actions[second]).max())
    tol = max(1e-4, gap / 20)
    if gap < 2e-3:
        raise RuntimeError(f'{checkpoint}: no two instructions act differently on the frame')
    publisher = harness.probe.instruction_publisher('/bench/instruction')
    process = NodeProcess(_node_cmd(repo, checkpoint, first), log_path=log_path)
    try:
        harness.wait_ready(process, 120.0)
        start = time.monotonic()
        for k in range(60):  # warm up on the first instruction
            harness.spin_until(start + k * PERIOD)
            _publish_frame(harness)
        events, texts = [], (first, second)
        start = time.monotonic()
        for k in range(count * every + every):
            harness.spin_until(start + (k + 0.5) * PERIOD)
            if k % every == 0 and k // every < count:
                # Half a period after a frame: the instruction lands between two frames.
                text = texts[(k // every + 1) % 2]
                events.append((time.time_ns(), text))
                harness.probe.publish_instruction(publisher, text)
            harness.spin_until(start + (k + 1) * PERIOD)
            _publish_frame(harness)
        harness.spin_until(time.monotonic() + 0.5)
        records = list(harness.commands.records)
    finally:
        process.stop()
    latencies, missed = [], 0
    for sent, text in events:
        want = actions[text]
        hit = next((c for c in records if c.received_ns > sent
                    and abs(c.linear - want[0]) <= tol and abs(c.angular - want[1]) <= tol),
                   None)
        if hit is None or hit.received_ns - sent > every * PERIOD * 1e9:
            missed += 1
        else:
            latencies.append((hit.received_ns - sent) * 1e-9)
    frame = [(c.received_ns - c.stamp_ns) * 1e-9 for c in records
             if c.stamp_ns and c.received_ns > events[0][0]]
    return {'pair': [first, second], 'action_gap': gap, 'tolerance': tol,
            'changes': len(events), 'missed': missed, 'latency': summarize(latencies),
            'frame_to_command': summarize(frame)}


def format_report(results: Dict) -> str:
    """Markdown tables of every figure in ``results``, with the change-latency target."""
    lines = ['# What the language encoder costs the node', '',
             f'Command: `{results["command"]}`; machine: {results["machine"]["cpu"]}, '
             f'{results["machine"]["usable_cores"]} cores; load average at start '
             f'{results["load_start"][0]:.2f}, at end {results["load_end"][0]:.2f} (the machine '
             'is shared: other work on it shows as spread).', '']
    runtimes = results.get('minilm_runtimes')
    if runtimes:
        lines += ['## The frozen MiniLM: ONNX Runtime or transformers', '',
                  '| runtime | ready (s) | first encode (ms) | encode p50 / p99 (ms) | RSS (MB) |',
                  '|---|---|---|---|---|']
        for name, c in runtimes.items():
            lines.append(f'| {name} | {c["load_s"]:.2f} | {c["first_encode_ms"]:.1f} | '
                         f'{c["encode"]["p50"]:.1f} / {c["encode"]["p99"]:.1f} | '
                         f'+{c["rss_growth_mb"]:.0f} |')
        lines.append('')
    lines += ['## Per model', '',
              '| model | per frame p50 / p99 (ms) | encoder p50 / p99 (ms) | start-up to first '
              'command (s) | RSS (MB) | instruction change p50 / p99 (ms) |',
              '|---|---|---|---|---|---|']
    checks = []
    for name, m in results['models'].items():
        enc = m.get('encoder')
        change = m.get('changes')
        lat = change['latency'] if change else {}
        lines.append(
            f'| {name} | {m["frame"]["p50"]:.2f} / {m["frame"]["p99"]:.2f} | '
            + (f'{enc["p50"]:.2f} / {enc["p99"]:.2f}' if enc else 'n/a (per frame)')
            + f' | {m["startup"]["first_command_s"]:.2f} | {m["startup"]["rss_mb"]:.0f} | '
            + (f'{lat["p50"]:.1f} / {lat["p99"]:.1f} (n={lat["n"]}, missed '
               f'{change["missed"]})' if lat.get('n') else '-') + ' |')
        if lat.get('n') and enc:
            bound = PERIOD * 1e3 + enc['p99']
            frame = change['frame_to_command'].get('p99', 0.0)
            checks.append(f'- {name}: change p99 {lat["p99"]:.1f} ms against one control '
                          f'period + the p99 of the encoder = {bound:.1f} ms: '
                          f'{"met" if lat["p99"] <= bound else "NOT met"}; with the node '
                          f'own frame-to-command p99 in the same run ({frame:.1f} ms) added: '
                          f'{"met" if lat["p99"] <= bound + frame else "NOT met"}.')
    if checks:
        lines += ['', '## Instruction change: target', '',
                  'From publishing the `String` to receiving the first command equal to the new '
                  "instruction's action; frames at 30 Hz (control period 33.3 ms).", '', *checks]
    return '\n'.join(lines) + '\n'


def main(argv=None) -> int:
    """Measure every checkpoint; write bench.json and print a summary."""
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--checkpoint', action='append', default=[], metavar='NAME=PATH')
    parser.add_argument('--before', action='append', default=[], metavar='NAME=CHECKOUT',
                        help='another checkout whose shipped model and code to measure too')
    parser.add_argument('--iterations', type=int, default=500)
    parser.add_argument('--starts', type=int, default=3, help='start-ups per checkpoint')
    parser.add_argument('--changes', type=int, default=40)
    parser.add_argument('--runtimes', action='store_true',
                        help='also time the frozen MiniLM on ONNX Runtime and on transformers')
    parser.add_argument('--out', default=os.path.join(REPO, 'results', 'language'))
    parser.add_argument('--report', metavar='BENCH_JSON', help='only re-render bench.md')
    args = parser.parse_args(argv)
    if args.report:
        with open(args.report, encoding='utf-8') as handle:
            text = format_report(json.load(handle))
        with open(os.path.join(os.path.dirname(args.report), 'bench.md'), 'w',
                  encoding='utf-8') as handle:
            handle.write(text)
        return 0
    runs = [(n, REPO, p) for n, p in (c.split('=', 1) for c in args.checkpoint)]
    for name, checkout in (b.split('=', 1) for b in args.before):
        models = os.path.join(os.path.abspath(checkout), 'models')
        shipped = [os.path.join(models, f) for f in ('overhead.safetensors',
                                                     'default.safetensors')]
        runs.append((name, os.path.abspath(checkout),
                     next((p for p in shipped if os.path.isfile(p)), shipped[0])))
    from vla_fusion_ros.harness import environment
    environment.isolate()
    from vla_fusion_ros.tools import bench_model
    from vla_fusion_ros.tools.bench_ros import Harness
    results = {'command': 'python -m vla_fusion_ros.tools.bench_language '
                          + ' '.join(argv if argv is not None else sys.argv[1:]),
               'machine': bench_model.machine(), 'load_start': list(os.getloadavg()),
               'models': {}}
    if args.runtimes:
        results['minilm_runtimes'] = {}
        for runtime in ('onnxruntime', 'torch'):
            cost = results['minilm_runtimes'][runtime] = runtime_cost(runtime)
            print(f'MiniLM on {runtime}: ready in {cost["load_s"]:.2f} s, first encode '
                  f'{cost["first_encode_ms"]:.1f} ms, then p50 {cost["encode"]["p50"]:.1f} / '
                  f'p99 {cost["encode"]["p99"]:.1f} ms, RSS +{cost["rss_growth_mb"]:.0f} MB',
                  flush=True)
    logs = tempfile.mkdtemp(prefix='vla_bench_language_')
    harness = Harness(bench_model.WIDTH, bench_model.HEIGHT, frames=1)
    try:
        for name, repo, checkpoint in runs:
            entry = {'checkpoint': checkpoint, 'code': repo}
            entry.update(frame_cost(repo, checkpoint, args.iterations))
            print(f'{name}: per frame {entry["frame"]["p50"]:.2f}/{entry["frame"]["p99"]:.2f} '
                  f'ms p50/p99 ({entry["backend"]})' + (
                      f'; encoder {entry["encoder"]["p50"]:.2f}/{entry["encoder"]["p99"]:.2f} '
                      'ms' if 'encoder' in entry else ''), flush=True)
            starts = [startup(harness, repo, checkpoint, os.path.join(logs, f'{name}-{i}.log'))
                      for i in range(args.starts)]
            entry['startup'] = {'runs': starts,
                                'first_command_s': statistics.median(
                                    s['first_command_s'] for s in starts),
                                'rss_mb': statistics.median(s['rss_mb'] for s in starts)}
            print(f'{name}: start-up to first command {entry["startup"]["first_command_s"]:.2f} '
                  f's (median of {len(starts)}), RSS {entry["startup"]["rss_mb"]:.0f} MB',
                  flush=True)
            if repo == REPO and args.changes:
                entry['changes'] = changes(harness, repo, checkpoint,
                                           os.path.join(logs, f'{name}-changes.log'),
                                           args.changes)
                lat = entry['changes']['latency']
                print(f'{name}: instruction change p50 {lat.get("p50", 0):.1f} ms, p99 '
                      f'{lat.get("p99", 0):.1f} ms over {entry["changes"]["changes"]} changes '
                      f'({entry["changes"]["missed"]} missed)', flush=True)
            results['models'][name] = entry
    finally:
        harness.close()
    results['load_end'] = list(os.getloadavg())
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, 'bench.json')
    with open(path, 'w', encoding='utf-8') as handle:
        json.dump(results, handle, indent=1)
    with open(os.path.join(args.out, 'bench.md'), 'w', encoding='utf-8') as handle:
        handle.write(format_report(results))
    print(f'wrote {path} and bench.md (node logs in {logs})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
