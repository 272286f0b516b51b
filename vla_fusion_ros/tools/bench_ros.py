# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The benchmark's ROS half: images over DDS to a node in its own process, commands back.

The benchmark process publishes pre-rendered 640x480 rgb8 frames on a fixed schedule, each
stamped with the wall clock just before ``publish``; the node under test (the echo node or
the fusion node, started as a process) answers with ``TwistStamped`` commands carrying the
frame's stamp. Latency is the command's receipt time minus that stamp: everything from the
publisher's serialisation to the command's arrival, for the floor and the node alike.

One thread does everything: it waits for the next frame's time inside the executor's
``spin_once`` (so commands are timestamped as they arrive) and publishes from there, as a
timer callback would. On the 2-core development machine, under load, publishing the same
frames from a thread that slept between them (``time.sleep``, ``Event.wait``, ``select``) let
Fast DDS deliver far fewer of them than publishing from the spinning thread; the cause is
not understood, the workaround is this loop.
"""

import os
import time
from typing import Dict, List, Optional, Tuple

import numpy as np

from vla_fusion_ros.harness.executables import find_executable
from vla_fusion_ros.harness.probe import Probe
from vla_fusion_ros.harness.process import NodeProcess
from vla_fusion_ros.harness.ros_args import ros_args
from vla_fusion_ros.tools.bench_model import frame_message, summarize

IMAGE_TOPIC = '/bench/image_raw'
COMMAND_TOPIC = '/bench/cmd_vel'
REMAPS = {'~/image_raw': IMAGE_TOPIC, 'cmd_vel': COMMAND_TOPIC}


def node_command(executable: str, name: str, params: Dict[str, object],
                 params_file: str = '') -> List[str]:
    """Return the command line of an installed executable, wired to the benchmark's topics."""
    return [find_executable(executable)] + ros_args(name, params_file, params, REMAPS)


class Harness:
    """The benchmark's own ROS node: an image source, a command probe, a diagnostics probe."""

    def __init__(self, width: int, height: int, frames: int = 8):
        self.probe = Probe('vla_benchmark', background=False)
        self.frames = [frame_message(width, height, i) for i in range(frames)]
        self.image_pub = self.probe.image_publisher(IMAGE_TOPIC, 'best_effort', 1)
        self.commands = self.probe.watch_commands(COMMAND_TOPIC, stamped=True, depth=100,
                                                  limits=(float('inf'), float('inf')))
        self.diagnostics = self.probe.watch_diagnostics()
        self.node_name = 'fusion_node'

    def spin_until(self, deadline: float) -> None:
        """Process callbacks until ``time.monotonic()`` reaches ``deadline``."""
        self.probe.spin_for(deadline - time.monotonic())

    def wait_ready(self, process: NodeProcess, timeout: float) -> float:
        """Wait until the node subscribes to the images and publishes commands; return s."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if not process.alive():
                raise RuntimeError(f'node exited ({process.returncode}):\n'
                                   f'{process.log_tail()}')
            if (self.image_pub.get_subscription_count() >= 1
                    and self.probe.count_publishers(COMMAND_TOPIC) >= 1):
                return time.monotonic() - start
            self.spin_until(time.monotonic() + 0.05)
        raise RuntimeError(f'node not ready after {timeout:.0f} s:\n{process.log_tail()}')

    def stream(self, rate: float, duration: float) -> List[int]:
        """Publish frames at ``rate`` Hz for ``duration`` s on an absolute schedule."""
        period = 1.0 / rate
        count = int(round(rate * duration))
        stamps = []
        start = time.monotonic() + 0.005
        for k in range(count):
            self.spin_until(start + k * period)
            msg = self.frames[k % len(self.frames)]
            now = time.time_ns()
            msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(now, 1_000_000_000)
            self.image_pub.publish(msg)
            stamps.append(now)
        return stamps

    def phase(self, rate: float, duration: float, settle: float = 0.5) -> Dict[str, object]:
        """Stream, then match every command to its frame: latency, rate, delivery, trend."""
        mark = len(self.commands)
        load_before = os.getloadavg()
        t0 = time.monotonic()
        stamps = self.stream(rate, duration)
        wall = time.monotonic() - t0
        self.spin_until(time.monotonic() + settle)
        published = set(stamps)
        matched = sorted((c.stamp_ns, c.received_ns) for c in self.commands.records[mark:]
                         if c.stamp_ns in published)
        latencies = np.array([(r - s) * 1e-9 for s, r in matched])
        thirds = np.array_split(latencies, 3) if latencies.size >= 30 else []
        result = {
            'rate_hz': rate, 'duration_s': duration, 'published': len(stamps),
            'input_rate_hz': len(stamps) / wall if wall > 0 else 0.0,
            'commands': len(matched),
            'command_rate_hz': len(matched) / wall if wall > 0 else 0.0,
            'delivered': len(matched) / max(1, len(stamps)),
            'latency': summarize(latencies),
            'latency_first_third_p50': (float(np.percentile(thirds[0], 50) * 1e3)
                                        if len(thirds) else None),
            'latency_last_third_p50': (float(np.percentile(thirds[-1], 50) * 1e3)
                                       if len(thirds) else None),
            'load_before': list(load_before), 'load_after': list(os.getloadavg()),
        }
        # The input's own irregularity: a frame stays the newest one (and may wait in the
        # node's mailbox) for as long as the publisher sends nothing after it.
        gaps = np.diff(np.asarray(stamps, dtype=np.float64)) * 1e-6  # ms
        result['send_gap_ms'] = ({'p50': float(np.percentile(gaps, 50)),
                                  'p99': float(np.percentile(gaps, 99)),
                                  'max': float(gaps.max())} if gaps.size else None)
        result['latencies_ms'] = [round(v * 1e3, 4) for v in latencies.tolist()]
        first = stamps[0] if stamps else 0
        result['stamps_ms'] = [round((s - first) * 1e-6, 3) for s, _ in matched]
        return result

    def diagnostics_after(self, after_ns: int, timeout: float = 3.0) -> Optional[Dict]:
        """Return the node's first diagnostics received after ``after_ns`` (or None)."""
        self.probe.spin_until(
            lambda: self.diagnostics.first_after(self.node_name, after_ns) is not None, timeout)
        return self.diagnostics.first_after(self.node_name, after_ns)

    def close(self) -> None:
        """Stop spinning and shut this process's ROS context down."""
        self.probe.close()


