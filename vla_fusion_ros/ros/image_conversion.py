# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Convert between ``sensor_msgs/Image`` (and ``CompressedImage``) and numpy arrays in the nodes.

ROS 2's ``cv_bridge`` is used where it is installed and works (:class:`ImageDecoder`);
otherwise the ROS-free decoders of :mod:`vla_fusion_ros.data.image_messages` do the same job
with the same checks as cv_bridge's C++ core (they are re-exported here, as is
:func:`prepare_rgb`, the model's preprocessing from :mod:`vla_fusion_ros.model.preprocess`).
Decoding is zero-copy, so the only copy a frame pays for is the resize the model input needs.
"""

import cv2
import numpy as np

from vla_fusion_ros.data.image_messages import (  # noqa: F401 (re-exported)
    compressed_dimensions, compressed_msg_to_rgb, ENCODINGS, image_msg_to_array,
    ImageConversionError, MAX_FRAME_BYTES)
# The model's preprocessing lives without ROS (the dataset generator calls the same function).
from vla_fusion_ros.model.preprocess import (  # noqa: F401 (re-exported)
    area_resize, prepare_rgb, TO_RGB, to_rgb8)

try:  # pragma: no cover - depends on the installation
    from cv_bridge import CvBridge as _CvBridge
    from cv_bridge import CvBridgeError as _CvBridgeError
except Exception:  # noqa: BLE001 - a broken cv_bridge must not break the node
    _CvBridge = None
    _CvBridgeError = Exception

#: Colour conversions from each encoding to RGB (``None``: already RGB).
_TO_RGB = TO_RGB


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
