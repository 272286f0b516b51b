# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Record demonstrations into rosbag2 (MCAP) bags, one per episode.

With ``use_sim:=true`` the simulated world's expert is the teleoperator.

    ros2 launch vla_fusion_ros record.launch.py output_dir:=bags \
        image_topic:=/camera/image_raw command_topic:=/cmd_vel episode_topic:=/episode
    ros2 launch vla_fusion_ros record.launch.py use_sim:=true episodes:=300 output_dir:=bags

Arguments (``ros2 launch vla_fusion_ros record.launch.py --show-args`` lists them): every one
but params_file and use_sim overrides the parameter of the same name only when given; the
empty default keeps the value in params_file (``config/record.yaml``). Which nodes start, with
which parameters and remappings, is decided by
:func:`vla_fusion_ros.ros.record_graph.record_nodes`, which the launch-free runner
(``python -m vla_fusion_ros.tools.graph --record``) asks too, so both start the same graph. A
bad argument or a params_file that does not exist stops the launch with one error line before
any node starts.

Stop with Ctrl-C: the recorder closes the open bag (readable, with its metadata). With
``use_sim:=true episodes:=N`` the world exits after N episodes, and the launch shuts down with
it (the recorder closes its last bag).

Uses only launch and launch_ros APIs that exist in Humble and every newer distribution.
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, EmitEvent, OpaqueFunction
from launch.actions import RegisterEventHandler
from launch.event_handlers import OnProcessExit
from launch.events import Shutdown
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

from vla_fusion_ros.ros.record_graph import ARGUMENTS, record_nodes

KEEP = "; '' (the default) keeps the value in params_file"
DESCRIPTIONS = {
    'use_sim': 'true: also start sim_world with its expert teleop standing in for the robot.',
    'output_dir': 'Folder that receives the bags' + KEEP + '.',
    'image_topic': 'Camera topic (sensor_msgs/Image)' + KEEP + '.',
    'instruction_topic': 'Instruction topic (std_msgs/String, latched)' + KEEP + '.',
    'command_topic': "The teleoperator's command topic" + KEEP + '.',
    'command_type': 'twist or twist_stamped' + KEEP + '.',
    'episode_topic': 'Episode events (std_msgs/String start, success, fail, stop): one bag per '
                     'episode' + KEEP + '; with use_sim, /episode_events.',
    'state_topic': 'Robot state, /odom or /joint_states' + KEEP + ' (there, none).',
    'state_type': 'odometry or joint_state' + KEEP + '.',
    'world': 'With use_sim: overhead or first_person' + KEEP + '.',
    'episodes': 'With use_sim: episodes to run, 0 = until stopped' + KEEP + '.',
    'seed': 'With use_sim: seed of the first scene' + KEEP + '.',
}


def _nodes(context):
    """Create the nodes of the plan for the arguments as given."""
    args = {name: LaunchConfiguration(name).perform(context) for name in ARGUMENTS}
    try:
        planned = record_nodes(args, args['params_file'])
    except ValueError as exc:
        raise RuntimeError(str(exc)) from None
    nodes = [Node(package='vla_fusion_ros', executable=node.executable, name=node.name,
                  parameters=[node.params_file] + ([node.overrides] if node.overrides else []),
                  remappings=list(node.remaps.items()), output='screen')
             for node in planned]
    # The simulated world exits after its episodes: end the recording with it.
    stops = [RegisterEventHandler(OnProcessExit(
        target_action=node, on_exit=[EmitEvent(event=Shutdown(reason='sim_world finished'))]))
        for node, plan in zip(nodes, planned) if plan.executable == 'sim_world']
    return nodes + stops


def generate_launch_description():
    """Build the launch description."""
    arguments = [DeclareLaunchArgument(
        'params_file',
        default_value=PathJoinSubstitution(
            [FindPackageShare('vla_fusion_ros'), 'config', 'record.yaml']),
        description='YAML file with the parameters of the recorder and sim_world.')]
    arguments.append(DeclareLaunchArgument(
        'use_sim', default_value='false', choices=['true', 'false', 'True', 'False'],
        description=DESCRIPTIONS['use_sim']))
    arguments += [DeclareLaunchArgument(name, default_value='', description=DESCRIPTIONS[name])
                  for name in ARGUMENTS if name not in ('params_file', 'use_sim')]
    return LaunchDescription(arguments + [OpaqueFunction(function=_nodes)])
