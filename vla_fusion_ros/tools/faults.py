# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Fault injection in the fusion graph, run as real processes over DDS, with measured stop times.

    python -m vla_fusion_ros.tools.faults [--repeats 3] [--out results/reliability]

The graph: ``sim_camera`` (160x120 rgb8 at 30 Hz), ``fusion_node`` and a separate instruction
publisher process (a latched ``std_msgs/String``), each started from the colcon install tree,
plus a probe node in this process that records every command (and checks it: finite, within
the limits), ``/diagnostics`` and the camera's frame stamps. The faults:

- the camera stalls (SIGSTOP, then SIGCONT) and is killed and restarted (SIGKILL);
- the instruction publisher dies: cleanly (SIGTERM) and by a crash (SIGKILL), the latter with
  a short DDS participant lease (a Fast DDS profile) and, once, with Fast DDS's default lease;
- the fusion node crashes (SIGKILL) or is stopped (SIGINT) and a new one takes over from the
  latched instruction;
- a burst of malformed images among the camera's valid frames;
- the e-stop toggles quickly.

For every stall the time from the stall (the last frame's stamp, or the signal) to the explicit
zero command is measured; the bound is ``watchdog_timeout + 1 / camera rate``. The results go to
``faults.md`` and ``faults.json``.

This module is also the harness of the other reliability tools (:mod:`.fuzz`, :mod:`.soak`):
:func:`isolate_dds` and :class:`Probe` (a node spinning in a background thread of this
process); the nodes run as :class:`~vla_fusion_ros.tools.node_process.NodeProcess`.
"""

import argparse
from dataclasses import dataclass
import json
import math
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from typing import Callable, Dict, List, Optional, Sequence

from vla_fusion_ros.ros import dds
from vla_fusion_ros.tools.node_process import NodeProcess

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LIMITS = (0.5, 1.5)          # max |linear.x| (m/s), max |angular.z| (rad/s)
WATCHDOG = 0.5               # s, the node's default watchdog_timeout
CAMERA_RATE = 30.0           # Hz
STOP_BOUND = WATCHDOG + 1.0 / CAMERA_RATE


# ---------------------------------------------------------------------------------- harness
def isolate_dds(domain: Optional[int] = None) -> int:
    """Give this process tree its own domain, localhost discovery and config/fastdds.xml."""
    settings = dds.isolate(domain=domain)
    os.environ.setdefault('OMP_NUM_THREADS', '1')
    return int(settings['ROS_DOMAIN_ID'])


@dataclass
class Command:
    """One command as the probe received it."""

    t_wall: float            # time.time() at reception
    t_mono: float            # time.monotonic() at reception
    linear: float
    angular: float
    stamp: Optional[float]   # header stamp (s) of TwistStamped commands

    @property
    def zero(self) -> bool:
        """Return whether this is an explicit zero command."""
        return self.linear == 0.0 and self.angular == 0.0


def check_twist(values: Sequence[float], limits=LIMITS) -> str:
    """Return why a Twist's six values are unsafe, or '' if they are fine."""
    lx, ly, lz, ax, ay, az = values
    if not all(math.isfinite(v) for v in values):
        return f'non-finite command {tuple(values)}'
    if abs(lx) > limits[0] + 1e-9 or abs(az) > limits[1] + 1e-9:
        return f'command ({lx}, {az}) outside the limits {limits}'
    if ly or lz or ax or ay:
        return f'command sets unused axes {tuple(values)}'
    return ''


class CommandLog:
    """Every command received on one topic; each is checked against the limits on arrival."""

    def __init__(self, stamped: bool = False, limits=LIMITS):
        self.stamped = stamped
        self.limits = limits
        self.records: List[Command] = []
        self.violations: List[str] = []
        self._lock = threading.Lock()

    def __call__(self, msg) -> None:
        t_wall, t_mono = time.time(), time.monotonic()
        stamp = None
        if self.stamped:
            stamp = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9
            msg = msg.twist
        values = (msg.linear.x, msg.linear.y, msg.linear.z,
                  msg.angular.x, msg.angular.y, msg.angular.z)
        problem = check_twist(values, self.limits)
        with self._lock:
            if problem:
                self.violations.append(problem)
            self.records.append(Command(t_wall, t_mono, values[0], values[5], stamp))

    def __len__(self) -> int:
        return len(self.records)

    def since(self, t_mono: float) -> List[Command]:
        """Return the commands received at or after monotonic time ``t_mono``."""
        with self._lock:
            return [c for c in self.records if c.t_mono >= t_mono]

    def moving_since(self, t_mono: float) -> List[Command]:
        """Return the non-zero commands received since ``t_mono``."""
        return [c for c in self.since(t_mono) if not c.zero]

    def first_zero_since(self, t_mono: float) -> Optional[Command]:
        """Return the first zero command received since ``t_mono``, if any."""
        return next((c for c in self.since(t_mono) if c.zero), None)


class ImageLog:
    """Header stamps and arrival times of the frames on one topic."""

    def __init__(self):
        self.records = []          # (t_wall, t_mono, stamp_s)
        self._lock = threading.Lock()

    def __call__(self, msg) -> None:
        stamp = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9
        with self._lock:
            self.records.append((time.time(), time.monotonic(), stamp))
            if len(self.records) > 10000:
                del self.records[:5000]

    def fresh(self, within: float = 0.1) -> bool:
        """Return whether a frame arrived in the last ``within`` seconds."""
        with self._lock:
            return bool(self.records) and time.monotonic() - self.records[-1][1] < within

    def last_before(self, t_wall: float):
        """Return the last ``(t_wall, t_mono, stamp)`` received before ``t_wall``."""
        with self._lock:
            earlier = [r for r in self.records if r[0] <= t_wall]
        return earlier[-1] if earlier else None


def _parse_diagnostics(msg) -> Dict[str, Dict[str, str]]:
    return {status.name: {kv.key: kv.value for kv in status.values} for status in msg.status}


class Probe:
    """A probe node in its own rclpy context, spun by a background thread of this process."""

    def __init__(self, name: Optional[str] = None):
        import rclpy
        from rclpy.context import Context
        from rclpy.executors import SingleThreadedExecutor
        self.context = Context()
        try:
            from rclpy.signals import SignalHandlerOptions
            rclpy.init(context=self.context, args=[],
                       signal_handler_options=SignalHandlerOptions.NO)
        except (ImportError, TypeError):  # pragma: no cover - an older rclpy
            rclpy.init(context=self.context, args=[])
        name = name or f'reliability_probe_{os.getpid()}_{random.randint(0, 1 << 30)}'
        self.node = rclpy.create_node(name, context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self._diagnostics: Dict[str, Dict[str, str]] = {}
        self._diagnostics_seq: Dict[str, int] = {}
        self._lock = threading.Lock()
        self._running = True
        self._thread = threading.Thread(target=self._spin, name='probe', daemon=True)
        self._thread.start()

    def _spin(self) -> None:
        while self._running:
            try:
                self.executor.spin_once(timeout_sec=0.02)
            except Exception:  # noqa: BLE001 - the context is going away
                if self._running:
                    time.sleep(0.01)

    def close(self) -> None:
        """Stop spinning and destroy the node and its context."""
        self._running = False
        self._thread.join(timeout=5.0)
        self.executor.shutdown()
        self.node.destroy_node()
        self.context.try_shutdown()

    # ------------------------------------------------------------------ subscriptions
    def watch_commands(self, topic: str = '/cmd_vel', stamped: bool = False,
                       limits=LIMITS) -> CommandLog:
        """Record (and check) every command on ``topic``."""
        from geometry_msgs.msg import Twist, TwistStamped
        from vla_fusion_ros.ros.qos import make_qos
        log = CommandLog(stamped, limits)
        self.node.create_subscription(TwistStamped if stamped else Twist, topic, log,
                                      make_qos('reliable', 'keep_last', 1000))
        return log

    def watch_images(self, topic: str, reliability: str = 'reliable') -> ImageLog:
        """Record the stamps of the frames on ``topic``."""
        from sensor_msgs.msg import Image
        from vla_fusion_ros.ros.qos import make_qos
        log = ImageLog()
        self.node.create_subscription(Image, topic, log, make_qos(reliability, 'keep_last', 5))
        return log

    def watch_diagnostics(self) -> None:
        """Keep the latest status of every node that reports on ``/diagnostics``."""
        from diagnostic_msgs.msg import DiagnosticArray
        from vla_fusion_ros.ros.qos import make_qos

        def on_diagnostics(msg):
            parsed = _parse_diagnostics(msg)
            with self._lock:
                for name, values in parsed.items():
                    self._diagnostics[name] = values
                    self._diagnostics_seq[name] = self._diagnostics_seq.get(name, 0) + 1
        self.node.create_subscription(DiagnosticArray, '/diagnostics', on_diagnostics,
                                      make_qos('reliable', 'keep_last', 50))

    def publisher(self, msg_type, topic: str, qos):
        """Create a publisher on the probe node."""
        return self.node.create_publisher(msg_type, topic, qos)

    # ------------------------------------------------------------------ queries
    def diagnostics(self, node_name: str) -> Dict[str, str]:
        """Return the latest diagnostics values of ``node_name`` (empty before the first)."""
        with self._lock:
            return dict(self._diagnostics.get(f'{node_name}: policy', {}))

    def diagnostics_seq(self, node_name: str) -> int:
        """Return how many diagnostics messages of ``node_name`` arrived so far."""
        with self._lock:
            return self._diagnostics_seq.get(f'{node_name}: policy', 0)

    def counters(self, node_name: str) -> Dict[str, int]:
        """Return the integer counters of ``node_name``'s latest diagnostics."""
        counts = {}
        for key, value in self.diagnostics(node_name).items():
            if value.isascii() and value.isdigit() and key != 'instruction':
                counts[key] = int(value)
        return counts

    def fresh_counters(self, node_name: str, timeout: float = 5.0) -> Dict[str, int]:
        """Wait for the next diagnostics message of ``node_name`` and return its counters."""
        seq = self.diagnostics_seq(node_name)
        self.wait_until(lambda: self.diagnostics_seq(node_name) > seq, timeout)
        return self.counters(node_name)

    @staticmethod
    def wait_until(predicate: Callable[[], bool], timeout: float, poll: float = 0.005) -> bool:
        """Poll ``predicate`` until it holds or ``timeout`` s pass; return its last value."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(poll)
        return bool(predicate())


def load_samples() -> List[float]:
    """Return the 1, 5 and 15 minute load averages of this machine."""
    return [round(v, 2) for v in os.getloadavg()]


def git_commit() -> str:
    """Return the repository's HEAD commit (short), or '' outside a git checkout."""
    try:
        return subprocess.run(['git', '-C', REPO, 'rev-parse', '--short', 'HEAD'],
                              capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ''


# ---------------------------------------------------------------------------------- the graph
class FaultGraph:
    """Camera, fusion node and instruction publisher as processes, watched by a probe."""

    IMAGE = '/faults/image'
    CMD = '/faults/cmd_vel'
    INSTRUCTION = '/faults/instruction'
    ESTOP = '/faults/estop'
    NODE = 'faults_fusion'

    def __init__(self, probe: Probe, log_dir: str, instruction: str = 'go to the red circle'):
        self.probe = probe
        self.log_dir = log_dir
        self.instruction = instruction
        self.commands = probe.watch_commands(self.CMD)
        self.images = probe.watch_images(self.IMAGE)
        probe.watch_diagnostics()
        self.camera: Optional[NodeProcess] = None
        self.node: Optional[NodeProcess] = None
        self.publisher: Optional[NodeProcess] = None
        self.retired: List[NodeProcess] = []
        os.makedirs(log_dir, exist_ok=True)

    # ------------------------------------------------------------------ processes
    def start_camera(self) -> NodeProcess:
        """Start the simulated camera (reliable QoS, so malformed bursts are counted exactly)."""
        self.camera = NodeProcess(
            'sim_camera', params={'frequency': CAMERA_RATE, 'width': 160, 'height': 120,
                                  'seed': 3, 'qos_reliability': 'reliable'},
            remaps={'~/image_raw': self.IMAGE}, node_name='faults_camera',
            log_dir=self.log_dir)
        return self.camera

    def start_node(self) -> NodeProcess:
        """Start the fusion node under test."""
        self.node = NodeProcess(
            'fusion_node', node_name=self.NODE, log_dir=self.log_dir,
            params={'watchdog_timeout': WATCHDOG, 'max_linear': LIMITS[0],
                    'max_angular': LIMITS[1], 'control_rate': 30.0,
                    'image_qos_reliability': 'reliable', 'image_qos_depth': 100,
                    'diagnostics_rate': 10.0},
            remaps={'~/image_raw': self.IMAGE, 'cmd_vel': self.CMD,
                    '~/instruction': self.INSTRUCTION, '~/estop': self.ESTOP})
        return self.node

    def start_publisher(self, text: Optional[str] = None,
                        short_lease: bool = False) -> NodeProcess:
        """Start a process that publishes ``text`` once, latched, and then lives on."""
        env = dict(os.environ)
        if short_lease:
            # config/fastdds_short_lease.xml: a 0.4 s lease instead of Fast DDS's 20 s.
            dds.use_profile(env, dds.SHORT_LEASE_PROFILE, override=True)
        self.publisher = NodeProcess(
            [sys.executable, '-m', 'vla_fusion_ros.tools.faults', 'publish-instruction',
             '--topic', self.INSTRUCTION, text or self.instruction],
            env=env, log_dir=self.log_dir, label='instruction_publisher')
        return self.publisher

    def start(self) -> 'FaultGraph':
        """Start the whole graph and wait until the node publishes actions."""
        self.start_publisher()
        self.start_node()
        self.start_camera()
        if not self.wait_moving(10, time.monotonic(), timeout=90.0):
            raise RuntimeError('the fusion node published no actions; its output:\n'
                               + self.node.output()[-3000:])
        return self

    def close(self) -> Dict[str, int]:
        """Stop every process (SIGINT); return the exit codes of those still running."""
        codes = {}
        for proc in (self.camera, self.publisher, self.node):
            if proc is not None and proc.alive():
                codes[proc.label] = proc.stop()
        for proc in self.retired:
            if proc.alive():
                proc.kill()
        return codes

    # ------------------------------------------------------------------ observations
    def wait_moving(self, count: int, since: float, timeout: float = 10.0) -> bool:
        """Wait until ``count`` non-zero commands arrived since ``since`` (monotonic)."""
        return self.probe.wait_until(lambda: len(self.commands.moving_since(since)) >= count,
                                     timeout)

    def wait_zero(self, since: float, timeout: float = 5.0) -> Optional[Command]:
        """Wait for the first zero command since ``since`` and return it."""
        self.probe.wait_until(lambda: self.commands.first_zero_since(since) is not None,
                              timeout)
        return self.commands.first_zero_since(since)

    def counters(self) -> Dict[str, int]:
        """Return the node's counters from a diagnostics message newer than this call."""
        return self.probe.fresh_counters(self.NODE)

    def alive(self) -> bool:
        """Return whether the fusion node process is alive."""
        return self.node is not None and self.node.alive()


# ---------------------------------------------------------------------------------- scenarios
def _result(name: str, **fields) -> Dict:
    fields.setdefault('problems', [])
    fields['name'] = name
    return fields


def _silence_after(graph: FaultGraph, zero: Command, seconds: float = 1.0) -> List[Command]:
    time.sleep(seconds)
    return graph.commands.moving_since(zero.t_mono + 1e-6)


def camera_stall(graph: FaultGraph, kill: bool = False) -> Dict:
    """
    Freeze (SIGSTOP) or kill (SIGKILL) the camera; measure the time to the explicit zero.

    Then continue it (SIGCONT) or start a new camera, and measure the time until actions
    resume.
    """
    name = 'camera_restart' if kill else 'camera_stall'
    result = _result(name)
    if not graph.wait_moving(5, time.monotonic(), timeout=15.0):
        result['problems'].append('no actions before the fault')
        return result
    # The probe must see the camera's frames too, to tell when the last one was sent.
    graph.probe.wait_until(graph.images.fresh, 10.0)
    time.sleep(random.uniform(0.0, 1.0 / CAMERA_RATE))   # any phase of the camera period
    t_signal, m_signal = time.time(), time.monotonic()
    if kill:
        graph.camera.kill()
    else:
        graph.camera.pause()
    zero = graph.wait_zero(m_signal, timeout=5.0)
    if zero is None:
        result['problems'].append('no zero command after the camera stalled')
        if not kill:
            graph.camera.resume()
        return result
    last_frame = graph.images.last_before(t_signal + 0.05)
    result['stop_from_signal_s'] = zero.t_wall - t_signal
    if last_frame is not None:
        result['stop_from_last_frame_s'] = zero.t_wall - last_frame[2]
    result['bound_s'] = STOP_BOUND
    stop = result.get('stop_from_last_frame_s', result['stop_from_signal_s'])
    if stop > STOP_BOUND:
        result['problems'].append(f'stop took {stop * 1e3:.0f} ms > bound '
                                  f'{STOP_BOUND * 1e3:.0f} ms')
    moved = _silence_after(graph, zero)
    if moved:
        result['problems'].append(f'{len(moved)} non-zero commands after the stop')
    m_restart = time.monotonic()
    if kill:
        graph.start_camera()
    else:
        graph.camera.resume()
    if graph.wait_moving(3, m_restart, timeout=30.0):
        first = graph.commands.moving_since(m_restart)[0]
        result['resume_s'] = first.t_mono - m_restart
    else:
        result['problems'].append('actions did not resume')
    return result


def instruction_publisher_dies(graph: FaultGraph, sig: int = signal.SIGTERM,
                               short_lease: bool = True) -> Dict:
    """
    Kill the process that published the latched instruction; measure the time to the zero.

    A latched instruction counts as alive only while its publisher lives. With SIGKILL, the
    node learns of the death through DDS participant liveliness: within the lease duration
    (0.4 s with the short-lease profile, 20 s with Fast DDS's default).
    """
    kind = 'crash' if sig == signal.SIGKILL else 'exit'
    lease = 'short_lease' if short_lease else 'default_lease'
    result = _result(f'instruction_publisher_{kind}' + (f'_{lease}' if kind == 'crash' else ''))
    # A fresh publisher with the lease under test.
    old = graph.publisher
    graph.start_publisher(short_lease=short_lease)
    time.sleep(1.0)
    old.stop(signal.SIGTERM)    # a clean exit: its peers forget it at once
    graph.probe.wait_until(
        lambda: graph.probe.node.count_publishers(graph.INSTRUCTION) == 1, 30.0)
    if not graph.wait_moving(5, time.monotonic(), timeout=30.0):
        result['problems'].append('no actions before the fault')
        return result
    t_signal, m_signal = time.time(), time.monotonic()
    graph.publisher.stop(sig, timeout=10.0)
    zero = graph.wait_zero(m_signal, timeout=40.0 if not short_lease else 5.0)
    if zero is None:
        result['problems'].append('no zero command after the instruction publisher died')
        return result
    result['stop_from_signal_s'] = zero.t_wall - t_signal
    result['bound_s'] = STOP_BOUND
    result['bounded'] = kind == 'exit' or short_lease
    if result['bounded'] and result['stop_from_signal_s'] > STOP_BOUND:
        result['problems'].append(f'stop took {result["stop_from_signal_s"] * 1e3:.0f} ms > '
                                  f'bound {STOP_BOUND * 1e3:.0f} ms')
    moved = _silence_after(graph, zero)
    if moved:
        result['problems'].append(f'{len(moved)} non-zero commands after the stop')
    m_restart = time.monotonic()
    graph.start_publisher()
    if graph.wait_moving(3, m_restart, timeout=30.0):
        result['resume_s'] = graph.commands.moving_since(m_restart)[0].t_mono - m_restart
    else:
        result['problems'].append('actions did not resume with a new publisher')
    return result


def node_restart(graph: FaultGraph, crash: bool = True) -> Dict:
    """
    Stop the fusion node (SIGKILL: a crash; SIGINT: a clean stop) and start a new one.

    A clean stop must publish a final zero and exit 0. The new node must pick up the latched
    instruction and resume.
    """
    result = _result('node_restart_crash' if crash else 'node_restart_clean')
    if not graph.wait_moving(5, time.monotonic(), timeout=15.0):
        result['problems'].append('no actions before the fault')
        return result
    m_signal = time.monotonic()
    old = graph.node
    if crash:
        result['exit_code'] = old.kill()
    else:
        result['exit_code'] = old.stop(signal.SIGINT)
        output = old.output()
        zero = graph.wait_zero(m_signal, timeout=5.0)
        if result['exit_code'] != 0 or 'Traceback' in output:
            result['problems'].append(f'clean stop: exit {result["exit_code"]}, '
                                      f'traceback {"Traceback" in output}')
        if zero is None:
            result['problems'].append('no final zero at shutdown')
    graph.retired.append(old)
    m_start = time.monotonic()
    graph.start_node()
    if graph.wait_moving(3, m_start, timeout=90.0):
        result['resume_s'] = graph.commands.moving_since(m_start)[0].t_mono - m_start
        graph.probe.fresh_counters(graph.NODE)
        seen = graph.probe.diagnostics(graph.NODE).get('instruction', '')
        result['instruction_after_restart'] = seen
        if seen != graph.instruction:
            result['problems'].append(f'the new node follows {seen!r}, not the latched '
                                      f'{graph.instruction!r}')
    else:
        result['problems'].append('the new node published no actions')
    return result


def malformed_burst(graph: FaultGraph, count: int = 200, seed: int = 0) -> Dict:
    """
    Publish ``count`` malformed images among the camera's valid frames.

    The node must count each in ``frames_rejected``, keep acting on the valid frames (no
    watchdog stop, no zero command) and keep every command within the limits. The images go
    out in chunks of 20, 2 ms apart, each chunk once the node has counted the previous one:
    the node's reliable queue (depth 100) would otherwise drop the oldest, as it should.
    """
    from sensor_msgs.msg import Image
    from vla_fusion_ros.ros.qos import make_qos
    from vla_fusion_ros.tools.fuzz import malformed_images
    result = _result('malformed_burst', sent=count)
    if not graph.wait_moving(5, time.monotonic(), timeout=15.0):
        result['problems'].append('no actions before the fault')
        return result
    pub = getattr(graph, 'burst_publisher', None)
    if pub is None:
        pub = graph.probe.publisher(Image, graph.IMAGE, make_qos('reliable', 'keep_last', 100))
        graph.burst_publisher = pub
        graph.probe.wait_until(lambda: pub.get_subscription_count() >= 2, 5.0)
        time.sleep(0.5)   # let the reliable match complete
    before = graph.counters()
    m_start = time.monotonic()
    baseline = graph.commands.since(m_start - 2.0)
    categories: Dict[str, int] = {}
    sent = 0
    for i, (category, msg) in enumerate(malformed_images(count, seed)):
        msg.header.stamp = graph.probe.node.get_clock().now().to_msg()
        pub.publish(msg)
        sent += 1
        categories[category] = categories.get(category, 0) + 1
        time.sleep(0.002)
        if sent % 20 == 0 or sent == count:
            expected = before.get('frames_rejected', 0) + sent
            graph.probe.wait_until(
                lambda: graph.probe.counters(graph.NODE).get('frames_rejected', 0) >= expected,
                10.0)
    m_end = time.monotonic()
    after = graph.counters()
    result['categories'] = categories
    result['rejected'] = after.get('frames_rejected', 0) - before.get('frames_rejected', 0)
    result['received'] = after.get('frames_received', 0) - before.get('frames_received', 0)
    result['duration_s'] = m_end - m_start
    result['rate_per_s'] = count / max(1e-9, m_end - m_start)
    during = graph.commands.since(m_start)
    result['commands_during'] = len([c for c in during if c.t_mono <= m_end + 0.2])
    zeros = [c for c in during if c.zero and c.t_mono <= m_end + 0.2]
    stops = after.get('watchdog_stops', 0) - before.get('watchdog_stops', 0)
    result['zeros_during'] = len(zeros)
    result['watchdog_stops_during'] = stops
    result['sign_flips_during'] = _sign_flips([c for c in during if c.t_mono <= m_end])
    result['sign_flips_before'] = _sign_flips(baseline)
    if result['rejected'] != count:
        result['problems'].append(f'{count} malformed images sent, {result["rejected"]} '
                                  'counted as rejected')
    if zeros or stops:
        result['problems'].append(f'{len(zeros)} zero commands and {stops} watchdog stops '
                                  'during the burst')
    if result['commands_during'] == 0:
        result['problems'].append('no commands during the burst')
    if not graph.alive():
        result['problems'].append('the node died')
    return result


def _sign_flips(commands: List[Command]) -> int:
    flips = 0
    for a, b in zip(commands, commands[1:]):
        flips += (a.linear * b.linear < 0) + (a.angular * b.angular < 0)
    return flips


def estop_toggles(graph: FaultGraph, toggles: int = 100, interval: float = 0.01) -> Dict:
    """
    Toggle the e-stop ``toggles`` times, ``interval`` s apart, ending engaged.

    Measures the reaction time of a single engage (publish to zero received), then checks that
    after the final engage nothing but zeros arrives, and that clearing resumes actions.
    """
    from std_msgs.msg import Bool
    from vla_fusion_ros.ros.qos import latched_qos
    result = _result('estop_toggles', toggles=toggles, interval_s=interval)
    pub = graph.probe.publisher(Bool, graph.ESTOP, latched_qos())
    graph.probe.wait_until(lambda: pub.get_subscription_count() >= 1, 5.0)
    if not graph.wait_moving(5, time.monotonic(), timeout=15.0):
        result['problems'].append('no actions before the fault')
        return result
    # One clean engage: reaction time.
    m_engage, t_engage = time.monotonic(), time.time()
    pub.publish(Bool(data=True))
    zero = graph.wait_zero(m_engage, timeout=5.0)
    if zero is None:
        result['problems'].append('no zero after the e-stop')
        return result
    result['estop_reaction_s'] = zero.t_wall - t_engage
    moved = _silence_after(graph, zero, 0.5)
    if moved:
        result['problems'].append(f'{len(moved)} non-zero commands while e-stopped')
    pub.publish(Bool(data=False))
    graph.wait_moving(3, time.monotonic(), timeout=10.0)
    # Rapid toggles, ending engaged.
    before = graph.counters()
    for i in range(toggles):
        pub.publish(Bool(data=i % 2 == 0))
        time.sleep(interval)
    m_final = time.monotonic()
    pub.publish(Bool(data=True))
    time.sleep(1.2)
    late = graph.commands.moving_since(m_final + 0.2)
    tail = graph.commands.since(m_final - 1.0)
    after = graph.counters()
    result['estops_counted'] = after.get('estops', 0) - before.get('estops', 0)
    result['estop_reported'] = graph.probe.diagnostics(graph.NODE).get('e-stop')
    if late:
        result['problems'].append(f'{len(late)} non-zero commands after the final engage')
    if not tail or not tail[-1].zero:
        result['problems'].append('the last command after the final engage is not a zero')
    if result['estop_reported'] != 'True':
        result['problems'].append('diagnostics do not report the e-stop')
    m_clear = time.monotonic()
    pub.publish(Bool(data=False))
    if graph.wait_moving(3, m_clear, timeout=10.0):
        result['resume_s'] = graph.commands.moving_since(m_clear)[0].t_mono - m_clear
    else:
        result['problems'].append('actions did not resume after clearing the e-stop')
    graph.probe.node.destroy_publisher(pub)
    return result


# ---------------------------------------------------------------------------------- the run
def run_faults(repeats: int = 3, burst: int = 500, toggles: int = 200,
               default_lease: bool = True, log_dir: Optional[str] = None,
               progress: Callable[[str], None] = print) -> Dict:
    """Run every fault ``repeats`` times (node restarts and the default lease once)."""
    log_dir = log_dir or tempfile.mkdtemp(prefix='vfr-faults-')
    probe = Probe()
    graph = FaultGraph(probe, log_dir)
    scenarios: List[Dict] = []
    loads = [load_samples()]
    started = time.monotonic()

    def record(result):
        result['node_alive'] = graph.alive()
        scenarios.append(result)
        loads.append(load_samples())
        stop = result.get('stop_from_last_frame_s', result.get('stop_from_signal_s'))
        progress(f'{result["name"]}: ' + (f'stop {stop * 1e3:.0f} ms, ' if stop else '')
                 + ('ok' if not result['problems'] else '; '.join(result['problems'])))

    try:
        graph.start()
        plan = []
        for i in range(repeats):
            plan += [lambda: camera_stall(graph), lambda: camera_stall(graph, kill=True),
                     lambda: instruction_publisher_dies(graph, signal.SIGTERM),
                     lambda: instruction_publisher_dies(graph, signal.SIGKILL, True),
                     lambda i=i: malformed_burst(graph, burst, seed=i),
                     lambda: estop_toggles(graph, toggles)]
        plan += [lambda: node_restart(graph, crash=True), lambda: node_restart(graph, False)]
        if default_lease:
            plan.append(lambda: instruction_publisher_dies(graph, signal.SIGKILL, False))
        for step in plan:
            record(step())
            if not graph.alive():
                break
    finally:
        codes = graph.close()
        probe.close()
    return summarize(scenarios, graph, codes, loads, time.monotonic() - started, log_dir)


def summarize(scenarios: List[Dict], graph: FaultGraph, codes: Dict[str, int],
              loads: List[List[float]], duration: float, log_dir: str) -> Dict:
    """Build the results dictionary written to faults.json."""
    stops = {}
    for s in scenarios:
        value = s.get('stop_from_last_frame_s', s.get('stop_from_signal_s'))
        if value is not None and s.get('bounded', True):
            stops.setdefault(s['name'], []).append(value)
    worst = max((v for values in stops.values() for v in values), default=None)
    node_output = graph.node.output() if graph.node else ''
    return {
        'faults_injected': len(scenarios),
        'faults_survived': sum(1 for s in scenarios if not s['problems'] and s['node_alive']),
        'crashes': sum(1 for s in scenarios if not s['node_alive'])
        + (0 if codes.get(FaultGraph.NODE, 0) == 0 else 1),
        'unsafe_commands': len(graph.commands.violations),
        'unsafe_examples': graph.commands.violations[:10],
        'commands_checked': len(graph.commands),
        'worst_stop_s': worst,
        'stop_bound_s': STOP_BOUND,
        'stop_times_s': stops,
        'final_exit_codes': codes,
        'traceback_in_node_output': 'Traceback' in node_output,
        'scenarios': scenarios,
        'load_average_samples': loads,
        'cpu_count': os.cpu_count(),
        'duration_s': duration,
        'git_commit': git_commit(),
        'rmw': os.environ.get('RMW_IMPLEMENTATION', 'rmw_fastrtps_cpp (default)'),
        'distro': os.environ.get('VFR_DISTRO', 'kilted'),
        'log_dir': log_dir,
    }


def write_markdown(results: Dict, path: str) -> None:
    """Write the human-readable summary of a fault run."""
    ms = (lambda v: f'{v * 1e3:.0f} ms' if v is not None else '-')
    lines = [
        '# Fault injection: fusion graph as processes over DDS',
        '',
        f'`python -m vla_fusion_ros.tools.faults` (commit {results["git_commit"]}, '
        f'ROS 2 {results["distro"]}, {results["rmw"]}, {results["cpu_count"]} CPUs, '
        f'{results["duration_s"]:.0f} s).',
        '',
        f'- faults injected: **{results["faults_injected"]}**, survived: '
        f'**{results["faults_survived"]}**',
        f'- node crashes: **{results["crashes"]}**; unsafe commands (non-finite or outside the '
        f'limits): **{results["unsafe_commands"]}** of {results["commands_checked"]} checked',
        f'- worst stop time (stall to explicit zero): **{ms(results["worst_stop_s"])}** '
        f'(bound: watchdog {WATCHDOG * 1e3:.0f} ms + one camera period '
        f'{1e3 / CAMERA_RATE:.0f} ms = {results["stop_bound_s"] * 1e3:.0f} ms)',
        f'- final exit codes after SIGINT: {results["final_exit_codes"]}; traceback in the '
        f'node output: {results["traceback_in_node_output"]}',
        '- load average (1/5/15 min) during the run: '
        + ', '.join('/'.join(f'{v:.1f}' for v in s) for s in results['load_average_samples'][::4]),
        '',
        '| fault | stop | bound | resume | notes |',
        '|---|---|---|---|---|',
    ]
    for s in results['scenarios']:
        stop = s.get('stop_from_last_frame_s', s.get('stop_from_signal_s'))
        notes = []
        if 'stop_from_last_frame_s' in s:
            notes.append(f'from signal {ms(s["stop_from_signal_s"])}')
        if s['name'] == 'malformed_burst':
            notes.append(f'{s["rejected"]}/{s["sent"]} rejected ({s["rate_per_s"]:.0f}/s), '
                         f'{s["commands_during"]} '
                         f'commands, {s["zeros_during"]} zeros during it, sign flips '
                         f'{s["sign_flips_during"]} (2 s before: {s["sign_flips_before"]})')
        if s['name'] == 'estop_toggles':
            notes.append(f'{s["toggles"]} toggles every {s["interval_s"] * 1e3:.0f} ms, '
                         f'reaction {ms(s.get("estop_reaction_s"))}')
        if s.get('bounded') is False:
            notes.append('not bounded by the node: DDS lease')
        if 'instruction_after_restart' in s:
            notes.append(f'instruction after restart: "{s["instruction_after_restart"]}"')
        notes += [f'**{p}**' for p in s['problems']]
        bound = ms(s.get('bound_s')) if stop is not None and s.get('bounded', True) else '-'
        lines.append(f'| {s["name"]} | {ms(stop)} | {bound} | {ms(s.get("resume_s"))} | '
                     + '; '.join(notes) + ' |')
    lines += [
        '',
        "Stop times are measured at the probe: from the last camera frame's header stamp (or the",
        'signal, for the instruction publisher) to the reception of the explicit zero command.',
        'A crashed instruction publisher is noticed through DDS participant liveliness: with',
        "Fast DDS's default 20 s lease the node cannot stop sooner; with the shipped profile",
        '[config/fastdds_short_lease.xml](../../config/fastdds_short_lease.xml) (`leaseDuration`',
        '0.4 s), loaded by the publisher process, it stops within the bound. Every process',
        'loads [config/fastdds.xml](../../config/fastdds.xml) otherwise (frames through shared',
        'memory).',
        "A crashed fusion node sends nothing (the downstream controller's own timeout applies);",
        'a cleanly stopped one sends a final zero.',
        '',
    ]
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write('\n'.join(lines))


# ---------------------------------------------------------------------------------- helper node
def publish_instruction(topic: str, text: str) -> int:
    """Publish ``text`` once on ``topic`` (latched) and live until SIGINT/SIGTERM."""
    from rclpy.node import Node
    from std_msgs.msg import String
    from vla_fusion_ros.ros.qos import latched_qos
    from vla_fusion_ros.ros.runtime import run_node

    class InstructionPublisher(Node):
        def __init__(self):
            super().__init__(f'instruction_publisher_{os.getpid()}')
            self.publisher = self.create_publisher(String, topic, latched_qos())
            self.publisher.publish(String(data=text))

    return run_node(InstructionPublisher, args=[])


def main(argv=None) -> int:
    """Run the fault scenarios and write faults.md and faults.json."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    sub = parser.add_subparsers(dest='command')
    helper = sub.add_parser('publish-instruction', help='latched instruction publisher')
    helper.add_argument('--topic', required=True)
    helper.add_argument('text')
    parser.add_argument('--repeats', type=int, default=3, help='repetitions of each fault')
    parser.add_argument('--burst', type=int, default=500, help='malformed images per burst')
    parser.add_argument('--toggles', type=int, default=200, help='e-stop toggles per run')
    parser.add_argument('--no-default-lease', action='store_true',
                        help='skip the 20-s crashed-publisher case with the default lease')
    parser.add_argument('--out', default=os.path.join(REPO, 'results', 'reliability'))
    args = parser.parse_args(argv)
    if args.command == 'publish-instruction':
        return publish_instruction(args.topic, args.text)
    domain = isolate_dds()
    print(f'faults: ROS_DOMAIN_ID={domain}, load {load_samples()}', flush=True)
    results = run_faults(args.repeats, args.burst, args.toggles, not args.no_default_lease,
                         progress=lambda line: print(line, flush=True))
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, 'faults.json'), 'w', encoding='utf-8') as handle:
        json.dump(results, handle, indent=2)
    write_markdown(results, os.path.join(args.out, 'faults.md'))
    ok = (results['crashes'] == 0 and results['unsafe_commands'] == 0
          and results['faults_survived'] == results['faults_injected'])
    print(f'faults: {results["faults_survived"]}/{results["faults_injected"]} survived, '
          f'crashes {results["crashes"]}, unsafe commands {results["unsafe_commands"]}, worst '
          f'stop {results["worst_stop_s"]}; written to {args.out}', flush=True)
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
