# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Record serialized messages into rosbag2 bags from a writer thread: one bag per episode.

:class:`EpisodeRecorder` takes messages as CDR bytes (what an rclpy ``raw=True`` subscription
hands over, so a 640x480 frame is never deserialized) with their receive times, and episode
events, from any thread; its own writer thread writes them with
:class:`~vla_fusion_ros.data.bag_writing.BagWriter`. The hand-over never blocks the caller: a
queue bounded in bytes (``queue_limit_bytes``) drops new messages once the writer is that far
behind, and counts the drops per topic. Episode events are never dropped.

Episodes (``episodes=True``): the event ``start`` opens a new bag
``<out_dir>/<prefix>_<NNNNNN>`` (numbers continue after the highest already there) and writes
the event into it; ``success``, ``fail`` or ``stop`` writes the event and closes the bag, so
the converter's ``--episode-topic`` reads each bag's outcome from the bag itself. A ``start``
while a bag is open closes that bag first (no end event: the converter reports its outcome as
unknown). Messages that arrive between episodes are not recorded (counted as ``idle``). The
last message of each *carried* topic (the instruction, which is published once and latched)
is written again at the start of every bag, stamped with the start event's time, so that each
bag holds the instruction in force.

Messages from several topics reach the caller in an order its executor chose, not always the
order they arrived in, and a frame handed over after a ``success`` event that arrived later
would fall outside its episode. So the writer holds every item ``reorder_window_s`` and writes
in receive-time order: give receive times the middleware took on arrival (rclpy's
``MessageInfo``), and the episode boundaries follow the arrival order.

Without episodes, one bag is open from :meth:`EpisodeRecorder.start` to
:meth:`EpisodeRecorder.close`. :meth:`~EpisodeRecorder.close` writes everything still queued,
then closes the bag: its metadata (``metadata.yaml``) and MCAP summary are written only then.
"""

from collections import Counter, deque
from dataclasses import dataclass, field
import heapq
import math
import os
import re
import threading
import time
from typing import Deque, Dict, Iterable, List, Optional, Tuple

from vla_fusion_ros.data.bag_writing import BagWriter, STORAGES
from vla_fusion_ros.data.episodes import EVENTS

#: Events that end an episode, and the outcome each records.
END_EVENTS = {'success': 'success', 'fail': 'fail', 'stop': 'unknown'}


@dataclass
class RecordedTopic:
    """A topic to record: its name and rosbag2 type; ``carried``: rewritten into every bag."""

    topic: str
    msgtype: str
    carried: bool = False
    latched: bool = False   # recorded with a transient-local offered QoS (replayed latched)


@dataclass
class EpisodeSummary:
    """One finished bag."""

    path: str
    outcome: str
    frames: int
    seconds: float


@dataclass
class RecorderStats:
    """A snapshot of the recorder's counters (:meth:`EpisodeRecorder.stats`)."""

    episodes: int = 0                 # bags closed
    outcomes: Dict[str, int] = field(default_factory=dict)
    frames: int = 0                   # frame-topic messages written, all bags
    seconds: float = 0.0              # recorded time of the closed bags
    open_path: Optional[str] = None   # the bag being written, if any
    open_frames: int = 0
    open_seconds: float = 0.0
    written: int = 0                  # messages written
    written_bytes: int = 0
    dropped: Dict[str, int] = field(default_factory=dict)   # topic -> queue overflows
    idle: int = 0                     # messages that arrived between episodes
    ignored_events: int = 0           # end events without an open episode
    queue_bytes: int = 0
    queue_peak_bytes: int = 0
    error: Optional[str] = None       # the writer failed: nothing more is written


def next_index(out_dir: str, prefix: str) -> int:
    """Return the number after the highest ``<prefix>_<N>`` in ``out_dir`` (0 if none)."""
    pattern = re.compile(rf'^{re.escape(prefix)}_(\d+)$')
    numbers = [int(m.group(1)) for name in (os.listdir(out_dir) if os.path.isdir(out_dir)
                                            else []) if (m := pattern.match(name))]
    return max(numbers, default=-1) + 1


