# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Read the streams of a rosbag2 bag (MCAP or sqlite3, a bag folder or one file) with ``rosbags``.

:func:`read_streams` makes one pass over everything but the pixels: receive times (the bag's log
times) and header stamps of the camera, the commands as vectors, the instructions, an optional
state and the episode events. :func:`iter_images` makes a second pass that decodes only the
images the alignment chose, so a long 640x480 recording never sits in memory.

Every problem is a :class:`BagError` whose text is one line naming the bag, the topic and the
problem. The checks:

- the bag opens and every message deserializes (a truncated or corrupt bag says so);
- each topic exists, has a supported type and carries messages; a topic not given is found by
  type when the bag has exactly one candidate;
- images use a known encoding (or JPEG/PNG) and keep one size;
- instructions exist, unless a fixed task is given;
- **clock jumps**: a header stamp that goes backwards, or whose offset from the receive time
  changes by more than ``max_clock_skew_s`` between two consecutive messages, is an error;
- **duplicate stamps**: an image (or stamped command) whose header stamp repeats an earlier one
  is dropped, and the count is reported in :attr:`BagStreams.notes`.
"""

from dataclasses import dataclass, field
import math
import os
from typing import Dict, Iterator, List, Optional, Sequence, Set, Tuple

import numpy as np
from rosbags.rosbag2 import Reader
from rosbags.typesys import get_typestore, Stores

from vla_fusion_ros.data.image_messages import (compressed_dimensions, compressed_msg_to_rgb,
                                                ENCODINGS, image_msg_to_array,
                                                ImageConversionError)
from vla_fusion_ros.model.preprocess import to_rgb8

IMAGE = 'sensor_msgs/msg/Image'
COMPRESSED = 'sensor_msgs/msg/CompressedImage'
STRING = 'std_msgs/msg/String'
TWIST = 'geometry_msgs/msg/Twist'
TWIST_STAMPED = 'geometry_msgs/msg/TwistStamped'
ODOMETRY = 'nav_msgs/msg/Odometry'
JOINT_STATE = 'sensor_msgs/msg/JointState'
ROLES = {'image': (IMAGE, COMPRESSED), 'instruction': (STRING,),
         'command': (TWIST, TWIST_STAMPED), 'state': (ODOMETRY, JOINT_STATE),
         'episode': (STRING,)}
TWIST_FIELDS = ('linear.x', 'linear.y', 'linear.z', 'angular.x', 'angular.y', 'angular.z')
ODOM_NAMES = ['x', 'y', 'yaw', 'linear_x', 'angular_z']
CLOCKS = ('receive', 'header')
_TYPES = get_typestore(Stores.LATEST)


class BagError(ValueError):
    """A bag cannot be converted: ``<bag>: <topic>: <problem>`` on one line."""

    def __init__(self, bag: str, topic: Optional[str], problem: str):
        self.bag, self.topic, self.problem = bag, topic, problem
        super().__init__(f'{bag}: {topic}: {problem}' if topic else f'{bag}: {problem}')


@dataclass
class TopicOptions:
    """Which topics to read and how (``None`` topics are found by type where allowed)."""

    image_topic: Optional[str] = None
    instruction_topic: Optional[str] = None
    command_topic: Optional[str] = None
    state_topic: Optional[str] = None      # never guessed
    episode_topic: Optional[str] = None    # never guessed; None: one episode per bag
    action_fields: Sequence[str] = ('linear.x', 'angular.z')
    clock: str = 'receive'
    max_clock_skew_s: float = 1.0
    task: Optional[str] = None             # a fixed task: no instruction topic needed

    def __post_init__(self):
        bad = [f for f in self.action_fields if f not in TWIST_FIELDS]
        if not self.action_fields or bad or len(set(self.action_fields)) != len(
                self.action_fields):
            raise ValueError(f'action_fields: {list(self.action_fields)} (valid: distinct '
                             f'names from {", ".join(TWIST_FIELDS)})')
        if self.clock not in CLOCKS:
            raise ValueError(f'clock: {self.clock!r} (valid: {", ".join(CLOCKS)})')
        if not math.isfinite(self.max_clock_skew_s) or self.max_clock_skew_s <= 0:
            raise ValueError(f'max_clock_skew_s: must be > 0, got {self.max_clock_skew_s}')
        if self.task is not None and not self.task.strip():
            raise ValueError('task: must not be empty')


@dataclass
class BagStreams:
    """Everything but the pixels, per topic: times in ns (``*_ns``), values in order."""

    bag: str
    topics: Dict[str, str]                  # role -> topic
    image_type: str
    image_ordinal: np.ndarray               # int64 [I]: position among the topic's messages
    image_receive_ns: np.ndarray            # int64 [I]
    image_ns: np.ndarray                    # int64 [I] on the alignment clock
    image_size: Tuple[int, int]             # (width, height)
    command_ns: np.ndarray                  # int64 [C] on the alignment clock
    commands: np.ndarray                    # float32 [C, A]
    instruction_ns: Optional[np.ndarray]    # int64 [N] receive times (None: a fixed task)
    instructions: List[str]
    state_ns: Optional[np.ndarray] = None
    states: Optional[np.ndarray] = None     # float32 [S, D]
    state_names: List[str] = field(default_factory=list)
    episode_events: List[Tuple[int, str]] = field(default_factory=list)
    first_ns: int = 0
    last_ns: int = 0
    notes: List[str] = field(default_factory=list)


def _stamp(msg) -> int:
    return int(msg.header.stamp.sec) * 1_000_000_000 + int(msg.header.stamp.nanosec)


def _open(path: str) -> Reader:
    if not os.path.exists(path):
        raise BagError(path, None, 'does not exist')
    try:
        reader = Reader(path)
        reader.open()
    except Exception as exc:  # noqa: BLE001 - rosbags raises many kinds for a broken bag
        raise BagError(path, None, f'cannot be opened: truncated or corrupt? ({exc})') from None
    return reader


def _resolve(path: str, reader: Reader, role: str, topic: Optional[str],
             exclude: Set[str] = frozenset()) -> Tuple[str, str]:
    """Return ``(topic, type)`` for a role, checking presence, type and message count."""
    types = {c.topic: c.msgtype for c in reader.connections}
    wanted = ROLES[role]
    if topic is None:
        candidates = sorted(t for t, k in types.items() if k in wanted and t not in exclude)
        if len(candidates) != 1:
            found = ', '.join(candidates) or 'none'
            raise BagError(path, None, f'cannot tell the {role} topic: {len(candidates)} '
                           f'topics of type {" or ".join(wanted)} ({found}); name it with '
                           f'--{role}-topic')
        topic = candidates[0]
    if topic not in types:
        listing = ', '.join(f'{t} ({k})' for t, k in sorted(types.items())) or 'no topics'
        raise BagError(path, topic, f'not in the bag (it has: {listing})')
    if types[topic] not in wanted:
        raise BagError(path, topic, f'{role} topic has type {types[topic]} (valid: '
                       f'{", ".join(wanted)})')
    if sum(c.msgcount for c in reader.connections if c.topic == topic) == 0:
        raise BagError(path, topic, f'no messages on the {role} topic')
    return topic, types[topic]


def _messages(path: str, reader: Reader, topics: Sequence[str]):
    """Yield ``(topic, type, receive_ns, message)``; corrupt data raises a BagError."""
    connections = [c for c in reader.connections if c.topic in topics]
    iterator = reader.messages(connections=connections)
    while True:
        try:
            connection, receive_ns, raw = next(iterator)
        except StopIteration:
            return
        except Exception as exc:  # noqa: BLE001 - a truncated chunk fails in many ways
            raise BagError(path, None, f'truncated or corrupt ({type(exc).__name__}: {exc})')
        try:
            msg = _TYPES.deserialize_cdr(raw, connection.msgtype)
        except Exception as exc:  # noqa: BLE001
            raise BagError(path, connection.topic, f'message at {receive_ns / 1e9:.3f} s does '
                           f'not deserialize as {connection.msgtype} ({exc})') from None
        yield connection.topic, connection.msgtype, int(receive_ns), msg


def _field(msg, dotted: str) -> float:
    first, second = dotted.split('.')
    return float(getattr(getattr(msg, first), second))


def _state(msg, kind: str, names: List[str]) -> np.ndarray:
    if kind == ODOMETRY:
        q = msg.pose.pose.orientation
        yaw = math.atan2(2.0 * (q.w * q.z + q.x * q.y), 1.0 - 2.0 * (q.y * q.y + q.z * q.z))
        return np.array([msg.pose.pose.position.x, msg.pose.pose.position.y, yaw,
                         msg.twist.twist.linear.x, msg.twist.twist.angular.z], np.float32)
    position = dict(zip(msg.name, msg.position))
    missing = [n for n in names if n not in position]
    if missing:
        raise KeyError(missing[0])
    return np.array([position[n] for n in names], np.float32)


def _check_clock(path: str, topic: str, receive: np.ndarray, header: np.ndarray,
                 skew_s: float, what: str, notes: List[str]) -> np.ndarray:
    """Return the mask of messages to keep (duplicates dropped); raise on a clock jump."""
    keep = np.ones(len(receive), dtype=bool)
    if len(header) == 0 or not np.any(header):
        return keep
    seen = set()
    for i, stamp in enumerate(header.tolist()):
        if stamp in seen:
            keep[i] = False
        seen.add(stamp)
    if not keep.all():
        first = int(np.flatnonzero(~keep)[0])
        notes.append(f'{path}: {topic}: {int((~keep).sum())} {what} repeat an earlier header '
                     f'stamp (first at {receive[first] / 1e9:.3f} s): dropped')
    r, h = receive[keep], header[keep]
    back = np.flatnonzero(np.diff(h) < 0)
    if len(back):
        i = int(back[0]) + 1
        raise BagError(path, topic, f'clock jump: the header stamp goes back '
                       f'{(h[i - 1] - h[i]) / 1e9:.3f} s at {r[i] / 1e9:.3f} s')
    drift = np.abs(np.diff(h - r)) / 1e9
    if len(drift) and drift.max() > skew_s:
        i = int(np.argmax(drift)) + 1
        raise BagError(path, topic, f'clock jump at {r[i] / 1e9:.3f} s: the header stamp '
                       f'moved {(h[i] - h[i - 1]) / 1e9:.3f} s while the receive time moved '
                       f'{(r[i] - r[i - 1]) / 1e9:.3f} s (more than {skew_s} s apart)')
    return keep


def read_streams(path: str, options: TopicOptions) -> BagStreams:
    """Read every stream but the pixels; raise :class:`BagError` on any bad input."""
    reader = _open(path)
    try:
        return _read(path, reader, options)
    finally:
        reader.close()


def _read(path: str, reader: Reader, options: TopicOptions) -> BagStreams:
    topics: Dict[str, str] = {}
    kinds: Dict[str, str] = {}
    if options.episode_topic:
        topics['episode'], kinds['episode'] = _resolve(path, reader, 'episode',
                                                       options.episode_topic)
    for role in ('image', 'command'):
        topics[role], kinds[role] = _resolve(path, reader, role, getattr(options, f'{role}_topic'))
    if options.task is None:
        topics['instruction'], kinds['instruction'] = _resolve(
            path, reader, 'instruction', options.instruction_topic,
            exclude={topics.get('episode', '')})
    if options.state_topic:
        topics['state'], kinds['state'] = _resolve(path, reader, 'state', options.state_topic)
    if options.clock == 'header' and kinds['command'] != TWIST_STAMPED:
        raise BagError(path, topics['command'], f'clock header needs {TWIST_STAMPED} commands, '
                       f'the topic has {kinds["command"]}')
    by_topic = {topic: role for role, topic in topics.items()}
    image_rows, commands, command_rows, texts, text_ns, states, state_rows = ([] for _ in range(7))
    events: List[Tuple[int, str]] = []
    names: List[str] = []
    size = None
    ordinal = 0
    for topic, kind, receive, msg in _messages(path, reader, list(by_topic)):
        role = by_topic[topic]
        where = f'message at {receive / 1e9:.3f} s'
        if role == 'image':
            try:
                if kind == IMAGE:
                    if msg.encoding not in ENCODINGS:
                        raise ImageConversionError(f'encoding: unsupported {msg.encoding!r} '
                                                   f'(valid: {", ".join(ENCODINGS)})')
                    shape = (int(msg.width), int(msg.height))
                else:
                    shape = compressed_dimensions(msg.data)
            except ImageConversionError as exc:
                raise BagError(path, topic, f'{where}: {exc}') from None
            if size is None:
                size = shape
            elif shape != size:
                raise BagError(path, topic, f'{where}: the image size changed from '
                               f'{size[0]}x{size[1]} to {shape[0]}x{shape[1]}')
            image_rows.append((ordinal, receive, _stamp(msg)))
            ordinal += 1
        elif role == 'command':
            twist = msg.twist if kind == TWIST_STAMPED else msg
            commands.append([_field(twist, f) for f in options.action_fields])
            command_rows.append((receive, _stamp(msg) if kind == TWIST_STAMPED else 0))
        elif role == 'instruction':
            texts.append(str(msg.data).strip())
            text_ns.append(receive)
        elif role == 'episode':
            events.append((receive, str(msg.data)))
        else:
            if kind == JOINT_STATE and not names:
                names = [str(n) for n in msg.name]
            try:
                states.append(_state(msg, kind, names))
            except KeyError as exc:
                raise BagError(path, topic, f'{where}: joint {exc.args[0]!r} is missing') from None
            state_rows.append((receive, _stamp(msg)))
    return _assemble(path, reader, options, topics, kinds, image_rows, size, commands,
                     command_rows, texts, text_ns, states, state_rows, names, events)


def _assemble(path, reader, options, topics, kinds, image_rows, size, commands, command_rows,
              texts, text_ns, states, state_rows, names, events) -> BagStreams:
    notes: List[str] = []
    header_clock = options.clock == 'header'
    rows = np.array(image_rows, dtype=np.int64).reshape(-1, 3)
    if header_clock and not np.any(rows[:, 2]):
        raise BagError(path, topics['image'], 'clock header: the images carry no header stamps')
    keep = _check_clock(path, topics['image'], rows[:, 1], rows[:, 2],
                        options.max_clock_skew_s, 'images', notes)
    rows = rows[keep]
    command = np.array(command_rows, dtype=np.int64).reshape(-1, 2)
    values = np.array(commands, dtype=np.float32).reshape(-1, len(options.action_fields))
    if not np.all(np.isfinite(values)):
        bad = int(np.flatnonzero(~np.isfinite(values).all(axis=1))[0])
        raise BagError(path, topics['command'], f'command at {command[bad, 0] / 1e9:.3f} s is '
                       'not finite')
    if header_clock and not np.any(command[:, 1]):
        raise BagError(path, topics['command'], 'clock header: the commands carry no header '
                       'stamps')
    if kinds['command'] == TWIST_STAMPED:
        ok = _check_clock(path, topics['command'], command[:, 0], command[:, 1],
                          options.max_clock_skew_s, 'commands', notes)
        command, values = command[ok], values[ok]
    command_ns = command[:, 1] if header_clock else command[:, 0]
    order = np.argsort(command_ns, kind='stable')
    instruction_ns = None
    if options.task is None:
        if not any(texts):
            raise BagError(path, topics['instruction'], 'no instruction was published (give '
                           '--task to use one task for every episode)')
        instruction_ns = np.array(text_ns, dtype=np.int64)
    streams = BagStreams(
        bag=path, topics=topics, image_type=kinds['image'], image_ordinal=rows[:, 0],
        image_receive_ns=rows[:, 1], image_ns=rows[:, 2] if header_clock else rows[:, 1],
        image_size=size, command_ns=command_ns[order], commands=values[order],
        instruction_ns=instruction_ns, instructions=texts if options.task is None else [],
        episode_events=events, first_ns=int(reader.start_time),
        last_ns=int(reader.end_time), notes=notes)
    if 'state' in topics:
        state = np.array(state_rows, dtype=np.int64).reshape(-1, 2)
        state_ns = state[:, 1] if header_clock and np.any(state[:, 1]) else state[:, 0]
        order = np.argsort(state_ns, kind='stable')
        streams.state_ns, streams.states = state_ns[order], np.stack(states)[order]
        streams.state_names = names or list(ODOM_NAMES)
    return streams


def iter_images(streams: BagStreams, ordinals: Sequence[int]) -> Iterator[Tuple[int, np.ndarray]]:
    """Decode the images at ``ordinals`` (sorted positions on the topic): ``(ordinal, RGB)``."""
    wanted = {int(o) for o in ordinals}
    path, topic = streams.bag, streams.topics['image']
    reader = _open(path)
    try:
        ordinal = -1
        for _, kind, receive, msg in _messages(path, reader, [topic]):
            ordinal += 1
            if ordinal not in wanted:
                continue
            try:
                if kind == IMAGE:
                    rgb = to_rgb8(image_msg_to_array(msg), msg.encoding)
                else:
                    rgb = compressed_msg_to_rgb(msg)
            except ImageConversionError as exc:
                raise BagError(path, topic, f'message at {receive / 1e9:.3f} s: {exc}') from None
            yield ordinal, np.ascontiguousarray(rgb)
    finally:
        reader.close()
