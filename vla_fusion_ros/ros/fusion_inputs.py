# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The fusion node's input side: the image, instruction and e-stop callbacks.

:class:`FusionInputs` is the part of :class:`vla_fusion_ros.ros.fusion_core.FusionController`
that runs on the executor when a message arrives: it validates images and hands them to the
inference thread's mailbox (counting frames lost on the way and refusing grey frames for a
colour model), cleans and installs instructions, tracks whether the latched instruction's
publisher is still there, and engages the e-stop. The state it works on (lock, mailbox,
liveness, queue, counters) is created by the controller.
"""

import time
from typing import Optional, Tuple

from sensor_msgs.msg import CompressedImage, Image
from std_msgs.msg import Bool, String

from vla_fusion_ros.ros.image_conversion import ImageConversionError
from vla_fusion_ros.ros.input_health import grey_encoding, refuses_mono


def clean_instruction(text: str, max_length: int) -> Tuple[Optional[str], str]:
    """
    Return ``(instruction, problem)``: the usable instruction or ``None`` and why not.

    Control characters become spaces; an instruction longer than ``max_length`` characters
    or with nothing left after cleaning is refused (the robot then stops: following a
    command it could not read would be worse).
    """
    if len(text) > max_length:
        return None, f'instruction of {len(text)} characters exceeds {max_length}'
    cleaned = ' '.join(''.join(c if c.isprintable() else ' ' for c in text).split())
    if not cleaned:
        return None, 'empty instruction'
    return cleaned, ''


class FusionInputs:
    """Message callbacks of the fusion controller (a mixin: the controller owns the state)."""

    def _frame_time(self, msg) -> Tuple[float, object]:
        """
        Return ``(stamp_seconds, stamp_msg)`` of a frame, for its age and for the command.

        The header stamp travels unchanged to ``TwistStamped`` commands (a float round trip
        would alter its nanoseconds). A zero stamp (a careless publisher) or one from the
        future (a skewed clock) cannot tell age: the time of arrival stands in for it. A
        usable stamp also counts the frames lost since the previous one.
        """
        now = self.node.get_clock().now()
        stamp = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9
        receive = now.nanoseconds * 1e-9
        if stamp <= 0.0 or stamp > receive + 1.0:
            self.counters.add('unusable_stamps')
            return receive, now.to_msg()
        lost = self.input_health.loss.add(stamp, time.monotonic(),
                                          self.settings.expected_image_rate,
                                          stall=self.settings.watchdog_timeout)
        if lost:
            self.counters.add('frames_lost', lost)
        return stamp, msg.header.stamp

    def _refuse_grey(self, encoding: str, now: float) -> None:
        """Refuse a grey frame for a colour model: never act on it, stop within a tick."""
        self.counters.add('frames_refused_encoding')
        self.input_health.refuse(encoding, now)
        message = self.input_health.refusal_message(encoding)
        self.liveness.forget('image', message)   # the watchdog zeroes at its next tick
        self.logger.error(message, throttle_duration_sec=5.0)

    def _deliver(self, payload, encoding, msg) -> None:
        stamp, stamp_msg = self._frame_time(msg)
        with self._wakeup:
            if self._mailbox is not None:
                self.counters.add('frames_superseded')
            self._mailbox = (payload, encoding, stamp, stamp_msg, time.monotonic())
            self._wakeup.notify()

    def _on_image(self, msg: Image) -> None:
        now = time.monotonic()
        self.counters.add('frames_received')
        self.image_rate.tick(now)
        try:
            array = self.decoder.decode(msg)  # checks step/size/encoding; zero-copy view
        except ImageConversionError as exc:
            self.counters.add('frames_rejected')
            self.logger.warning(f'rejected image: {exc}', throttle_duration_sec=2.0)
            return
        grey = grey_encoding(msg.encoding)
        if grey and refuses_mono(self.in_channels, self.settings.accept_mono):
            self._frame_time(msg)   # a refused frame still tells the stream's loss
            self._refuse_grey(grey, now)
            return
        self.liveness.touch('image', now)
        self._deliver(array, msg.encoding, msg)

    def _on_compressed(self, msg: CompressedImage) -> None:
        now = time.monotonic()
        self.counters.add('frames_received')
        self.image_rate.tick(now)
        # Decoding a JPEG costs milliseconds: the inference thread does it.
        self._deliver(msg, None, msg)

    def _set_instruction(self, text: str, from_topic: bool,
                         max_length: Optional[int] = None) -> None:
        instruction, problem = clean_instruction(
            text, max_length or self.settings.max_instruction_length)
        with self._lock:
            self.queue.clear()   # chunks predicted for the old instruction are void
            self.instruction = instruction
            self.instruction_from_topic = from_topic
            # Every instruction message starts a new task: a model with memory forgets.
            reset = getattr(self.policy, 'reset_memory', None)
            if reset is not None:
                reset()
        if instruction is None:
            self.counters.add('instructions_rejected')
            self.liveness.forget('instruction', f'instruction refused ({problem})')
            self.logger.warning(f'instruction refused ({problem}); stopping until a valid one')
        else:
            self.liveness.touch('instruction', time.monotonic())
            self.logger.info(f'instruction: "{instruction[:200]}"')

    def _clear_instruction(self, reason: str) -> None:
        with self._lock:
            self.queue.clear()
            self.instruction = None
            self.instruction_from_topic = False
        self.liveness.forget('instruction', reason)
        self.logger.info(f'{reason}; stopping until a new instruction')

    def _on_instruction(self, msg: String) -> None:
        self.counters.add('instructions_received')
        self._set_instruction(msg.data, from_topic=True)

    def _on_estop(self, msg: Bool) -> None:
        engaged = bool(msg.data)
        if engaged and not self.estopped:
            # Under the lock: an action the inference thread is publishing right now goes
            # out before this zero, never after it.
            with self._lock:
                self.estopped = True
                self.counters.add('estops')
                self.queue.clear()
                self.output.publish_zero()
            self.logger.warning('E-STOP engaged: output held at zero until cleared')
        elif not engaged and self.estopped:
            self.estopped = False
            self.logger.info('e-stop cleared')

    def _instruction_alive(self) -> bool:
        if self.instruction is None:
            return False
        if not self.instruction_from_topic:
            return True
        # A latched instruction stays valid while its publisher lives, and dies with it: once
        # a publisher was seen and is gone, the instruction is stale now, not one more
        # watchdog timeout later (DDS took its own time to notice already). Data can arrive
        # before discovery counts its publisher: until one is seen, arrival keeps it alive.
        alive = self.node.count_publishers(self.instruction_sub.topic_name) > 0
        if alive:
            self._publisher_seen = True
        elif self._publisher_seen:
            self._publisher_seen = False
            self.liveness.forget('instruction', "the instruction's publisher left "
                                 f'{self.instruction_sub.topic_name}')
        return alive
