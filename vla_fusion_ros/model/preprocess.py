# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The model's image preprocessing, without ROS: decoded camera pixels -> the model's RGB input.

One function, :func:`prepare_rgb`, turns a camera frame of any size and encoding into the
``uint8`` RGB image the policy reads. The fusion node calls it on every decoded message
(:mod:`vla_fusion_ros.ros.image_conversion` re-exports it), and the dataset generator calls it
on every frame it renders at the camera's resolution, so training and deployment see the same
pixels for the same scene (train/deploy parity; a test checks that both hold this very
function).
"""

import threading
from typing import List, Optional, Tuple

import cv2
import numpy as np

#: Colour conversions from each encoding to RGB (``None``: already RGB).
TO_RGB = {
    'rgb8': None,
    'bgr8': cv2.COLOR_BGR2RGB,
    'rgba8': cv2.COLOR_RGBA2RGB,
    'bgra8': cv2.COLOR_BGRA2RGB,
    'mono8': cv2.COLOR_GRAY2RGB,
}


def to_rgb8(array: np.ndarray, encoding: str) -> np.ndarray:
    """Convert a decoded array to ``uint8`` RGB (a copy unless it already is rgb8)."""
    if encoding == 'mono16':
        array = (array >> 8).astype(np.uint8)
        encoding = 'mono8'
    code = TO_RGB[encoding]
    if code is None:
        return array
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    return cv2.cvtColor(array, code)


def area_resize(src: np.ndarray, size: Tuple[int, int]) -> np.ndarray:
    """
    Resize ``src`` to ``size`` (width, height) by area averaging, fast for large reductions.

    OpenCV's INTER_AREA is fast for exact halving and slow for other ratios. So an even-sized
    frame is first halved (exact 2x2 means) while the half is still at least the target's
    size, then area-resized the rest of the way; halving as far as the target's size allows
    beat stopping at twice its size. The benchmark times both
    (results/benchmark/benchmark.md, "Optimisations"). The result stays close to one direct
    INTER_AREA (test_benchmark.py bounds the difference), except at sharp edges, where a 2x2
    block straddles an output pixel's border and the halving averaged it whole. The halves
    go to per-thread scratch buffers, so the returned image is the only new array. The plan
    (the halves' buffers) is cached per input shape, so a steady stream pays no Python
    bookkeeping per frame.
    """
    plan = _halving_plan(src.shape, src.dtype, size)
    for half in plan:
        src = cv2.resize(src, (half.shape[1], half.shape[0]), dst=half,
                         interpolation=cv2.INTER_AREA)
    return cv2.resize(src, size, interpolation=cv2.INTER_AREA)


_SCRATCH = threading.local()


def _halving_plan(shape: Tuple[int, ...], dtype, size: Tuple[int, int]) -> List[np.ndarray]:
    """Return this thread's scratch buffers for the exact halvings of ``shape`` toward ``size``."""
    plans = getattr(_SCRATCH, 'plans', None)
    if plans is None:
        plans = _SCRATCH.plans = {}
    key = (shape, dtype, size)
    plan = plans.get(key)
    if plan is None:
        if len(plans) >= 8:  # frame sizes changed: drop the old buffers
            plans.clear()
        plan = plans[key] = []
        width, height = size
        while (shape[1] % 2 == 0 and shape[0] % 2 == 0
               and shape[1] // 2 >= width and shape[0] // 2 >= height):
            shape = (shape[0] // 2, shape[1] // 2) + tuple(shape[2:])
            plan.append(np.empty(shape, dtype=dtype))
    return plan


def prepare_rgb(array: np.ndarray, encoding: str, size: Optional[Tuple[int, int]]) -> np.ndarray:
    """
    Resize (area interpolation) then convert to RGB: the model's input, one copy in all.

    Resizing first means any colour conversion runs on the small image, not the full frame,
    which is read once (:func:`area_resize`). ``size`` is ``(width, height)``; ``None``
    keeps the frame's size.
    """
    if size is not None and (array.shape[1], array.shape[0]) != tuple(size):
        src = array[:, :, 0] if array.shape[2] == 1 else array
        resized = area_resize(src, tuple(size))
        if resized.ndim == 2:
            resized = resized[:, :, None]
        return to_rgb8(resized, encoding)
    return np.ascontiguousarray(to_rgb8(array, encoding))


__all__ = ['area_resize', 'prepare_rgb', 'to_rgb8', 'TO_RGB']
