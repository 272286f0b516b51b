# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The pixels of ``sensor_msgs/Image`` and ``CompressedImage`` messages as arrays, without ROS.

These functions read only the messages' fields (``height``, ``width``, ``step``, ``encoding``,
``is_bigendian``, ``data``; ``format`` and ``data``), so they take rclpy's messages and the
ones ``rosbags`` deserializes from a bag alike: the fusion node decodes camera frames with them
(:mod:`vla_fusion_ros.ros.image_conversion` re-exports them) and the bag converter reads
recorded frames with them (:mod:`.bag_reading`), with the same checks as cv_bridge's C++ core:

- the encoding must be known;
- ``step >= width * channels * bytes_per_channel``;
- ``len(data) == height * step``.

Every check happens before any reshape, and a failure raises :class:`ImageConversionError`
naming the field at fault. :func:`image_msg_to_array` is zero-copy: a strided view of the
message's buffer (row padding and all).
"""

import struct
import sys
from typing import Tuple

import cv2
import numpy as np

#: encoding -> (channels, numpy dtype). 16-bit encodings honour ``is_bigendian``.
ENCODINGS = {
    'rgb8': (3, np.uint8),
    'bgr8': (3, np.uint8),
    'rgba8': (4, np.uint8),
    'bgra8': (4, np.uint8),
    'mono8': (1, np.uint8),
    'mono16': (1, np.uint16),
}

#: The largest frame accepted, in bytes (a 4K RGBA frame is 33 MB). Bigger is malformed.
MAX_FRAME_BYTES = 64 * 1024 * 1024


class ImageConversionError(ValueError):
    """An image message cannot be converted; the message names the field at fault."""


def _host_is_bigendian() -> bool:
    return sys.byteorder == 'big'


def image_msg_to_array(msg) -> np.ndarray:
    """
    Return a zero-copy ``(H, W, C)`` view of an Image message's pixels.

    Raises :class:`ImageConversionError` for an unknown encoding, an inconsistent step or a
    data length that does not match ``height * step``.
    """
    encoding = msg.encoding
    if encoding not in ENCODINGS:
        raise ImageConversionError(
            f"encoding: unsupported {encoding!r} (valid: {', '.join(ENCODINGS)})")
    channels, dtype = ENCODINGS[encoding]
    itemsize = np.dtype(dtype).itemsize
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    if height <= 0 or width <= 0:
        raise ImageConversionError(f'height/width: empty image {width}x{height}')
    min_step = width * channels * itemsize
    if step < min_step:
        raise ImageConversionError(
            f'step: {step} < width * channels * bytes ({width} * {channels} * {itemsize} = '
            f'{min_step})')
    if step % itemsize:
        raise ImageConversionError(f'step: {step} is not a multiple of {itemsize} bytes')
    expected = height * step
    if expected > MAX_FRAME_BYTES:
        raise ImageConversionError(
            f'height * step: {expected} bytes exceeds the {MAX_FRAME_BYTES}-byte limit')
    data = msg.data
    size = len(data)
    if size != expected:
        raise ImageConversionError(f'data: length {size} != height * step ({expected})')
    buffer = memoryview(data)
    if buffer.itemsize != 1:
        buffer = buffer.cast('B')
    array = np.ndarray(shape=(height, width, channels), dtype=dtype, buffer=buffer,
                       strides=(step, channels * itemsize, itemsize))
    if itemsize > 1 and bool(msg.is_bigendian) != _host_is_bigendian():
        array = array.byteswap()  # a copy, only for foreign-endian 16-bit frames
    return array


_PNG_MAGIC = b'\x89PNG\r\n\x1a\n'
#: JPEG start-of-frame markers (SOF0-SOF15 but DHT, JPG and DAC), which carry the image size.
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def compressed_dimensions(data) -> Tuple[int, int]:
    """
    Return ``(width, height)`` read from a JPEG or PNG header, without decoding.

    A few bytes can declare a huge image (a "decompression bomb": 700 bytes of JPEG that say
    30000x30000 make OpenCV allocate and fill 2.7 GB), so the size is checked before decoding.
    Raises :class:`ImageConversionError` for anything that is not JPEG or PNG.
    """
    buf = bytes(data[:24])
    if buf[:8] == _PNG_MAGIC:
        if len(buf) < 24 or buf[12:16] != b'IHDR':
            raise ImageConversionError('data: PNG without an IHDR header')
        width, height = struct.unpack('>II', buf[16:24])
        return width, height
    if buf[:2] != b'\xff\xd8':
        raise ImageConversionError(f'data: not a JPEG or PNG image (starts with {buf[:4]!r})')
    view = memoryview(data).cast('B') if not isinstance(data, bytes) else memoryview(data)
    i, size = 2, len(view)
    while i + 4 <= size:
        if view[i] != 0xFF:
            raise ImageConversionError(f'data: corrupt JPEG (no marker at byte {i})')
        marker = view[i + 1]
        if marker == 0xFF:            # fill byte
            i += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:   # markers without a length
            i += 2
            continue
        if marker in _JPEG_SOF:
            if i + 9 > size:
                break
            height, width = struct.unpack('>HH', bytes(view[i + 5:i + 9]))
            return width, height
        if marker in (0xDA, 0xD9):    # scan data or end of image before any frame header
            break
        i += 2 + ((view[i + 2] << 8) | view[i + 3])
    raise ImageConversionError('data: JPEG without a frame header')


def compressed_msg_to_rgb(msg) -> np.ndarray:
    """Decode a ``sensor_msgs/CompressedImage`` (jpeg or png) to RGB."""
    data = np.frombuffer(memoryview(msg.data).cast('B') if not isinstance(msg.data, bytes)
                         else msg.data, dtype=np.uint8)
    if data.size == 0:
        raise ImageConversionError('data: empty compressed image')
    if data.size > MAX_FRAME_BYTES:
        raise ImageConversionError(f'data: {data.size} bytes exceeds the limit')
    width, height = compressed_dimensions(data)
    if width * height * 3 > MAX_FRAME_BYTES:
        raise ImageConversionError(
            f'data: a {width}x{height} image exceeds the {MAX_FRAME_BYTES}-byte limit once '
            'decoded')
    bgr = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if bgr is None:
        raise ImageConversionError(f'data: cannot decode format {msg.format!r}')
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
