# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Property-based fuzzing of the fusion node's input path, over DDS, with hypothesis.

    python -m vla_fusion_ros.tools.fuzz --cases 10000 [--seed 0] [--out results/reliability]

Two ``fusion_node`` processes run from the install tree: one takes ``sensor_msgs/Image``, the
other ``sensor_msgs/CompressedImage`` (``image_transport:=compressed``). Hypothesis generates
the cases, interleaved with valid ones:

- images with fuzzed encoding, width, height, step, data length, ``is_bigendian`` and stamp:
  zero sizes, declared sizes up to 2^32 - 1 (the data stays below 8 MB: DDS carries it),
  steps too short or not a multiple of the pixel size, padded rows, extreme aspect ratios;
- instructions: empty, up to 1,000,000 characters, any Unicode, control characters, NUL;
- compressed images: valid JPEG and PNG, truncated, corrupted, random bytes, other formats,
  and "decompression bombs" (a few bytes declaring a huge image).

A probe checks every command the nodes publish (finite and within the limits) and compares
the nodes' ``/diagnostics`` counters with what was sent: each malformed input must appear in
``frames_rejected`` or ``instructions_rejected``. The image subscriptions are reliable with
depth 100 (a QoS override) and the probe waits for the counters between batches, so the
counts are exact. The results go to ``fuzz.md`` and ``fuzz.json``.
"""

import argparse
from dataclasses import dataclass
import json
import os
import random
import signal
import sys
import time
from typing import Dict, Iterator, List, Optional, Tuple

from hypothesis import given, HealthCheck, Phase, settings, strategies as st
from hypothesis import seed as hypothesis_seed

from vla_fusion_ros.tools.faults import (CommandLog, git_commit, isolate_dds, LIMITS,
                                         load_samples, Probe, REPO)
from vla_fusion_ros.tools.node_process import NodeProcess

#: encoding -> (channels, bytes per channel), the encodings the node must accept.
SPEC = {'rgb8': (3, 1), 'bgr8': (3, 1), 'rgba8': (4, 1), 'bgra8': (4, 1), 'mono8': (1, 1),
        'mono16': (1, 2)}
MAX_FRAME_BYTES = 64 * 1024 * 1024    # what the node accepts (image_conversion)
MAX_DATA = 8_000_000                  # what this fuzzer sends in one message
MAX_INSTRUCTION = 512                 # the node's default max_instruction_length
UINT32 = 2 ** 32 - 1

SENTENCES = ('go to the red circle', 'drive toward the blue square',
             'head for the green triangle', 'find the yellow star', 'approach the red square',
             'Gehe zum roten Kreis', '去红色的圆', 'go  to\tthe red circle!')

#: Category mixes (a name repeated = more weight).
IMAGE_MIX = (['valid'] * 24 + ['valid_padded'] * 8 + ['valid_extreme'] * 5 + ['big_valid']
             + ['bad_stamp'] * 6 + ['bad_encoding'] * 8 + ['zero_size'] * 6
             + ['huge_dims'] * 10 + ['short_step'] * 8 + ['odd_step'] * 4
             + ['data_length'] * 12 + ['oversize'] * 4)
INSTRUCTION_MIX = (['valid'] * 8 + ['valid_controls'] * 3 + ['empty'] + ['blank'] * 3
                   + ['unicode'] * 4 + ['long'] * 2 + ['boundary'] * 3 + ['nul'] * 2)
COMPRESSED_MIX = (['valid_jpeg'] * 6 + ['valid_png'] * 3 + ['format_string'] * 2
                  + ['random'] * 4 + ['empty'] + ['truncated'] * 4 + ['corrupted'] * 4
                  + ['bomb'] * 3 + ['other_format'] * 2 + ['bad_stamp'] * 2)


# ---------------------------------------------------------------------------------- oracles
def delivered(text: str) -> str:
    """Return a string as a ROS subscriber receives it (DDS strings end at the first NUL)."""
    return text.split('\x00', 1)[0]


def image_is_valid(encoding: str, width: int, height: int, step: int, size: int) -> bool:
    """Return whether an Image must be accepted (cv_bridge's checks, written independently)."""
    encoding = delivered(encoding)
    if encoding not in SPEC or width == 0 or height == 0:
        return False
    channels, depth = SPEC[encoding]
    if step < width * channels * depth or step % depth:
        return False
    return height * step <= MAX_FRAME_BYTES and size == height * step


def instruction_is_valid(text: str) -> bool:
    """Return whether the node must accept an instruction (short, with a visible character)."""
    text = delivered(text)
    return len(text) <= MAX_INSTRUCTION and any(c.isprintable() and c != ' ' for c in text)


# ---------------------------------------------------------------------------------- cases
@dataclass
class ImageCase:
    """One fuzzed ``sensor_msgs/Image``: its fields, the data's length and a seed for it."""

    category: str
    encoding: str
    width: int
    height: int
    step: int
    is_bigendian: int
    size: int
    seed: int
    stamp: str = 'now'    # now | zero | negative | future | overflow | past

    @property
    def valid(self) -> bool:
        """Return whether the node must accept this frame."""
        return image_is_valid(self.encoding, self.width, self.height, self.step, self.size)

    @property
    def unusable_stamp(self) -> bool:
        """Return whether the node must count the stamp as unusable (zero or future)."""
        return self.stamp in ('zero', 'negative', 'future', 'overflow')

    def message(self, now_ns: int):
        """Return the message; its data are ``size`` seeded random bytes."""
        from sensor_msgs.msg import Image
        msg = Image()
        msg.encoding = self.encoding
        msg.width, msg.height, msg.step = self.width, self.height, self.step
        msg.is_bigendian = self.is_bigendian
        msg.data = random.Random(self.seed).randbytes(self.size)
        set_stamp(msg.header.stamp, self.stamp, now_ns)
        msg.header.frame_id = 'fuzz'
        return msg


def set_stamp(stamp, kind: str, now_ns: int) -> None:
    """Fill a ``builtin_interfaces/Time`` of the given kind."""
    sec, nanosec = divmod(now_ns, 10 ** 9)
    if kind == 'zero':
        sec, nanosec = 0, 0
    elif kind == 'negative':
        sec = -5
    elif kind == 'future':
        sec += 3600
    elif kind == 'overflow':
        nanosec = UINT32       # 4.29 s: an invalid Time that lies in the future
    elif kind == 'past':
        sec -= 10              # stale: never acted on
    stamp.sec, stamp.nanosec = int(sec), int(nanosec)


def _fit(width: int, height: int, row: int) -> Tuple[int, int]:
    """Shrink ``height`` so that ``height * row`` stays below :data:`MAX_DATA`."""
    return width, max(1, min(height, MAX_DATA // max(1, row)))


@st.composite
def image_cases(draw) -> ImageCase:
    """Hypothesis strategy: fuzzed Image messages of every category."""
    category = draw(st.sampled_from(IMAGE_MIX))
    encoding = draw(st.sampled_from(sorted(SPEC)))
    channels, depth = SPEC[encoding]
    width, height = draw(st.integers(1, 160)), draw(st.integers(1, 120))
    pad, stamp = 0, 'now'
    bigendian = draw(st.integers(0, 255))
    seed = draw(st.integers(0, UINT32))
    if category == 'valid_padded':
        pad = draw(st.integers(1, 64)) * depth
    elif category == 'valid_extreme':
        if draw(st.booleans()):
            width, height = draw(st.sampled_from([(1, 1), (2, 1), (1, 2), (3, 1)]))
        else:
            long_side, short_side = draw(st.integers(1, 100000)), draw(st.integers(1, 3))
            width, height = ((long_side, short_side) if draw(st.booleans())
                             else (short_side, long_side))
    elif category == 'big_valid':
        width, height = draw(st.integers(640, 1920)), draw(st.integers(480, 1080))
    width, height = _fit(width, height, width * channels * depth + pad)
    step = width * channels * depth + pad
    size = height * step
    if category == 'bad_stamp':
        stamp = draw(st.sampled_from(['zero', 'negative', 'future', 'overflow', 'past']))
    elif category == 'bad_encoding':
        encoding = draw(st.one_of(
            st.sampled_from(['', 'RGB8', 'rgb16', 'yuv422', '8UC3', 'bayer_rggb8', 'rgb8 ',
                             'mono8\x00junk', '16UC1', 'jpeg', 'bgr8;jpeg']),
            st.text(max_size=40)))
    elif category == 'zero_size':
        width, height = draw(st.sampled_from([(0, height), (width, 0), (0, 0)]))
        step, size = draw(st.integers(0, 2000)), draw(st.integers(0, 2000))
    elif category == 'huge_dims':
        width, height = draw(st.integers(0, UINT32)), draw(st.integers(0, UINT32))
        step, size = draw(st.integers(0, UINT32)), draw(st.integers(0, 4096))
    elif category == 'short_step':
        step = draw(st.integers(0, width * channels * depth - 1))
        size = height * step
    elif category == 'odd_step':
        encoding = 'mono16'
        step = 2 * width + 2 * draw(st.integers(0, 8)) + 1
        size = height * step
    elif category == 'data_length':
        size = max(0, size + draw(st.integers(-size, 4096).filter(lambda d: d != 0)))
    elif category == 'oversize':
        height = draw(st.integers(MAX_FRAME_BYTES // max(1, step) + 1, UINT32))
        size = draw(st.integers(0, 4096))
    return ImageCase(category, encoding, width, height, min(step, UINT32), bigendian,
                     min(size, MAX_DATA), seed, stamp)


@dataclass
class InstructionCase:
    """One fuzzed instruction."""

    category: str
    text: str

    @property
    def valid(self) -> bool:
        """Return whether the node must accept it."""
        return instruction_is_valid(self.text)


_CONTROL = st.characters(categories=['Cc'])
_INVISIBLE = st.characters(categories=['Cc', 'Cf', 'Zs', 'Zl', 'Zp'])


@st.composite
def instruction_cases(draw) -> InstructionCase:
    """Hypothesis strategy: fuzzed instructions of every category."""
    category = draw(st.sampled_from(INSTRUCTION_MIX))
    sentence = draw(st.sampled_from(SENTENCES))
    if category == 'valid':
        text = sentence
    elif category == 'valid_controls':
        at = draw(st.integers(0, len(sentence)))
        text = sentence[:at] + draw(st.text(_CONTROL, min_size=1, max_size=5)) + sentence[at:]
    elif category == 'empty':
        text = ''
    elif category == 'blank':
        text = draw(st.text(_INVISIBLE, min_size=1, max_size=30))
    elif category == 'unicode':
        text = draw(st.text(st.characters(exclude_categories=['Cs']), max_size=100))
    elif category == 'long':
        length = draw(st.integers(MAX_INSTRUCTION + 1, 1_000_000))
        unit = draw(st.sampled_from(['a', 'é', '中', 'go ', '\x07', '\U0001f642', ' ']))
        text = (unit * (length // len(unit) + 1))[:length]
    elif category == 'boundary':
        length = draw(st.integers(MAX_INSTRUCTION - 8, MAX_INSTRUCTION + 8))
        text = ('go to the red circle ' * 40)[:length]
    else:  # 'nul': DDS ends the string at the NUL
        at = draw(st.integers(0, len(sentence)))
        text = sentence[:at] + '\x00' + sentence[at:]
    return InstructionCase(category, text)


@dataclass
class CompressedCase:
    """One fuzzed ``sensor_msgs/CompressedImage``."""

    category: str
    format: str  # noqa: A003 - the message field's name
    data: bytes
    valid: bool
    stamp: str = 'now'

    def message(self, now_ns: int):
        """Build the message."""
        from sensor_msgs.msg import CompressedImage
        msg = CompressedImage()
        msg.format = self.format
        msg.data = self.data
        set_stamp(msg.header.stamp, self.stamp, now_ns)
        return msg


def compressed_is_valid(data: bytes) -> bool:
    """Return whether the node must decode ``data``: JPEG or PNG, small enough, decodable."""
    import cv2
    import numpy as np
    from vla_fusion_ros.ros.image_conversion import compressed_dimensions, ImageConversionError
    if not data or data[:2] != b'\xff\xd8' and data[:8] != b'\x89PNG\r\n\x1a\n':
        return False
    array = np.frombuffer(data, dtype=np.uint8)
    try:
        width, height = compressed_dimensions(array)
    except ImageConversionError:
        return False
    if width * height * 3 > MAX_FRAME_BYTES:
        return False
    return cv2.imdecode(array, cv2.IMREAD_COLOR) is not None


def _encoded(kind: str, width: int, height: int, seed: int) -> bytes:
    import cv2
    import numpy as np
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)
    ok, buf = cv2.imencode(kind, image)
    return buf.tobytes()


def _bomb(kind: str, width: int, height: int) -> bytes:
    import struct
    import zlib
    if kind == '.jpg':
        data = bytearray(_encoded('.jpg', 8, 8, 0))
        at = data.find(b'\xff\xc0')
        struct.pack_into('>HH', data, at + 5, height & 0xFFFF, width & 0xFFFF)
        return bytes(data)

    def chunk(tag, body):
        return (struct.pack('>I', len(body)) + tag + body
                + struct.pack('>I', zlib.crc32(tag + body) & 0xFFFFFFFF))
    header = struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', header)
            + chunk(b'IDAT', zlib.compress(b'\x00' * 4096)) + chunk(b'IEND', b''))


@st.composite
def compressed_cases(draw) -> CompressedCase:
    """Hypothesis strategy: fuzzed CompressedImage messages of every category."""
    category = draw(st.sampled_from(COMPRESSED_MIX))
    kind = draw(st.sampled_from(['.jpg', '.png']))
    width, height = draw(st.integers(1, 160)), draw(st.integers(1, 120))
    seed = draw(st.integers(0, UINT32))
    fmt = 'jpeg' if kind == '.jpg' else 'png'
    stamp = 'now'
    if category in ('valid_jpeg', 'valid_png', 'bad_stamp'):
        kind = {'valid_jpeg': '.jpg', 'valid_png': '.png'}.get(category, kind)
        fmt = 'jpeg' if kind == '.jpg' else 'png'
        data = _encoded(kind, width, height, seed)
        if category == 'bad_stamp':
            stamp = draw(st.sampled_from(['zero', 'negative', 'future', 'overflow']))
    elif category == 'format_string':
        data = _encoded(kind, width, height, seed)
        fmt = draw(st.text(max_size=30))
    elif category == 'random':
        data = random.Random(seed).randbytes(draw(st.integers(1, 20000)))
        if draw(st.booleans()):   # random bytes behind a valid signature
            data = (b'\xff\xd8\xff' if kind == '.jpg' else b'\x89PNG\r\n\x1a\n') + data
    elif category == 'empty':
        data = b''
    elif category == 'truncated':
        full = _encoded(kind, width, height, seed)
        data = full[:draw(st.integers(0, len(full) - 1))]
    elif category == 'corrupted':
        data = bytearray(_encoded(kind, width, height, seed))
        rng = random.Random(seed)
        for _ in range(draw(st.integers(1, 20))):
            data[rng.randrange(len(data))] = rng.randrange(256)
        data = bytes(data)
    elif category == 'bomb':
        side = draw(st.integers(5000, 65535))
        data = _bomb(kind, side, draw(st.integers(5000, 65535)))
    else:  # 'other_format': formats OpenCV reads but image_transport does not send
        import cv2
        import numpy as np
        ext = draw(st.sampled_from(['.bmp', '.tiff', '.ppm']))
        ok, buf = cv2.imencode(ext, np.zeros((height, width, 3), np.uint8))
        data, fmt = buf.tobytes(), ext[1:]
    return CompressedCase(category, fmt, data, compressed_is_valid(data), stamp)


@st.composite
def raw_stream(draw):
    """Images and instructions, interleaved (four images to one instruction)."""
    if draw(st.integers(0, 4)) == 0:
        return draw(instruction_cases())
    return draw(image_cases())


def malformed_images(count: int, seed: int = 0) -> Iterator[Tuple[str, object]]:
    """Yield ``count`` ``(category, Image)`` pairs that the node must reject (for bursts)."""
    from sensor_msgs.msg import Image
    rng = random.Random(seed)
    kinds = ['bad_encoding', 'zero_size', 'huge_dims', 'short_step', 'odd_step', 'data_length']
    for i in range(count):
        kind = kinds[i % len(kinds)]
        msg = Image()
        msg.encoding, msg.width, msg.height = 'rgb8', rng.randint(1, 160), rng.randint(1, 120)
        msg.step = msg.width * 3
        size = msg.height * msg.step
        if kind == 'bad_encoding':
            msg.encoding = rng.choice(['', 'yuv422', 'RGB8', '8UC3', 'rgb8 '])
        elif kind == 'zero_size':
            msg.width = 0
        elif kind == 'huge_dims':
            msg.width, msg.height, msg.step = UINT32, UINT32, UINT32
            size = rng.randint(0, 4096)
        elif kind == 'short_step':
            msg.step = rng.randint(0, msg.width * 3 - 1)
            size = msg.height * msg.step
        elif kind == 'odd_step':
            msg.encoding, msg.step = 'mono16', 2 * msg.width + 1
            size = msg.height * msg.step
        else:
            size += rng.choice([-1, 1, -size, 100])
        msg.data = rng.randbytes(max(0, size))
        yield kind, msg


# ---------------------------------------------------------------------------------- targets
class FuzzTarget:
    """One fusion node under fuzzing: its process, topics, command log and expected counters."""

    def __init__(self, probe: Probe, name: str, compressed: bool, log_dir: Optional[str]):
        from sensor_msgs.msg import CompressedImage, Image
        from std_msgs.msg import String
        from vla_fusion_ros.ros.qos import latched_qos, make_qos
        self.probe = probe
        self.name = name
        self.compressed = compressed
        base = f'/fuzz/{name}'
        self.image_topic = f'{base}/image' + ('/compressed' if compressed else '')
        self.commands: CommandLog = probe.watch_commands(f'{base}/cmd_vel')
        params = {'max_linear': LIMITS[0], 'max_angular': LIMITS[1],
                  'image_qos_reliability': 'reliable', 'image_qos_depth': 100,
                  'diagnostics_rate': 50.0, 'watchdog_timeout': 0.5,
                  # The decoder must take every valid encoding; a colour model refuses grey
                  # frames by default (test_input_health.py checks that refusal).
                  'accept_mono': True}
        remaps = {'cmd_vel': f'{base}/cmd_vel', '~/instruction': f'{base}/instruction',
                  '~/estop': f'{base}/estop'}
        if compressed:
            params.update(image_transport='compressed', control_rate=200.0)
            remaps['~/image_raw/compressed'] = self.image_topic
        else:
            remaps['~/image_raw'] = self.image_topic
        self.process = NodeProcess('fusion_node', params=params, remaps=remaps, node_name=name,
                                   log_dir=log_dir)
        qos = make_qos('reliable', 'keep_last', 100)
        self.image_pub = probe.publisher(CompressedImage if compressed else Image,
                                         self.image_topic, qos)
        self.instruction_pub = probe.publisher(String, f'{base}/instruction', latched_qos())
        self.expected: Dict[str, int] = {}
        self.pending = 0
        self.pending_bytes = 0
        self.mismatches: List[Dict] = []
        self.categories: Dict[str, Dict[str, Dict[str, int]]] = {}
        self.recent: List[str] = []

    def ready(self, timeout: float = 120.0) -> bool:
        """Wait until the node reports on /diagnostics and subscribes to the image topic."""
        return self.probe.wait_until(
            lambda: self.probe.diagnostics_seq(self.name) > 0
            and self.image_pub.get_subscription_count() > 0
            and self.instruction_pub.get_subscription_count() > 0, timeout)

    def baseline(self) -> None:
        """Take the node's current counters as the starting point."""
        self.expected = dict(self.probe.fresh_counters(self.name))

    def _count(self, kind: str, category: str, rejected: bool) -> None:
        entry = self.categories.setdefault(kind, {}).setdefault(
            category, {'sent': 0, 'expected_rejected': 0})
        entry['sent'] += 1
        entry['expected_rejected'] += int(rejected)

    def _expect(self, key: str, amount: int = 1) -> None:
        self.expected[key] = self.expected.get(key, 0) + amount

    def _remember(self, text: str) -> None:
        self.recent = (self.recent + [text])[-20:]

    def send_image(self, case: ImageCase) -> None:
        """Publish one image case and update the expected counters."""
        msg = case.message(time.time_ns())
        self.image_pub.publish(msg)
        self._count('image', case.category, not case.valid)
        self._expect('frames_received')
        if not case.valid:
            self._expect('frames_rejected')
        elif case.unusable_stamp:
            self._expect('unusable_stamps')
        self._remember(f'image {case.category} {case.encoding!r} {case.width}x{case.height} '
                       f'step {case.step} size {case.size} stamp {case.stamp}')
        self.pending += 1
        self.pending_bytes += case.size
        if self.pending >= 50 or self.pending_bytes > 16_000_000 or case.size > 1_000_000:
            self.sync(('frames_received', 'frames_rejected', 'unusable_stamps'))

    def send_instruction(self, case: InstructionCase) -> None:
        """Publish one instruction and wait until the node has counted it."""
        from std_msgs.msg import String
        self.flush()
        self.instruction_pub.publish(String(data=case.text))
        self._count('instruction', case.category, not case.valid)
        self._expect('instructions_received')
        if not case.valid:
            self._expect('instructions_rejected')
        self._remember(f'instruction {case.category} {case.text[:60]!r} ({len(case.text)})')
        self.sync(('instructions_received', 'instructions_rejected'))

    def send_compressed(self, case: CompressedCase) -> None:
        """Publish one compressed image and wait until the node has decoded it (or not)."""
        msg = case.message(time.time_ns())
        self.image_pub.publish(msg)
        self._count('compressed', case.category, not case.valid)
        self._expect('frames_received')
        self._expect('frames_rejected', int(not case.valid))
        self._expect('unusable_stamps', int(case.stamp != 'now'))
        self._remember(f'compressed {case.category} {case.format[:20]!r} {len(case.data)} '
                       f'bytes {case.data[:8]!r}')
        self.sync(('frames_received', 'frames_rejected', 'unusable_stamps'),
                  outcomes=self.expected['frames_received'])

    def flush(self) -> None:
        """Wait until every image sent so far is counted."""
        if self.pending:
            self.sync(('frames_received', 'frames_rejected', 'unusable_stamps'))

    def sync(self, keys: Tuple[str, ...], outcomes: Optional[int] = None,
             timeout: float = 15.0) -> None:
        """Wait until the node's counters equal the expected ones; record a mismatch if not."""
        def outcome_count(counts):
            return sum(counts.get(k, 0) for k in (
                'frames_processed', 'frames_rejected', 'frames_idle', 'frames_stale',
                'frames_superseded', 'inference_errors'))

        def matches():
            counts = self.probe.counters(self.name)
            if any(counts.get(k, 0) != self.expected.get(k, 0) for k in keys):
                return False
            return outcomes is None or outcome_count(counts) >= outcomes
        ok = self.probe.wait_until(matches, timeout, poll=0.002)
        self.pending, self.pending_bytes = 0, 0
        if not ok:
            counts = self.probe.counters(self.name)
            self.mismatches.append({
                'expected': {k: self.expected.get(k, 0) for k in keys},
                'reported': {k: counts.get(k, 0) for k in keys},
                'alive': self.process.alive(), 'recent_cases': list(self.recent[-5:])})
            for k in keys:   # carry on from what the node reports
                self.expected[k] = counts.get(k, 0)
        if not self.process.alive():
            raise NodeDied(f'{self.name} exited with {self.process.proc.returncode}')


class NodeDied(RuntimeError):
    """A fuzzed node exited: the run stops there."""


def _drive(strategy, count: int, handle, seed: int) -> int:
    """Feed ``count`` hypothesis examples of ``strategy`` to ``handle``; return how many ran."""
    done = [0]

    def one(case):
        handle(case)
        done[0] += 1

    round_ = 0
    while done[0] < count:
        remaining = count - done[0]
        run = given(strategy)(one)
        run = hypothesis_seed(seed * 1000 + round_)(run)
        run = settings(max_examples=min(remaining, 2000), deadline=None, database=None,
                       phases=[Phase.generate], suppress_health_check=list(HealthCheck),
                       derandomize=False)(run)
        before = done[0]
        run()
        if done[0] == before:
            break
        round_ += 1
    return done[0]


# ---------------------------------------------------------------------------------- the run
def run_fuzz(cases: int = 10000, seed: int = 0, compressed_share: float = 0.2,
             log_dir: Optional[str] = None, progress=print) -> Dict:
    """Fuzz a raw-image node and a compressed-image node with ``cases`` cases in all."""
    import psutil
    started = time.monotonic()
    probe = Probe()
    probe.watch_diagnostics()
    raw = FuzzTarget(probe, 'fuzz_raw', False, log_dir)
    comp = FuzzTarget(probe, 'fuzz_compressed', True, log_dir)
    compressed_cases_n = int(round(cases * compressed_share))
    raw_cases_n = cases - compressed_cases_n
    loads = [load_samples()]
    result: Dict = {'cases_requested': cases, 'seed': seed}
    died = ''
    try:
        for target in (raw, comp):
            if not target.ready():
                raise NodeDied(f'{target.name} did not start:\n'
                               + target.process.output()[-3000:])
            target.baseline()
        comp.send_instruction(InstructionCase('valid', SENTENCES[0]))
        comp.categories = {}   # set-up, not a case
        progress(f'fuzz: nodes ready after {time.monotonic() - started:.0f} s; '
                 f'{raw_cases_n} image/instruction cases, {compressed_cases_n} compressed')

        def on_raw(case):
            (raw.send_instruction if isinstance(case, InstructionCase) else raw.send_image)(
                case)
            if sum(v['sent'] for d in raw.categories.values() for v in d.values()) % 1000 == 0:
                loads.append(load_samples())
                progress(f'fuzz: raw {sum_sent(raw)} cases, {len(raw.mismatches)} mismatches')
        try:
            result['raw_cases'] = _drive(raw_stream(), raw_cases_n, on_raw, seed)
            raw.flush()
            result['compressed_cases'] = _drive(compressed_cases(), compressed_cases_n,
                                                comp.send_compressed, seed + 1)
        except NodeDied as exc:
            died = str(exc)
        loads.append(load_samples())
        final = {t.name: probe.fresh_counters(t.name) for t in (raw, comp)}
        rss = {}
        for t in (raw, comp):
            try:
                rss[t.name] = psutil.Process(t.process.pid).memory_info().rss
            except psutil.Error:
                rss[t.name] = None
    finally:
        codes = {t.name: t.process.stop(signal.SIGINT) for t in (raw, comp)}
        probe.close()
    outputs = {t.name: t.process.output() for t in (raw, comp)}
    result.update({
        'cases_tried': sum_sent(raw) + sum_sent(comp),
        'cases_by_node': {raw.name: sum_sent(raw), comp.name: sum_sent(comp)},
        'categories': {**raw.categories, **comp.categories},  # disjoint kinds
        'crashes': sum(1 for t in (raw, comp) if codes[t.name] != 0) + bool(died),
        'died': died,
        'exit_codes': codes,
        'tracebacks': {name: 'Traceback' in out for name, out in outputs.items()},
        'unsafe_commands': len(raw.commands.violations) + len(comp.commands.violations),
        'unsafe_examples': (raw.commands.violations + comp.commands.violations)[:10],
        'commands_checked': len(raw.commands) + len(comp.commands),
        'moving_commands': sum(len([c for c in t.commands.records if not c.zero])
                               for t in (raw, comp)),
        'counter_mismatches': raw.mismatches + comp.mismatches,
        'final_counters': final,
        'expected_counters': {t.name: t.expected for t in (raw, comp)},
        'inference_errors': sum(final[t.name].get('inference_errors', 0) for t in (raw, comp)),
        'node_rss_bytes_at_end': rss,
        'load_average_samples': loads,
        'cpu_count': os.cpu_count(),
        'duration_s': time.monotonic() - started,
        'git_commit': git_commit(),
        'distro': os.environ.get('VFR_DISTRO', 'kilted'),
    })
    return result


def sum_sent(target: FuzzTarget) -> int:
    """Return how many cases were sent to ``target``."""
    return sum(v['sent'] for d in target.categories.values() for v in d.values())


def passed(result: Dict) -> bool:
    """Return whether a fuzz run met every criterion."""
    return (result['crashes'] == 0 and result['unsafe_commands'] == 0
            and not result['counter_mismatches'] and not any(result['tracebacks'].values())
            and result['inference_errors'] == 0)


def write_markdown(result: Dict, path: str) -> None:
    """Write the human-readable summary of a fuzz run."""
    lines = [
        '# Fuzzing the fusion node over DDS',
        '',
        f'`python -m vla_fusion_ros.tools.fuzz --cases {result["cases_requested"]} --seed '
        f'{result["seed"]}` (commit {result["git_commit"]}, ROS 2 {result["distro"]}, '
        f'hypothesis, {result["cpu_count"]} CPUs, {result["duration_s"]:.0f} s).',
        '',
        f'- cases tried: **{result["cases_tried"]}**',
        f'- crashes: **{result["crashes"]}** (exit codes after SIGINT: {result["exit_codes"]}; '
        f'tracebacks: {result["tracebacks"]})',
        f'- unsafe commands (non-finite or outside |linear.x| <= {LIMITS[0]}, |angular.z| <= '
        f'{LIMITS[1]}): **{result["unsafe_commands"]}** of {result["commands_checked"]} '
        f'checked ({result["moving_commands"]} non-zero)',
        f'- counter mismatches (diagnostics vs what was sent): '
        f'**{len(result["counter_mismatches"])}**',
        f'- inference errors on accepted frames: **{result["inference_errors"]}**',
        '- load average (1/5/15 min) during the run: '
        + ', '.join('/'.join(f'{v:.1f}' for v in s) for s in result['load_average_samples']),
        '',
        '| input | category | sent | must be rejected |',
        '|---|---|---|---|',
    ]
    for kind, cats in result['categories'].items():
        for category, counts in sorted(cats.items()):
            lines.append(f'| {kind} | {category} | {counts["sent"]} | '
                         f'{counts["expected_rejected"]} |')
    lines += ['', '## Counters reported by the nodes at the end', '',
              '| counter | ' + ' | '.join(result['final_counters']) + ' |',
              '|---|' + '---|' * len(result['final_counters'])]
    keys = sorted({k for c in result['final_counters'].values() for k in c})
    for key in keys:
        values = ' | '.join(str(c.get(key, 0)) for c in result['final_counters'].values())
        lines.append(f'| {key} | {values} |')
    lines += [
        '',
        'Every case is checked against an independent oracle: an Image must be rejected unless',
        'its encoding is supported, width and height are non-zero, step >= width * channels *',
        'bytes and a multiple of the pixel size, height * step <= 64 MiB and the data length',
        'equals height * step; an instruction unless it has at most 512 characters and a visible',
        'one (DDS ends strings at NUL); a compressed image unless it is a JPEG or PNG whose',
        'header declares at most 64 MiB of pixels and that OpenCV decodes.',
        '',
    ]
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write('\n'.join(lines))


def main(argv=None) -> int:
    """Run the fuzzer and write fuzz.md and fuzz.json."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--cases', type=int, default=10000, help='cases in all (>= 1)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--compressed-share', type=float, default=0.2,
                        help='share of the cases sent to the compressed-image node')
    parser.add_argument('--out', default=os.path.join(REPO, 'results', 'reliability'))
    args = parser.parse_args(argv)
    domain = isolate_dds()
    print(f'fuzz: ROS_DOMAIN_ID={domain}, load {load_samples()}', flush=True)
    result = run_fuzz(args.cases, args.seed, args.compressed_share,
                      progress=lambda line: print(line, flush=True))
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, 'fuzz.json'), 'w', encoding='utf-8') as handle:
        json.dump(result, handle, indent=2)
    write_markdown(result, os.path.join(args.out, 'fuzz.md'))
    print(f'fuzz: {result["cases_tried"]} cases, crashes {result["crashes"]}, unsafe commands '
          f'{result["unsafe_commands"]}, counter mismatches '
          f'{len(result["counter_mismatches"])}; written to {args.out}', flush=True)
    return 0 if passed(result) else 1


if __name__ == '__main__':
    sys.exit(main())
