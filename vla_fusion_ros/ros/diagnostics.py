# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Publish the fusion node's health on ``/diagnostics`` (``diagnostic_msgs/DiagnosticArray``).

One status per node, at ``diagnostics_rate`` (1 Hz by default): measured input rate, latency
percentiles (preprocess, inference, image stamp to command), every counter (received,
superseded, stale, rejected, lost, refused, clamped, non-finite, watchdog stops, e-stops), the
watchdog and e-stop state with the reason for a stop, the image decoder in use and the model's
identity. Level: ERROR while a grey stream is refused, WARN while stopped, e-stopped or losing
camera frames (with the measured loss and the fix), OK otherwise. Viewable in
rqt_runtime_monitor or Foxglove.
"""

import time

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue

from vla_fusion_ros.ros import diagnostic_keys as keys
from vla_fusion_ros.ros.qos import make_qos


#: Severity of each level name, as DiagnosticStatus numbers them.
_LEVELS = {'OK': 0, 'WARN': 1, 'ERROR': 2}


def _level_byte(level: int):
    """Return ``level`` as the message field wants it (bytes in rclpy)."""
    ok = DiagnosticStatus().level
    return bytes([level]) if isinstance(ok, (bytes, bytearray)) else level


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
        health, problem = c.input_health.assess(now, c.settings.expected_image_rate)
        values += [_kv(key, value) for key, value in health]
        values += [_kv(name, count) for name, count in sorted(c.counters.snapshot().items())]

        status = DiagnosticStatus(name=keys.status_name(self.node.get_name()),
                                  hardware_id=c.policy.identity, values=values)
        if c.estopped:
            level, message = 'WARN', 'e-stop engaged'
        elif c.liveness.stopped:
            why = '; '.join(c.liveness.reasons(now)) or 'inputs'
            level, message = 'WARN', f'stopped: {why}'
        elif not c.active:
            level, message = 'OK', 'inactive'
        else:
            level, message = 'OK', 'running'
        if problem is not None:   # the stream's problem comes first: it is the one to fix
            level = problem[0] if _LEVELS[problem[0]] > _LEVELS[level] else level
            message = f'{problem[1]}; {message}'
        status.level = _level_byte(_LEVELS[level])
        status.message = message
        return status

    def publish(self) -> None:
        """Publish one DiagnosticArray."""
        msg = DiagnosticArray()
        msg.header.stamp = self.node.get_clock().now().to_msg()
        msg.status = [self.status()]
        self.publisher.publish(msg)
