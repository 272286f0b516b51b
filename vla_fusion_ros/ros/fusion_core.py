# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The fusion node's machinery, shared by the plain and the lifecycle node.

Data path: image message -> zero-copy array -> resized RGB -> policy -> clamp -> command.

Threads:

- the executor runs the subscriptions and timers; the image callback only validates the
  message and swaps it into a one-slot mailbox (the newest frame wins; the backlog can never
  grow);
- an inference thread takes the newest frame, refuses it if it is older than
  ``max_image_age``, runs the model and publishes (or queues an action chunk);
- a watchdog timer sends one explicit zero when images or the instruction stall, and the
  e-stop callback zeroes output at once and holds it until cleared.

Parameters set at run time (:data:`vla_fusion_ros.ros.node_settings.LIVE_PARAMETERS`) reach
:meth:`FusionController.apply_settings`, which applies them all at once or refuses them.
"""

import sys
import threading
import time
from typing import Optional

import numpy as np
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from sensor_msgs.msg import CompressedImage, Image
from std_msgs.msg import Bool, String

from vla_fusion_ros.ros.command_output import CommandPublisher
from vla_fusion_ros.ros.diagnostics import DiagnosticsReporter
from vla_fusion_ros.ros.fusion_inputs import clean_instruction, FusionInputs
from vla_fusion_ros.ros.image_conversion import (compressed_msg_to_rgb, ImageConversionError,
                                                 ImageDecoder, prepare_rgb)
from vla_fusion_ros.ros.input_health import grey_encoding, InputHealth, refuses_mono
from vla_fusion_ros.ros.node_settings import FusionSettings
from vla_fusion_ros.ros.pacing import InferencePacer
from vla_fusion_ros.ros.params import ParameterError
from vla_fusion_ros.ros.qos import latched_qos, make_qos
from vla_fusion_ros.ros.safety import ActionChunkQueue, Liveness
from vla_fusion_ros.ros.stats import Counters, LatencyWindow, RateMeter


#: The GIL switch interval the node runs with (s): see FusionController.start.
SWITCH_INTERVAL = 0.001


class FusionController(FusionInputs):
    """Owns the subscriptions, publishers, threads and safety state of one fusion node."""

    def __init__(self, node, settings: FusionSettings, policy):
        self.node = node
        self.settings = settings
        self.policy = policy
        self.logger = node.get_logger()
        self.counters = Counters()
        self.image_rate = RateMeter()
        self.inference_latency = LatencyWindow()
        self.preprocess_latency = LatencyWindow()
        self.e2e_latency = LatencyWindow()
        self.frame_age = LatencyWindow()
        self.pacing_wait = LatencyWindow()  # control_rate's hold on a waiting frame
        self.held = LatencyWindow()  # receipt (image callback) to inference start
        self.decoder = ImageDecoder()
        self.input_health = InputHealth()
        self.in_channels = policy.config.vision.in_channels
        self.liveness = Liveness(settings.watchdog_timeout, ('image', 'instruction'))
        self.queue = ActionChunkQueue(settings.control_period, decay=settings.chunk_decay)
        self.output = CommandPublisher(node, settings, policy, self.counters)

        self.active = False
        self.estopped = False
        self.instruction: Optional[str] = None
        self.instruction_from_topic = False
        self._publisher_seen = False   # a publisher of the latched instruction was counted
        self._lock = threading.Lock()
        self._wakeup = threading.Condition(self._lock)
        self._mailbox = None  # (payload, encoding or None, stamp_s, stamp_msg, received_mono)
        self._running = False
        self._thread: Optional[threading.Thread] = None
        self._last_debug = 0.0

        if settings.instruction:
            self._set_instruction(settings.instruction, from_topic=False)

        inputs = MutuallyExclusiveCallbackGroup()
        self._timers = timers = MutuallyExclusiveCallbackGroup()
        image_qos = make_qos(settings.image_reliability, 'keep_last', settings.image_depth)
        if settings.image_transport == 'compressed':
            self.image_sub = node.create_subscription(
                CompressedImage, '~/image_raw/compressed', self._on_compressed, image_qos,
                callback_group=inputs)
        else:
            self.image_sub = node.create_subscription(
                Image, '~/image_raw', self._on_image, image_qos, callback_group=inputs)
        self.instruction_sub = node.create_subscription(
            String, '~/instruction', self._on_instruction, latched_qos(), callback_group=inputs)
        self.estop_sub = node.create_subscription(
            Bool, '~/estop', self._on_estop, latched_qos(), callback_group=inputs)
        self.debug_pub = (node.create_publisher(Image, '~/debug_image', 1)
                          if settings.debug_image else None)
        self.watchdog_timer = None
        self._start_watchdog_timer(settings.watchdog_timeout)
        self.publish_timer = (node.create_timer(settings.control_period, self._on_publish_tick,
                                                callback_group=timers)
                              if policy.chunk_size > 1 else None)
        self.diagnostics = DiagnosticsReporter(node, self, settings.diagnostics_rate, timers)

    def _start_watchdog_timer(self, timeout: float) -> None:
        """(Re)create the watchdog timer for ``timeout``: stop-time jitter <= 20 ms."""
        period = min(0.02, timeout / 10.0)
        old = self.watchdog_timer
        if old is not None:
            if abs(old.timer_period_ns - period * 1e9) < 1.0:
                return
            self.node.destroy_timer(old)
        self.watchdog_timer = self.node.create_timer(period, self._on_watchdog,
                                                     callback_group=self._timers)

    # ------------------------------------------------------------------ parameters
    def apply_settings(self, new: FusionSettings, changed) -> None:
        """
        Apply run-time parameter changes at once, or raise :class:`ParameterError` to refuse.

        Everything is checked before anything changes. New limits are in force when this
        returns: a command clamped under the old ones is published before, never after.
        """
        bounds = None
        if changed & {'max_linear', 'max_angular', 'action_min', 'action_max'}:
            try:
                bounds = self.output.bounds_for(new)
            except ValueError as exc:
                raise ParameterError(str(exc)) from None
        instruction = problem = None
        if 'instruction' in changed and new.instruction:
            instruction, problem = clean_instruction(new.instruction,
                                                     new.max_instruction_length)
            if instruction is None:
                raise ParameterError(f"parameter 'instruction': refused ({problem})")
        with self._lock:
            if bounds is not None:
                self.output.set_limits(bounds)
            self.liveness.timeout = new.watchdog_timeout
            self.queue.decay = new.chunk_decay
        if 'watchdog_timeout' in changed:
            self._start_watchdog_timer(new.watchdog_timeout)
        if 'instruction' in changed:
            if instruction is None:
                self._clear_instruction('instruction cleared (parameter instruction set to "")')
            else:
                self._set_instruction(instruction, from_topic=False,
                                      max_length=new.max_instruction_length)
        self.logger.info('parameters set: ' + ', '.join(
            f'{name}={getattr(new, name)!r}' for name in sorted(changed)))

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Start the inference thread and allow publishing."""
        self.active = True
        if self._thread is None:
            # Two Python threads share the GIL: the executor's (image callbacks) and the
            # inference thread. A thread that wakes for a frame waits for the GIL up to the
            # switch interval (Python's default is several ms) while the executor is busy
            # with a burst of images, and the frame it takes ages meanwhile. A shorter
            # interval bounds that wait; the benchmark's flood measures what is left
            # ("receipt to inference" in results/benchmark/benchmark.md).
            sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))
            self._running = True
            self._thread = threading.Thread(target=self._inference_loop, name='inference',
                                            daemon=True)
            self._thread.start()

    def stop(self, reason: str) -> None:
        """Stop publishing: send one zero command, then stay silent."""
        with self._lock:  # an inference publishing right now goes out before the zero
            self.active = False
            self.queue.clear()
            self.output.publish_zero()

    def shutdown(self) -> None:
        """Stop the inference thread and publish a final zero."""
        with self._wakeup:
            self._running = False
            self._wakeup.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None
        self.stop('shutdown')
        self.output.flush()

    def destroy(self) -> None:
        """Destroy every subscription, publisher and timer this controller created."""
        node = self.node
        for sub in (self.image_sub, self.instruction_sub, self.estop_sub):
            node.destroy_subscription(sub)
        for timer in (self.watchdog_timer, self.publish_timer, self.diagnostics.timer):
            if timer is not None:
                node.destroy_timer(timer)
        for pub in (self.debug_pub, self.output.publisher, self.diagnostics.publisher):
            if pub is not None:
                node.destroy_publisher(pub)

    def _on_watchdog(self) -> None:
        now = time.monotonic()
        if self._instruction_alive():
            self.liveness.touch('instruction', now)
        with self._lock:  # as for the e-stop: the zero is the last word
            state = self.liveness.update(now)
            if state == 'stop':
                why = '; '.join(self.liveness.reasons(now))
                self.queue.clear()
                self.counters.add('watchdog_stops')
                if self.active and not self.estopped:
                    self.output.publish_zero()
        if state == 'stop':
            self.logger.warning(f'watchdog: {why}; zero sent')

    def _on_publish_tick(self) -> None:
        with self._lock:
            if not self._may_publish():
                return
            action = self.queue.sample(self._ros_now())
            if action is not None:
                self.output.publish_action(action, None)

    # ------------------------------------------------------------------ inference
    def _may_publish(self) -> bool:
        return self.active and not self.estopped and not self.liveness.stopped

    def _ros_now(self) -> float:
        return self.node.get_clock().now().nanoseconds * 1e-9

    def _inference_loop(self) -> None:
        # Rate limit (control_rate): see vla_fusion_ros.ros.pacing. The frame is taken only
        # after the wait, so a newer one that arrives meanwhile wins.
        pacer = InferencePacer(self.settings.control_rate)
        while True:
            with self._wakeup:
                while self._running and self._mailbox is None:
                    self._wakeup.wait(timeout=0.1)
                if not self._running:
                    return
            wait = pacer.wait(time.monotonic())
            self.pacing_wait.add(wait)
            if wait > 0:
                time.sleep(wait)
            with self._wakeup:
                if not self._running:
                    return
                payload, encoding, stamp, stamp_msg, received = self._mailbox
                self._mailbox = None
                instruction = self.instruction
            taken = time.monotonic()
            pacer.start(taken)
            # What the node itself adds to a frame's age: the mailbox, the pacing, the
            # thread hand-off (frame age, from the stamp, also holds the DDS delivery).
            self.held.add(taken - received)
            try:
                self._process(payload, encoding, stamp, stamp_msg, instruction)
            except Exception as exc:  # noqa: BLE001 - the node must survive a bad frame
                self.counters.add('inference_errors')
                self.logger.error(f'inference failed: {exc}', throttle_duration_sec=2.0)

    def _process(self, payload, encoding, stamp: float, stamp_msg,
                 instruction: Optional[str]) -> None:
        age = self._ros_now() - stamp
        self.frame_age.add(max(0.0, age))
        if age > self.settings.max_image_age:
            self.counters.add('frames_stale')
            return
        t0 = time.perf_counter()
        if encoding is None:
            # Compressed: decoded here, off the executor, and before the idle check, because
            # only a frame that decodes proves the camera alive to the watchdog.
            grey = grey_encoding(None, payload.format)
            if grey and refuses_mono(self.in_channels, self.settings.accept_mono):
                self._refuse_grey(grey, time.monotonic())
                return
            try:
                payload = compressed_msg_to_rgb(payload)
            except ImageConversionError as exc:
                self.counters.add('frames_rejected')
                self.logger.warning(f'rejected compressed image: {exc}',
                                    throttle_duration_sec=2.0)
                return
            self.liveness.touch('image', time.monotonic())
            encoding = 'rgb8'
        if instruction is None or not self._may_publish():
            self.counters.add('frames_idle')
            return
        rgb = prepare_rgb(payload, encoding, self.policy.image_size)
        t1 = time.perf_counter()
        actions = self.policy.predict(rgb, instruction)
        t2 = time.perf_counter()
        self.preprocess_latency.add(t1 - t0)
        self.inference_latency.add(t2 - t1)
        self.counters.add('frames_processed')
        with self._lock:
            if instruction != self.instruction or not self._may_publish():
                return  # the world changed during inference: discard
            if self.policy.chunk_size > 1:
                self.queue.push(stamp, actions)
                published = False
            else:
                published = self.output.publish_action(actions[0], stamp_msg)
        if published:
            self.e2e_latency.add(self._ros_now() - stamp)
        self._maybe_publish_debug(rgb)

    def _maybe_publish_debug(self, rgb: np.ndarray) -> None:
        if self.debug_pub is None:
            return
        now = time.monotonic()
        if now - self._last_debug < 1.0 / self.settings.debug_image_rate:
            return
        self._last_debug = now
        from vla_fusion_ros.ros.debug_overlay import attention_overlay_msg
        msg = attention_overlay_msg(rgb, self.policy.attention_map(), self.instruction or '')
        msg.header.stamp = self.node.get_clock().now().to_msg()
        self.debug_pub.publish(msg)
