# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
``recorder``: record demonstrations (camera, instruction, commands, state) into rosbag2 bags.

Subscribes, by parameters (``ros2 param describe /recorder <name>`` lists each one's choices):

- the camera ``image_topic`` (``sensor_msgs/Image``; with ``image_transport: compressed``,
  ``<image_topic>/compressed`` as ``CompressedImage``), best-effort sensor QoS;
- the instruction ``instruction_topic`` (``std_msgs/String``, latched: reliable and
  transient-local, or volatile with ``instruction_durability``);
- the teleoperator's ``command_topic`` (``Twist`` or ``TwistStamped``, ``command_type``);
- optionally ``state_topic`` (``nav_msgs/Odometry`` or ``sensor_msgs/JointState``);
- optionally ``episode_topic`` (``std_msgs/String`` events ``start``, ``success``, ``fail``,
  ``stop``): each episode becomes its own bag. Without it, one bag holds the whole session.

Bags are MCAP (or sqlite3) folders ``<output_dir>/<bag_prefix>_<NNNNNN>``, written with
``rosbags`` (no rosbag2 install needed) from a writer thread
(:class:`~vla_fusion_ros.data.bag_recording.EpisodeRecorder`): subscriptions take the serialized
bytes (``raw``), so a frame is never deserialized, and the executor hands them to a queue that
drops (and counts) rather than waits when the disk falls behind. The receive time of each
message is its time in the bag, as rosbag2 records: the middleware's arrival stamp (Iron and
newer; this node's clock on Humble or under ``use_sim_time``), and messages are written, and
split into episodes, in that order after ``reorder_window`` s.

Every ``progress_period`` s the log shows episodes, frames and seconds recorded, drops and the
queue. A camera that stops is reported (and, once back, the length of the gap); nothing fills
the gap, so the converter sees it. SIGINT or SIGTERM writes what is queued and closes the open
bag (metadata and MCAP summary), so it is readable. A writer failure (disk full) stops the
node with exit status 1 and one line.

Convert with ``python -m vla_fusion_ros.data.bag_to_lerobot <output_dir>/* --out DATASET``
(``--episode-topic`` with the same topic; ``--clock header`` for ``TwistStamped`` commands
stamped with the frame they answer).
"""

import functools
import os
import sys
import time

from geometry_msgs.msg import Twist, TwistStamped
from rclpy.node import Node
from rclpy.serialization import serialize_message
from rclpy.subscription import Subscription
from sensor_msgs.msg import CompressedImage, Image, JointState
from std_msgs.msg import String

from vla_fusion_ros.data import bag_reading as types
from vla_fusion_ros.data.bag_recording import EpisodeRecorder, RecordedTopic
from vla_fusion_ros.data.bag_writing import STORAGES
from vla_fusion_ros.ros.params import ParameterError, ParameterSet
from vla_fusion_ros.ros.qos import make_qos, RELIABILITY
from vla_fusion_ros.ros.runtime import run_node

try:  # Iron and newer
    from rclpy.event_handler import SubscriptionEventCallbacks
except ImportError:  # pragma: no cover - Humble
    from rclpy.qos_event import SubscriptionEventCallbacks

TRANSPORTS = ('raw', 'compressed')
COMMAND_TYPES = {'twist': (Twist, types.TWIST),
                 'twist_stamped': (TwistStamped, types.TWIST_STAMPED)}
STATE_TYPES = ('odometry', 'joint_state')
DURABILITIES = ('transient_local', 'volatile')
MB = 1024 * 1024
#: Callbacks get rclpy's MessageInfo (the middleware's receive time) since Iron; Humble's do not.
MESSAGE_INFO = hasattr(Subscription, 'CallbackType')


def _state_type(name: str):
    """Return ``(message class, rosbag2 type)`` of a state type; nav_msgs may be missing."""
    if name == 'joint_state':
        return JointState, types.JOINT_STATE
    try:
        from nav_msgs.msg import Odometry
    except ImportError:
        raise ParameterError("parameter 'state_type': odometry needs the nav_msgs package "
                             '(ros-<distro>-nav-msgs), which is not installed') from None
    return Odometry, types.ODOMETRY


class Recorder(Node):
    """Subscribe to the demonstration's topics and hand every message to the bag writer."""

    def __init__(self, **kwargs):
        super().__init__('recorder', **kwargs)
        self.recorder = None            # until the settings are checked
        self.closed = False
        params = ParameterSet(self, on_change=self._apply)
        output_dir = params.declare('output_dir', 'bags', 'Folder that receives the bags (one '
                                    'per episode).', read_only=True)
        storage = params.declare('storage', 'mcap', 'Bag storage format.',
                                 choices=tuple(STORAGES), read_only=True)
        prefix = params.declare('bag_prefix', 'episode', 'Bag folders are '
                                '<bag_prefix>_<NNNNNN>, numbered on from the highest there.',
                                read_only=True)
        image_topic = params.declare('image_topic', '/camera/image_raw', 'Camera topic.',
                                     read_only=True)
        transport = params.declare('image_transport', 'raw', 'raw: sensor_msgs/Image on '
                                   'image_topic; compressed: CompressedImage on '
                                   '<image_topic>/compressed.', choices=TRANSPORTS,
                                   read_only=True)
        image_reliability = params.declare('image_qos_reliability', 'best_effort',
                                           'QoS reliability of the camera subscription.',
                                           choices=tuple(RELIABILITY), read_only=True)
        image_depth = params.declare('image_qos_depth', 10, 'QoS depth of the camera '
                                     'subscription.', value_range=(1, 1000), read_only=True)
        instruction_topic = params.declare('instruction_topic', '/instruction',
                                           'Instruction topic (std_msgs/String).',
                                           read_only=True)
        durability = params.declare('instruction_durability', 'transient_local',
                                    'transient_local gets the latched instruction; volatile '
                                    'matches publishers that do not latch.',
                                    choices=DURABILITIES, read_only=True)
        command_topic = params.declare('command_topic', '/cmd_vel', "The teleoperator's "
                                       'commands.', read_only=True)
        command_type = params.declare('command_type', 'twist', 'Message type on '
                                      'command_topic.', choices=tuple(COMMAND_TYPES),
                                      read_only=True)
        command_reliability = params.declare('command_qos_reliability', 'reliable',
                                             'QoS reliability of the command subscription '
                                             '(best_effort also matches best-effort '
                                             'publishers).', choices=tuple(RELIABILITY),
                                             read_only=True)
        state_topic = params.declare('state_topic', '', 'Robot state (/odom or '
                                     "/joint_states); '' = none.", read_only=True)
        state_type = params.declare('state_type', 'odometry', 'Message type on state_topic.',
                                    choices=STATE_TYPES, read_only=True)
        episode_topic = params.declare('episode_topic', '', 'std_msgs/String events start, '
                                       "success, fail, stop: one bag per episode; '' = one "
                                       'bag for the whole session.', read_only=True)
        queue_mb = params.declare('queue_limit_mb', 256, 'Messages waiting for the disk, in '
                                  'MB; beyond it new ones are dropped and counted.',
                                  value_range=(1, 65536), read_only=True)
        reorder = params.declare('reorder_window', 0.25, 'Seconds messages wait so that they '
                                 'are written (and split into episodes) in arrival order.',
                                 value_range=(0.0, 10.0), read_only=True)
        self.progress_period = params.declare('progress_period', 5.0, 'Seconds between '
                                              'progress lines; 0 = none.',
                                              value_range=(0.0, 3600.0))
        self.image_timeout = params.declare('image_timeout', 1.0, 'Report the camera as '
                                            'silent after this many seconds.',
                                            value_range=(0.01, 3600.0))
        params.finish()

        image_cls, image_type = (Image, types.IMAGE) if transport == 'raw' else (
            CompressedImage, types.COMPRESSED)
        if transport == 'compressed':
            image_topic = image_topic.rstrip('/') + '/compressed'
        command_cls, command_msgtype = COMMAND_TYPES[command_type]
        wanted = [(image_cls, image_type, image_topic,
                   make_qos(image_reliability, 'keep_last', image_depth), False),
                  (String, types.STRING, instruction_topic,
                   make_qos('reliable', 'keep_last', 10, durability), True),
                  (command_cls, command_msgtype, command_topic,
                   make_qos(command_reliability, 'keep_last', 100), False)]
        if state_topic:
            state_cls, state_msgtype = _state_type(state_type)
            wanted.append((state_cls, state_msgtype, state_topic,
                           make_qos('best_effort', 'keep_last', 100), False))
        # The episode subscription comes first: when an event and a frame wait in the same
        # executor turn, the event is handled (and stamped) first.
        self.episode_sub = None
        episode_name = None
        if episode_topic:
            self.episode_sub = self.create_subscription(
                String, episode_topic, self._on_event if MESSAGE_INFO else
                functools.partial(self._on_event, info=None),
                make_qos('reliable', 'keep_last', 100))
            episode_name = self.episode_sub.topic_name
        self.topic_names = []           # resolved names, by subscription index
        self.record_subs = []
        recorded = []
        for index, (cls, msgtype, topic, qos, carried) in enumerate(wanted):
            # A raw callback gets only the bytes: each subscription's callback knows its index.
            callback = functools.partial(self._on_message, index)
            if not MESSAGE_INFO:
                callback = functools.partial(callback, info=None)
            sub = self.create_subscription(cls, topic, callback, qos, raw=True,
                                           event_callbacks=self._qos_warnings(topic))
            self.topic_names.append(sub.topic_name)
            self.record_subs.append(sub)
            recorded.append(RecordedTopic(sub.topic_name, msgtype, carried=carried,
                                          latched=carried))
        self.image_topic = recorded[0].topic
        try:
            os.makedirs(output_dir, exist_ok=True)
            if not os.access(output_dir, os.W_OK):
                raise OSError('not writable')
        except OSError as exc:
            raise ParameterError(f"parameter 'output_dir': cannot write to {output_dir!r} "
                                 f'({exc})') from None
        self.recorder = EpisodeRecorder(output_dir, recorded, frame_topic=self.image_topic,
                                        episode_topic=episode_name, storage=storage,
                                        prefix=prefix, queue_limit_bytes=queue_mb * MB,
                                        reorder_window_s=reorder)
        self.recorder.start(self._now_ns())
        self.last_image = None          # monotonic time of the newest frame
        self.silent_since = None        # the camera went quiet (monotonic), while reported
        self.started = time.monotonic()
        self.reported = 0               # episodes already logged
        self.timer = self.create_timer(0.25, self._on_timer)
        self.last_progress = time.monotonic()
        where = f'one bag per episode ({episode_name})' if episode_name else 'one bag'
        self.get_logger().info(
            f'recording {", ".join(t.topic for t in recorded)} into {output_dir}/ '
            f'({storage}, {where})')

    # --- inputs -------------------------------------------------------------------------------

    def _now_ns(self) -> int:
        return self.get_clock().now().nanoseconds

    def _receive_ns(self, info) -> int:
        """Return when the message arrived: the middleware's stamp, else now (this clock)."""
        if info is not None and not self.get_clock().ros_time_is_active:
            stamp = int(info.get('received_timestamp') or 0)
            if stamp > 0:
                return stamp
        return self._now_ns()

    def _on_message(self, index: int, data: bytes, info) -> None:
        topic = self.topic_names[index]
        self.recorder.put(topic, self._receive_ns(info), data)
        if index == 0:      # the camera
            now = time.monotonic()
            if self.silent_since is not None:
                gap = now - (self.last_image or self.started)
                self.get_logger().info(f'{topic}: images again after a {gap:.2f} s gap '
                                       '(kept as a gap)')
                self.silent_since = None
            self.last_image = now

    def _on_event(self, msg: String, info) -> None:
        try:
            self.recorder.event(self._receive_ns(info), msg.data, serialize_message(msg))
        except ValueError as exc:
            self.get_logger().warning(f'{self.episode_sub.topic_name}: {exc}: ignored')

    def _qos_warnings(self, topic: str) -> SubscriptionEventCallbacks:
        def incompatible(event):
            self.get_logger().warning(
                f'{topic}: a publisher offers a QoS this subscription cannot match (policy '
                f'{_policy_name(event.last_policy_kind)}): its messages are not recorded; '
                'see the *_qos_* and instruction_durability parameters')
        return SubscriptionEventCallbacks(incompatible_qos=incompatible)

    def _apply(self, changes) -> None:
        self.__dict__.update(changes)

    # --- progress -----------------------------------------------------------------------------

    def _on_timer(self) -> None:
        stats = self.recorder.stats()
        if stats.error is not None:
            raise RuntimeError(f'cannot write the bag in {self.recorder.out_dir}: '
                               f'{stats.error}')
        for summary in self.recorder.finished[self.reported:]:
            self.reported += 1
            self.get_logger().info(f'{summary.path}: {summary.outcome}, {summary.frames} '
                                   f'frames, {summary.seconds:.1f} s')
        now = time.monotonic()
        quiet_for = now - (self.last_image or self.started)
        if self.silent_since is None and quiet_for >= self.image_timeout:
            self.silent_since = now
            self.get_logger().warning(f'{self.image_topic}: no image for {quiet_for:.1f} s '
                                      '(recording goes on; the gap stays in the bag)')
        if self.progress_period and now - self.last_progress >= self.progress_period:
            self.last_progress = now
            self.get_logger().info(progress_line(stats))

    def destroy_node(self):
        """Write what is queued and close the open bag, then destroy the node."""
        if self.recorder is not None and not self.closed:
            self.closed = True
            done = self.recorder.close()
            stats = self.recorder.stats()
            for summary in self.recorder.finished[self.reported:]:
                print(f'[recorder] {summary.path}: {summary.outcome}, {summary.frames} frames, '
                      f'{summary.seconds:.1f} s', file=sys.stderr, flush=True)
            print(f'[recorder] {"closed" if done else "NOT closed (writer still busy)"}: '
                  f'{progress_line(stats)}', file=sys.stderr, flush=True)
        return super().destroy_node()


def progress_line(stats) -> str:
    """One line: episodes (by outcome), frames, seconds, drops and the queue."""
    outcomes = ', '.join(f'{n} {k}' for k, n in sorted(stats.outcomes.items()))
    line = (f'{stats.episodes} bags{f" ({outcomes})" if outcomes else ""}, '
            f'{stats.frames} frames, {stats.seconds + stats.open_seconds:.1f} s recorded')
    if stats.open_path:
        line += (f'; open {os.path.basename(stats.open_path)}: {stats.open_frames} frames, '
                 f'{stats.open_seconds:.1f} s')
    dropped = sum(stats.dropped.values())
    line += f'; dropped {dropped}'
    if dropped:
        line += ' (' + ', '.join(f'{t}: {n}' for t, n in sorted(stats.dropped.items())) + ')'
    line += f'; queue {stats.queue_bytes / MB:.1f} MB (peak {stats.queue_peak_bytes / MB:.1f})'
    if stats.idle:
        line += f'; {stats.idle} between episodes'
    if stats.error:
        line += f'; ERROR {stats.error}'
    return line


def _policy_name(kind) -> str:
    try:
        from rclpy.qos import QoSPolicyKind
        return QoSPolicyKind(kind).name.lower()
    except (ImportError, ValueError):  # pragma: no cover - an rclpy without the enum
        return str(kind)


def main(args=None):
    """Record until interrupted; the open bag is closed on SIGINT."""
    return run_node(Recorder, args)


if __name__ == '__main__':
    sys.exit(main())


__all__ = ['Recorder', 'main', 'progress_line']
