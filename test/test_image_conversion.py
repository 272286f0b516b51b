# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Image conversion: encodings, row padding, endianness, zero copy, and malformed messages.

The property-based test feeds arbitrary width/height/step/encoding/data/endianness
combinations: every one either converts to an array of the declared shape or raises
:class:`ImageConversionError` naming a field. Nothing else may happen.
"""

import cv2
from hypothesis import given, HealthCheck, settings
from hypothesis import strategies as st
import numpy as np
import pytest
from sensor_msgs.msg import CompressedImage, Image

from vla_fusion_ros.ros.image_conversion import (
    array_to_image_msg, compressed_msg_to_rgb, ENCODINGS, image_msg_to_array,
    ImageConversionError, ImageDecoder, prepare_rgb, to_rgb8)

# Touches the ROS messages: run on every tested distribution (-m ros on Jazzy).
pytestmark = pytest.mark.ros


def _rgb(h=6, w=5, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(h, w, 3), dtype=np.uint8)


@pytest.mark.parametrize('encoding', ['rgb8', 'bgr8', 'rgba8', 'bgra8'])
def test_round_trip_colour(encoding):
    rgb = _rgb()
    msg = array_to_image_msg(rgb, encoding, Image)
    assert msg.encoding == encoding and msg.step == rgb.shape[1] * ENCODINGS[encoding][0]
    assert np.array_equal(to_rgb8(image_msg_to_array(msg), encoding), rgb)


def test_round_trip_mono():
    rgb = _rgb()
    msg = array_to_image_msg(rgb, 'mono8', Image)
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    assert np.array_equal(image_msg_to_array(msg)[:, :, 0], gray)


def test_row_padding_is_honoured_without_copy():
    rgb = _rgb(4, 3)
    padded = np.zeros((4, 16), dtype=np.uint8)               # step 16 > 3 * 3
    padded[:, :9] = rgb.reshape(4, 9)
    msg = Image(height=4, width=3, encoding='rgb8', step=16, data=padded.tobytes())
    view = image_msg_to_array(msg)
    assert np.array_equal(view, rgb)
    assert view.strides == (16, 3, 1)
    assert not view.flags['OWNDATA']                          # a view of the message buffer


def test_mono16_endianness():
    values = np.array([[1, 256], [4660, 65535]], dtype=np.uint16)
    for big in (0, 1):
        data = values.astype('>u2' if big else '<u2').tobytes()
        msg = Image(height=2, width=2, encoding='mono16', step=4, is_bigendian=big, data=data)
        assert np.array_equal(image_msg_to_array(msg)[:, :, 0], values)


@pytest.mark.parametrize('field,kwargs', [
    ('encoding', {'encoding': 'yuv422'}),
    ('step', {'step': 5}),
    ('data', {'data': b'\x00' * 10}),
    ('height/width', {'height': 0}),
])
def test_malformed_messages_name_the_field(field, kwargs):
    base = {'height': 2, 'width': 2, 'encoding': 'rgb8', 'step': 6, 'data': b'\x00' * 12}
    base.update(kwargs)
    with pytest.raises(ImageConversionError, match=field.split('/')[0]):
        image_msg_to_array(Image(**base))


def test_prepare_resizes_then_converts():
    rgb = _rgb(48, 64)
    msg = array_to_image_msg(rgb, 'bgr8', Image)
    small = prepare_rgb(image_msg_to_array(msg), 'bgr8', (16, 12))
    expected = cv2.resize(rgb, (16, 12), interpolation=cv2.INTER_AREA)
    assert small.shape == (12, 16, 3)
    assert np.abs(small.astype(int) - expected.astype(int)).max() <= 1


def test_compressed_round_trip_and_garbage():
    rgb = _rgb(32, 32)
    ok, png = cv2.imencode('.png', cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    assert ok
    assert np.array_equal(compressed_msg_to_rgb(CompressedImage(format='png',
                                                                data=png.tobytes())), rgb)
    with pytest.raises(ImageConversionError, match='data'):
        compressed_msg_to_rgb(CompressedImage(format='jpeg', data=b'not an image'))
    with pytest.raises(ImageConversionError, match='data'):
        compressed_msg_to_rgb(CompressedImage(format='jpeg', data=b''))


def test_decoder_reports_backend():
    decoder = ImageDecoder()
    assert decoder.backend in ('builtin', 'cv_bridge')
    msg = array_to_image_msg(_rgb(), 'rgb8', Image)
    assert decoder.decode(msg).shape == (6, 5, 3)


ENCODING_NAMES = sorted(ENCODINGS) + ['yuv422', '', '8UC3', 'rgb8\x00']


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(height=st.integers(-2, 40), width=st.integers(-2, 40), step=st.integers(-2, 200),
       encoding=st.sampled_from(ENCODING_NAMES), extra=st.integers(-50, 50),
       bigendian=st.integers(0, 1))
def test_fuzz_image_conversion(height, width, step, encoding, extra, bigendian):
    size = max(0, max(height, 0) * max(step, 0) + extra)
    msg = Image()
    # Values outside the message's unsigned field ranges are what DDS can never carry.
    msg.height, msg.width, msg.step = max(height, 0), max(width, 0), max(step, 0)
    msg.encoding, msg.is_bigendian = encoding, bigendian
    msg.data = bytes(size)
    try:
        array = image_msg_to_array(msg)
    except ImageConversionError as exc:
        assert str(exc).split(':')[0] in ('encoding', 'height/width', 'step', 'data',
                                          'height * step')
        return
    channels = ENCODINGS[encoding][0]
    assert array.shape == (msg.height, msg.width, channels)
    prepare_rgb(array, encoding, (8, 8))


def test_huge_declared_size_is_refused_before_allocation():
    msg = Image(height=100000, width=100000, encoding='rgb8', step=300000, data=b'')
    with pytest.raises(ImageConversionError, match='height \\* step'):
        image_msg_to_array(msg)


def test_the_node_preprocesses_with_the_dataset_s_function():
    """Train/deploy parity: the node and the dataset generator hold one prepare_rgb."""
    from vla_fusion_ros.model import preprocess
    from vla_fusion_ros.ros import fusion_core, image_conversion
    from vla_fusion_ros.train import dataset
    assert fusion_core.prepare_rgb is preprocess.prepare_rgb
    assert image_conversion.prepare_rgb is preprocess.prepare_rgb
    assert dataset.prepare_rgb is preprocess.prepare_rgb
