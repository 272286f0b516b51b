# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Launch the fusion node, and with ``use_sim:=true`` the simulated camera feeding it.

    ros2 launch vla_fusion_ros fusion.launch.py use_sim:=true \
        instruction:="go to the red circle"

Arguments: params_file, use_sim, image_topic, instruction, device, checkpoint, output_type.
Parameters come from ``config/fusion.yaml``; the arguments override them.
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare


def generate_launch_description():
    """Build the launch description."""
    params_file = LaunchConfiguration('params_file')
    image_topic = LaunchConfiguration('image_topic')

    def as_string(name):
        # ParameterValue keeps '' and words like 'on' as strings instead of YAML-parsing them.
        return ParameterValue(LaunchConfiguration(name), value_type=str)

    return LaunchDescription([
        DeclareLaunchArgument(
            'params_file',
            default_value=PathJoinSubstitution(
                [FindPackageShare('vla_fusion_ros'), 'config', 'fusion.yaml']),
            description='YAML file with the parameters of the nodes.'),
        DeclareLaunchArgument('use_sim', default_value='false', choices=['true', 'false'],
                              description='Also start the simulated camera.'),
        DeclareLaunchArgument('image_topic', default_value='/camera/image_raw',
                              description='Image topic the fusion node subscribes to.'),
        DeclareLaunchArgument('instruction', default_value='',
                              description='Initial instruction (or publish on '
                                          '/fusion_node/instruction).'),
        DeclareLaunchArgument('device', default_value='cpu', choices=['cpu', 'cuda', 'auto'],
                              description='Inference device.'),
        DeclareLaunchArgument('checkpoint', default_value='',
                              description='Checkpoint path; empty for the shipped model.'),
        DeclareLaunchArgument('output_type', default_value='twist',
                              choices=['twist', 'twist_stamped', 'float32_multi_array'],
                              description='Command message type on cmd_vel.'),
        Node(
            package='vla_fusion_ros',
            executable='sim_camera',
            name='sim_camera',
            condition=IfCondition(LaunchConfiguration('use_sim')),
            parameters=[params_file],
            remappings=[('~/image_raw', image_topic)],
            output='screen',
        ),
        Node(
            package='vla_fusion_ros',
            executable='fusion_node',
            name='fusion_node',
            parameters=[params_file, {
                'instruction': as_string('instruction'),
                'device': as_string('device'),
                'checkpoint': as_string('checkpoint'),
                'output_type': as_string('output_type'),
            }],
            remappings=[('~/image_raw', image_topic)],
            output='screen',
        ),
    ])
