# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Launch the fusion node, and with ``use_sim:=true`` the simulated camera feeding it.

    ros2 launch vla_fusion_ros fusion.launch.py use_sim:=true \
        instruction:="go to the red circle"

Arguments: params_file, use_sim, world, image_topic, instruction, device, checkpoint, output_type
(``ros2 launch vla_fusion_ros fusion.launch.py --show-args`` lists them with their choices).
Parameters come from ``config/fusion.yaml`` (or ``params_file``). instruction, device,
checkpoint and output_type override it only when given: their empty default keeps the file's
value. A params_file that does not exist stops the launch with one error line before any node
starts (launch_ros would only warn and run the nodes on their built-in defaults), and a
misspelled key in a node's own section stops that node (see vla_fusion_ros.ros.params_file).
image_topic is a remapping of the node's ``~/image_raw`` (and of
``~/image_raw/compressed`` for ``image_transport: compressed``).

Large images over Fast DDS: export ``FASTDDS_DEFAULT_PROFILES_FILE`` (Humble and Jazzy, whose
Fast DDS 2 reads only the old name: ``FASTRTPS_DEFAULT_PROFILES_FILE``) as the installed
``config/fastdds.xml`` in the environment of the camera driver and of ``ros2 launch``. Fast
DDS's built-in shared-memory segment (512 KiB) is too small for a 640x480 rgb8 frame, and
about a third of them were lost.
The fusion node reports the input rate it actually receives on ``/diagnostics``.

Uses only launch and launch_ros APIs that exist in Humble and every newer distribution.
"""

import os

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare

# Launch arguments that override a fusion_node parameter of the same name when non-empty.
PARAMETER_ARGUMENTS = ('instruction', 'device', 'checkpoint', 'output_type')


def _image_remappings(image_topic):
    """Remap the node's private image topics (raw and compressed) onto ``image_topic``."""
    return [('~/image_raw', image_topic),
            ('~/image_raw/compressed', [image_topic, '/compressed'])]


def _nodes(context):
    """
    Create the nodes once params_file is known to exist.

    Only the parameter arguments that were given override the file's values.
    """
    params_file = LaunchConfiguration('params_file').perform(context)
    if not os.path.isfile(params_file):
        raise RuntimeError(f'params_file: no such file: {params_file}')
    overrides = {
        # value_type=str: an instruction such as 'yes' or '42' stays a string, not YAML.
        name: ParameterValue(LaunchConfiguration(name), value_type=str)
        for name in PARAMETER_ARGUMENTS if LaunchConfiguration(name).perform(context)
    }
    world = LaunchConfiguration('world').perform(context)
    if world and 'checkpoint' not in overrides:
        # The simulated world's own model, from the package's share directory.
        overrides['checkpoint'] = PathJoinSubstitution(
            [FindPackageShare('vla_fusion_ros'), 'models', f'{world}.safetensors'])
    parameters = [params_file]
    if overrides:
        parameters.append(overrides)
    camera = Node(
        package='vla_fusion_ros',
        executable='sim_camera',
        name='sim_camera',
        condition=IfCondition(LaunchConfiguration('use_sim')),
        # world:= (when given) overrides the file's sim_camera world
        parameters=[params_file] + ([{'world': world}] if world else []),
        remappings=[('~/image_raw', LaunchConfiguration('image_topic'))],
        output='screen',
    )
    return [camera, Node(
        package='vla_fusion_ros',
        executable='fusion_node',
        name='fusion_node',
        parameters=parameters,
        remappings=_image_remappings(LaunchConfiguration('image_topic')),
        output='screen',
    )]


def generate_launch_description():
    """Build the launch description."""
    keep = "; '' (the default) keeps the value in params_file"
    return LaunchDescription([
        DeclareLaunchArgument(
            'params_file',
            default_value=PathJoinSubstitution(
                [FindPackageShare('vla_fusion_ros'), 'config', 'fusion.yaml']),
            description='YAML file with the parameters of fusion_node and sim_camera.'),
        DeclareLaunchArgument(
            'use_sim', default_value='false', choices=['true', 'false', 'True', 'False'],
            description='Also start the simulated camera (publishing on image_topic).'),
        DeclareLaunchArgument(
            'world', default_value='', choices=['', 'overhead', 'first_person'],
            description='With use_sim: the simulated world the camera shows, and (unless '
                        'checkpoint is given) the model trained in it' + keep + '.'),
        DeclareLaunchArgument(
            'image_topic', default_value='/camera/image_raw',
            description='Image topic the fusion node subscribes to (and sim_camera publishes).'),
        DeclareLaunchArgument(
            'instruction', default_value='',
            description='Initial instruction; later ones are published on '
                        '/fusion_node/instruction (std_msgs/String)' + keep + '.'),
        DeclareLaunchArgument(
            'device', default_value='', choices=['', 'cpu', 'cuda', 'auto'],
            description='Inference device' + keep + '.'),
        DeclareLaunchArgument(
            'checkpoint', default_value='',
            description='Checkpoint (.safetensors) path' + keep + ' (there, '
                        "'' means the model shipped in the package)."),
        DeclareLaunchArgument(
            'output_type', default_value='',
            choices=['', 'twist', 'twist_stamped', 'float32_multi_array'],
            description='Message type published on cmd_vel' + keep + '.'),
        OpaqueFunction(function=_nodes),
    ])
