# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
``sim_world``: a simulated world as a ROS node, driven by ``cmd_vel``.

``world:=overhead`` (the arena drawn from above) or ``world:=first_person`` (MuJoCo, a camera on
the robot); every field of the world's config is a parameter (:mod:`.world_params`), and
``image_width``/``image_height`` set the camera's resolution. Publishes the camera on
``~/image_raw`` (``sensor_msgs/Image`` rgb8, stamped, best-effort), with ``publish_map:=true``
the arena from above on ``~/map_image``, the episode's instruction on ``~/instruction``
(latched) and, when an episode ends, a JSON report on ``~/episode`` (latched, last 100 kept):
``{"seed", "instruction", "target", "absent", "success", "reason", "steps", "timeouts",
"final_distance_m", "world", "aborted", "episode", "actions"}`` (``actions``: every executed
``[v, w]``, so the episode can be replayed exactly); ``success`` is strict and ``reason`` one
of ``reached``, ``collision``, ``out_of_arena``, ``stopped``, ``timeout``
(:mod:`vla_fusion_ros.sim.base`). The report also carries ``"first_frame_stamp_ns"`` and
``"last_frame_stamp_ns"`` (the header stamps of the episode's first and last published frame,
so that a recorder can keep exactly the frames of that episode; null before the first frame).
Subscribes ``cmd_vel`` (``Twist`` or, with
``cmd_type:=twist_stamped``, ``TwistStamped``) and ``~/reset`` (``std_msgs/Int64``: abandon
the episode and start the given seed). Episode boundaries also go out as ``std_msgs/String``
events on ``~/episode_events``: ``start`` (``START_LEAD`` s before the episode's first frame),
then ``success`` or ``fail`` when it ends, ``stop`` when a reset abandons it; the recorder's
``episode_topic`` takes them (one bag per episode).

Modes:

- ``lockstep`` (for evaluation): frame k is published, the world waits for the next command,
  steps once, publishes frame k+1. Results depend only on the seeds and the policy, not on
  timing. An episode's first frame waits until ``~/image_raw`` has a subscriber and
  ``cmd_vel`` a publisher (then ``instruction_lead`` s more). With ``twist_stamped``, only a
  command stamped with the current frame's stamp (within 0.1 ms) counts (the fusion node
  stamps commands with their image's stamp), so stale or extra commands are ignored; with
  ``twist``, the first command after a frame counts. A frame that gets no answer is
  re-published (new stamp) every ``resend_period`` s; after ``command_timeout`` s the world
  steps with a zero command and counts a timeout. While nobody publishes ``cmd_vel`` the world
  waits, and no timeouts are counted.
- ``realtime``: the world steps at ``rate`` Hz with the newest command; a command older than
  ``command_max_age`` s counts as zero.

- ``teleop:=expert`` (with ``realtime``): a teleoperator stand-in. After each frame the
  expert's command for the state on display goes out on ``cmd_vel`` (``TwistStamped``
  stamped with that frame's stamp, with ``cmd_type:=twist_stamped``), as a person with a
  joystick would send it, and the world executes it at the next step with actuation noise
  (``teleop_noise_prob``, ``teleop_noise_std``; :mod:`vla_fusion_ros.sim.teleop`, the same
  seeded stream as the in-process dataset generator, so a recorded episode equals the
  generated one of the same seed). ``cmd_vel`` is not subscribed; the first frame of an episode
  waits until ``~/image_raw`` has had a subscriber (a recorder) for ``DISCOVERY_SETTLE`` s and
  ``~/episode_events`` has one too (or ``EVENTS_GRACE`` s have passed: a recorder without
  episodes). No fusion node is needed.
  Frames
  are stamped as a camera with its own clock would stamp them: the episode's first frame at
  the wall time, frame k at ``k / rate`` s after it (the receive times a recorder logs still
  show the host's timing jitter; ``--clock header`` aligns on the regular stamps).

Each episode starts by publishing its instruction, then, ``instruction_lead`` s later, its
first frame, so that the policy has the new instruction before the new scene. Episode seeds
are ``seed``, ``seed + 1``, ...; ``episodes`` of them are run (0: forever). After the last,
``on_finish:=exit`` (default) ends the process with status 0, ``exit_delay`` s after the last
report so that subscribers receive it; ``on_finish:=idle`` keeps the node up, waiting for
``~/reset``.
"""

import json
import sys
import time

from geometry_msgs.msg import Twist, TwistStamped
from rclpy.node import Node
from rclpy.time import Time
from sensor_msgs.msg import Image
from std_msgs.msg import Int64, String

from vla_fusion_ros.ros.image_conversion import array_to_image_msg
from vla_fusion_ros.ros.params import ParameterError, ParameterSet  # noqa: F401 (re-export)
from vla_fusion_ros.ros.qos import latched_qos, make_qos, RELIABILITY
from vla_fusion_ros.ros.runtime import run_node
from vla_fusion_ros.ros.world_params import world_config_from_parameters, WORLD_PARAMETERS
from vla_fusion_ros.sim.registry import make_world
from vla_fusion_ros.sim.teleop import ExpertTeleop
from vla_fusion_ros.sim.world import draw_overhead

MODES = ('lockstep', 'realtime')
CMD_TYPES = ('twist', 'twist_stamped')
ON_FINISH = ('exit', 'idle')
TELEOPS = ('none', 'expert')
START_LEAD = 0.1            # s between the 'start' event and the episode's first frame
EVENTS_GRACE = 2.0          # teleop: s to wait for an episode-event subscriber after a viewer
#: teleop: s a new viewer must have been there before an episode starts. The publisher counts
#: a subscriber as soon as it has discovered it; until the subscriber has discovered the
#: publisher back, what is sent reaches it only later through reliability repairs (a 'start'
#: event arrived 130 ms late, after the episode's first frames).
DISCOVERY_SETTLE = 1.0
STAMP_TOLERANCE_NS = 100_000  # 0.1 ms: float-seconds round trips are exact to about 0.5 us


def _same_stamp(a, b) -> bool:
    """
    Return whether two stamps name the same frame.

    A publisher that carries the stamp through a float of seconds (as the fusion node does)
    loses up to a few hundred nanoseconds; frames are never that close together.
    """
    if b is None:
        return False
    delta = (a.sec - b.sec) * 1_000_000_000 + (a.nanosec - b.nanosec)
    return abs(delta) <= STAMP_TOLERANCE_NS


class SimWorld(Node):
    """Own a :class:`World`, publish what it renders and step it with ``cmd_vel``."""

    def __init__(self, **kwargs):
        super().__init__('sim_world', **kwargs)
        # Every writable parameter is an attribute read where it is used: set = applied.
        params = ParameterSet(self, on_change=lambda changes: self.__dict__.update(changes))
        self.world_name, self.config = world_config_from_parameters(params)
        self.image_width = params.declare(
            'image_width', 0, 'Camera width in pixels; 0 = image_size.', value_range=(0, 4096),
            read_only=True) or self.config.image_size
        self.image_height = params.declare(
            'image_height', 0, 'Camera height in pixels; 0 = image_width.',
            value_range=(0, 4096), read_only=True) or self.image_width
        self.publish_map = params.declare(
            'publish_map', False, 'Also publish the arena seen from above on ~/map_image '
            '(image_size square), for displays and the demo.', read_only=True)
        self.next_seed = params.declare('seed', 0, 'Seed of the first episode.',
                                        value_range=(0, 2**62), read_only=True)
        self.episodes = params.declare('episodes', 0, 'Episodes to run; 0 = forever.',
                                       value_range=(0, 2**31 - 1), read_only=True)
        self.mode = params.declare('mode', 'lockstep', 'lockstep: one step per command; '
                                   'realtime: step at a fixed rate.', choices=MODES,
                                   read_only=True)
        rate = params.declare('rate', 0.0, 'realtime: steps per second; 0 = 1 / dt.',
                              value_range=(0.0, 1000.0), read_only=True)
        self.command_timeout = params.declare(
            'command_timeout', 2.0, 'lockstep: seconds to wait for a command before stepping '
            'with zero (counted as a timeout).', value_range=(0.01, 3600.0))
        self.resend_period = params.declare(
            'resend_period', 0.5, 'lockstep: re-publish an unanswered frame after this many '
            'seconds; 0 = never.', value_range=(0.0, 3600.0))
        self.command_max_age = params.declare(
            'command_max_age', 0.5, 'realtime: a command older than this counts as zero.',
            value_range=(0.0, 3600.0))
        self.instruction_lead = params.declare(
            'instruction_lead', 0.2, "Seconds between an episode's instruction and its first "
            'frame.', value_range=(0.0, 60.0))
        self.cmd_type = params.declare('cmd_type', 'twist', 'Message type on cmd_vel.',
                                       choices=CMD_TYPES, read_only=True)
        self.on_finish = params.declare('on_finish', 'exit', 'After the last episode: exit '
                                        '(status 0) or idle (wait for ~/reset).',
                                        choices=ON_FINISH, read_only=True)
        self.exit_delay = params.declare('exit_delay', 1.0, 'Seconds between the last report '
                                         'and the exit.', value_range=(0.0, 60.0))
        self.frame_id = params.declare('frame_id', 'sim_camera', 'frame_id of the images.')
        reliability = params.declare('image_qos_reliability', 'best_effort',
                                     'QoS reliability of ~/image_raw.',
                                     choices=tuple(RELIABILITY), read_only=True)
        depth = params.declare('image_qos_depth', 1, 'QoS depth of ~/image_raw.',
                               value_range=(1, 1000), read_only=True)
        teleop = params.declare('teleop', 'none', "expert: publish the expert's commands on "
                                'cmd_vel and execute them (realtime mode only).',
                                choices=TELEOPS, read_only=True)
        noise_prob = params.declare('teleop_noise_prob', 0.5, 'teleop: probability per step '
                                    'of actuation noise on the executed command.',
                                    value_range=(0.0, 1.0), read_only=True)
        noise_std = params.declare('teleop_noise_std', [0.3, 1.0], 'teleop: standard '
                                   'deviations of that noise on [linear_x, angular_z].',
                                   value_range=(0.0, 100.0), read_only=True)
        params.finish()
        if teleop == 'expert' and self.mode != 'realtime':
            raise ParameterError("parameter 'teleop': expert needs mode realtime (a "
                                 'teleoperator does not wait for the world)')
        if len(noise_std) != 2:
            raise ParameterError("parameter 'teleop_noise_std': give two values, [linear_x, "
                                 f'angular_z], got {list(noise_std)}')
        self.teleop = (ExpertTeleop(noise_prob=noise_prob, noise_std=noise_std)
                       if teleop == 'expert' else None)

        self.world = make_world(self.world_name, self.config)
        self.world.reset(self.next_seed)  # render once now: a missing renderer fails at start
        self.world.render(self.image_width, self.image_height)
        self.phase = 'starting'     # starting -> waiting (lockstep) | running -> finished
        self.episodes_done = 0
        self.episode_index = 0
        self.timeouts = 0
        self.frame_stamp = None     # builtin_interfaces/Time of the frame on display
        self.episode_stamps = [None, None]   # first and last frame stamp of the episode (ns)
        self.frame_sent = 0.0       # monotonic time the current frame was first published
        self.last_sent = 0.0        # ... and last (re-)published
        self.phase_due = 0.0        # start of the first frame, or the exit
        self.start_sent = False     # the episode's 'start' event is out
        self.viewer_since = None    # teleop: monotonic time ~/image_raw got a subscriber
        self.latest = None          # realtime: ((v, w), monotonic receive time)

        self.image_pub = self.create_publisher(Image, '~/image_raw',
                                               make_qos(reliability, 'keep_last', depth))
        self.map_pub = (self.create_publisher(Image, '~/map_image',
                                              make_qos(reliability, 'keep_last', depth))
                        if self.publish_map else None)
        self.instruction_pub = self.create_publisher(String, '~/instruction', latched_qos())
        self.episode_pub = self.create_publisher(
            String, '~/episode', make_qos('reliable', 'keep_last', 100, 'transient_local'))
        self.events_pub = self.create_publisher(String, '~/episode_events',
                                                make_qos('reliable', 'keep_last', 100))
        cmd_msg = TwistStamped if self.cmd_type == 'twist_stamped' else Twist
        if self.teleop is None:
            self.cmd_sub = self.create_subscription(cmd_msg, 'cmd_vel', self._on_command,
                                                    make_qos('reliable', 'keep_last', 10))
            cmd_topic = self.cmd_sub.topic_name
        else:
            self.cmd_pub = self.create_publisher(cmd_msg, 'cmd_vel',
                                                 make_qos('reliable', 'keep_last', 10))
            cmd_topic = f'{self.cmd_pub.topic_name} (published by the expert teleop)'
        self.reset_sub = self.create_subscription(Int64, '~/reset', self._on_reset,
                                                  make_qos('reliable', 'keep_last', 10))
        period = 0.02 if self.mode == 'lockstep' else 1.0 / (rate or 1.0 / self.config.dt)
        self.step_ns = int(round(period * 1e9))   # realtime: the nominal time between frames
        self.timer = self.create_timer(period, self._on_tick)
        self._start_episode(self.next_seed)
        self.get_logger().info(
            f'{self.mode} {self.world_name} world: {self.image_width}x{self.image_height} '
            f'camera on '
            f'{self.image_pub.topic_name}, commands ({self.cmd_type}) on '
            f'{cmd_topic}; {self.episodes or "unlimited"} episodes from seed '
            f'{self.world.seed}')

    # --- episodes -----------------------------------------------------------------------------

    def _start_episode(self, seed: int) -> None:
        self.world.reset(seed)
        self.next_seed = seed + 1
        self.timeouts = 0
        self.latest = None
        self.episode_stamps = [None, None]
        if self.teleop is not None:
            self.teleop.start(seed)
        self.instruction_pub.publish(String(data=self.world.instruction))
        self.start_sent = False
        self.phase = 'starting'
        self.phase_due = time.monotonic() + self.instruction_lead

    def _report(self, aborted: bool) -> None:
        world = self.world
        report = {**world.report(), 'world': self.world_name, 'timeouts': self.timeouts,
                  'aborted': aborted, 'episode': self.episode_index,
                  'actions': [list(a) for a in world.actions],
                  'first_frame_stamp_ns': self.episode_stamps[0],
                  'last_frame_stamp_ns': self.episode_stamps[1]}
        self.episode_index += 1
        self.episode_pub.publish(String(data=json.dumps(report)))
        if self.start_sent:
            outcome = 'stop' if aborted else ('success' if world.success else 'fail')
            self.events_pub.publish(String(data=outcome))
        self.get_logger().info(f'episode: {json.dumps(report)}')

    def _end_episode(self) -> None:
        self._report(aborted=False)
        self.episodes_done += 1
        if self.episodes and self.episodes_done >= self.episodes:
            self.phase = 'finished'
            self.phase_due = time.monotonic() + self.exit_delay
        else:
            self._start_episode(self.next_seed)

    def _advance(self, action) -> None:
        """Step the world with ``action``, then publish the next frame or end the episode."""
        if self.world.step(action).done:
            self._end_episode()
        else:
            self._publish_frame(first=True)

    # --- frames and ticks ---------------------------------------------------------------------

    def _publish_frame(self, first: bool) -> None:
        msg = array_to_image_msg(self.world.render(self.image_width, self.image_height),
                                 'rgb8', Image)
        stamp = self.get_clock().now()
        if self.teleop is not None and self.episode_stamps[0] is not None:
            # The camera's own clock: on the world's schedule from the episode's first frame.
            stamp = Time(nanoseconds=self.episode_stamps[0] + self.world.steps * self.step_ns)
        self.frame_stamp = stamp.to_msg()
        msg.header.stamp = self.frame_stamp
        msg.header.frame_id = self.frame_id
        if self.map_pub is not None:
            view = array_to_image_msg(draw_overhead(self.world, self.config.image_size),
                                      'rgb8', Image)
            view.header = msg.header
            self.map_pub.publish(view)
        stamp_ns = self.frame_stamp.sec * 1_000_000_000 + self.frame_stamp.nanosec
        if self.episode_stamps[0] is None:
            self.episode_stamps[0] = stamp_ns
        self.episode_stamps[1] = stamp_ns
        now = time.monotonic()
        if first:
            self.frame_sent = now
        self.last_sent = now
        self.image_pub.publish(msg)
        if self.teleop is not None:
            self._teleoperate()

    def _teleoperate(self) -> None:
        """Publish the expert's command for the frame just shown; execute it next step."""
        command, executed = self.teleop.act(self.world)
        twist = Twist()
        twist.linear.x, twist.angular.z = float(command[0]), float(command[1])
        if self.cmd_type == 'twist_stamped':
            msg = TwistStamped(twist=twist)
            msg.header.stamp = self.frame_stamp
            msg.header.frame_id = 'base_link'
        else:
            msg = twist
        self.cmd_pub.publish(msg)
        self.latest = ((float(executed[0]), float(executed[1])), time.monotonic())

    def _ready(self) -> bool:
        """Return whether an episode may start (lockstep: viewer and commander; teleop: viewer)."""
        if self.teleop is not None:
            if self.image_pub.get_subscription_count() == 0:
                self.viewer_since = None
                return False
            self.viewer_since = self.viewer_since or time.monotonic()
            waited = time.monotonic() - self.viewer_since
            return waited >= DISCOVERY_SETTLE and (
                self.events_pub.get_subscription_count() > 0 or waited >= EVENTS_GRACE)
        return self.mode != 'lockstep' or (
            self.image_pub.get_subscription_count() > 0
            and self.count_publishers(self.cmd_sub.topic_name) > 0)

    def _on_tick(self) -> None:
        now = time.monotonic()
        if self.phase == 'starting':
            if not self._ready():
                self.phase_due = now + self.instruction_lead  # grace once both sides match
            elif not self.start_sent:
                self.start_sent = True
                self.events_pub.publish(String(data='start'))
                self.phase_due = max(self.phase_due, now + START_LEAD)
            elif now >= self.phase_due:
                self.phase = 'waiting' if self.mode == 'lockstep' else 'running'
                self._publish_frame(first=True)
        elif self.phase == 'waiting':
            if self.count_publishers(self.cmd_sub.topic_name) == 0:
                self.frame_sent = now               # nobody to wait for: pause the clock
            if now - self.frame_sent >= self.command_timeout:
                self.timeouts += 1
                self._advance((0.0, 0.0))
            elif self.resend_period and now - self.last_sent >= self.resend_period:
                self._publish_frame(first=False)
        elif self.phase == 'running':
            fresh = self.latest is not None and now - self.latest[1] <= self.command_max_age
            self._advance(self.latest[0] if fresh else (0.0, 0.0))
        elif self.phase == 'finished' and self.on_finish == 'exit' and now >= self.phase_due:
            self.phase = 'exited'
            self.get_logger().info(f'{self.episodes_done} episodes done; exiting')
            self.context.try_shutdown()             # ends spin; run_node returns 0

    # --- inputs -------------------------------------------------------------------------------

    def _on_command(self, msg) -> None:
        twist = msg.twist if self.cmd_type == 'twist_stamped' else msg
        action = (twist.linear.x, twist.angular.z)
        if self.mode == 'realtime':
            self.latest = (action, time.monotonic())
            return
        if self.phase != 'waiting':
            return
        if self.cmd_type == 'twist_stamped' and not _same_stamp(msg.header.stamp,
                                                                self.frame_stamp):
            return                                  # computed from another frame
        self._advance(action)

    def _on_reset(self, msg: Int64) -> None:
        if msg.data < 0:
            self.get_logger().warning(f'~/reset: seed must be >= 0, got {msg.data}')
            return
        if self.phase in ('waiting', 'running'):
            self._report(aborted=True)
        self._start_episode(int(msg.data))


def main(args=None):
    """Run the simulated world until its episodes are done or it is interrupted."""
    return run_node(SimWorld, args)


if __name__ == '__main__':
    sys.exit(main())


__all__ = ['SimWorld', 'main', 'world_config_from_parameters', 'WORLD_PARAMETERS']
