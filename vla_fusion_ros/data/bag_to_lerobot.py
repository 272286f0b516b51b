# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Convert rosbag2 bags (MCAP or sqlite3) into one LeRobotDataset v3 directory.

::

    python -m vla_fusion_ros.data.bag_to_lerobot BAG... --out DATASET --fps 15

Each bag is one episode, or, with ``--episode-topic``, holds episodes marked by start /
success / fail / stop events (:mod:`.episodes`). Frames are made by the alignment rule of
:mod:`.alignment` (images on a 1/fps grid, the command in force at each image within
``--action-tolerance``, the instruction in force as the frame's task; frames without a
command or instruction are dropped and counted). An instruction that changes within an
episode changes the frames' ``task_index`` and fires a ``language_events`` interjection. Episodes
labelled ``fail`` are left out unless ``--keep-failed``. The layout written is documented in
:mod:`.lerobot_v3_schema`.

A bad input stops the conversion with one line naming the bag, the topic and the problem
(``--skip-bad-bags`` leaves such a bag out instead, and says so), and nothing is written: the
dataset appears only when every episode is in. Exit status: 0 done, 2 bad input or options.
"""

import argparse
import sys
import time
from typing import Dict, List, Optional, Sequence

import numpy as np

from vla_fusion_ros.data.alignment import align_episode, Alignment, AlignmentConfig
from vla_fusion_ros.data.bag_reading import (BagError, BagStreams, iter_images, read_streams,
                                             TopicOptions, TWIST_FIELDS)
from vla_fusion_ros.data.episodes import EpisodeEventError, split_episodes, whole_bag
from vla_fusion_ros.data.lerobot_writer import (check_output, DatasetExistsError,
                                                LeRobotWriter, VideoSettings)
from vla_fusion_ros.data.video import CODECS, PIX_FMTS, VideoError

COUNTED = ('images', 'frames', 'gaps', 'unused_images', 'no_instruction', 'no_command',
           'no_state')


def _drop_empty_tasks(alignment: Alignment, tasks: List[str]) -> tuple:
    """Drop frames whose instruction is empty (a withdrawn instruction); rebase ticks."""
    keep = np.array([bool(t) for t in tasks], dtype=bool)
    alignment.counts['no_instruction'] += int((~keep).sum())
    if keep.all():
        return alignment, tasks
    tick = alignment.tick[keep]
    alignment = Alignment(tick - (tick[0] if len(tick) else 0), alignment.image[keep],
                          alignment.command[keep], alignment.instruction[keep],
                          None if alignment.state is None else alignment.state[keep],
                          alignment.counts)
    alignment.counts['frames'] = len(tick)
    return alignment, [t for t, k in zip(tasks, keep) if k]


class Converter:
    """Bags in, episodes out: per-bag planning, then the writer."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.topics = TopicOptions(
            image_topic=args.image_topic, instruction_topic=args.instruction_topic,
            command_topic=args.command_topic, state_topic=args.state_topic,
            episode_topic=args.episode_topic, action_fields=tuple(args.action_fields.split(',')),
            clock=args.clock, max_clock_skew_s=args.max_clock_skew, task=args.task)
        self.alignment = AlignmentConfig(
            fps=args.fps, action_tolerance_s=args.action_tolerance,
            action_offset_s=args.action_offset, state_tolerance_s=args.state_tolerance)
        self.video = VideoSettings(args.codec, args.pix_fmt, args.crf, args.gop)
        self.writer: Optional[LeRobotWriter] = None
        self.first: Optional[BagStreams] = None
        self.totals: Dict[str, float] = dict.fromkeys(COUNTED, 0)
        self.totals.update(episodes=0, failed_left_out=0, empty_episodes=0, bags=0,
                           skipped_bags=0)
        self.per_bag: List[Dict] = []

    def plan(self, streams: BagStreams) -> List[tuple]:
        """Return ``(alignment, tasks, outcome)`` for each episode of a bag worth writing."""
        if self.topics.episode_topic:
            split = split_episodes(streams.episode_events, streams.last_ns + 1)
        else:
            split = whole_bag(streams.first_ns, streams.last_ns + 1)
        streams.notes += [f'{streams.bag}: {streams.topics.get("episode")}: {note}'
                          for note in split.notes]
        planned = []
        for episode in split.episodes:
            if episode.outcome == 'fail' and not self.args.keep_failed:
                self.totals['failed_left_out'] += 1
                continue
            inside = np.flatnonzero((streams.image_receive_ns >= episode.start_ns)
                                    & (streams.image_receive_ns < episode.stop_ns))
            alignment = align_episode(
                self.alignment, streams.image_ns[inside], streams.image_receive_ns[inside],
                streams.command_ns, streams.instruction_ns, streams.state_ns)
            alignment.image = inside[alignment.image]
            tasks = ([self.topics.task] * len(alignment) if self.topics.task is not None
                     else [streams.instructions[j] for j in alignment.instruction])
            alignment, tasks = _drop_empty_tasks(alignment, tasks)
            for key in COUNTED:
                self.totals[key] += alignment.counts.get(key, 0)
            if len(alignment) < self.args.min_frames:
                self.totals['empty_episodes'] += 1
                continue
            planned.append((alignment, tasks, episode.outcome))
        return planned

    def _check_compatible(self, streams: BagStreams) -> None:
        if self.first is None:
            self.first = streams
            return
        if streams.image_size != self.first.image_size:
            raise BagError(streams.bag, streams.topics['image'], f'images are '
                           f'{streams.image_size[0]}x{streams.image_size[1]}, the first bag has '
                           f'{self.first.image_size[0]}x{self.first.image_size[1]}')
        if streams.state_names != self.first.state_names:
            raise BagError(streams.bag, streams.topics.get('state'), f'state names '
                           f'{streams.state_names} differ from the first bag: '
                           f'{self.first.state_names}')

    def convert_bag(self, path: str) -> None:
        """Read, align and write the episodes of one bag."""
        streams = read_streams(path, self.topics)
        self._check_compatible(streams)
        planned = self.plan(streams)
        for note in streams.notes:
            print(note, flush=True)
        if planned and self.writer is None:
            self.writer = LeRobotWriter(
                self.args.out, self.args.fps, self.args.camera, streams.image_size,
                [f.replace('.', '_') for f in self.topics.action_fields],
                streams.state_names if streams.states is not None else None,
                self.args.robot_type, self.video, self.args.overwrite)
        wanted = np.concatenate([streams.image_ordinal[a.image] for a, _, _ in planned]
                                ) if planned else []
        images = iter_images(streams, wanted)
        frames = 0
        try:
            for alignment, tasks, outcome in planned:
                states = None if alignment.state is None else streams.states[alignment.state]
                self.writer.add_episode((next(images)[1] for _ in range(len(alignment))),
                                        alignment.tick, streams.commands[alignment.command],
                                        tasks, states, outcome, path)
                frames += len(alignment)
        finally:
            images.close()
        self.totals['episodes'] += len(planned)
        self.totals['bags'] += 1
        self.per_bag.append({'bag': path, 'episodes': len(planned), 'frames': frames,
                             'topics': streams.topics, 'notes': streams.notes})
        print(f'{path}: {len(planned)} episodes, {frames} frames ({streams.topics["image"]} '
              f'{streams.image_size[0]}x{streams.image_size[1]})', flush=True)

    def run(self, bags: Sequence[str]) -> int:
        """Convert every bag, then write the dataset; return the exit status."""
        started = time.monotonic()
        for path in bags:
            try:
                self.convert_bag(path)
            except (BagError, EpisodeEventError) as exc:
                if isinstance(exc, EpisodeEventError):
                    exc = BagError(path, self.topics.episode_topic, str(exc))
                if not self.args.skip_bad_bags or self._wrote_from(path):
                    raise exc
                self.totals['skipped_bags'] += 1
                print(f'{exc} (bag left out)', flush=True)
        if self.writer is None:
            raise BagError(', '.join(bags), None, 'no episode has any frame: nothing to write')
        seconds = time.monotonic() - started
        t = self.totals
        report = {'settings': {k: v for k, v in vars(self.args).items() if k != 'bags'},
                  'totals': t, 'bags': self.per_bag, 'seconds': round(seconds, 2),
                  'frames_per_second': round(t['frames'] / max(seconds, 1e-9), 1)}
        out = self.writer.finish(report)
        print(f'{out}: {t["episodes"]} episodes, {t["frames"]} frames at {self.args.fps} fps, '
              f'{len(self.writer.tasks)} tasks, from {t["bags"]} bags in {seconds:.1f} s '
              f'({report["frames_per_second"]} frames/s)')
        print(f'dropped: {t["no_command"]} frames without a command within '
              f'{self.args.action_tolerance} s, {t["no_instruction"]} without an instruction, '
              f'{t["no_state"]} without a state; {t["gaps"]} ticks without an image (camera '
              f'gaps), {t["unused_images"]} of {t["images"]} images unused by the '
              f'{self.args.fps} fps grid; {t["failed_left_out"]} failed episodes left out, '
              f'{t["empty_episodes"]} episodes with fewer than {self.args.min_frames} frames')
        return 0

    def _wrote_from(self, path: str) -> bool:
        return self.writer is not None and any(e['source'] == path
                                               for e in self.writer.episodes)


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('bags', nargs='+', metavar='BAG', help='bag folders or .mcap/.db3 files')
    parser.add_argument('--out', required=True, help='the dataset folder to write')
    parser.add_argument('--fps', type=int, default=15, help='frames per second of the dataset')
    topics = parser.add_argument_group('topics (found by type when the bag has one candidate)')
    topics.add_argument('--image-topic', help='sensor_msgs/Image or CompressedImage')
    topics.add_argument('--instruction-topic', help='std_msgs/String')
    topics.add_argument('--command-topic', help='geometry_msgs/Twist or TwistStamped')
    topics.add_argument('--state-topic', help='nav_msgs/Odometry or sensor_msgs/JointState '
                        '(optional; becomes observation.state)')
    topics.add_argument('--episode-topic', help='std_msgs/String events start, success, fail, '
                        'stop (default: one episode per bag)')
    topics.add_argument('--task', help='use this task for every frame (no instruction topic)')
    topics.add_argument('--action-fields', default='linear.x,angular.z',
                        help=f'Twist fields of the action, in order (of '
                        f'{", ".join(TWIST_FIELDS)})')
    rule = parser.add_argument_group('alignment (see vla_fusion_ros.data.alignment)')
    rule.add_argument('--clock', choices=('receive', 'header'), default='receive')
    rule.add_argument('--action-tolerance', type=float, default=0.25, metavar='S')
    rule.add_argument('--action-offset', type=float, default=0.0, metavar='S')
    rule.add_argument('--state-tolerance', type=float, default=0.25, metavar='S')
    rule.add_argument('--max-clock-skew', type=float, default=1.0, metavar='S')
    rule.add_argument('--min-frames', type=int, default=1,
                      help='leave out episodes with fewer frames')
    rule.add_argument('--keep-failed', action='store_true',
                      help='keep episodes labelled fail (default: left out, counted)')
    output = parser.add_argument_group('output')
    output.add_argument('--camera', default='front', help='observation.images.<camera>')
    output.add_argument('--robot-type', default=None)
    output.add_argument('--codec', choices=CODECS, default='libx264')
    output.add_argument('--pix-fmt', choices=PIX_FMTS, default='yuv444p',
                        help='yuv420p halves the colour resolution (web players need it)')
    output.add_argument('--crf', type=int, default=18)
    output.add_argument('--gop', type=int, default=2, help='frames between keyframes')
    output.add_argument('--overwrite', action='store_true', help='replace an existing dataset')
    output.add_argument('--skip-bad-bags', action='store_true',
                        help='leave a bad bag out (said on one line) instead of stopping')
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Convert from the command line."""
    args = build_parser().parse_args(argv)
    try:
        check_output(args.out, args.overwrite)
        converter = Converter(args)
    except (ValueError, DatasetExistsError) as exc:
        print(f'bag_to_lerobot: {exc}', file=sys.stderr)
        return 2
    try:
        return converter.run(args.bags)
    except (BagError, DatasetExistsError, VideoError, ValueError) as exc:
        if converter.writer is not None:
            converter.writer.abort()
        print(f'bag_to_lerobot: {exc}', file=sys.stderr)
        return 2
    except BaseException:
        if converter.writer is not None:
            converter.writer.abort()
        raise


if __name__ == '__main__':
    sys.exit(main())
