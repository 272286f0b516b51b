# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Write rosbag2 bags (MCAP by default) with ``rosbags``: no ROS install needed.

:class:`BagWriter` takes either messages built here (``image_msg``, ``string_msg``, ...: the
standard types, with the field names ROS 2 uses) or raw CDR bytes as rclpy hands them to a
recorder. ``ros2 bag info`` and Foxglove open what it writes.
"""

import math
from typing import Dict, Optional

import cv2
import numpy as np
from rosbags.interfaces import (Qos, QosDurability, QosHistory, QosLiveliness, QosReliability,
                                QosTime)
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys import get_typestore, Stores

from vla_fusion_ros.data.bag_reading import (COMPRESSED, IMAGE, JOINT_STATE,  # noqa: F401
                                             ODOMETRY, STRING, TWIST, TWIST_STAMPED)

TYPES = get_typestore(Stores.LATEST)
STORAGES = {'mcap': StoragePlugin.MCAP, 'sqlite3': StoragePlugin.SQLITE3}
_T = TYPES.types
_DEFAULT_TIME = QosTime(sec=0, nsec=0)   # rmw's default: no deadline, lifespan or lease
#: The offered QoS stored for a latched topic, so that ``ros2 bag play`` replays it latched.
LATCHED_QOS = Qos(history=QosHistory.KEEP_LAST, depth=1, reliability=QosReliability.RELIABLE,
                  durability=QosDurability.TRANSIENT_LOCAL, deadline=_DEFAULT_TIME,
                  lifespan=_DEFAULT_TIME, liveliness=QosLiveliness.AUTOMATIC,
                  liveliness_lease_duration=_DEFAULT_TIME, avoid_ros_namespace_conventions=False)


class BagWriter:
    """One bag folder: topics are added once, then messages written with their receive time."""

    def __init__(self, path: str, storage: str = 'mcap'):
        if storage not in STORAGES:
            raise ValueError(f'storage: {storage!r} (valid: {", ".join(STORAGES)})')
        self.path = path
        self._writer = Writer(path, version=9, storage_plugin=STORAGES[storage])
        self._writer.open()
        self._connections: Dict[str, object] = {}
        self._types: Dict[str, str] = {}

    def add_topic(self, topic: str, msgtype: str, latched: bool = False) -> None:
        """Declare a topic of a standard type, e.g. ``sensor_msgs/msg/Image``."""
        offered = [LATCHED_QOS] if latched else []
        self._connections[topic] = self._writer.add_connection(
            topic, msgtype, typestore=TYPES, offered_qos_profiles=offered)
        self._types[topic] = msgtype

    def write(self, topic: str, receive_ns: int, message) -> None:
        """Write a message (built here, or raw CDR ``bytes``) received at ``receive_ns``."""
        if topic not in self._connections:
            raise KeyError(f'{topic}: add_topic first')
        data = message if isinstance(message, (bytes, bytearray, memoryview)) else \
            TYPES.serialize_cdr(message, self._types[topic])
        self._writer.write(self._connections[topic], int(receive_ns), data)

    def close(self) -> None:
        """Finish the bag (its metadata and the MCAP summary); readable only after this."""
        self._writer.close()

    def __enter__(self) -> 'BagWriter':
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def header(stamp_ns: int, frame_id: str = ''):
    """Return a ``std_msgs/Header`` stamped ``stamp_ns``."""
    stamp = _T['builtin_interfaces/msg/Time'](sec=int(stamp_ns // 1_000_000_000),
                                              nanosec=int(stamp_ns % 1_000_000_000))
    return _T['std_msgs/msg/Header'](stamp=stamp, frame_id=frame_id)


def image_msg(rgb: np.ndarray, stamp_ns: int, encoding: str = 'rgb8', frame_id: str = 'camera'):
    """Return a ``sensor_msgs/Image`` of an ``(H, W, 3)`` uint8 RGB array in ``encoding``."""
    array = {'rgb8': rgb, 'bgr8': rgb[:, :, ::-1]}.get(encoding, rgb)
    array = np.ascontiguousarray(array)
    height, width = array.shape[:2]
    return _T['sensor_msgs/msg/Image'](
        header=header(stamp_ns, frame_id), height=height, width=width, encoding=encoding,
        is_bigendian=0, step=array.strides[0], data=array.reshape(-1).view(np.uint8))


def compressed_msg(rgb: np.ndarray, stamp_ns: int, fmt: str = 'jpeg',
                   frame_id: str = 'camera'):
    """Return a ``sensor_msgs/CompressedImage`` (jpeg or png) of an RGB array."""
    ok, data = cv2.imencode('.jpg' if fmt == 'jpeg' else '.png', rgb[:, :, ::-1])
    if not ok:
        raise ValueError(f'cannot encode {fmt}')
    return _T['sensor_msgs/msg/CompressedImage'](header=header(stamp_ns, frame_id), format=fmt,
                                                 data=data.reshape(-1))


def string_msg(text: str):
    """Return a ``std_msgs/String``."""
    return _T['std_msgs/msg/String'](data=text)


def _vector(x: float = 0.0, y: float = 0.0, z: float = 0.0):
    return _T['geometry_msgs/msg/Vector3'](x=float(x), y=float(y), z=float(z))


def twist_msg(linear_x: float, angular_z: float):
    """Return a ``geometry_msgs/Twist`` (REP-103: linear.x forward, angular.z to the left)."""
    return _T['geometry_msgs/msg/Twist'](linear=_vector(linear_x), angular=_vector(z=angular_z))


def twist_stamped_msg(linear_x: float, angular_z: float, stamp_ns: int):
    """Return a ``geometry_msgs/TwistStamped``."""
    return _T['geometry_msgs/msg/TwistStamped'](header=header(stamp_ns, 'base_link'),
                                                twist=twist_msg(linear_x, angular_z))


def odometry_msg(x: float, y: float, yaw: float, linear_x: float, angular_z: float,
                 stamp_ns: int, frame_id: str = 'odom'):
    """Return a ``nav_msgs/Odometry`` of a planar pose and velocity."""
    q = _T['geometry_msgs/msg/Quaternion'](x=0.0, y=0.0, z=math.sin(yaw / 2),
                                           w=math.cos(yaw / 2))
    pose = _T['geometry_msgs/msg/Pose'](position=_T['geometry_msgs/msg/Point'](
        x=float(x), y=float(y), z=0.0), orientation=q)
    zeros = np.zeros(36, dtype=np.float64)
    return _T['nav_msgs/msg/Odometry'](
        header=header(stamp_ns, frame_id), child_frame_id='base_link',
        pose=_T['geometry_msgs/msg/PoseWithCovariance'](pose=pose, covariance=zeros),
        twist=_T['geometry_msgs/msg/TwistWithCovariance'](
            twist=twist_msg(linear_x, angular_z), covariance=zeros))


def joint_state_msg(names, positions, stamp_ns: int, velocities: Optional[list] = None):
    """Return a ``sensor_msgs/JointState``."""
    return _T['sensor_msgs/msg/JointState'](
        header=header(stamp_ns), name=list(names),
        position=np.asarray(positions, dtype=np.float64),
        velocity=np.asarray(velocities or [], dtype=np.float64),
        effort=np.zeros(0, dtype=np.float64))
