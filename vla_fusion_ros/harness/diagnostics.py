# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The one reader of the fusion node's ``/diagnostics``: values as numbers, history per node.

Key names come from :mod:`vla_fusion_ros.ros.diagnostic_keys`, which the node writes with.
Values become ``int`` (counters), ``float`` (rates), a list of floats (latency percentiles,
``'1.20/2.31/4.00'``) or stay text (the keys in ``TEXT_KEYS``, and anything else that is not
a number).
"""

import threading
import time
from typing import Dict, List, Optional, Tuple

from vla_fusion_ros.ros import diagnostic_keys as keys

Values = Dict[str, object]


def parse_value(key: str, text: str) -> object:
    """Return one diagnostics value as a number, a list of numbers, or text."""
    if key in keys.TEXT_KEYS:
        return text
    if key.endswith('(ms)') and '/' in text:
        try:
            return [float(v) for v in text.split('/')]
        except ValueError:
            return text
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_status(status) -> Values:
    """Return a ``diagnostic_msgs/DiagnosticStatus``'s values, parsed."""
    return {kv.key: parse_value(kv.key, kv.value) for kv in status.values}


def counters(values: Values) -> Dict[str, int]:
    """Return the integer values (the counters) of parsed diagnostics."""
    return {k: v for k, v in values.items() if isinstance(v, int) and not isinstance(v, bool)}


class DiagnosticsLog:
    """
    Every fusion node's reports on ``/diagnostics``: a DiagnosticArray callback.

    Keeps, per node, how many reports arrived and the last ``keep`` of them with their
    receipt time (``time.time_ns()``).
    """

    def __init__(self, keep: int = 10000):
        self.keep = keep
        self._history: Dict[str, List[Tuple[int, Values]]] = {}
        self._seq: Dict[str, int] = {}
        self._lock = threading.Lock()

    def __call__(self, msg) -> None:
        now = time.time_ns()
        for status in msg.status:
            if not status.name.endswith(keys.STATUS_SUFFIX):
                continue
            values = parse_status(status)
            with self._lock:
                history = self._history.setdefault(status.name, [])
                history.append((now, values))
                if len(history) > self.keep:
                    del history[:len(history) - self.keep]
                self._seq[status.name] = self._seq.get(status.name, 0) + 1

    def latest(self, node_name: str) -> Values:
        """Return ``node_name``'s latest values (empty before its first report)."""
        with self._lock:
            history = self._history.get(keys.status_name(node_name))
            return dict(history[-1][1]) if history else {}

    def seq(self, node_name: str) -> int:
        """Return how many reports of ``node_name`` arrived so far."""
        with self._lock:
            return self._seq.get(keys.status_name(node_name), 0)

    def history(self, node_name: str, after_ns: int = 0) -> List[Tuple[int, Values]]:
        """Return ``(receipt_ns, values)`` of ``node_name``'s reports received after a time."""
        with self._lock:
            return [(t, dict(v)) for t, v in self._history.get(keys.status_name(node_name), [])
                    if t > after_ns]

    def first_after(self, node_name: str, after_ns: int) -> Optional[Values]:
        """Return the first report of ``node_name`` received after ``after_ns`` (or None)."""
        fresh = self.history(node_name, after_ns)
        return fresh[0][1] if fresh else None
