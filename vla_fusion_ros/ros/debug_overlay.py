# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The ``~/debug_image`` view: the model's input with the fusion attention overlaid."""

from typing import Optional

import cv2
import numpy as np
from sensor_msgs.msg import Image

from vla_fusion_ros.ros.image_conversion import array_to_image_msg

#: Debug images are upscaled to this width so that a 64x64 model input is readable.
DEBUG_WIDTH = 256


def attention_overlay(rgb: np.ndarray, attention: Optional[np.ndarray],
                      caption: str = '') -> np.ndarray:
    """Return an RGB image: the frame, the attention heat map blended over it, a caption."""
    scale = max(1, DEBUG_WIDTH // rgb.shape[1])
    size = (rgb.shape[1] * scale, rgb.shape[0] * scale)
    frame = cv2.resize(rgb, size, interpolation=cv2.INTER_NEAREST)
    if attention is not None and np.all(np.isfinite(attention)) and attention.size:
        heat = cv2.resize(attention.astype(np.float32), size, interpolation=cv2.INTER_LINEAR)
        heat = heat - heat.min()
        heat = (255.0 * heat / max(float(heat.max()), 1e-6)).astype(np.uint8)
        colour = cv2.cvtColor(cv2.applyColorMap(heat, cv2.COLORMAP_JET), cv2.COLOR_BGR2RGB)
        frame = cv2.addWeighted(frame, 0.55, colour, 0.45, 0.0)
    if caption:
        cv2.putText(frame, caption[:40], (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4,
                    (255, 255, 255), 1, cv2.LINE_AA)
    return frame


def attention_overlay_msg(rgb: np.ndarray, attention: Optional[np.ndarray],
                          caption: str = '') -> Image:
    """Return :func:`attention_overlay` as an rgb8 ``sensor_msgs/Image``."""
    return array_to_image_msg(attention_overlay(rgb, attention, caption), 'rgb8', Image)
