# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""One fusion node under fuzzing: its process, topics, command log and expected counters."""

import time
from typing import Dict, List, Optional, Tuple

from vla_fusion_ros.harness.probe import Probe
from vla_fusion_ros.harness.process import NodeProcess
from vla_fusion_ros.harness.records import CommandLog, LIMITS
from vla_fusion_ros.tools.fuzz.cases import CompressedCase, ImageCase, InstructionCase


class FuzzTarget:
    """One fusion node under fuzzing: its process, topics, command log and expected counters."""

    def __init__(self, probe: Probe, name: str, compressed: bool, log_dir: Optional[str]):
        self.probe = probe
        self.name = name
        self.compressed = compressed
        base = f'/fuzz/{name}'
        self.image_topic = f'{base}/image' + ('/compressed' if compressed else '')
        self.commands: CommandLog = probe.watch_commands(f'{base}/cmd_vel')
        params = {'max_linear': LIMITS[0], 'max_angular': LIMITS[1],
                  'image_qos_reliability': 'reliable', 'image_qos_depth': 100,
                  'diagnostics_rate': 50.0, 'watchdog_timeout': 0.5,
                  # The decoder must take every valid encoding; a colour model refuses grey
                  # frames by default (test_input_health.py checks that refusal).
                  'accept_mono': True}
        remaps = {'cmd_vel': f'{base}/cmd_vel', '~/instruction': f'{base}/instruction',
                  '~/estop': f'{base}/estop'}
        if compressed:
            params.update(image_transport='compressed', control_rate=200.0)
            remaps['~/image_raw/compressed'] = self.image_topic
        else:
            remaps['~/image_raw'] = self.image_topic
        self.process = NodeProcess('fusion_node', params=params, remaps=remaps, node_name=name,
                                   log_dir=log_dir)
        self.image_pub = probe.image_publisher(self.image_topic, 'reliable', 100, compressed)
        self.instruction_pub = probe.instruction_publisher(f'{base}/instruction')
        self.expected: Dict[str, int] = {}
        self.pending = 0
        self.pending_bytes = 0
        self.mismatches: List[Dict] = []
        self.categories: Dict[str, Dict[str, Dict[str, int]]] = {}
        self.recent: List[str] = []

    def ready(self, timeout: float = 120.0) -> bool:
        """Wait until the node reports on /diagnostics and subscribes to the image topic."""
        return self.probe.spin_until(
            lambda: self.probe.watch_diagnostics().seq(self.name) > 0
            and self.image_pub.get_subscription_count() > 0
            and self.instruction_pub.get_subscription_count() > 0, timeout)

    def baseline(self) -> None:
        """Take the node's current counters as the starting point."""
        self.expected = dict(self.probe.fresh_counters(self.name))

    def _count(self, kind: str, category: str, rejected: bool) -> None:
        entry = self.categories.setdefault(kind, {}).setdefault(
            category, {'sent': 0, 'expected_rejected': 0})
        entry['sent'] += 1
        entry['expected_rejected'] += int(rejected)

    def _expect(self, key: str, amount: int = 1) -> None:
        self.expected[key] = self.expected.get(key, 0) + amount

    def _remember(self, text: str) -> None:
        self.recent = (self.recent + [text])[-20:]

    def send_image(self, case: ImageCase) -> None:
        """Publish one image case and update the expected counters."""
        msg = case.message(time.time_ns())
        self.image_pub.publish(msg)
        self._count('image', case.category, not case.valid)
        self._expect('frames_received')
        if not case.valid:
            self._expect('frames_rejected')
        elif case.unusable_stamp:
            self._expect('unusable_stamps')
        self._remember(f'image {case.category} {case.encoding!r} {case.width}x{case.height} '
                       f'step {case.step} size {case.size} stamp {case.stamp}')
        self.pending += 1
        self.pending_bytes += case.size
        if self.pending >= 50 or self.pending_bytes > 16_000_000 or case.size > 1_000_000:
            self.sync(('frames_received', 'frames_rejected', 'unusable_stamps'))

    def send_instruction(self, case: InstructionCase) -> None:
        """Publish one instruction and wait until the node has counted it."""
        from std_msgs.msg import String
        self.flush()
        self.instruction_pub.publish(String(data=case.text))
        self._count('instruction', case.category, not case.valid)
        self._expect('instructions_received')
        if not case.valid:
            self._expect('instructions_rejected')
        self._remember(f'instruction {case.category} {case.text[:60]!r} ({len(case.text)})')
        self.sync(('instructions_received', 'instructions_rejected'))

    def send_compressed(self, case: CompressedCase) -> None:
        """Publish one compressed image and wait until the node has decoded it (or not)."""
        msg = case.message(time.time_ns())
        self.image_pub.publish(msg)
        self._count('compressed', case.category, not case.valid)
        self._expect('frames_received')
        self._expect('frames_rejected', int(not case.valid))
        self._expect('unusable_stamps', int(case.stamp != 'now'))
        self._remember(f'compressed {case.category} {case.format[:20]!r} {len(case.data)} '
                       f'bytes {case.data[:8]!r}')
        self.sync(('frames_received', 'frames_rejected', 'unusable_stamps'),
                  outcomes=self.expected['frames_received'])

    def flush(self) -> None:
        """Wait until every image sent so far is counted."""
        if self.pending:
            self.sync(('frames_received', 'frames_rejected', 'unusable_stamps'))

    def sync(self, keys: Tuple[str, ...], outcomes: Optional[int] = None,
             timeout: float = 15.0) -> None:
        """Wait until the node's counters equal the expected ones; record a mismatch if not."""
        def outcome_count(counts):
            return sum(counts.get(k, 0) for k in (
                'frames_processed', 'frames_rejected', 'frames_idle', 'frames_stale',
                'frames_superseded', 'inference_errors'))

        def matches():
            counts = self.probe.counters(self.name)
            if any(counts.get(k, 0) != self.expected.get(k, 0) for k in keys):
                return False
            return outcomes is None or outcome_count(counts) >= outcomes
        ok = self.probe.spin_until(matches, timeout, poll=0.002)
        self.pending, self.pending_bytes = 0, 0
        if not ok:
            counts = self.probe.counters(self.name)
            self.mismatches.append({
                'expected': {k: self.expected.get(k, 0) for k in keys},
                'reported': {k: counts.get(k, 0) for k in keys},
                'alive': self.process.alive(), 'recent_cases': list(self.recent[-5:])})
            for k in keys:   # carry on from what the node reports
                self.expected[k] = counts.get(k, 0)
        if not self.process.alive():
            raise NodeDied(f'{self.name} exited with {self.process.returncode}')


class NodeDied(RuntimeError):
    """A fuzzed node exited: the run stops there."""
