# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The fuzzer's cases and their oracles: which inputs the node must accept, written independently.

Each case type (:class:`ImageCase`, :class:`InstructionCase`, :class:`CompressedCase`) knows
whether the node must accept it and builds its message; :func:`malformed_images` yields
images that must be rejected, for the fault injection's bursts. The hypothesis strategies
that draw the cases are in :mod:`.strategies`.
"""

from dataclasses import dataclass
import random
from typing import Iterator, Tuple

#: encoding -> (channels, bytes per channel), the encodings the node must accept.
SPEC = {'rgb8': (3, 1), 'bgr8': (3, 1), 'rgba8': (4, 1), 'bgra8': (4, 1), 'mono8': (1, 1),
        'mono16': (1, 2)}
MAX_FRAME_BYTES = 64 * 1024 * 1024    # what the node accepts (image_conversion)
MAX_DATA = 8_000_000                  # what this fuzzer sends in one message
MAX_INSTRUCTION = 512                 # the node's default max_instruction_length
UINT32 = 2 ** 32 - 1

SENTENCES = ('go to the red circle', 'drive toward the blue square',
             'head for the green triangle', 'find the yellow star', 'approach the red square',
             'Gehe zum roten Kreis', '去红色的圆', 'go  to\tthe red circle!')

#: Category mixes (a name repeated = more weight).
IMAGE_MIX = (['valid'] * 24 + ['valid_padded'] * 8 + ['valid_extreme'] * 5 + ['big_valid']
             + ['bad_stamp'] * 6 + ['bad_encoding'] * 8 + ['zero_size'] * 6
             + ['huge_dims'] * 10 + ['short_step'] * 8 + ['odd_step'] * 4
             + ['data_length'] * 12 + ['oversize'] * 4)
INSTRUCTION_MIX = (['valid'] * 8 + ['valid_controls'] * 3 + ['empty'] + ['blank'] * 3
                   + ['unicode'] * 4 + ['long'] * 2 + ['boundary'] * 3 + ['nul'] * 2)
COMPRESSED_MIX = (['valid_jpeg'] * 6 + ['valid_png'] * 3 + ['format_string'] * 2
                  + ['random'] * 4 + ['empty'] + ['truncated'] * 4 + ['corrupted'] * 4
                  + ['bomb'] * 3 + ['other_format'] * 2 + ['bad_stamp'] * 2)


def delivered(text: str) -> str:
    """Return a string as a ROS subscriber receives it (DDS strings end at the first NUL)."""
    return text.split('\x00', 1)[0]


def image_is_valid(encoding: str, width: int, height: int, step: int, size: int) -> bool:
    """Return whether an Image must be accepted (cv_bridge's checks, written independently)."""
    encoding = delivered(encoding)
    if encoding not in SPEC or width == 0 or height == 0:
        return False
    channels, depth = SPEC[encoding]
    if step < width * channels * depth or step % depth:
        return False
    return height * step <= MAX_FRAME_BYTES and size == height * step


def instruction_is_valid(text: str) -> bool:
    """Return whether the node must accept an instruction (short, with a visible character)."""
    text = delivered(text)
    return len(text) <= MAX_INSTRUCTION and any(c.isprintable() and c != ' ' for c in text)


@dataclass
class ImageCase:
    """One fuzzed ``sensor_msgs/Image``: its fields, the data's length and a seed for it."""

    category: str
    encoding: str
    width: int
    height: int
    step: int
    is_bigendian: int
    size: int
    seed: int
    stamp: str = 'now'    # now | zero | negative | future | overflow | past

    @property
    def valid(self) -> bool:
        """Return whether the node must accept this frame."""
        return image_is_valid(self.encoding, self.width, self.height, self.step, self.size)

    @property
    def unusable_stamp(self) -> bool:
        """Return whether the node must count the stamp as unusable (zero or future)."""
        return self.stamp in ('zero', 'negative', 'future', 'overflow')

    def message(self, now_ns: int):
        """Return the message; its data are ``size`` seeded random bytes."""
        from sensor_msgs.msg import Image
        msg = Image()
        msg.encoding = self.encoding
        msg.width, msg.height, msg.step = self.width, self.height, self.step
        msg.is_bigendian = self.is_bigendian
        msg.data = random.Random(self.seed).randbytes(self.size)
        set_stamp(msg.header.stamp, self.stamp, now_ns)
        msg.header.frame_id = 'fuzz'
        return msg


def set_stamp(stamp, kind: str, now_ns: int) -> None:
    """Fill a ``builtin_interfaces/Time`` of the given kind."""
    sec, nanosec = divmod(now_ns, 10 ** 9)
    if kind == 'zero':
        sec, nanosec = 0, 0
    elif kind == 'negative':
        sec = -5
    elif kind == 'future':
        sec += 3600
    elif kind == 'overflow':
        nanosec = UINT32       # 4.29 s: an invalid Time that lies in the future
    elif kind == 'past':
        sec -= 10              # stale: never acted on
    stamp.sec, stamp.nanosec = int(sec), int(nanosec)


@dataclass
class InstructionCase:
    """One fuzzed instruction."""

    category: str
    text: str

    @property
    def valid(self) -> bool:
        """Return whether the node must accept it."""
        return instruction_is_valid(self.text)


@dataclass
class CompressedCase:
    """One fuzzed ``sensor_msgs/CompressedImage``."""

    category: str
    format: str  # noqa: A003 - the message field's name
    data: bytes
    valid: bool
    stamp: str = 'now'

    def message(self, now_ns: int):
        """Build the message."""
        from sensor_msgs.msg import CompressedImage
        msg = CompressedImage()
        msg.format = self.format
        msg.data = self.data
        set_stamp(msg.header.stamp, self.stamp, now_ns)
        return msg


def compressed_is_valid(data: bytes) -> bool:
    """Return whether the node must decode ``data``: JPEG or PNG, small enough, decodable."""
    import cv2
    import numpy as np
    from vla_fusion_ros.ros.image_conversion import compressed_dimensions, ImageConversionError
    if not data or data[:2] != b'\xff\xd8' and data[:8] != b'\x89PNG\r\n\x1a\n':
        return False
    array = np.frombuffer(data, dtype=np.uint8)
    try:
        width, height = compressed_dimensions(array)
    except ImageConversionError:
        return False
    if width * height * 3 > MAX_FRAME_BYTES:
        return False
    return cv2.imdecode(array, cv2.IMREAD_COLOR) is not None


def malformed_images(count: int, seed: int = 0) -> Iterator[Tuple[str, object]]:
    """Yield ``count`` ``(category, Image)`` pairs that the node must reject (for bursts)."""
    from sensor_msgs.msg import Image
    rng = random.Random(seed)
    kinds = ['bad_encoding', 'zero_size', 'huge_dims', 'short_step', 'odd_step', 'data_length']
    for i in range(count):
        kind = kinds[i % len(kinds)]
        msg = Image()
        msg.encoding, msg.width, msg.height = 'rgb8', rng.randint(1, 160), rng.randint(1, 120)
        msg.step = msg.width * 3
        size = msg.height * msg.step
        if kind == 'bad_encoding':
            msg.encoding = rng.choice(['', 'yuv422', 'RGB8', '8UC3', 'rgb8 '])
        elif kind == 'zero_size':
            msg.width = 0
        elif kind == 'huge_dims':
            msg.width, msg.height, msg.step = UINT32, UINT32, UINT32
            size = rng.randint(0, 4096)
        elif kind == 'short_step':
            msg.step = rng.randint(0, msg.width * 3 - 1)
            size = msg.height * msg.step
        elif kind == 'odd_step':
            msg.encoding, msg.step = 'mono16', 2 * msg.width + 1
            size = msg.height * msg.step
        else:
            size += rng.choice([-1, 1, -size, 100])
        msg.data = rng.randbytes(max(0, size))
        yield kind, msg
