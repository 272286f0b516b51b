# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Build script for the vla_fusion_ros ament_python package."""

from glob import glob
import os
import re

from setuptools import find_packages, setup

PACKAGE = 'vla_fusion_ros'


def _version_from_package_xml():
    """Read the version from package.xml so that the two can never disagree."""
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, 'package.xml'), encoding='utf-8') as handle:
        match = re.search(r'<version>([^<]+)</version>', handle.read())
    return match.group(1).strip()


setup(
    name=PACKAGE,
    version=_version_from_package_xml(),
    packages=find_packages(exclude=['test']),
    # The held-out language suite, read by evaluation from beside vla_fusion_ros/sim.
    package_data={PACKAGE: ['sim/*.yaml']},
    data_files=[
        ('share/ament_index/resource_index/packages', ['resource/' + PACKAGE]),
        ('share/' + PACKAGE, ['package.xml']),
        (os.path.join('share', PACKAGE, 'launch'), glob('launch/*.launch.py')),
        (os.path.join('share', PACKAGE, 'config'), glob('config/*.yaml') + glob('config/*.xml')),
        (os.path.join('share', PACKAGE, 'models'), glob('models/*.safetensors')),
    ],
    install_requires=['setuptools', 'numpy', 'safetensors', 'pyyaml'],
    extras_require={'test': ['pytest', 'pytest-xdist', 'hypothesis']},
    zip_safe=True,
    maintainer='vla_fusion_ros maintainers',
    maintainer_email='maintainers@vla-fusion-ros.org',
    description='Vision-language-action ROS 2 node with configurable intermediate fusion.',
    license='Apache-2.0',
    entry_points={
        'console_scripts': [
            'sim_camera = vla_fusion_ros.ros.sim_camera:main',
            'sim_world = vla_fusion_ros.ros.sim_world:main',
            'fusion_node = vla_fusion_ros.ros.fusion_node:main',
            'lifecycle_fusion_node = vla_fusion_ros.ros.lifecycle_fusion_node:main',
            'bench_echo_node = vla_fusion_ros.ros.echo_node:main',
            'recorder = vla_fusion_ros.ros.recorder:main',
        ],
    },
)
