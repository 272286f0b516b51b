# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
DDS isolation for a process tree: its own domain, localhost discovery, the shipped profile.

The settings are :func:`vla_fusion_ros.ros.dds.isolate`'s; this module adds what every
harness run wants besides (one OpenMP thread per process, unbuffered Python output).
"""

import os
from typing import Dict, MutableMapping, Optional

from vla_fusion_ros.ros import dds


def isolate(env: MutableMapping[str, str] = os.environ,
            domain: Optional[int] = None) -> Dict[str, str]:
    """Isolate ``env`` (this process's, by default) and every process started from it."""
    settings = dds.isolate(env, domain)
    env.setdefault('OMP_NUM_THREADS', '1')
    return settings


def isolated_env(domain: Optional[int] = None, **extra) -> Dict[str, str]:
    """Return a copy of this environment in its own DDS domain, plus ``extra`` variables."""
    env = dict(os.environ)
    isolate(env, domain)
    env.update({k: str(v) for k, v in extra.items()})
    return env


def domain_id(env: MutableMapping[str, str] = os.environ) -> int:
    """Return the DDS domain of ``env`` (0 when none is set)."""
    return int(env.get('ROS_DOMAIN_ID', '0') or 0)