def run_node_phase(harness: Harness, cmd: List[str], log_path: str,
                   stages: List[Tuple[str, float, float]], rate: float = 30.0,
                   warmup: float = 2.0, ready_timeout: float = 120.0,
                   log=print) -> Dict[str, Dict[str, object]]:
    """
    Start a node, measure it in ``stages``, stop it; return the results by stage name.

    Each ``(name, input_rate, seconds)`` stage warms the node up at ``rate``, then streams at
    ``input_rate``; the node's diagnostics and RSS are read just before and just after.
    """
    process = NodeProcess(cmd, log_path=log_path)
    results = {}
    try:
        ready = harness.wait_ready(process, ready_timeout)
        for name, stage_rate, duration in stages:
            results[name] = _stage(harness, process, rate, stage_rate, duration, warmup)
            results[name]['ready_s'] = ready
        return results
    finally:
        code = process.stop()
        if code not in (0, None):
            log(f'  warning: node exited with {code}:\n{process.log_tail()}')


def _stage(harness: Harness, process: NodeProcess, rate: float, stage_rate: float,
           duration: float, warmup: float) -> Dict[str, object]:
    # Warm up without pausing the stream (a pause would trip the node's watchdog); the
    # counters' starting point is the last diagnostics received during the warm-up.
    warm_start = time.time_ns()
    warm_stamps = harness.stream(rate, warmup)
    history = harness.diagnostics.history(harness.node_name, warm_start)
    diag_time, diag_before = history[-1] if history else (0, None)
    spill = sum(1 for s in warm_stamps if s > diag_time)
    rss_before = process.rss()
    cpu_before = process.cpu_seconds()
    start = time.monotonic()
    result = harness.phase(stage_rate, duration)
    cpu = process.cpu_seconds() - cpu_before
    elapsed = time.monotonic() - start
    rss_after = process.rss()
    diag_after = harness.diagnostics_after(time.time_ns(), timeout=3.0)
    result.update({
        'rss_before': rss_before, 'rss_after': rss_after,
        'rss_growth': (rss_after - rss_before) / rss_before if rss_before else None,
        'node_cpu_percent': 100.0 * cpu / max(1e-9, elapsed),
        'diagnostics_before': diag_before, 'diagnostics_after': diag_after,
        'warmup_frames_in_counters': spill if diag_before else None,
    })
    if diag_before and diag_after:
        result['counter_deltas'] = {
            k: v - diag_before.get(k, 0) for k, v in diag_after.items()
            if isinstance(v, int) and not isinstance(v, bool)}
    return result
