# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Synthetic rosbag2 bags for the converter's tests, written with ``rosbags`` (real MCAP files).

Image ``i`` is a flat frame whose red level is ``8 * i`` (mod 256), so a decoded frame says
which image it came from (:func:`frame_number`) despite the video codec. Times are given in
seconds and written as nanoseconds.
"""

import numpy as np

from vla_fusion_ros.data import bag_writing as bw

S = 1_000_000_000
IMAGE_TOPIC = '/camera/image_raw'
INSTRUCTION_TOPIC = '/instruction'
COMMAND_TOPIC = '/cmd_vel'
EPISODE_TOPIC = '/episode'
ODOM_TOPIC = '/odom'
SIZE = (64, 48)


def frame(i: int, size=SIZE) -> np.ndarray:
    """Return image ``i``: red ``8 * i`` (mod 256), green 100, blue 30."""
    rgb = np.empty((size[1], size[0], 3), dtype=np.uint8)
    rgb[:, :] = ((8 * i) % 256, 100, 30)
    return rgb


def frame_number(rgb: np.ndarray) -> int:
    """Return which image a decoded frame shows (for indices below 32)."""
    return int(round(float(rgb[:, :, 0].mean()) / 8))


def camera(count: int, hz: float = 30.0, t0: float = 5.0, skip=(), jitter: float = 0.0,
           header_offset: float = 0.0, seed: int = 0):
    """Return ``(receive_s, header_s, i)`` for images ``0..count-1`` but those in ``skip``."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(count):
        t = t0 + i / hz + (rng.uniform(-jitter, jitter) if jitter else 0.0)
        if i not in skip:
            rows.append((t + 0.002, t + header_offset, i))
    return rows


def teleop(count: int, hz: float = 30.0, t0: float = 5.0, skip=()):
    """Return commands ``(receive_s, header_s, v, w)``; command ``j`` is ``(j/100, -j/50)``."""
    return [(t0 + j / hz, t0 + j / hz, j / 100.0, -j / 50.0)
            for j in range(count) if j not in skip]


def write_bag(path: str, images=(), instructions=(), commands=(), episodes=(), odom=(),
              encoding: str = 'rgb8', compressed: bool = False, stamped: bool = False,
              size=SIZE, storage: str = 'mcap') -> str:
    """Write a bag; every stream is a list of tuples as returned by the helpers above."""
    with bw.BagWriter(path, storage) as bag:
        bag.add_topic(IMAGE_TOPIC, bw.COMPRESSED if compressed else bw.IMAGE)
        if instructions:
            bag.add_topic(INSTRUCTION_TOPIC, bw.STRING)
        bag.add_topic(COMMAND_TOPIC, bw.TWIST_STAMPED if stamped else bw.TWIST)
        if episodes:
            bag.add_topic(EPISODE_TOPIC, bw.STRING)
        if odom:
            bag.add_topic(ODOM_TOPIC, bw.ODOMETRY)
        rows = []
        for receive, header, i in images:
            rgb = frame(i, size)
            msg = (bw.compressed_msg(rgb, int(header * S), 'png') if compressed
                   else bw.image_msg(rgb, int(header * S), encoding))
            rows.append((receive, IMAGE_TOPIC, msg))
        rows += [(t, INSTRUCTION_TOPIC, bw.string_msg(text)) for t, text in instructions]
        for receive, header, v, w in commands:
            msg = bw.twist_stamped_msg(v, w, int(header * S)) if stamped else bw.twist_msg(v, w)
            rows.append((receive, COMMAND_TOPIC, msg))
        rows += [(t, EPISODE_TOPIC, bw.string_msg(text)) for t, text in episodes]
        rows += [(t, ODOM_TOPIC, bw.odometry_msg(x, y, yaw, v, w, int(t * S)))
                 for t, x, y, yaw, v, w in odom]
        for receive, topic, msg in sorted(rows, key=lambda r: r[0]):
            bag.write(topic, int(round(receive * S)), msg)
    return path


def simple_bag(path: str, count: int = 30, text: str = 'go to the red circle', **kwargs) -> str:
    """Write a bag of ``count`` images and commands at 30 Hz, one instruction before them."""
    kwargs.setdefault('images', camera(count))
    kwargs.setdefault('instructions', [(4.9, text)])
    kwargs.setdefault('commands', teleop(count))
    return write_bag(path, **kwargs)
