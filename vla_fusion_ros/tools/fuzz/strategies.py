# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Hypothesis strategies that draw the fuzzer's cases, category by category (see the mixes)."""

import random
from typing import Tuple

from hypothesis import strategies as st

from vla_fusion_ros.tools.fuzz.cases import (
    compressed_is_valid, COMPRESSED_MIX, CompressedCase, IMAGE_MIX, ImageCase, INSTRUCTION_MIX,
    InstructionCase, MAX_DATA, MAX_FRAME_BYTES, MAX_INSTRUCTION, SENTENCES, SPEC, UINT32)


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
