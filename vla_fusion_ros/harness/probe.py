# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
A probe: an rclpy node of the calling process that records and publishes for a test or a tool.

It lives in its own rclpy context (so it never meets the caller's ``rclpy.init``), with
rclpy's signal handlers off. Two ways to spin it:

- ``background=True``: a thread spins it; :meth:`Probe.spin_until` then only polls. For tools
  that block between checks (faults, fuzz, soak, the demo).
- ``background=False``: the caller spins it in :meth:`Probe.spin_until` and
  :meth:`Probe.spin_for`. For the tests, and for the benchmark, which publishes its frames
  from the spinning thread (see :mod:`vla_fusion_ros.tools.bench_ros`).
"""

import os
import random
import threading
import time
from typing import Callable, Dict, List, Optional

from vla_fusion_ros.harness.diagnostics import counters, DiagnosticsLog, Values
from vla_fusion_ros.harness.records import CommandLog, ImageLog, LIMITS


class Probe:
    """
    An rclpy node in its own context, with recorders for commands, frames and diagnostics.

    The rest of rclpy's ``Node`` API (``create_subscription``, ``create_timer``, ...) is the
    probe node's, through the probe.
    """

    def __init__(self, name: Optional[str] = None, background: bool = True,
                 domain_id: Optional[int] = None):
        import rclpy
        from rclpy.context import Context
        from rclpy.executors import SingleThreadedExecutor
        self.context = Context()
        options = {'context': self.context, 'args': []}
        if domain_id is not None:
            options['domain_id'] = domain_id
        try:
            from rclpy.signals import SignalHandlerOptions
            rclpy.init(signal_handler_options=SignalHandlerOptions.NO, **options)
        except (ImportError, TypeError):  # pragma: no cover - an older rclpy
            rclpy.init(**options)
        name = name or f'probe_{os.getpid()}_{random.randint(0, 1 << 30)}'
        self.node = rclpy.create_node(name, context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.diagnostics_log: Optional[DiagnosticsLog] = None
        self.background = background
        self._running = background
        self._thread = None
        if background:
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
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        self.executor.shutdown()
        self.node.destroy_node()
        self.context.try_shutdown()

    def __enter__(self) -> 'Probe':
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ spinning
    def spin_until(self, predicate: Callable[[], bool], timeout: float,
                   poll: float = 0.005) -> bool:
        """Process callbacks until ``predicate()`` holds or ``timeout`` s pass; return it."""
        deadline = time.monotonic() + timeout
        while True:
            if predicate():
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return bool(predicate())
            if self.background:
                time.sleep(min(poll, left))
            else:
                self.executor.spin_once(timeout_sec=min(0.02, left))

    def spin_for(self, seconds: float) -> None:
        """Process callbacks for ``seconds`` (wait for them, when spun in the background)."""
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if self.background:
                time.sleep(left)
            else:
                self.executor.spin_once(timeout_sec=left)

    # ------------------------------------------------------------------ the node's API
    def __getattr__(self, name: str):
        """Anything else is the probe node's: ``create_subscription``, ``get_clock``, ..."""
        if name == 'node':  # not set yet: __init__ failed before creating it
            raise AttributeError(name)
        return getattr(self.node, name)

    # ------------------------------------------------------------------ recorders
    def record(self, msg_type, topic: str, qos, convert: Callable = None) -> List:
        """Append every message on ``topic`` (through ``convert``) to the returned list."""
        received: List = []
        self.node.create_subscription(
            msg_type, topic, (lambda m: received.append(convert(m))) if convert
            else received.append, qos)
        return received

    def watch_commands(self, topic: str = '/cmd_vel', stamped: bool = False,
                       limits=LIMITS, depth: int = 1000) -> CommandLog:
        """Record (and check) every Twist, or TwistStamped, on ``topic``."""
        from geometry_msgs.msg import Twist, TwistStamped
        from vla_fusion_ros.ros.qos import make_qos
        log = CommandLog(stamped, limits)
        self.node.create_subscription(TwistStamped if stamped else Twist, topic, log,
                                      make_qos('reliable', 'keep_last', depth))
        return log

    def watch_images(self, topic: str, reliability: str = 'reliable',
                     depth: int = 5) -> ImageLog:
        """Record the stamps (and on request the pixels) of the frames on ``topic``."""
        from sensor_msgs.msg import Image
        from vla_fusion_ros.ros.qos import make_qos
        log = ImageLog()
        self.node.create_subscription(Image, topic, log, make_qos(reliability, 'keep_last',
                                                                  depth))
        return log

    def watch_diagnostics(self) -> DiagnosticsLog:
        """Record every fusion node's ``/diagnostics`` (once; later calls return the same)."""
        if self.diagnostics_log is None:
            from diagnostic_msgs.msg import DiagnosticArray
            from vla_fusion_ros.ros.qos import make_qos
            self.diagnostics_log = DiagnosticsLog()
            self.node.create_subscription(DiagnosticArray, '/diagnostics', self.diagnostics_log,
                                          make_qos('reliable', 'keep_last', 50))
        return self.diagnostics_log

    # ------------------------------------------------------------------ publishers
    def instruction_publisher(self, topic: str):
        """Return a latched ``std_msgs/String`` publisher, as the node's instruction wants."""
        from std_msgs.msg import String
        from vla_fusion_ros.ros.qos import latched_qos
        return self.node.create_publisher(String, topic, latched_qos())

    def publish_instruction(self, publisher, text: str) -> None:
        """Publish ``text`` on a publisher from :meth:`instruction_publisher`."""
        from std_msgs.msg import String
        publisher.publish(String(data=text))

    def image_publisher(self, topic: str, reliability: str = 'best_effort', depth: int = 1,
                        compressed: bool = False):
        """Return a ``sensor_msgs/Image`` (or ``CompressedImage``) publisher."""
        from sensor_msgs.msg import CompressedImage, Image
        from vla_fusion_ros.ros.qos import make_qos
        return self.node.create_publisher(CompressedImage if compressed else Image, topic,
                                          make_qos(reliability, 'keep_last', depth))

    # ------------------------------------------------------------------ diagnostics
    def diagnostics(self, node_name: str) -> Values:
        """Return the latest parsed diagnostics of ``node_name`` (empty before the first)."""
        return self.watch_diagnostics().latest(node_name)

    def counters(self, node_name: str) -> Dict[str, int]:
        """Return the counters of ``node_name``'s latest diagnostics."""
        return counters(self.diagnostics(node_name))

    def fresh_counters(self, node_name: str, timeout: float = 5.0) -> Dict[str, int]:
        """Wait for ``node_name``'s next diagnostics report and return its counters."""
        log = self.watch_diagnostics()
        seq = log.seq(node_name)
        self.spin_until(lambda: log.seq(node_name) > seq, timeout)
        return self.counters(node_name)
