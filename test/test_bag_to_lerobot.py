# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The converter end to end: real MCAP bags (written with rosbags) to LeRobotDataset v3 folders.

Good bags: frames, actions, tasks, episodes, language events, compressed images, state and the
header clock come out as the rule says. Bad bags: each gives exactly one line naming the bag,
the topic and the problem, exit status 2, and no dataset (nor temporary folder) is left.
"""

import os

import numpy as np
import pyarrow.parquet as pq
import pytest
from robot_bags import (camera, COMMAND_TOPIC, EPISODE_TOPIC, frame_number, IMAGE_TOPIC,
                        INSTRUCTION_TOPIC, ODOM_TOPIC, simple_bag, teleop, write_bag)

from vla_fusion_ros.data import lerobot_v3_schema as v3
from vla_fusion_ros.data.bag_to_lerobot import main
from vla_fusion_ros.data.lerobot_dataset import load
from vla_fusion_ros.data.lerobot_v3_validate import validate


def convert(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def episodes_table(root):
    return pq.read_table(os.path.join(root, 'meta/episodes/chunk-000/file-000.parquet'))


def data_table(root):
    return pq.read_table(os.path.join(root, 'data/chunk-000/file-000.parquet'))


def test_a_bag_becomes_a_valid_dataset_whose_frames_pair_image_and_command(tmp_path, capsys):
    bag = simple_bag(str(tmp_path / 'bag'), count=31)
    out = tmp_path / 'ds'
    code, stdout, err = convert(capsys, bag, '--out', out, '--fps', 10)
    assert code == 0, err
    assert validate(str(out)) == []
    frames = load(str(out), 32)
    assert len(frames) == 11 and frames.tasks == ['go to the red circle']
    shown = [frame_number(img) for img in frames.images]
    assert shown == list(range(0, 31, 3))  # 30 Hz camera, 10 fps: every third image
    # image i (received 2 ms after command i) pairs with command i: (i/100, -i/50)
    np.testing.assert_allclose(frames.actions, [[i / 100, -i / 50] for i in shown], rtol=1e-6)
    assert frames.action_names == ['linear_x', 'angular_z']
    assert '11 frames' in stdout and '20 of 31 images unused' in stdout
    assert not [p for p in os.listdir(tmp_path) if p.startswith('.')]  # no temporary folder


def test_episode_topic_splits_outcomes_and_leaves_failed_ones_out(tmp_path, capsys):
    events = [(5.0, 'start'), (5.5, 'success'), (6.0, 'start'), (6.5, 'fail'),
              (7.0, 'start'), (7.5, 'stop')]
    bag = write_bag(str(tmp_path / 'bag'), images=camera(75), commands=teleop(75),
                    instructions=[(4.9, 'go to the red circle')], episodes=events)
    code, stdout, err = convert(capsys, bag, '--out', tmp_path / 'ds', '--fps', 30,
                                '--episode-topic', EPISODE_TOPIC)
    assert code == 0, err
    table = episodes_table(tmp_path / 'ds')
    assert table.column('outcome').to_pylist() == ['success', 'unknown']
    assert table.column('length').to_pylist() == [15, 15]
    assert '1 failed episodes left out' in stdout
    code, _, err = convert(capsys, bag, '--out', tmp_path / 'all', '--fps', 30,
                           '--episode-topic', EPISODE_TOPIC, '--keep-failed')
    assert code == 0, err
    assert episodes_table(tmp_path / 'all').column('outcome').to_pylist() == [
        'success', 'fail', 'unknown']
    assert validate(str(tmp_path / 'all')) == []


def test_a_new_instruction_mid_episode_is_a_language_event_and_the_task(tmp_path, capsys):
    bag = simple_bag(str(tmp_path / 'bag'), count=30, instructions=[
        (4.9, 'go to the red circle'), (5.5, 'go to the blue square')])
    code, _, err = convert(capsys, bag, '--out', tmp_path / 'ds', '--fps', 30)
    assert code == 0, err
    data = data_table(tmp_path / 'ds')
    tasks = data.column('task_index').to_pylist()
    switch = tasks.index(1)
    assert tasks == [0] * switch + [1] * (30 - switch)
    assert abs(5.002 + switch / 30 - 5.5) < 1 / 30  # the first image received after 5.5 s
    events = data.column(v3.LANGUAGE_EVENTS).to_pylist()
    assert [i for i, e in enumerate(events) if e] == [switch]
    assert events[switch][0]['content'] == 'go to the blue square'
    assert events[switch][0]['style'] == 'interjection'
    assert episodes_table(tmp_path / 'ds').column('tasks').to_pylist() == [
        ['go to the red circle', 'go to the blue square']]
    assert validate(str(tmp_path / 'ds')) == []


def test_compressed_images_state_and_a_fixed_task(tmp_path, capsys):
    odom = [(5.0 + j / 30, j * 0.1, 0.0, 0.0, 0.2, 0.0) for j in range(30)]
    bag = write_bag(str(tmp_path / 'bag'), images=camera(30), commands=teleop(30),
                    compressed=True, odom=odom)
    code, _, err = convert(capsys, bag, '--out', tmp_path / 'ds', '--fps', 30, '--task',
                           'park', '--state-topic', ODOM_TOPIC, '--pix-fmt', 'yuv420p')
    assert code == 0, err
    assert validate(str(tmp_path / 'ds')) == []
    data = data_table(tmp_path / 'ds')
    state = np.asarray(data.column('observation.state').to_pylist())
    assert state.shape == (30, 5) and state[5, 0] == pytest.approx(0.5)
    frames = load(str(tmp_path / 'ds'), 16)
    assert frames.tasks == ['park'] and [frame_number(i) for i in frames.images] == list(
        range(30))


def test_header_clock_pairs_stamped_commands_by_their_stamps(tmp_path, capsys):
    # Header stamps 100 s ahead of the receive clock; commands received 50 ms late.
    images = camera(20, header_offset=100.0)
    commands = [(t + 0.05, h + 100.0, v, w) for t, h, v, w in teleop(20)]
    bag = write_bag(str(tmp_path / 'bag'), images=images, commands=commands, stamped=True,
                    instructions=[(4.9, 'go')])
    code, _, err = convert(capsys, bag, '--out', tmp_path / 'h', '--fps', 30, '--clock', 'header')
    assert code == 0, err
    actions = np.asarray(data_table(tmp_path / 'h').column('action').to_pylist())
    np.testing.assert_allclose(actions[:, 0], np.arange(20) / 100, atol=1e-6)
    code, _, err = convert(capsys, bag, '--out', tmp_path / 'r', '--fps', 30)
    assert code == 0, err  # by receive time, image i sees command i - 2 (50 ms late)
    actions = np.asarray(data_table(tmp_path / 'r').column('action').to_pylist())
    np.testing.assert_allclose(actions[:, 0], np.arange(18) / 100, atol=1e-6)


def test_duplicate_stamps_are_dropped_and_reported(tmp_path, capsys):
    images = camera(20)
    images.insert(10, (images[9][0] + 0.001, images[9][1], 9))  # the same frame again
    bag = simple_bag(str(tmp_path / 'bag'), images=images)
    code, stdout, err = convert(capsys, bag, '--out', tmp_path / 'ds', '--fps', 30)
    assert code == 0, err
    line = next(s for s in stdout.splitlines() if 'repeat an earlier header stamp' in s)
    assert line.startswith(f'{bag}: {IMAGE_TOPIC}: 1 images')
    assert len(load(str(tmp_path / 'ds'), 16)) == 20


def truncated(tmp_path):
    bag = simple_bag(str(tmp_path / 'bad'))
    mcap = os.path.join(bag, next(f for f in os.listdir(bag) if f.endswith('.mcap')))
    with open(mcap, 'r+b') as handle:
        handle.truncate(os.path.getsize(mcap) // 2)
    return bag, 'truncated or corrupt', []


def corrupt(tmp_path):
    path = tmp_path / 'bad.mcap'
    path.write_bytes(b'\x89MCAP0\r\n' + os.urandom(3000))
    return str(path), 'truncated or corrupt', []


def missing_topic(tmp_path):
    return (simple_bag(str(tmp_path / 'bad')), '/teleop/cmd_vel: not in the bag',
            ['--command-topic', '/teleop/cmd_vel'])


def unknown_encoding(tmp_path):
    return (simple_bag(str(tmp_path / 'bad'), encoding='bayer_rggb8'),
            f"{IMAGE_TOPIC}: message at 5.002 s: encoding: unsupported 'bayer_rggb8'", [])


def no_instruction(tmp_path):
    return (simple_bag(str(tmp_path / 'bad'), instructions=[(4.9, '  ')]),
            f'{INSTRUCTION_TOPIC}: no instruction was published', [])


def clock_jump_back(tmp_path):
    images = camera(20)
    images[12] = (images[12][0], images[12][1] - 30.0, 12)  # a camera clock reset
    return simple_bag(str(tmp_path / 'bad'), images=images), f'{IMAGE_TOPIC}: clock jump', []


def clock_jump_forward(tmp_path):
    images = camera(20)
    images[12:] = [(r, h + 3600.0, i) for r, h, i in images[12:]]
    return (simple_bag(str(tmp_path / 'bad'), images=images), f'{IMAGE_TOPIC}: clock jump at',
            [])


def header_clock_without_stamps(tmp_path):
    return (simple_bag(str(tmp_path / 'bad')), f'{COMMAND_TOPIC}: clock header needs',
            ['--clock', 'header'])


BAD = [truncated, corrupt, missing_topic, unknown_encoding, no_instruction, clock_jump_back,
       clock_jump_forward, header_clock_without_stamps]


@pytest.mark.parametrize('make', BAD, ids=[f.__name__ for f in BAD])
def test_each_bad_input_is_one_line_naming_bag_topic_and_problem(tmp_path, capsys, make):
    bag, problem, extra = make(tmp_path)
    code, _, err = convert(capsys, bag, '--out', tmp_path / 'ds', *extra)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f'bag_to_lerobot: {bag}: ') and problem in lines[0], lines[0]
    assert not os.path.exists(tmp_path / 'ds')
    assert not [p for p in os.listdir(tmp_path) if p.startswith('.ds')]


def test_a_failure_in_a_later_bag_leaves_nothing_behind(tmp_path, capsys):
    good = simple_bag(str(tmp_path / 'good'))
    other = simple_bag(str(tmp_path / 'other'), size=(32, 32))
    code, _, err = convert(capsys, good, other, '--out', tmp_path / 'ds')
    assert code == 2 and 'images are 32x32, the first bag has 64x48' in err
    assert sorted(os.listdir(tmp_path)) == ['good', 'other']


def test_skip_bad_bags_leaves_a_bad_bag_out_and_says_so(tmp_path, capsys):
    good = simple_bag(str(tmp_path / 'good'))
    bad, _, _ = truncated(tmp_path)
    code, stdout, err = convert(capsys, good, bad, '--out', tmp_path / 'ds',
                                '--skip-bad-bags')
    assert code == 0, err
    line = next(s for s in stdout.splitlines() if s.startswith(f'{bad}: '))
    assert 'truncated or corrupt' in line and line.endswith('(bag left out)')
    assert episodes_table(tmp_path / 'ds').column('source').to_pylist() == [good]


def test_an_existing_dataset_is_replaced_only_with_overwrite(tmp_path, capsys):
    bag = simple_bag(str(tmp_path / 'bag'), count=10)
    out = tmp_path / 'ds'
    assert convert(capsys, bag, '--out', out)[0] == 0
    code, _, err = convert(capsys, bag, '--out', out, '--fps', 10)
    assert code == 2 and err.strip() == f'bag_to_lerobot: {out}: already holds a dataset ' \
                                        '(pass --overwrite to replace it)'
    code, _, err = convert(capsys, bag, '--out', out, '--fps', 10, '--overwrite')
    assert code == 0, err
    assert pq.read_table(os.path.join(out, v3.TASKS_PATH)).num_rows == 1
    assert len(data_table(out)) == 4  # 10 images at 30 Hz over 0.3 s at 10 fps
    other = tmp_path / 'notes'
    other.mkdir()
    (other / 'keep.txt').write_text('mine')
    code, _, err = convert(capsys, bag, '--out', other, '--overwrite')
    assert code == 2 and 'holds no dataset; not touching it' in err
    assert (other / 'keep.txt').read_text() == 'mine'
