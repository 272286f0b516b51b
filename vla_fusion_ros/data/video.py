# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
MP4 video through PyAV (FFmpeg): frames written at exact times, and read back with their times.

A frame is written at a *tick*: its presentation time is ``tick / fps`` seconds, exactly (the
stream's time base is ``1 / fps``), so a gap in the ticks is a gap in the video's timeline, not a
frame shown twice. That is what LeRobot's decoders expect: they look a frame up by its time
(``from_timestamp + timestamp``) within a tolerance of 0.1 ms.
"""

from fractions import Fraction
from typing import Iterator, List, Tuple

import av
import numpy as np

#: Encoders this package writes with; LeRobot decodes all of them.
CODECS = ('libx264', 'libsvtav1', 'libx265')
PIX_FMTS = ('yuv420p', 'yuv444p')


class VideoError(ValueError):
    """A video cannot be written or read; the message names the file or setting."""


class VideoWriter:
    """One MP4 file with one video stream, written frame by frame at given ticks."""

    def __init__(self, path: str, fps: int, width: int, height: int, codec: str = 'libx264',
                 pix_fmt: str = 'yuv420p', crf: int = 18, gop: int = 2):
        if codec not in CODECS:
            raise VideoError(f'codec: {codec!r} (valid: {", ".join(CODECS)})')
        if pix_fmt not in PIX_FMTS:
            raise VideoError(f'pix_fmt: {pix_fmt!r} (valid: {", ".join(PIX_FMTS)})')
        if pix_fmt == 'yuv420p' and (width % 2 or height % 2):
            raise VideoError(f'pix_fmt: yuv420p needs an even width and height, the camera '
                             f'gives {width}x{height} (use yuv444p)')
        self.path, self.fps = path, int(fps)
        self.width, self.height = width, height
        self.codec, self.pix_fmt, self.crf, self.gop = codec, pix_fmt, crf, gop
        self._container = av.open(path, mode='w')
        try:
            self._stream = self._container.add_stream(codec, rate=self.fps)
        except (av.FFmpegError, ValueError) as exc:
            self._container.close()
            raise VideoError(f'codec: {codec} is not available in this FFmpeg ({exc})') from None
        self._stream.width, self._stream.height = width, height
        self._stream.pix_fmt = pix_fmt
        self._stream.codec_context.time_base = Fraction(1, self.fps)
        self._stream.options = {'crf': str(crf), 'g': str(gop)}
        self._last_tick = -1
        self.frames = 0

    def write(self, rgb: np.ndarray, tick: int) -> None:
        """Append one ``(H, W, 3)`` uint8 RGB frame shown at ``tick / fps`` seconds."""
        if rgb.shape != (self.height, self.width, 3) or rgb.dtype != np.uint8:
            raise VideoError(f'{self.path}: frame {rgb.shape} {rgb.dtype}, expected '
                             f'({self.height}, {self.width}, 3) uint8')
        if tick <= self._last_tick:
            raise VideoError(f'{self.path}: tick {tick} after tick {self._last_tick}')
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format='rgb24')
        frame.pts = tick
        frame.time_base = self._stream.codec_context.time_base
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self._last_tick = tick
        self.frames += 1

    def close(self) -> None:
        """Flush the encoder and finish the file."""
        if self._container is None:
            return
        for packet in self._stream.encode(None):
            self._container.mux(packet)
        self._container.close()
        self._container = None

    def abort(self) -> None:
        """Close without flushing (the file is discarded by the caller)."""
        if self._container is not None:
            self._container.close()
            self._container = None


def _open(path: str):
    try:
        container = av.open(path, mode='r')
    except (av.FFmpegError, OSError) as exc:
        raise VideoError(f'cannot open ({exc})') from None
    if not container.streams.video:
        container.close()
        raise VideoError('no video stream')
    return container


def frame_times(path: str) -> Tuple[List[float], Tuple[int, int]]:
    """Return the presentation times (s, sorted) and ``(width, height)`` without decoding."""
    container = _open(path)
    with container:
        stream = container.streams.video[0]
        base = stream.time_base
        times = sorted(float(p.pts * base) for p in container.demux(stream)
                       if p.pts is not None and p.size)
        return times, (stream.codec_context.width, stream.codec_context.height)


def decode(path: str) -> Iterator[Tuple[float, np.ndarray]]:
    """Yield ``(time in s, (H, W, 3) uint8 RGB)`` for every frame, in presentation order."""
    container = _open(path)
    with container:
        stream = container.streams.video[0]
        stream.thread_type = 'AUTO'
        try:
            for frame in container.decode(stream):
                yield float(frame.pts * frame.time_base), frame.to_ndarray(format='rgb24')
        except av.FFmpegError as exc:
            raise VideoError(f'{path}: cannot decode ({exc})') from None


def codec_info(path: str) -> dict:
    """Return the ``video.*`` entries LeRobot keeps in ``info.json`` for a file."""
    container = _open(path)
    with container:
        stream = container.streams.video[0]
        return {'video.height': stream.codec_context.height,
                'video.width': stream.codec_context.width,
                'video.codec': stream.codec_context.codec.canonical_name,
                'video.pix_fmt': stream.codec_context.pix_fmt,
                'video.is_depth_map': False,
                'video.fps': int(round(float(stream.guessed_rate or stream.average_rate or 0))),
                'video.channels': 3,
                'has_audio': bool(container.streams.audio)}
