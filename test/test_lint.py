# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Lint as ROS packages do: ament_flake8, ament_pep257 and a copyright/licence header check.

The ament linters come from their PyPI wheels (ros-ament-flake8, ros-ament-pep257) with the
flake8 plugins that a ROS build farm installs. ament_copyright has no wheel, so
:func:`test_copyright` makes the same check: every Python file starts with a copyright line
and an SPDX licence identifier.
"""

import os

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PATHS = ['vla_fusion_ros', 'launch', 'test', 'setup.py']


def _python_files():
    for path in PATHS:
        full = os.path.join(REPO, path)
        if os.path.isfile(full):
            yield full
            continue
        for root, _, files in os.walk(full):
            yield from (os.path.join(root, f) for f in sorted(files) if f.endswith('.py'))


@pytest.mark.linter
def test_flake8():
    """ament_flake8 with ament's own configuration reports nothing."""
    from ament_flake8.main import main_with_errors
    rc, errors = main_with_errors(argv=[os.path.join(REPO, p) for p in PATHS])
    assert rc == 0, f'Found {len(errors)} code style errors / warnings:\n' + '\n'.join(errors)


@pytest.mark.linter
def test_pep257():
    """ament_pep257 (pydocstyle with ament's conventions) reports nothing."""
    from ament_pep257.main import main
    rc = main(argv=[os.path.join(REPO, p) for p in PATHS])
    assert rc == 0, 'Found code style errors / warnings'


@pytest.mark.linter
def test_copyright():
    """Every Python file carries a copyright line and an SPDX licence identifier."""
    missing = []
    for path in _python_files():
        with open(path, encoding='utf-8') as handle:
            head = handle.read(400)
        if 'Copyright' not in head or 'SPDX-License-Identifier: Apache-2.0' not in head:
            missing.append(os.path.relpath(path, REPO))
    assert not missing, 'files without a copyright/licence header: ' + ', '.join(missing)


def test_version_matches():
    """package.xml and setup.py report the same version (setup.py reads package.xml)."""
    import re
    with open(os.path.join(REPO, 'package.xml'), encoding='utf-8') as handle:
        xml_version = re.search(r'<version>([^<]+)</version>', handle.read()).group(1)
    import vla_fusion_ros
    assert vla_fusion_ros.__version__ == xml_version
