# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The alignment rule: which image, command, instruction and state make each output frame.

Times are integer nanoseconds. The *alignment clock* is the bag's receive time (when the
recorder got each message: one clock for every topic) or, with ``clock='header'``, the
``header.stamp`` of the image and of the command (``TwistStamped``). Instructions and episode
boundaries are always on the receive clock, since ``String`` has no header.

Per episode, with ``period = 1 / fps``:

1. **Ticks.** The episode's images (those received within its boundaries) set the grid:
   tick ``k`` is at ``t0 + k * period``, ``t0`` the first image's time.
2. **Image per tick.** Each image belongs to its nearest tick (an image exactly half-way
   belongs to the earlier); a tick with several images takes the one nearest to it (the
   earlier on a tie) and the others are unused; a tick with none is a *gap*: no frame, and
   the frames' timestamps jump over it (a camera that drops out shows as a hole in the
   timeline, never as repeated frames).
3. **Instruction.** The latest instruction received at or before the image's receive time;
   frames before the episode's first instruction are dropped (counted).
4. **Command.** With ``offset = action_offset_s`` and ``tolerance = action_tolerance_s``: the
   latest command at or before ``t_image + offset``, and no older than ``tolerance`` there. A
   frame with no such command is dropped (counted): the teleoperator was not commanding.
   ``offset = 0`` (the default) pairs the image with the command in force when it was taken,
   as LeRobot's recorder does; a positive offset lets a command issued in reaction to the
   image pair with it.
5. **State** (optional, ``/odom`` or ``/joint_states``): the latest at or before the image
   time, no older than ``state_tolerance_s``; frames without one are dropped (counted).

Kept frames are numbered from 0; frame ``i`` has ``timestamp = (k_i - k_0) / fps`` where ``k``
is its tick, so timestamps stay on the grid and gaps stay visible.
"""

from dataclasses import dataclass, field
import math
from typing import Dict, Optional

import numpy as np


@dataclass
class AlignmentConfig:
    """How frames are sampled and paired (see the module docstring)."""

    # Output frames per second (LeRobot's info.json needs an integer).
    fps: int = 15
    # A command pairs with an image when issued at most this long before the lookup time (s).
    action_tolerance_s: float = 0.25
    # The lookup time is the image's time plus this offset (s); 0: the command in force.
    action_offset_s: float = 0.0
    # A state pairs with an image when at most this old (s).
    state_tolerance_s: float = 0.25

    def __post_init__(self):
        fps = self.fps
        if isinstance(fps, bool) or not isinstance(fps, int) or not 1 <= fps <= 1000:
            raise ValueError(f'fps: must be an integer in [1, 1000], got {self.fps!r}')
        for name in ('action_tolerance_s', 'state_tolerance_s'):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
                raise ValueError(f'{name}: must be a positive number of seconds, got {value!r}')
        offset = self.action_offset_s
        if not isinstance(offset, (int, float)) or not math.isfinite(offset) or abs(offset) > 10:
            raise ValueError(f'action_offset_s: must be in [-10, 10] s, got {offset!r}')


@dataclass
class Alignment:
    """The frames of one episode: per frame, indices into the bag's streams."""

    tick: np.ndarray          # int64 [F], 0 for the first frame; timestamp = tick / fps
    image: np.ndarray         # int64 [F] into the image stream
    command: np.ndarray       # int64 [F] into the command stream
    instruction: np.ndarray   # int64 [F] into the instruction stream (-1: a fixed task)
    state: Optional[np.ndarray]  # int64 [F] into the state stream, or None
    counts: Dict[str, float] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.tick)


COUNT_KEYS = ('images', 'ticks', 'gaps', 'unused_images', 'no_instruction', 'no_command',
              'no_state', 'frames', 'longest_gap_s')


def _latest(times: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Index of the latest entry of sorted ``times`` at or before each ``at`` (-1: none)."""
    return np.searchsorted(times, at, side='right') - 1


def _within(times: np.ndarray, at: np.ndarray, tolerance_ns: float) -> np.ndarray:
    """Like :func:`_latest`, but -1 where the latest entry is older than the tolerance."""
    index = _latest(times, at)
    ok = index >= 0
    ok[ok] = (at[ok] - times[index[ok]]) <= tolerance_ns
    return np.where(ok, index, -1)


def align_episode(config: AlignmentConfig, image_ns: np.ndarray, image_receive_ns: np.ndarray,
                  command_ns: np.ndarray, instruction_ns: Optional[np.ndarray],
                  state_ns: Optional[np.ndarray] = None) -> Alignment:
    """
    Apply the rule to one episode's images (already cut to the episode, in time order).

    :param image_ns: image times on the alignment clock, non-decreasing.
    :param image_receive_ns: the same images' receive times (for the instruction).
    :param command_ns: every command time on the alignment clock, sorted.
    :param instruction_ns: every instruction's receive time, sorted; ``None``: a fixed task.
    :param state_ns: every state time on the alignment clock, sorted; ``None``: no state.
    """
    image_ns = np.asarray(image_ns, dtype=np.int64)
    counts = dict.fromkeys(COUNT_KEYS, 0)
    counts['images'] = len(image_ns)
    empty = np.zeros(0, dtype=np.int64)
    if len(image_ns) == 0:
        return Alignment(empty, empty, empty, empty, None if state_ns is None else empty,
                         counts)
    if np.any(np.diff(image_ns) < 0):
        raise ValueError('image times must not decrease')
    period = 1e9 / config.fps
    offset = image_ns - image_ns[0]
    tick = np.ceil(offset / period - 0.5).astype(np.int64)  # nearest; half-way: the earlier
    distance = np.abs(offset - tick * period)
    order = np.lexsort((np.arange(len(tick)), distance, tick))  # by tick, then nearest
    first = np.ones(len(order), dtype=bool)
    first[1:] = tick[order][1:] != tick[order][:-1]
    chosen = order[first]  # one image per tick, in tick order
    counts['ticks'] = int(tick[-1]) + 1
    counts['gaps'] = counts['ticks'] - len(chosen)
    counts['unused_images'] = len(image_ns) - len(chosen)
    keep = np.ones(len(chosen), dtype=bool)
    if instruction_ns is not None:
        instruction = _latest(np.asarray(instruction_ns, dtype=np.int64),
                              np.asarray(image_receive_ns, dtype=np.int64)[chosen])
        counts['no_instruction'] = int(np.sum(instruction < 0))
        keep &= instruction >= 0
    else:
        instruction = np.full(len(chosen), -1, dtype=np.int64)
    lookup = image_ns[chosen] + int(round(config.action_offset_s * 1e9))
    command = _within(np.asarray(command_ns, dtype=np.int64), lookup,
                      config.action_tolerance_s * 1e9)
    counts['no_command'] = int(np.sum(keep & (command < 0)))
    keep &= command >= 0
    state = None
    if state_ns is not None:
        state = _within(np.asarray(state_ns, dtype=np.int64), image_ns[chosen],
                        config.state_tolerance_s * 1e9)
        counts['no_state'] = int(np.sum(keep & (state < 0)))
        keep &= state >= 0
        state = state[keep]
    kept_tick = tick[chosen][keep]
    counts['frames'] = int(len(kept_tick))
    if len(kept_tick) > 1:
        counts['longest_gap_s'] = float((np.diff(kept_tick).max() - 1) / config.fps)
    base = kept_tick[0] if len(kept_tick) else 0
    return Alignment(kept_tick - base, chosen[keep], command[keep], instruction[keep], state,
                     counts)
