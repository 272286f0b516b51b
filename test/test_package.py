# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The package as ROS tools see it: package.xml, the colcon install tree and the ament index.

These are the facts ``ros2 run`` and ``ros2 launch`` rely on: the ament index marker, the share
directory with package.xml, launch and config files, and every executable under
``lib/vla_fusion_ros``.
"""

import configparser
import os
import re
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DISTRO = os.environ.get('VFR_DISTRO', 'kilted')

# The colcon install tree and the ament index: every tested distribution.
pytestmark = pytest.mark.ros
EXECUTABLES = ['sim_camera', 'sim_world', 'fusion_node', 'lifecycle_fusion_node',
               'bench_echo_node']
RUN_DEPENDS = ['rclpy', 'sensor_msgs', 'std_msgs', 'geometry_msgs', 'diagnostic_msgs',
               'cv_bridge', 'launch', 'launch_ros', 'python3-numpy', 'python3-opencv',
               'python3-torch']
TEST_DEPENDS = ['launch_testing', 'launch_testing_ros', 'ament_flake8', 'ament_pep257',
                'ament_copyright', 'python3-pytest']


def test_package_xml_parses_with_catkin_pkg():
    """Parse package.xml with catkin_pkg and find every declared dependency by rosdep key."""
    from catkin_pkg.package import parse_package
    package = parse_package(os.path.join(REPO, 'package.xml'))
    assert package.name == 'vla_fusion_ros' and package.package_format == 3
    assert package.get_build_type() == 'ament_python'
    exec_names = {d.name for d in package.exec_depends}
    test_names = {d.name for d in package.test_depends}
    assert set(RUN_DEPENDS) <= exec_names, set(RUN_DEPENDS) - exec_names
    assert set(TEST_DEPENDS) <= test_names, set(TEST_DEPENDS) - test_names


def test_versions_agree():
    """package.xml and setup.py carry one version (setup.py reads package.xml)."""
    with open(os.path.join(REPO, 'package.xml'), encoding='utf-8') as handle:
        version = re.search(r'<version>([^<]+)</version>', handle.read()).group(1)
    out = subprocess.run([sys.executable, 'setup.py', '--version'], cwd=REPO, text=True,
                         capture_output=True, check=True).stdout.strip().splitlines()[-1]
    assert out == version


def test_setup_cfg_installs_scripts_under_lib_package():
    """Executables go to lib/<package>, where ros2 run looks for them."""
    cfg = configparser.ConfigParser()
    cfg.read(os.path.join(REPO, 'setup.cfg'))
    assert cfg['install']['install_scripts'] == '$base/lib/vla_fusion_ros'
    assert cfg['develop']['script_dir'] == '$base/lib/vla_fusion_ros'


def test_colcon_lists_an_ament_python_package():
    """Colcon identifies the package as ros.ament_python (needs a valid maintainer e-mail)."""
    colcon = os.path.join(os.path.dirname(sys.executable), 'colcon')
    assert os.path.exists(colcon), f'{colcon} is missing: scripts/bootstrap installs it'
    out = subprocess.run([colcon, 'list', '--base-paths', REPO], text=True,
                         capture_output=True, check=True).stdout
    assert re.search(r'^vla_fusion_ros\s+\S+\s+\(ros\.ament_python\)', out, re.M), out


def test_install_tree_is_complete():
    """The ament index finds the share directory with launch, config and every executable."""
    from ament_index_python import packages
    try:
        share = packages.get_package_share_directory('vla_fusion_ros')
        prefix = packages.get_package_prefix('vla_fusion_ros')
    except packages.PackageNotFoundError:
        pytest.fail(f'vla_fusion_ros is not in the ament index: source install/{DISTRO}/'
                    'setup.bash (scripts/env.sh does)')
    for name in ['package.xml', 'launch/fusion.launch.py', 'config/fusion.yaml',
                 'config/model_default.yaml']:
        assert os.path.isfile(os.path.join(share, name)), name
    for name in EXECUTABLES:
        path = os.path.join(prefix, 'lib', 'vla_fusion_ros', name)
        assert os.access(path, os.X_OK), path
    from vla_fusion_ros.train.language_eval import SUITE_PATH
    assert os.path.isfile(SUITE_PATH), SUITE_PATH
    marker = os.path.join(prefix, 'share', 'ament_index', 'resource_index', 'packages',
                          'vla_fusion_ros')
    assert os.path.isfile(marker)
