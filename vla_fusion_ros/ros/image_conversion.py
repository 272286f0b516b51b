# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Convert between ``sensor_msgs/Image`` (and ``CompressedImage``) and numpy arrays.

ROS 2's ``cv_bridge`` is used where it is installed and works; otherwise this module's own
converter does the same job with the same checks as cv_bridge's C++ core:

- the encoding must be known;
- ``step >= width * channels * bytes_per_channel``;
- ``len(data) == height * step``.

Every check happens before any reshape, and a failure raises :class:`ImageConversionError`
naming the field at fault. Decoding is zero-copy: the array returned by
:func:`image_msg_to_array` is a strided view of the message's buffer (row padding and all), so
the only copy a frame pays for is the resize the model input needs (:func:`prepare_rgb`, from
:mod:`vla_fusion_ros.model.preprocess`, re-exported here).
"""

import struct
import sys
from typing import Tuple

import cv2
import numpy as np

# The model's preprocessing lives without ROS (the dataset generator calls the same function).
from vla_fusion_ros.model.preprocess import (  # noqa: F401 (re-exported)
    area_resize, prepare_rgb, TO_RGB, to_rgb8)

try:  # pragma: no cover - depends on the installation
    from cv_bridge import CvBridge as _CvBridge
    from cv_bridge import CvBridgeError as _CvBridgeError
except Exception:  # noqa: BLE001 - a broken cv_bridge must not break the node
    _CvBridge = None
    _CvBridgeError = Exception

#: encoding -> (channels, numpy dtype). 16-bit encodings honour ``is_bigendian``.
ENCODINGS = {
    'rgb8': (3, np.uint8),
    'bgr8': (3, np.uint8),
    'rgba8': (4, np.uint8),
    'bgra8': (4, np.uint8),
    'mono8': (1, np.uint8),
    'mono16': (1, np.uint16),
}

#: Colour conversions from each encoding to RGB (``None``: already RGB).
_TO_RGB = TO_RGB

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


def array_to_image_msg(array: np.ndarray, encoding: str, msg_type):
    """
    Build an Image message (of class ``msg_type``) from an RGB ``uint8`` array.

    The array is converted from RGB to ``encoding`` first (rgb8, bgr8, mono8, rgba8, bgra8).
    The header is left for the caller to stamp.
    """
    if encoding not in _TO_RGB:
        raise ImageConversionError(
            f"encoding: unsupported {encoding!r} (valid: {', '.join(_TO_RGB)})")
    if encoding == 'bgr8':
        array = cv2.cvtColor(array, cv2.COLOR_RGB2BGR)
    elif encoding == 'mono8':
        array = cv2.cvtColor(array, cv2.COLOR_RGB2GRAY)
    elif encoding == 'rgba8':
        array = cv2.cvtColor(array, cv2.COLOR_RGB2RGBA)
    elif encoding == 'bgra8':
        array = cv2.cvtColor(array, cv2.COLOR_RGB2BGRA)
    array = np.ascontiguousarray(array)
    msg = msg_type()
    msg.height, msg.width = int(array.shape[0]), int(array.shape[1])
    msg.encoding = encoding
    msg.is_bigendian = 0
    msg.step = int(array.strides[0])
    msg.data = array.tobytes()
    return msg


class ImageDecoder:
    """
    Decode Image messages, through cv_bridge when it is installed and works.

    cv_bridge is probed once with a round trip; a bridge that fails (for instance the PyPI
    ROS 1 port, which calls numpy's removed ``tostring()``) is set aside and this module's
    converter is used instead. :attr:`backend` says which one is in use.
    """

    def __init__(self, prefer_cv_bridge: bool = True):
        self._bridge = None
        self.backend = 'builtin'
        if prefer_cv_bridge and _CvBridge is not None:
            try:
                bridge = _CvBridge()
                probe = np.zeros((2, 3, 3), dtype=np.uint8)
                if bridge.imgmsg_to_cv2(bridge.cv2_to_imgmsg(probe, 'rgb8')).shape == (2, 3, 3):
                    self._bridge = bridge
                    self.backend = 'cv_bridge'
            except Exception:  # noqa: BLE001 - any failure means: do not use it
                self._bridge = None

    def decode(self, msg) -> np.ndarray:
        """Return the message's pixels as an ``(H, W, C)`` array (see image_msg_to_array)."""
        if self._bridge is not None:
            # Our checks first, so a malformed message is rejected the same way either path.
            image_msg_to_array(msg)
            try:
                array = self._bridge.imgmsg_to_cv2(msg, desired_encoding='passthrough')
            except _CvBridgeError as exc:
                raise ImageConversionError(f'cv_bridge: {exc}') from None
            return array if array.ndim == 3 else array[:, :, None]
        return image_msg_to_array(msg)
