# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Publish the fusion node's health on ``/diagnostics`` (``diagnostic_msgs/DiagnosticArray``).

One status per node, at ``diagnostics_rate`` (1 Hz by default): measured input rate, latency
percentiles (preprocess, inference, image stamp to command), every counter (received,
superseded, stale, rejected, clamped, non-finite, watchdog stops, e-stops), the watchdog and
e-stop state, the image decoder in use and the model's identity. Viewable in
rqt_runtime_monitor or Foxglove.
"""

import time

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue

from vla_fusion_ros.ros import diagnostic_keys as keys
from vla_fusion_ros.ros.qos import make_qos


def _kv(key, value) -> KeyValue:
    return KeyValue(key=key, value=value if isinstance(value, str) else f'{value}')


class DiagnosticsReporter:
    """Periodically summarise a :class:`FusionController` on ``/diagnostics``."""

    def __init__(self, node, controller, rate: float, callback_group=None):
        self.node = node
        self.controller = controller
        self.publisher = node.create_publisher(DiagnosticArray, '/diagnostics',
                                               make_qos('reliable', 'keep_last', 1))
        self.timer = node.create_timer(1.0 / rate, self.publish, callback_group=callback_group)

    def status(self) -> DiagnosticStatus:
        """Build the current status message."""
        c = self.controller
        now = time.monotonic()
        values = [
            _kv(keys.MODEL, c.policy.identity),
            _kv(keys.FUSION, f'{c.policy.config.fusion.mode}/{c.policy.config.fusion.operator}'
                             f'@{list(c.policy.config.fusion.layers)}'),
            _kv(keys.DEVICE, str(c.policy.device)),
            _kv(keys.IMAGE_DECODER, c.decoder.backend),
            _kv(keys.IMAGE_RATE, f'{c.image_rate.rate(now):.2f}'),
            _kv(keys.INSTRUCTION, (c.instruction or '')[:120]),
            _kv(keys.ACTIVE, c.active),
            _kv(keys.ESTOP, c.estopped),
            _kv(keys.WATCHDOG, 'stopped' if c.liveness.stopped else 'ok'),
        ]
        windows = {'preprocess': c.preprocess_latency, 'inference': c.inference_latency,
                   'stamp to command': c.e2e_latency, 'frame age': c.frame_age,
                   'receipt to inference': c.held, 'control_rate wait': c.pacing_wait}
        for label, qs in keys.LATENCY_WINDOWS:
            pct = windows[label].percentiles_ms(*qs)
            if pct:
                values.append(_kv(keys.latency_key(label, qs),
                                  '/'.join(f'{pct[q]:.2f}' for q in qs)))
        values += [_kv(name, count) for name, count in sorted(c.counters.snapshot().items())]

        status = DiagnosticStatus(name=keys.status_name(self.node.get_name()),
                                  hardware_id=c.policy.identity, values=values)
        if c.estopped:
            status.level, status.message = DiagnosticStatus.WARN, 'e-stop engaged'
        elif c.liveness.stopped:
            stale = ', '.join(c.liveness.stale_inputs(now)) or 'inputs'
            status.level, status.message = DiagnosticStatus.WARN, f'stopped: waiting for {stale}'
        elif not c.active:
            status.level, status.message = DiagnosticStatus.OK, 'inactive'
        else:
            status.level, status.message = DiagnosticStatus.OK, 'running'
        status.level = bytes([status.level]) if isinstance(status.level, int) else status.level
        return status

    def publish(self) -> None:
        """Publish one DiagnosticArray."""
        msg = DiagnosticArray()
        msg.header.stamp = self.node.get_clock().now().to_msg()
        msg.status = [self.status()]
        self.publisher.publish(msg)
