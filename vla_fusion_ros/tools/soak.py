# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Soak run: camera and fusion node for a long time, sampling memory and latency.

    python -m vla_fusion_ros.tools.soak --minutes 30 [--out results/reliability]

``sim_camera`` (640x480 rgb8 at 30 Hz, best effort, the deployment defaults) and
``fusion_node`` (``output_type:=twist_stamped``: each command carries its source frame's
stamp) run as processes from the install tree; the instruction, published latched by this
process, changes every ~10 s. Every few seconds the run samples the node's RSS (psutil on its
pid), its CPU use, the machine's load average, the node's ``/diagnostics`` and the latency of
the commands received since the last sample (reception time minus the frame's stamp: camera
to node to command, as a robot's controller sees it).

Verdicts, with the first sixth of the run as warm-up (minute 5 of 30):

- RSS growth from the end of the warm-up to the end: < 5 %;
- p99 latency drift, last fifth of the post-warm-up time against its first fifth: < 10 %;
- no crash: the node runs throughout and exits 0 on SIGINT, without a traceback.

Writes ``soak.md``, ``soak.json`` and ``soak.png``. The load average is recorded because the
machine may be shared: latency then reflects the other jobs as well as the node.
"""

import argparse
import json
import os
import signal
import sys
import time
from typing import Dict, List, Optional

import numpy as np

from vla_fusion_ros.harness import environment
from vla_fusion_ros.harness.executables import REPO
from vla_fusion_ros.harness.probe import Probe
from vla_fusion_ros.harness.process import NodeProcess
from vla_fusion_ros.harness.records import LIMITS
from vla_fusion_ros.ros import diagnostic_keys as keys
from vla_fusion_ros.tools.run_info import git_commit, load_samples
from vla_fusion_ros.train.metrics import spearman

INSTRUCTIONS = ('go to the red circle', 'drive toward the blue square',
                'head for the green triangle', 'find the yellow star',
                'approach the red square', 'navigate to the blue circle')
NODE = 'soak_fusion'
IMAGE = '/soak/image'
CMD = '/soak/cmd_vel'
INSTRUCTION = '/soak/instruction'
WATCHDOG = 0.5                # s, the node's watchdog_timeout in the soak
CAMERA_RATE = 30.0            # Hz
#: The verdicts' bounds: RSS growth after the warm-up, and p99 drift (shares).
RSS_GROWTH_LIMIT = 0.05
P99_DRIFT_LIMIT = 0.10


def _percentile(values, q) -> Optional[float]:
    return float(np.percentile(values, q)) if len(values) else None


def run_soak(seconds: float, warmup: Optional[float] = None, interval: float = 5.0,
             instruction_period: float = 10.0, width: int = 640, height: int = 480,
             log_dir: Optional[str] = None, progress=print) -> Dict:
    """Run camera and node for ``seconds``; return samples and verdicts."""
    import psutil
    warmup = seconds / 6.0 if warmup is None else warmup
    probe = Probe()
    probe.watch_diagnostics()
    commands = probe.watch_commands(CMD, stamped=True)
    instruction_pub = probe.instruction_publisher(INSTRUCTION)
    probe.publish_instruction(instruction_pub, INSTRUCTIONS[0])
    node = NodeProcess('fusion_node', node_name=NODE, log_dir=log_dir, params={
        'output_type': 'twist_stamped', 'max_linear': LIMITS[0], 'max_angular': LIMITS[1],
        'control_rate': CAMERA_RATE, 'watchdog_timeout': WATCHDOG},
        remaps={'~/image_raw': IMAGE, 'cmd_vel': CMD, '~/instruction': INSTRUCTION})
    camera = NodeProcess('sim_camera', node_name='soak_camera', log_dir=log_dir, params={
        'frequency': CAMERA_RATE, 'width': width, 'height': height, 'encoding': 'rgb8',
        'seed': 1},
        remaps={'~/image_raw': IMAGE})
    samples: List[Dict] = []
    result: Dict = {'duration_s': seconds, 'warmup_s': warmup, 'interval_s': interval,
                    'image': f'{width}x{height} rgb8 at {CAMERA_RATE:g} Hz',
                    'camera_rate_hz': CAMERA_RATE, 'watchdog_timeout_s': WATCHDOG,
                    'instruction_period_s': instruction_period}
    crashed = ''
    try:
        if not probe.spin_until(lambda: len(commands.moving_since(0.0)) >= 10, 120.0):
            raise RuntimeError('the fusion node published no actions:\n'
                               + node.output[-3000:])
        node_ps, camera_ps = psutil.Process(node.pid), psutil.Process(camera.pid)
        node_ps.cpu_percent(None)
        start = time.monotonic()
        next_sample, next_instruction, index, seen = start, start + instruction_period, 0, 0
        while True:
            now = time.monotonic()
            if now - start >= seconds:
                break
            if not node.alive() or not camera.alive():
                crashed = ('fusion node' if not node.alive() else 'camera') + ' exited'
                break
            if now >= next_instruction:
                index += 1
                probe.publish_instruction(instruction_pub,
                                          INSTRUCTIONS[index % len(INSTRUCTIONS)])
                next_instruction += instruction_period
            if now >= next_sample:
                records = commands.records[seen:]
                seen += len(records)
                latency = [(c.t_wall - c.stamp) * 1e3 for c in records if not c.zero]
                diag = probe.diagnostics(NODE)
                samples.append({
                    't_s': now - start,
                    'node_rss_bytes': node_ps.memory_info().rss,
                    'camera_rss_bytes': camera_ps.memory_info().rss,
                    'node_cpu_percent': node_ps.cpu_percent(None),
                    'load_average': load_samples(),
                    'commands': len(records),
                    'latency_ms': [round(v, 3) for v in latency],
                    'latency_p50_ms': _percentile(latency, 50),
                    'latency_p99_ms': _percentile(latency, 99),
                    'diag_image_rate_hz': diag.get(keys.IMAGE_RATE),
                    'watchdog_stops': probe.counters(NODE).get('watchdog_stops', 0),
                    'diag_stamp_to_command_ms': diag.get(keys.STAMP_TO_COMMAND_MS),
                    'diag_inference_ms': diag.get(keys.INFERENCE_MS),
                })
                if len(samples) % max(1, int(60 / interval)) == 0:
                    s = samples[-1]
                    progress(f'soak: {s["t_s"] / 60:.1f} min, RSS '
                             f'{s["node_rss_bytes"] / 2**20:.1f} MB, p99 '
                             f'{s["latency_p99_ms"] or 0:.1f} ms, {s["commands"]} commands, '
                             f'load {s["load_average"][0]:.1f}')
                next_sample += interval
            time.sleep(0.05)
        final_counters = probe.fresh_counters(NODE)
    finally:
        codes = {'fusion_node': node.stop(signal.SIGINT), 'sim_camera': camera.stop()}
        probe.close()
    output = node.output
    result.update({
        'samples': samples,
        'exit_codes': codes,
        'crashed': crashed,
        'traceback': 'Traceback' in output,
        'violations': len(commands.violations),
        'commands_checked': len(commands),
        'final_counters': final_counters,
    })
    result.update(verdicts(samples, seconds, warmup, interval))
    result['crashes'] = int(bool(crashed) or codes['fusion_node'] != 0 or result['traceback'])
    result['passed'] = (result['crashes'] == 0 and result['violations'] == 0
                        and result['rss_growth'] is not None
                        and result['rss_growth'] < RSS_GROWTH_LIMIT
                        and result['p99_drift'] is not None
                        and result['p99_drift'] < P99_DRIFT_LIMIT)
    result.update({'cpu_count': os.cpu_count(), 'git_commit': git_commit(),
                   'distro': os.environ.get('VFR_DISTRO', 'kilted')})
    return result


def verdicts(samples: List[Dict], seconds: float, warmup: float, interval: float) -> Dict:
    """RSS growth after the warm-up and the p99 latency drift, from the samples."""
    after = [s for s in samples if s['t_s'] >= warmup]
    if len(after) < 2:
        return {'rss_growth': None, 'p99_drift': None}
    rss_start, rss_end = after[0]['node_rss_bytes'], after[-1]['node_rss_bytes']
    t = np.array([s['t_s'] for s in after])
    rss = np.array([s['node_rss_bytes'] for s in after], dtype=np.float64)
    slope = float(np.polyfit(t, rss, 1)[0]) if len(after) > 2 else 0.0
    window = (seconds - warmup) / 5.0
    first = [v for s in after if s['t_s'] < warmup + window for v in s['latency_ms']]
    last = [v for s in after if s['t_s'] >= seconds - window for v in s['latency_ms']]
    p99_first, p99_last = _percentile(first, 99), _percentile(last, 99)
    loads = [s['load_average'][0] for s in samples]
    return {
        'rss_at_warmup_bytes': rss_start,
        'rss_at_end_bytes': rss_end,
        'rss_max_bytes': int(rss.max()),
        'rss_growth': rss_end / rss_start - 1.0,
        'rss_slope_bytes_per_hour': slope * 3600.0,
        'p99_window_s': window,
        'p99_first_window_ms': p99_first,
        'p99_last_window_ms': p99_last,
        'p50_first_window_ms': _percentile(first, 50),
        'p50_last_window_ms': _percentile(last, 50),
        'p99_drift': (p99_last / p99_first - 1.0) if p99_first and p99_last else None,
        'commands_per_s': (sum(s['commands'] for s in after[1:])
                           / max(1e-9, after[-1]['t_s'] - after[0]['t_s'])),
        'load_average_1min': {'min': min(loads), 'mean': float(np.mean(loads)),
                              'max': max(loads)},
    }


def load_context(samples: List[Dict], seconds: float, warmup: float) -> Dict:
    """
    Return the machine's load in the two latency windows and its link to the tail latency.

    A shared machine's load moves the p99 more than the node does: the windows' mean 1-min
    load average and the rank correlation (Spearman) of each sample's p99 with the load say
    how much of a drift is the machine's.
    """
    window = (seconds - warmup) / 5.0
    first = [s for s in samples if warmup <= s['t_s'] < warmup + window]
    last = [s for s in samples if s['t_s'] >= seconds - window]
    paired = [(s['load_average'][0], s['latency_p99_ms']) for s in samples
              if s['t_s'] >= warmup and s['latency_p99_ms'] is not None]
    rho = None
    if len(paired) > 2:
        loads, p99 = zip(*paired)
        rho = spearman(loads, p99)
    rates = [float(s['diag_image_rate_hz']) for s in samples
             if s['t_s'] >= warmup and s.get('diag_image_rate_hz')]
    stops = [s.get('watchdog_stops') for s in samples if s.get('watchdog_stops') is not None]
    return {
        'load_first_window': float(np.mean([s['load_average'][0] for s in first]))
        if first else None,
        'load_last_window': float(np.mean([s['load_average'][0] for s in last]))
        if last else None,
        'load_p99_spearman': rho,
        'image_rate_hz_mean': float(np.mean(rates)) if rates else None,
        'watchdog_stops_after_warmup': (stops[-1] - stops[0]) if len(stops) > 1 else None,
    }


def write_outputs(result: Dict, out: str, minutes_arg: float) -> None:
    """Write soak.json (samples without per-command latencies), soak.md and soak.png."""
    os.makedirs(out, exist_ok=True)
    slim = dict(result)
    slim['samples'] = [{k: v for k, v in s.items() if k != 'latency_ms'}
                       for s in result['samples']]
    slim.update(load_context(slim['samples'], slim['duration_s'], slim['warmup_s']))
    result = slim
    with open(os.path.join(out, 'soak.json'), 'w', encoding='utf-8') as handle:
        json.dump(slim, handle, indent=2)
    plot(result, os.path.join(out, 'soak.png'))
    mb = (lambda b: f'{b / 2**20:.1f} MB' if b is not None else '-')
    pct = (lambda v: f'{v * 100:+.1f} %' if v is not None else '-')
    ms = (lambda v: f'{v:.1f} ms' if v is not None else '-')
    load = result.get('load_average_1min', {})
    num = (lambda v, f: format(v, f) if v is not None else '-')
    cpu = [s['node_cpu_percent'] for s in result['samples'] if s.get('node_cpu_percent')]
    node_cores = float(np.mean(cpu)) / 100.0 if cpu else 0.0
    lines = [
        '# Soak: camera and fusion node over time',
        '',
        f'`python -m vla_fusion_ros.tools.soak --minutes {minutes_arg:g}` (commit '
        f'{result["git_commit"]}, ROS 2 {result["distro"]}, {result["cpu_count"]} CPUs): '
        f'{result["image"]}, instruction changed every {result["instruction_period_s"]:g} s, '
        f'samples every {result["interval_s"]:g} s, warm-up {result["warmup_s"] / 60:.1f} min.',
        '',
        '| criterion | measured | bound | verdict |',
        '|---|---|---|---|',
        f'| RSS growth, end of warm-up to end | {pct(result.get("rss_growth"))} '
        f'({mb(result.get("rss_at_warmup_bytes"))} -> {mb(result.get("rss_at_end_bytes"))}, '
        f'max {mb(result.get("rss_max_bytes"))}) | < {RSS_GROWTH_LIMIT:.0%} | '
        f'{_verdict(result.get("rss_growth"), RSS_GROWTH_LIMIT)} |',
        f'| p99 latency drift, last {result.get("p99_window_s", 0) / 60:.1f} min vs first '
        f'{result.get("p99_window_s", 0) / 60:.1f} min after warm-up | '
        f'{pct(result.get("p99_drift"))} ({ms(result.get("p99_first_window_ms"))} at load '
        f'{num(result.get("load_first_window"), ".1f")} -> '
        f'{ms(result.get("p99_last_window_ms"))} at load '
        f'{num(result.get("load_last_window"), ".1f")}) | < {P99_DRIFT_LIMIT:.0%} | '
        f'{_verdict(result.get("p99_drift"), P99_DRIFT_LIMIT)} |',
        f'| crashes | {result["crashes"]} (exit codes {result["exit_codes"]}, traceback '
        f'{result["traceback"]}) | 0 | {"pass" if result["crashes"] == 0 else "FAIL"} |',
        f'| unsafe commands | {result["violations"]} of {result["commands_checked"]} | 0 | '
        f'{"pass" if result["violations"] == 0 else "FAIL"} |',
        '',
        f'- latency p50: {ms(result.get("p50_first_window_ms"))} -> '
        f'{ms(result.get("p50_last_window_ms"))}; RSS slope after warm-up: '
        f'{(result.get("rss_slope_bytes_per_hour") or 0) / 2**20:+.2f} MB/hour; commands: '
        f'{result.get("commands_per_s", 0):.1f}/s',
        f'- machine load (1-min load average over the run): min {load.get("min", 0):.1f}, mean '
        f'{load.get("mean", 0):.1f}, max {load.get("max", 0):.1f} on {result["cpu_count"]} '
        'CPUs' + (f': more than the soak itself (the node used {node_cores:.2f} of a core on '
                  'average), so other jobs shared the machine and latency reflects them too'
                  if load.get('mean', 0) > 0.5 * result['cpu_count'] + 0.5 else '')
        + ". Rank correlation of each sample's p99 with the load: "
        f'{num(result.get("load_p99_spearman"), "+.2f")}.',
        f'- frames the node received (its measured input rate, mean after warm-up): '
        f'{num(result.get("image_rate_hz_mean"), ".1f")} Hz of the '
        + (f'{result["camera_rate_hz"]:g} Hz' if result.get('camera_rate_hz') else 'rate')
        + ' the camera aims at; watchdog stops after warm-up (no frame for '
        + (f'{result["watchdog_timeout_s"]:g} s' if result.get('watchdog_timeout_s')
           else 'the watchdog timeout') + ': one zero, then a resume): '
        f'{num(result.get("watchdog_stops_after_warmup"), "d")} (in all: '
        f'{result["final_counters"].get("watchdog_stops", 0)}).',
        f'- node counters at the end: {result["final_counters"]}',
        '',
        'Latency is measured per command at the probe: reception time minus the header stamp',
        'of the frame the command was computed from (TwistStamped carries it unchanged).',
        '',
        '![soak](soak.png)',
        '',
    ]
    with open(os.path.join(out, 'soak.md'), 'w', encoding='utf-8') as handle:
        handle.write('\n'.join(lines))


def _verdict(value, bound) -> str:
    if value is None:
        return 'n/a'
    return 'pass' if value < bound else 'FAIL'


def plot(result: Dict, path: str) -> None:
    """Plot RSS, latency percentiles and load over time."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    samples = result['samples']
    if not samples:
        return
    t = np.array([s['t_s'] for s in samples]) / 60.0
    fig, axes = plt.subplots(3, 1, figsize=(9, 8), sharex=True)
    axes[0].plot(t, [s['node_rss_bytes'] / 2**20 for s in samples], label='fusion_node')
    axes[0].set_ylabel('RSS (MB)')
    axes[0].axvline(result['warmup_s'] / 60.0, color='grey', linestyle=':', label='warm-up')
    axes[0].legend(loc='lower right')
    p50 = [s['latency_p50_ms'] if s['latency_p50_ms'] is not None else np.nan for s in samples]
    p99 = [s['latency_p99_ms'] if s['latency_p99_ms'] is not None else np.nan for s in samples]
    axes[1].plot(t, p50, label='p50')
    axes[1].plot(t, p99, label='p99')
    axes[1].set_ylabel('stamp to command (ms)')
    axes[1].legend(loc='upper right')
    axes[2].plot(t, [s['load_average'][0] for s in samples], label='load average (1 min)')
    axes[2].plot(t, [s['node_cpu_percent'] / 100.0 for s in samples],
                 label='fusion_node CPU (cores)')
    axes[2].set_ylabel('load')
    axes[2].set_xlabel('minutes')
    axes[2].legend(loc='upper right')
    fig.suptitle(f'soak: {result["image"]}, commit {result.get("git_commit", "")}')
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv=None) -> int:
    """Run the soak and write soak.md, soak.json and soak.png."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--minutes', type=float, default=30.0)
    parser.add_argument('--warmup-minutes', type=float, default=None,
                        help='default: a sixth of the run (5 of 30 minutes)')
    parser.add_argument('--interval', type=float, default=5.0, help='seconds between samples')
    parser.add_argument('--out', default=os.path.join(REPO, 'results', 'reliability'))
    parser.add_argument('--report', metavar='SOAK_JSON',
                        help='only rewrite soak.md and soak.png from an earlier soak.json')
    args = parser.parse_args(argv)
    if args.report:
        with open(args.report, encoding='utf-8') as handle:
            result = json.load(handle)
        write_outputs(result, args.out, result['duration_s'] / 60.0)
        return 0 if result['passed'] else 1
    domain = environment.isolate()['ROS_DOMAIN_ID']
    print(f'soak: ROS_DOMAIN_ID={domain}, {args.minutes:g} min, load {load_samples()}',
          flush=True)
    warmup = None if args.warmup_minutes is None else args.warmup_minutes * 60.0
    result = run_soak(args.minutes * 60.0, warmup, args.interval,
                      progress=lambda line: print(line, flush=True))
    write_outputs(result, args.out, args.minutes)
    print(f'soak: RSS growth {result["rss_growth"]}, p99 drift {result["p99_drift"]}, '
          f'crashes {result["crashes"]}; written to {args.out}', flush=True)
    return 0 if result['passed'] else 1


if __name__ == '__main__':
    sys.exit(main())
