# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
What the fusion node can tell about its camera stream beyond "frames arrive".

- **Frame loss**: gaps in the header stamps against the source's frame interval
  (:class:`vla_fusion_ros.ros.stats.FrameLossMeter`). Losing large frames is what Fast DDS
  does without the shipped profile, so the warning names the fix.
- **Refused encodings**: a model trained on colour never acts on a grey stream unless
  ``accept_mono`` allows it; the refusal is an ERROR while such frames keep coming.

Pure Python: :meth:`InputHealth.problem` returns the level and the message that
:mod:`vla_fusion_ros.ros.diagnostics` publishes.
"""

from typing import List, Optional, Tuple

from vla_fusion_ros.ros import diagnostic_keys as keys
from vla_fusion_ros.ros.stats import FrameLossMeter

#: Grey encodings, raw and as a compressed stream's format prefix.
MONO_ENCODINGS = ('mono8', 'mono16')
#: Loss over the window from which /diagnostics warns (and at least LOSS_WARN_FRAMES frames).
LOSS_WARN = 0.05
LOSS_WARN_FRAMES = 3
#: A refusal stays reported this long after the last refused frame (s).
REFUSAL_HOLD = 2.0


def refuses_mono(in_channels: int, accept_mono: bool) -> bool:
    """Return whether a model with ``in_channels`` input channels must refuse grey frames."""
    return in_channels == 3 and not accept_mono


def grey_encoding(encoding: Optional[str], compressed_format: str = '') -> Optional[str]:
    """
    Return the grey encoding of a frame, or ``None`` for a colour one.

    Raw frames carry it in ``encoding``; compressed ones (image_transport's format
    ``"mono8; jpeg compressed mono8"``) at the start of ``format``.
    """
    if encoding in MONO_ENCODINGS:
        return encoding
    head = compressed_format.split(';', 1)[0].strip() if compressed_format else ''
    return head if head in MONO_ENCODINGS else None


def profile_hint() -> str:
    """Return the fix for frame loss over Fast DDS, naming the installed profile."""
    try:
        from vla_fusion_ros.ros.dds import profile_path
        path = profile_path()
    except FileNotFoundError:   # a source tree without config/: name the file alone
        path = 'config/fastdds.xml'
    return (f'load the shipped Fast DDS profile {path} in the camera and this node '
            '(FASTDDS_DEFAULT_PROFILES_FILE; FASTRTPS_DEFAULT_PROFILES_FILE on Humble/Jazzy)')


class InputHealth:
    """Frame loss and refused encodings of one image stream, for diagnostics."""

    def __init__(self, window: float = 5.0):
        self.loss = FrameLossMeter(window=window)
        self._refused: Optional[Tuple[str, float]] = None   # (encoding, last refusal time)
        self._hint = profile_hint()

    def refuse(self, encoding: str, now: float) -> None:
        """Record a frame of ``encoding`` refused at ``now``."""
        self._refused = (encoding, now)

    @staticmethod
    def refusal_message(encoding: str) -> str:
        """Return why a grey frame is refused, and the parameter that would accept it."""
        return (f'refusing {encoding} images: the model was trained on colour '
                '(vision.in_channels 3); set the parameter accept_mono to true to run it on '
                'grey frames')

    def assess(self, now: float, expected_rate: float
               ) -> Tuple[List[Tuple[str, str]], Optional[Tuple[str, str]]]:
        """
        Return ``(values, problem)`` for /diagnostics, from one look at the stream.

        ``values`` are key-value pairs; ``problem`` is ``('ERROR' | 'WARN', message)`` for the
        worst problem, or ``None``.
        """
        lost, received, fraction, rate = self.loss.summary(now, expected_rate)
        values = [(keys.IMAGE_SOURCE_RATE, f'{rate:.2f}'),
                  (keys.IMAGE_FRAMES_LOST, f'{100.0 * fraction:.1f}')]
        problem = None
        if self._refused is not None and now - self._refused[1] <= REFUSAL_HOLD:
            problem = 'ERROR', self.refusal_message(self._refused[0])
        elif fraction >= LOSS_WARN and lost >= LOSS_WARN_FRAMES:
            problem = 'WARN', (f'losing {100.0 * fraction:.1f}% of camera frames ({lost} of '
                               f'{lost + received} in {self.loss.window:g} s; source '
                               f'{rate:.1f} Hz): {self._hint}')
        return values, problem
