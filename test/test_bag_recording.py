# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The recorder's bag writer without ROS: episodes as bags, carried instruction, drops, errors."""

import os
import time

from rosbags.rosbag2 import Reader
from rosbags.typesys import get_typestore, Stores

from vla_fusion_ros.data import bag_writing as bw
from vla_fusion_ros.data.bag_recording import EpisodeRecorder, next_index, RecordedTopic

TYPES = get_typestore(Stores.LATEST)
S = 1_000_000_000
TOPICS = [RecordedTopic('/camera/image_raw', bw.IMAGE),
          RecordedTopic('/instruction', bw.STRING, carried=True, latched=True),
          RecordedTopic('/cmd_vel', bw.TWIST)]


def cdr(message, msgtype):
    return bytes(TYPES.serialize_cdr(message, msgtype))


def image(i):
    return cdr(bw.image_msg(bw.np.full((4, 6, 3), i, dtype=bw.np.uint8), i * S), bw.IMAGE)


def read(path):
    """Return ``[(topic, receive_ns, message)]`` of a bag, in time order."""
    reader = Reader(path)
    reader.open()
    try:
        return [(c.topic, t, TYPES.deserialize_cdr(raw, c.msgtype))
                for c, t, raw in reader.messages()]
    finally:
        reader.close()


def event(recorder, t, text):
    recorder.event(t, text, cdr(bw.string_msg(text), bw.STRING))


def test_each_episode_is_a_bag_with_its_events_and_the_instruction_in_force(tmp_path):
    out = str(tmp_path / 'bags')
    recorder = EpisodeRecorder(out, TOPICS, frame_topic='/camera/image_raw',
                               episode_topic='/episode').start()
    recorder.put('/instruction', 1 * S, cdr(bw.string_msg('go to the red cube'), bw.STRING))
    recorder.put('/camera/image_raw', 2 * S, image(0))          # before any episode: idle
    event(recorder, 3 * S, 'start')
    for i in range(1, 4):
        recorder.put('/camera/image_raw', (3 + i) * S, image(i))
        recorder.put('/cmd_vel', (3 + i) * S + 1, cdr(bw.twist_msg(0.1 * i, 0.0), bw.TWIST))
    event(recorder, 7 * S, 'success')
    event(recorder, 8 * S, 'fail')                                # no open episode: ignored
    event(recorder, 9 * S, 'start')
    recorder.put('/camera/image_raw', 10 * S, image(9))
    event(recorder, 11 * S, 'fail')
    event(recorder, 12 * S, 'start')                              # open at close: unknown
    recorder.put('/camera/image_raw', 13 * S, image(12))
    assert recorder.close()
    stats = recorder.stats()
    assert sorted(os.listdir(out)) == ['episode_000000', 'episode_000001', 'episode_000002']
    assert [(s.outcome, s.frames) for s in recorder.finished] == [
        ('success', 3), ('fail', 1), ('unknown', 1)]
    # Idle: the image and the instruction before the first start (which is carried, though).
    assert (stats.episodes, stats.frames, stats.idle, stats.ignored_events) == (3, 5, 2, 1)
    assert stats.outcomes == {'success': 1, 'fail': 1, 'unknown': 1}
    first = read(os.path.join(out, 'episode_000000'))
    assert {(topic, t, m.data) for topic, t, m in first[:2]} == {
        ('/episode', 3 * S, 'start'), ('/instruction', 3 * S, 'go to the red cube')}
    assert [m.data for topic, _, m in first if topic == '/episode'] == ['start', 'success']
    frames = [m for topic, _, m in first if topic == '/camera/image_raw']
    assert [int(m.data[0]) for m in frames] == [1, 2, 3]
    speeds = [m.linear.x for topic, _, m in first if topic == '/cmd_vel']
    assert speeds == [0.1 * i for i in range(1, 4)]
    # The carried instruction opens the later bags too; the open one was closed readable.
    assert 'go to the red cube' in [m.data for topic, _, m in read(
        os.path.join(out, 'episode_000002')) if topic == '/instruction']


def test_items_are_written_in_receive_time_order_whatever_order_they_came_in(tmp_path):
    """A frame handed over after the end event that arrived later still belongs to the episode."""
    out = str(tmp_path / 'bags')
    recorder = EpisodeRecorder(out, TOPICS, frame_topic='/camera/image_raw',
                               episode_topic='/episode', reorder_window_s=0.5).start()
    t0 = time.time_ns()
    ms = 1_000_000
    event(recorder, t0, 'start')
    recorder.put('/camera/image_raw', t0 + 10 * ms, image(1))
    event(recorder, t0 + 50 * ms, 'success')          # handed over first ...
    recorder.put('/camera/image_raw', t0 + 40 * ms, image(2))   # ... arrived first
    recorder.put('/camera/image_raw', t0 + 60 * ms, image(3))   # after the end: idle
    assert recorder.close()
    frames = [int(m.data[0]) for topic, _, m in read(os.path.join(out, 'episode_000000'))
              if topic == '/camera/image_raw']
    assert frames == [1, 2]
    assert recorder.stats().idle == 1


def test_without_an_episode_topic_one_bag_holds_the_session(tmp_path):
    recorder = EpisodeRecorder(str(tmp_path), TOPICS, frame_topic='/camera/image_raw',
                               prefix='run').start(start_ns=S)
    for i in range(5):
        recorder.put('/camera/image_raw', (2 + i) * S, image(i))
    assert recorder.close()
    assert [s.frames for s in recorder.finished] == [5]
    assert len(read(str(tmp_path / 'run_000000'))) == 5
    # Numbers go on after the highest bag already there.
    assert next_index(str(tmp_path), 'run') == 1


def test_a_full_queue_drops_and_counts_instead_of_waiting(tmp_path):
    recorder = EpisodeRecorder(str(tmp_path), TOPICS, frame_topic='/camera/image_raw',
                               queue_limit_bytes=100).start()
    assert not recorder.put('/camera/image_raw', S, image(1))   # 4x6 frame + header > 100 B
    assert recorder.put('/cmd_vel', S, cdr(bw.twist_msg(0.1, 0.0), bw.TWIST))
    assert recorder.close()
    stats = recorder.stats()
    assert stats.dropped == {'/camera/image_raw': 1}
    assert (stats.written, stats.queue_bytes) == (1, 0)


def test_a_writer_failure_is_reported_and_stops_writing(tmp_path):
    out = tmp_path / 'bags'
    recorder = EpisodeRecorder(str(out), TOPICS, frame_topic='/camera/image_raw',
                               episode_topic='/episode').start()
    os.makedirs(out / 'episode_000000')   # the next bag's folder is taken
    event(recorder, S, 'start')
    assert recorder.close()
    error = recorder.stats().error
    assert error is not None and 'episode_000000' in error
    assert not recorder.put('/cmd_vel', 2 * S, cdr(bw.twist_msg(0.1, 0.0), bw.TWIST))
