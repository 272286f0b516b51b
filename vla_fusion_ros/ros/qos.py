# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""QoS profiles from parameter strings, with name-to-enum maps that also feed descriptors."""

from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

RELIABILITY = {
    'best_effort': ReliabilityPolicy.BEST_EFFORT,
    'reliable': ReliabilityPolicy.RELIABLE,
}
HISTORY = {
    'keep_last': HistoryPolicy.KEEP_LAST,
    'keep_all': HistoryPolicy.KEEP_ALL,
}
DURABILITY = {
    'volatile': DurabilityPolicy.VOLATILE,
    'transient_local': DurabilityPolicy.TRANSIENT_LOCAL,
}


def make_qos(reliability: str = 'best_effort', history: str = 'keep_last', depth: int = 1,
             durability: str = 'volatile') -> QoSProfile:
    """
    Build a :class:`QoSProfile` from the names used in parameters and YAML files.

    Sensor streams default to best effort with depth 1: the newest frame is the only one
    worth having, and a reliable queue would hold stale frames back.
    """
    for name, value, table in (('reliability', reliability, RELIABILITY),
                               ('history', history, HISTORY),
                               ('durability', durability, DURABILITY)):
        if value not in table:
            raise ValueError(f'{name}: invalid value {value!r} (valid: {", ".join(table)})')
    if depth < 1:
        raise ValueError(f'depth: must be >= 1, got {depth}')
    return QoSProfile(reliability=RELIABILITY[reliability], history=HISTORY[history],
                      depth=depth, durability=DURABILITY[durability])


def latched_qos() -> QoSProfile:
    """Return reliable, transient-local, depth 1: late joiners get the last value."""
    return make_qos('reliable', 'keep_last', 1, 'transient_local')
