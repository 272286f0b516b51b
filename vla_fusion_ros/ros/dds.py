# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
DDS settings for the package's own process graphs: the demo, the tests, the tools.

Two things, both through the environment, before ``rclpy.init`` and inherited by every process
started afterwards:

- **isolation**: a random ``ROS_DOMAIN_ID`` and localhost-only discovery, so concurrent runs
  never see each other;
- **the Fast DDS profile** ``config/fastdds.xml``: camera frames through an 8 MiB
  shared-memory segment instead of lossy UDP fragments (the file's comment says why), loaded
  by Fast DDS 3 from ``FASTDDS_DEFAULT_PROFILES_FILE`` and by Fast DDS 2 (Humble, Jazzy) from
  ``FASTRTPS_DEFAULT_PROFILES_FILE``. A profile the user already set is kept.

Other rmw implementations ignore both variables.
"""

import os
import random
from typing import Dict, MutableMapping, Optional

#: Fast DDS 3 (Kilted on) reads the first name, Fast DDS 2 (Humble, Jazzy) only the second.
PROFILE_ENV_VARS = ('FASTDDS_DEFAULT_PROFILES_FILE', 'FASTRTPS_DEFAULT_PROFILES_FILE')
PROFILE = 'fastdds.xml'
SHORT_LEASE_PROFILE = 'fastdds_short_lease.xml'
_REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def profile_path(name: str = PROFILE) -> str:
    """Return the path of a shipped Fast DDS profile (installed share, else the source tree)."""
    candidates = [os.path.join(_REPO, 'config', name)]
    try:
        from ament_index_python.packages import get_package_share_directory
        candidates.insert(0, os.path.join(get_package_share_directory('vla_fusion_ros'),
                                          'config', name))
    except Exception:  # noqa: BLE001 - not installed (or no ament index): the source tree
        pass
    for path in candidates:
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(f'Fast DDS profile {name} not found in {candidates}')


def use_profile(env: MutableMapping[str, str] = os.environ, name: str = PROFILE,
                override: bool = False) -> str:
    """
    Point both Fast DDS profile variables of ``env`` at a shipped profile; return the one used.

    Without ``override`` a profile already set by the user wins (for both variables).
    """
    current = next((env[v] for v in PROFILE_ENV_VARS if env.get(v)), '')
    path = profile_path(name) if override or not current else current
    for variable in PROFILE_ENV_VARS:
        env[variable] = path
    return path


def isolate(env: MutableMapping[str, str] = os.environ,
            domain: Optional[int] = None) -> Dict[str, str]:
    """
    Give ``env`` its own DDS domain (1-100), localhost discovery and the shipped profile.

    Returns the settings, for reports.
    """
    domain = domain or random.SystemRandom().randint(1, 100)
    env['ROS_DOMAIN_ID'] = str(domain)
    env['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'LOCALHOST'  # Jazzy and newer
    env.pop('ROS_LOCALHOST_ONLY', None)                 # deprecated since Jazzy
    use_profile(env)
    keys = ('ROS_DOMAIN_ID', 'ROS_AUTOMATIC_DISCOVERY_RANGE') + PROFILE_ENV_VARS + (
        'FASTDDS_BUILTIN_TRANSPORTS',)
    return {k: env[k] for k in keys if env.get(k)}
