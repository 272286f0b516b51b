# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""The shipped Fast DDS profiles and the environment that selects them."""

import os
import xml.etree.ElementTree as ET

import pytest

from vla_fusion_ros.ros import dds

# The installed profiles (ament index) and each distribution's Fast DDS: every distribution.
pytestmark = pytest.mark.ros

NS = {'d': 'http://www.eprosima.com'}


def _profile(name):
    root = ET.parse(dds.profile_path(name)).getroot()
    participant = root.find('d:profiles/d:participant', NS)
    return root, participant


@pytest.mark.parametrize('name', [dds.PROFILE, dds.SHORT_LEASE_PROFILE])
def test_profiles_carry_a_640x480_frame_through_shared_memory(name):
    root, participant = _profile(name)
    assert participant.get('is_default_profile') == 'true'
    assert participant.find('d:rtps/d:useBuiltinTransports', NS).text == 'false'
    used = [t.text for t in participant.findall('d:rtps/d:userTransports/d:transport_id', NS)]
    descriptors = {d.find('d:transport_id', NS).text: d
                   for d in root.findall('d:profiles/d:transport_descriptors/'
                                         'd:transport_descriptor', NS)}
    kinds = {descriptors[t].find('d:type', NS).text: descriptors[t] for t in used}
    assert set(kinds) == {'SHM', 'UDPv4'}  # shared memory here, UDP to other machines
    segment = int(kinds['SHM'].find('d:segment_size', NS).text)
    assert segment >= 2 * 640 * 480 * 3   # two frames in flight, plus room
    assert segment <= 16 << 20            # several processes fit Docker's 64 MiB /dev/shm


def test_only_the_short_lease_profile_shortens_the_lease():
    lease = 'd:rtps/d:builtin/d:discovery_config/d:leaseDuration'
    assert _profile(dds.PROFILE)[1].find(lease, NS) is None  # Fast DDS's default, 20 s
    short = _profile(dds.SHORT_LEASE_PROFILE)[1].find(lease, NS)
    seconds = int(short.find('d:sec', NS).text) + int(short.find('d:nanosec', NS).text) * 1e-9
    assert seconds == pytest.approx(0.4)


@pytest.mark.parametrize('distro,variable', [
    ('humble', 'FASTRTPS_DEFAULT_PROFILES_FILE'), ('jazzy', 'FASTRTPS_DEFAULT_PROFILES_FILE'),
    ('kilted', 'FASTDDS_DEFAULT_PROFILES_FILE'), ('rolling', 'FASTDDS_DEFAULT_PROFILES_FILE')])
def test_each_fast_dds_generation_gets_exactly_its_variable(distro, variable):
    # Fast DDS 2 reads only FASTRTPS_...; Fast DDS 3 reads both and, given both, loads the file
    # twice (errors for every profile), so exactly one is set.
    env = {'ROS_DISTRO': distro}
    path = dds.use_profile(env)
    assert os.path.isfile(path)
    assert env == {'ROS_DISTRO': distro, variable: path}


def test_the_distribution_under_test_is_detected():
    distro = os.environ.get('VFR_DISTRO', 'kilted')
    expected = dds.PROFILE_ENV_VARS[1 if distro == 'jazzy' else 0]
    assert dds.profile_variable({'VFR_DISTRO': distro}) == expected
    assert dds.profile_variable({}) == expected  # from the installed wheels alone


def test_a_profile_the_user_chose_is_kept_unless_overridden():
    env = {'ROS_DISTRO': 'kilted', 'FASTRTPS_DEFAULT_PROFILES_FILE': '/etc/robot/fastdds.xml'}
    assert dds.use_profile(env) == '/etc/robot/fastdds.xml'
    assert 'FASTDDS_DEFAULT_PROFILES_FILE' not in env
    short = dds.use_profile(env, dds.SHORT_LEASE_PROFILE, override=True)
    assert short.endswith('fastdds_short_lease.xml')
    assert env == {'ROS_DISTRO': 'kilted', 'FASTDDS_DEFAULT_PROFILES_FILE': short}


def test_isolation_picks_a_private_localhost_domain():
    env = {'ROS_LOCALHOST_ONLY': '1'}
    settings = dds.isolate(env)
    assert 1 <= int(env['ROS_DOMAIN_ID']) <= 100
    assert env['ROS_AUTOMATIC_DISCOVERY_RANGE'] == 'LOCALHOST'
    assert 'ROS_LOCALHOST_ONLY' not in env
    variable = dds.profile_variable(env)
    assert settings[variable] == env[variable] == dds.profile_path()
    assert dds.isolate({}, domain=42)['ROS_DOMAIN_ID'] == '42'
