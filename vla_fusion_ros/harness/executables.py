# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Where this package's executables and share files are installed.

In order: the ament index (a sourced install, as on a robot), the colcon install tree of this
checkout for ``VFR_DISTRO`` (``scripts/bootstrap``), then ``PATH``.
"""

import os
import shutil

PACKAGE = 'vla_fusion_ros'
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def distro() -> str:
    """Return the ROS 2 distribution this checkout's environment was built for."""
    return os.environ.get('VFR_DISTRO', 'kilted')


def _prefixes():
    try:
        from ament_index_python.packages import get_package_prefix
        yield get_package_prefix(PACKAGE)
    except Exception:  # noqa: BLE001 - no ament index, or the package is not in it
        pass
    yield os.path.join(REPO, 'install', distro(), PACKAGE)


def find_executable(name: str) -> str:
    """Return the path of executable ``name`` of this package; raise FileNotFoundError."""
    tried = []
    for prefix in _prefixes():
        path = os.path.join(prefix, 'lib', PACKAGE, name)
        if os.path.isfile(path):
            return path
        tried.append(path)
    found = shutil.which(name)
    if found:
        return found
    raise FileNotFoundError(f'executable {name!r} is not installed (looked in '
                            f'{", ".join(tried)} and PATH): run scripts/bootstrap {distro()}')


def share_file(*parts: str) -> str:
    """Return an installed share file (``share/vla_fusion_ros/...``), else the source's."""
    candidates = [os.path.join(prefix, 'share', PACKAGE, *parts) for prefix in _prefixes()]
    candidates.append(os.path.join(REPO, *parts))
    for path in candidates:
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(f'{os.path.join(*parts)} not found in {", ".join(candidates)}')


def default_params_file() -> str:
    """Return the installed ``config/fusion.yaml`` (the launch file's default)."""
    return share_file('config', 'fusion.yaml')
