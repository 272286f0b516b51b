# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
DDS settings for the package's own process graphs: the demo, the tests, the tools.

Two things, both through the environment, before ``rclpy.init`` and inherited by every process
started afterwards:

- **isolation**: a random ``ROS_DOMAIN_ID`` and localhost-only discovery, so concurrent runs
  never see each other;
- **the Fast DDS profile** ``config/fastdds.xml``: camera frames through an 8 MiB
  shared-memory segment instead of lossy UDP fragments (the file's comment says why). Fast DDS
  3 (Kilted on) reads ``FASTDDS_DEFAULT_PROFILES_FILE``; Fast DDS 2 (Humble, Jazzy) reads only
  ``FASTRTPS_DEFAULT_PROFILES_FILE``. Fast DDS 3 also reads the old name (with a deprecation
  warning), and given both it loads the file twice and logs errors for every profile in it, so
  exactly the variable of the Fast DDS in use is set. A profile the user already set is kept.

Other rmw implementations ignore both variables.
"""

import importlib.metadata
import os
import random
from typing import Dict, Mapping, MutableMapping, Optional

#: Fast DDS 3 (Kilted on) reads the first name, Fast DDS 2 (Humble, Jazzy) only the second.
PROFILE_ENV_VARS = ('FASTDDS_DEFAULT_PROFILES_FILE', 'FASTRTPS_DEFAULT_PROFILES_FILE')
#: Distributions whose rmw_fastrtps is built on Fast DDS 2.
FAST_DDS_2_DISTROS = ('foxy', 'galactic', 'humble', 'iron', 'jazzy')
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


def profile_variable(env: Mapping[str, str] = os.environ) -> str:
    """
    Return the profile variable the Fast DDS of this ROS 2 reads.

    From ``ROS_DISTRO`` (set by a ROS install's setup script) or ``VFR_DISTRO`` (this
    repository's ``scripts/env.sh``); failing both, from the installed wheels (Jazzy's are
    named ``ros-fastrtps``, Kilted's ``ros-fastdds``).
    """
    distro = env.get('ROS_DISTRO') or env.get('VFR_DISTRO')
    if not distro:
        try:
            importlib.metadata.version('ros-fastrtps')
            distro = 'jazzy'
        except importlib.metadata.PackageNotFoundError:
            distro = 'kilted'
    return PROFILE_ENV_VARS[1 if distro.lower() in FAST_DDS_2_DISTROS else 0]


def use_profile(env: MutableMapping[str, str] = os.environ, name: str = PROFILE,
                override: bool = False) -> str:
    """
    Point ``env``'s Fast DDS profile variable at a shipped profile; return the profile in use.

    Without ``override`` a profile already set by the user (under either name) wins. With it,
    the other name is removed, so Fast DDS 3 does not load two files.
    """
    variable = profile_variable(env)
    current = next((env[v] for v in PROFILE_ENV_VARS if env.get(v)), '')
    if current and not override:
        return current
    for other in PROFILE_ENV_VARS:
        env.pop(other, None)
    env[variable] = profile_path(name)
    return env[variable]


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
