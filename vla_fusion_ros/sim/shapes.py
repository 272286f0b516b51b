# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Coloured shapes drawn with OpenCV, and deterministic synthetic scenes made of them.

The simulated camera and the simulated world share these primitives, so that what the model
sees in a unit test, in training and over ROS is drawn by the same code.

All images here are ``uint8`` RGB arrays of shape ``(height, width, 3)``.
"""

from dataclasses import dataclass
from typing import Dict, List, Tuple

import cv2
import numpy as np

#: Object colours by name, as RGB. Chosen to be far apart in RGB and in hue.
COLORS: Dict[str, Tuple[int, int, int]] = {
    'red': (220, 40, 40),
    'green': (40, 190, 60),
    'blue': (50, 90, 230),
    'yellow': (235, 210, 40),
}

#: Shape names that :func:`draw_shape` knows.
SHAPES: Tuple[str, ...] = ('circle', 'square', 'triangle')

#: Background colour of synthetic scenes (a neutral dark grey floor).
BACKGROUND: Tuple[int, int, int] = (60, 60, 60)


def draw_shape(image: np.ndarray, shape: str, center: Tuple[float, float], radius: float,
               color: Tuple[int, int, int]) -> None:
    """
    Draw one filled shape in place.

    :param image: ``(H, W, 3)`` uint8 image, modified in place.
    :param shape: one of :data:`SHAPES`.
    :param center: ``(x, y)`` in pixels, sub-pixel precision allowed.
    :param radius: half the shape's extent in pixels.
    :param color: RGB triple.
    """
    shift = 4  # sub-pixel precision: coordinates are multiplied by 2**shift
    scale = 1 << shift
    cx, cy = center
    if shape == 'circle':
        cv2.circle(image, (int(round(cx * scale)), int(round(cy * scale))),
                   max(1, int(round(radius * scale))), color, thickness=-1,
                   lineType=cv2.LINE_AA, shift=shift)
    elif shape == 'square':
        r = radius * 0.9  # a square of the same half-extent looks larger than a circle
        pts = np.array([[cx - r, cy - r], [cx + r, cy - r], [cx + r, cy + r], [cx - r, cy + r]])
        cv2.fillConvexPoly(image, np.round(pts * scale).astype(np.int32), color,
                           lineType=cv2.LINE_AA, shift=shift)
    elif shape == 'triangle':
        r = radius * 1.15
        angles = np.deg2rad([-90.0, 30.0, 150.0])
        pts = np.stack([cx + r * np.cos(angles), cy + r * np.sin(angles)], axis=1)
        cv2.fillConvexPoly(image, np.round(pts * scale).astype(np.int32), color,
                           lineType=cv2.LINE_AA, shift=shift)
    else:
        raise ValueError(f'unknown shape {shape!r}; valid shapes: {", ".join(SHAPES)}')


@dataclass(frozen=True)
class PlacedShape:
    """A shape in a synthetic scene, in pixel coordinates of the frame it was drawn in."""

    shape: str
    color: str
    x: float
    y: float
    radius: float


class SyntheticScene:
    """
    A deterministic scene of coloured shapes that drift slowly across the frame.

    The same ``seed``, size and frame index always give the same pixels, so a test that
    receives a frame over ROS can recompute what it must contain.
    """

    def __init__(self, width: int, height: int, seed: int = 0, num_shapes: int = 4):
        if width < 8 or height < 8:
            raise ValueError(f'scene size {width}x{height} is too small (minimum 8x8)')
        if num_shapes < 1:
            raise ValueError(f'num_shapes must be >= 1, got {num_shapes}')
        self.width = width
        self.height = height
        self.seed = seed
        rng = np.random.default_rng(seed)
        names = list(COLORS)
        self._radius = max(2.0, min(width, height) / 10.0)
        self._shapes = []
        for i in range(num_shapes):
            self._shapes.append((
                SHAPES[int(rng.integers(len(SHAPES)))],
                names[i % len(names)] if i < len(names) else names[int(rng.integers(len(names)))],
                rng.uniform(0.2, 0.8, size=2),          # start position, fraction of the frame
                rng.uniform(-0.004, 0.004, size=2),     # drift per frame, fraction of the frame
            ))

    def shapes_at(self, frame_index: int) -> List[PlacedShape]:
        """Return where every shape is in frame ``frame_index`` (bouncing off the borders)."""
        placed = []
        margin = self._radius / min(self.width, self.height)
        for shape, color, start, drift in self._shapes:
            pos = start + drift * frame_index
            span = 1.0 - 2.0 * margin
            # Reflect into [margin, 1 - margin]: a triangle wave keeps motion continuous.
            pos = margin + span - np.abs(np.mod(pos - margin, 2.0 * span) - span)
            placed.append(PlacedShape(shape, color, float(pos[0] * self.width),
                                      float(pos[1] * self.height), self._radius))
        return placed

    def render(self, frame_index: int) -> np.ndarray:
        """Render frame ``frame_index`` as an ``(H, W, 3)`` uint8 RGB image."""
        image = np.empty((self.height, self.width, 3), dtype=np.uint8)
        image[:] = BACKGROUND
        for placed in self.shapes_at(frame_index):
            draw_shape(image, placed.shape, (placed.x, placed.y), placed.radius,
                       COLORS[placed.color])
        return image
