# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The alignment rule (vla_fusion_ros.data.alignment) and episode splitting, without bags."""

from hypothesis import given, settings
from hypothesis import strategies as st
import numpy as np
import pytest

from vla_fusion_ros.data.alignment import align_episode, AlignmentConfig
from vla_fusion_ros.data.episodes import EpisodeEventError, split_episodes, whole_bag

MS = 1_000_000


def ns(seconds):
    return (np.asarray(seconds, dtype=np.float64) * 1e9).round().astype(np.int64)


def align(images, commands, instructions=(0.0,), states=None, **config):
    image_ns = ns(images)
    return align_episode(AlignmentConfig(**config), image_ns, image_ns, ns(commands),
                         None if instructions is None else ns(instructions),
                         None if states is None else ns(states))


def test_a_20_hz_camera_at_10_fps_gives_every_other_image_on_consecutive_ticks():
    images = 1.0 + np.arange(20) / 20  # odd images lie exactly half-way: the earlier tick's
    result = align(images, images, fps=10)
    assert result.image.tolist() == list(range(0, 20, 2))
    assert result.tick.tolist() == list(range(10))
    assert result.counts['unused_images'] == 10 and result.counts['gaps'] == 0


def test_a_jittered_camera_at_the_frame_rate_keeps_every_image_once():
    rng = np.random.default_rng(1)
    images = 1.0 + np.arange(60) / 15 + rng.uniform(-0.02, 0.02, 60)  # +-20 ms at 15 Hz
    result = align(np.sort(images), images - 0.001, fps=15)
    assert len(result) == 60 and result.counts['gaps'] == 0
    assert result.tick.tolist() == list(range(60))


def test_a_camera_drop_out_is_a_gap_in_the_ticks_not_repeated_frames():
    images = [t / 10 for t in range(10)] + [t / 10 for t in range(25, 30)]  # 1.5 s missing
    result = align(images, np.arange(0, 3, 0.05), fps=10)
    assert result.tick.tolist() == list(range(10)) + list(range(25, 30))
    assert len(set(result.image.tolist())) == len(result)
    assert result.counts['gaps'] == 15
    assert result.counts['longest_gap_s'] == pytest.approx(1.5)


def test_the_command_is_the_latest_at_or_before_the_image_within_the_tolerance():
    images = [1.0, 1.1, 1.2, 1.3]
    commands = [0.95, 1.1, 1.15]  # exactly at 1.1 counts; 1.3 is 150 ms after the last
    result = align(images, commands, fps=10, action_tolerance_s=0.1)
    assert result.image.tolist() == [0, 1, 2]
    assert result.command.tolist() == [0, 1, 2]
    assert result.counts['no_command'] == 1


def test_an_offset_pairs_the_image_with_the_command_issued_just_after_it():
    images = [1.0, 1.1, 1.2]
    commands = [1.01, 1.11, 1.21]  # a teleop that reacts 10 ms after each image
    lagging = align(images, commands, fps=10)  # each image gets the previous reaction
    assert lagging.image.tolist() == [1, 2] and lagging.command.tolist() == [0, 1]
    late = align(images, commands, fps=10, action_offset_s=0.02)
    assert late.command.tolist() == [0, 1, 2]


def test_frames_before_the_first_instruction_are_dropped_and_timestamps_restart_at_zero():
    images = np.arange(10) / 10
    result = align(images, images, instructions=[0.35, 0.7], fps=10)
    assert result.image.tolist() == list(range(4, 10))
    assert result.instruction.tolist() == [0, 0, 0, 1, 1, 1]
    assert result.tick.tolist() == list(range(6))
    assert result.counts['no_instruction'] == 4


def test_a_fixed_task_needs_no_instruction_and_states_must_be_fresh():
    images = np.arange(5) / 10
    result = align(images, images, instructions=None, states=[0.0, 0.1, 0.2], fps=10,
                   state_tolerance_s=0.05)
    assert result.instruction.tolist() == [-1, -1, -1]
    assert result.state.tolist() == [0, 1, 2] and result.counts['no_state'] == 2


def test_no_images_is_an_empty_episode():
    result = align([], [0.0], fps=10)
    assert len(result) == 0 and result.counts['frames'] == 0


@pytest.mark.parametrize('field, value', [('fps', 0), ('fps', 2.5), ('action_tolerance_s', 0),
                                          ('state_tolerance_s', float('nan')),
                                          ('action_offset_s', 11.0)])
def test_invalid_settings_name_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        AlignmentConfig(**{field: value})


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 400), min_size=1, max_size=60),
       st.lists(st.integers(0, 20_000), min_size=1, max_size=80),
       st.integers(1, 60), st.integers(1, 300), st.integers(-50, 50))
def test_every_kept_frame_obeys_the_rule(gaps_ms, commands_ms, fps, tolerance_ms, offset_ms):
    image_ns = np.cumsum(np.asarray(gaps_ms, dtype=np.int64)) * MS
    command_ns = np.sort(np.asarray(commands_ms, dtype=np.int64)) * MS
    config = AlignmentConfig(fps=fps, action_tolerance_s=tolerance_ms / 1e3,
                             action_offset_s=offset_ms / 1e3)
    result = align_episode(config, image_ns, image_ns, command_ns, np.zeros(1, np.int64))
    assert np.all(np.diff(result.tick) > 0) and (len(result) == 0 or result.tick[0] == 0)
    assert len(set(result.image.tolist())) == len(result)
    lookup = image_ns[result.image] + offset_ms * MS
    assert np.all(command_ns[result.command] <= lookup)
    assert np.all(lookup - command_ns[result.command] <= tolerance_ms * MS)
    later = result.command + 1  # no later command was also at or before the lookup time
    inside = later < len(command_ns)
    assert np.all(command_ns[later[inside]] > lookup[inside])
    period = 1e9 / fps
    ticks = np.ceil((image_ns[result.image] - image_ns[0]) / period - 0.5)
    assert np.all(np.diff(ticks) == np.diff(result.tick))
    counts = result.counts
    assert counts['frames'] + counts['no_command'] + counts['unused_images'] == len(image_ns)


def test_episode_events_split_a_bag_with_outcomes_and_notes():
    s = 1_000_000_000
    split = split_episodes([(1 * s, 'start'), (2 * s, ' Success '), (3 * s, 'start'),
                            (4 * s, 'fail'), (5 * s, 'stop'), (6 * s, 'start'),
                            (7 * s, 'start'), (8 * s, 'stop'), (9 * s, 'start')], 10 * s)
    assert [(e.start_ns // s, e.stop_ns // s, e.outcome) for e in split.episodes] == [
        (1, 2, 'success'), (3, 4, 'fail'), (6, 7, 'unknown'), (7, 8, 'unknown'),
        (9, 10, 'unknown')]
    assert len(split.notes) == 3  # stop without start, start while open, never ended
    assert 'without a start' in split.notes[0] and 'never ended' in split.notes[2]
    assert [(e.start_ns, e.outcome) for e in whole_bag(5, 9).episodes] == [(5, 'unknown')]


def test_an_unknown_episode_event_is_an_error_naming_it():
    with pytest.raises(EpisodeEventError, match="'pause'"):
        split_episodes([(1, 'start'), (2, 'pause')], 3)