class EpisodeRecorder:
    """Bags written from a thread; :meth:`put` and :meth:`event` never block for long."""

    def __init__(self, out_dir: str, topics: Iterable[RecordedTopic], *,
                 frame_topic: str, episode_topic: Optional[str] = None,
                 storage: str = 'mcap', prefix: str = 'episode',
                 queue_limit_bytes: int = 256 * 1024 * 1024, reorder_window_s: float = 0.25):
        if storage not in STORAGES:
            raise ValueError(f'storage: {storage!r} (valid: {", ".join(STORAGES)})')
        if not re.fullmatch(r'[A-Za-z0-9_.-]+', prefix):
            raise ValueError(f'prefix: {prefix!r} (letters, digits, _ . - only)')
        if queue_limit_bytes < 1:
            raise ValueError(f'queue_limit_bytes: must be >= 1, got {queue_limit_bytes}')
        if not 0.0 <= reorder_window_s <= 60.0:
            raise ValueError(f'reorder_window_s: must be in [0, 60], got {reorder_window_s}')
        self.reorder_window_s = float(reorder_window_s)
        self.out_dir = out_dir
        self.topics = {t.topic: t for t in topics}
        if episode_topic:
            self.topics[episode_topic] = RecordedTopic(episode_topic, 'std_msgs/msg/String')
        if frame_topic not in self.topics:
            raise ValueError(f'frame_topic: {frame_topic!r} is not a recorded topic')
        self.frame_topic = frame_topic
        self.episode_topic = episode_topic
        self.storage = storage
        self.prefix = prefix
        self.queue_limit = int(queue_limit_bytes)
        self._queue: Deque[Tuple] = deque()
        self._cond = threading.Condition()
        self._stats = RecorderStats()
        self._closing = False
        self._thread: Optional[threading.Thread] = None
        # Owned by the writer thread:
        self._bag: Optional[BagWriter] = None
        self._bag_start = 0
        self._bag_last = 0
        self._carried: Dict[str, Tuple[int, bytes]] = {}
        self._index = 0
        self.finished: List[EpisodeSummary] = []

    # --- any thread --------------------------------------------------------------------------

    def start(self, start_ns: Optional[int] = None) -> 'EpisodeRecorder':
        """Create ``out_dir``, start the writer; without an episode topic, open the bag."""
        os.makedirs(self.out_dir, exist_ok=True)
        self._index = next_index(self.out_dir, self.prefix)
        if not self.episode_topic:
            self._enqueue(('open', time.time_ns() if start_ns is None else int(start_ns)))
        self._thread = threading.Thread(target=self._run, name='bag_writer', daemon=True)
        self._thread.start()
        return self

    def put(self, topic: str, receive_ns: int, data: bytes) -> bool:
        """Queue a serialized message; return False when it was dropped (queue full)."""
        size = len(data)
        with self._cond:
            if self._stats.error is not None or self._closing:
                return False
            if self._stats.queue_bytes + size > self.queue_limit:
                self._stats.dropped[topic] = self._stats.dropped.get(topic, 0) + 1
                return False
            self._queue.append(('msg', topic, int(receive_ns), data))
            self._stats.queue_bytes += size
            self._stats.queue_peak_bytes = max(self._stats.queue_peak_bytes,
                                               self._stats.queue_bytes)
            self._cond.notify()
        return True

    def event(self, receive_ns: int, text: str, data: bytes) -> None:
        """Queue an episode event ``text``; ``data`` is the String message as CDR bytes."""
        word = text.strip().lower()
        if word not in EVENTS:
            raise ValueError(f'episode event {text!r} is not one of {", ".join(EVENTS)}')
        self._enqueue(('event', word, int(receive_ns), data))

    def stats(self) -> RecorderStats:
        """Return a copy of the counters."""
        with self._cond:
            s = self._stats
            return RecorderStats(**{**s.__dict__, 'outcomes': dict(s.outcomes),
                                    'dropped': dict(s.dropped)})

    def close(self, timeout: float = 30.0) -> bool:
        """Write what is queued, close the open bag, stop the writer; False on timeout."""
        with self._cond:
            self._closing = True
            self._queue.append(('close',))
            self._cond.notify()
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _enqueue(self, item: Tuple) -> None:
        """Queue a control item (never dropped; they are few and small)."""
        with self._cond:
            self._queue.append(item)
            self._cond.notify()

    # --- the writer thread -------------------------------------------------------------------

    def _run(self) -> None:
        """Take items off the queue; write them in receive-time order, ``reorder_window`` late."""
        heap: List[Tuple[int, int, Tuple]] = []
        count, closing, newest = 0, False, 0
        window = int(self.reorder_window_s * 1e9)
        while True:
            with self._cond:
                if not self._queue and not closing:
                    self._cond.wait(timeout=0.05 if heap else None)
                incoming = list(self._queue)
                self._queue.clear()
            for item in incoming:
                if item[0] == 'close':
                    closing = True
                elif item[0] == 'open':
                    self._guarded(self._open_bag, item[1])
                else:
                    heapq.heappush(heap, (item[2], count, item))
                    count += 1
                    newest = max(newest, item[2])
            # Receive times are the host's clock (or, under sim time, the node's: then the
            # newest one stands in for "now").
            watermark = math.inf if closing else max(time.time_ns(), newest) - window
            while heap and heap[0][0] <= watermark:
                item = heapq.heappop(heap)[2]
                self._guarded(self._handle, item)
                if item[0] == 'msg':
                    with self._cond:
                        self._stats.queue_bytes -= len(item[3])
            if closing:
                self._guarded(self._close_bag, None)
                return

    def _guarded(self, action, *args) -> None:
        try:
            action(*args)
        except Exception as exc:  # noqa: BLE001 - disk full, permissions: stop writing
            self._fail(exc)

    def _fail(self, exc: Exception) -> None:
        with self._cond:
            if self._stats.error is None:
                self._stats.error = f'{type(exc).__name__}: {exc}'

    def _handle(self, item: Tuple) -> None:
        if self._stats.error is not None:
            return
        if item[0] == 'open':
            self._open_bag(item[1])
        elif item[0] == 'event':
            self._on_event(*item[1:])
        else:
            _, topic, receive_ns, data = item
            if self.topics[topic].carried:
                self._carried[topic] = (receive_ns, data)
            if self._bag is None:
                with self._cond:
                    self._stats.idle += 1
                return
            self._write(topic, receive_ns, data)

    def _on_event(self, word: str, receive_ns: int, data: bytes) -> None:
        if word == 'start':
            if self._bag is not None:
                self._close_bag('unknown')
            self._open_bag(receive_ns)
            self._write(self.episode_topic, receive_ns, data)
            return
        if self._bag is None:
            with self._cond:
                self._stats.ignored_events += 1
            return
        self._write(self.episode_topic, receive_ns, data)
        self._close_bag(END_EVENTS[word])

    def _open_bag(self, start_ns: int) -> None:
        path = os.path.join(self.out_dir, f'{self.prefix}_{self._index:06d}')
        self._index += 1
        bag = BagWriter(path, self.storage)
        for spec in self.topics.values():
            bag.add_topic(spec.topic, spec.msgtype, latched=spec.latched)
        self._bag, self._bag_start, self._bag_last = bag, start_ns, start_ns
        with self._cond:
            self._stats.open_path, self._stats.open_frames = path, 0
            self._stats.open_seconds = 0.0
        for topic, (_, data) in sorted(self._carried.items()):
            self._write(topic, start_ns, data)

    def _write(self, topic: str, receive_ns: int, data: bytes) -> None:
        self._bag.write(topic, receive_ns, data)
        self._bag_last = max(self._bag_last, receive_ns)
        with self._cond:
            s = self._stats
            s.written += 1
            s.written_bytes += len(data)
            if topic == self.frame_topic:
                s.open_frames += 1
                s.frames += 1
            s.open_seconds = (self._bag_last - self._bag_start) / 1e9

    def _close_bag(self, outcome: Optional[str]) -> None:
        if self._bag is None:
            return
        bag, self._bag = self._bag, None
        bag.close()
        with self._cond:
            s = self._stats
            summary = EpisodeSummary(bag.path, outcome or 'unknown', s.open_frames,
                                     s.open_seconds)
            s.episodes += 1
            s.outcomes = dict(Counter(s.outcomes) + Counter([summary.outcome]))
            s.seconds += s.open_seconds
            s.open_path, s.open_frames, s.open_seconds = None, 0, 0.0
            self.finished.append(summary)
