# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Episode boundaries: a whole bag, or the events of an episode topic.

An episode topic carries ``std_msgs/String`` events (case and surrounding spaces ignored):

- ``start``: an episode begins (an episode still open is closed first, outcome ``unknown``);
- ``success`` / ``fail``: the open episode ends with that outcome;
- ``stop``: the open episode ends, outcome ``unknown``.

An episode still open when the bag ends closes at the bag's last message, outcome
``unknown``. An end event with no open episode is ignored. Everything that does not fit is
reported in :attr:`EpisodeSplit.notes`, one line each; anything else is an error naming the
text.
"""

from dataclasses import dataclass, field
from typing import List, Sequence, Tuple

EVENTS = ('start', 'stop', 'success', 'fail')


@dataclass
class Episode:
    """One episode: ``[start_ns, stop_ns]`` on the bag's clock, and how it ended."""

    start_ns: int
    stop_ns: int
    outcome: str = 'unknown'


@dataclass
class EpisodeSplit:
    """Episodes found in a bag and remarks on events that did not fit."""

    episodes: List[Episode]
    notes: List[str] = field(default_factory=list)


class EpisodeEventError(ValueError):
    """An episode topic carried a text that is not an event."""


def whole_bag(first_ns: int, last_ns: int) -> EpisodeSplit:
    """Return the whole bag as one episode of unknown outcome."""
    return EpisodeSplit([Episode(first_ns, last_ns)])


def split_episodes(events: Sequence[Tuple[int, str]], bag_end_ns: int) -> EpisodeSplit:
    """
    Turn ``(time_ns, text)`` events (in time order) into episodes.

    Raises :class:`EpisodeEventError` for a text that is not one of :data:`EVENTS`.
    """
    episodes: List[Episode] = []
    notes: List[str] = []
    open_at = None
    for stamp, text in events:
        event = text.strip().lower()
        if event not in EVENTS:
            raise EpisodeEventError(f'event {text!r} at {stamp / 1e9:.3f} s is not one of '
                                    f'{", ".join(EVENTS)}')
        if event == 'start':
            if open_at is not None:
                notes.append(f'start at {stamp / 1e9:.3f} s while an episode was open: '
                             'that episode ends there, outcome unknown')
                episodes.append(Episode(open_at, stamp))
            open_at = stamp
        elif open_at is None:
            notes.append(f'{event} at {stamp / 1e9:.3f} s without a start: ignored')
        else:
            episodes.append(Episode(open_at, stamp, 'unknown' if event == 'stop' else event))
            open_at = None
    if open_at is not None:
        notes.append(f'the episode started at {open_at / 1e9:.3f} s never ended: it ends with '
                     'the bag, outcome unknown')
        episodes.append(Episode(open_at, bag_end_ns))
    return EpisodeSplit(episodes, notes)
