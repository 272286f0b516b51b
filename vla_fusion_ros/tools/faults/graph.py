# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The fault graph: camera, fusion node and instruction publisher as processes, and a probe."""

import os
import time
from typing import Dict, List, Optional

from vla_fusion_ros.harness import instruction_publisher
from vla_fusion_ros.harness.probe import Probe
from vla_fusion_ros.harness.process import NodeProcess
from vla_fusion_ros.harness.records import Command, LIMITS
from vla_fusion_ros.ros import dds

WATCHDOG = 0.5               # s, the node's default watchdog_timeout
CAMERA_RATE = 30.0           # Hz
STOP_BOUND = WATCHDOG + 1.0 / CAMERA_RATE


def lease_seconds(profile: str = dds.SHORT_LEASE_PROFILE) -> Optional[float]:
    """Return the participant ``leaseDuration`` (s) a shipped Fast DDS profile sets."""
    import xml.etree.ElementTree as ET
    lease = ET.parse(dds.profile_path(profile)).getroot().find('.//{*}leaseDuration')
    if lease is None:
        return None
    return (int(lease.findtext('{*}sec') or 0)
            + int(lease.findtext('{*}nanosec') or 0) * 1e-9)


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
            instruction_publisher.command(self.INSTRUCTION, text or self.instruction),
            env=env, log_dir=self.log_dir, label='instruction_publisher')
        return self.publisher

    def start(self) -> 'FaultGraph':
        """Start the whole graph and wait until the node publishes actions."""
        self.start_publisher()
        self.start_node()
        self.start_camera()
        if not self.wait_moving(10, time.monotonic(), timeout=90.0):
            raise RuntimeError('the fusion node published no actions; its output:\n'
                               + self.node.output[-3000:])
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
        return self.probe.spin_until(lambda: len(self.commands.moving_since(since)) >= count,
                                     timeout)

    def wait_zero(self, since: float, timeout: float = 5.0) -> Optional[Command]:
        """Wait for the first zero command since ``since`` and return it."""
        self.probe.spin_until(lambda: self.commands.first_zero_since(since) is not None,
                              timeout)
        return self.commands.first_zero_since(since)

    def counters(self) -> Dict[str, int]:
        """Return the node's counters from a diagnostics message newer than this call."""
        return self.probe.fresh_counters(self.NODE)

    def alive(self) -> bool:
        """Return whether the fusion node process is alive."""
        return self.node is not None and self.node.alive()
