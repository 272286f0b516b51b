# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The recording graph, planned once for both of its runners.

``ros2 launch vla_fusion_ros record.launch.py`` and ``python -m vla_fusion_ros.tools.graph
--record`` take the same ``name:=value`` arguments and start the same nodes, because both ask
:func:`record_nodes` which ones: the ``recorder`` and, with ``use_sim:=true``, ``sim_world``
in its expert-teleop mode standing in for the robot. No rclpy here: the plan is plain data.

Arguments (``''`` keeps the params file's value):

- ``params_file``: the YAML with the ``recorder`` (and ``sim_world``) sections;
  default ``share/vla_fusion_ros/config/record.yaml``;
- ``use_sim``: ``true`` also starts the simulated world, its topics remapped onto the
  recorder's, its ``cmd_vel`` commands recorded as ``TwistStamped`` (the world's
  ``cmd_type``) and its episodes marked on the episode topic (``/episode_events`` unless
  given), its images received with the world's QoS reliability;
- ``output_dir``, ``image_topic``, ``instruction_topic``, ``command_topic``, ``command_type``,
  ``episode_topic``, ``state_topic``, ``state_type``: the recorder's parameters of those names;
- ``world``, ``episodes``, ``seed``: the simulated world's (with ``use_sim``).
"""

from dataclasses import dataclass, field
import os
from typing import Dict, List

import yaml

ARGUMENTS = {
    'params_file': '', 'use_sim': 'false', 'output_dir': '', 'image_topic': '',
    'instruction_topic': '', 'command_topic': '', 'command_type': '', 'episode_topic': '',
    'state_topic': '', 'state_type': '', 'world': '', 'episodes': '', 'seed': '',
}
RECORDER_ARGUMENTS = ('output_dir', 'image_topic', 'instruction_topic', 'command_topic',
                      'command_type', 'episode_topic', 'state_topic', 'state_type')
#: The recorder's own defaults, where the params file leaves a topic out.
RECORDER_DEFAULTS = {'image_topic': '/camera/image_raw', 'instruction_topic': '/instruction',
                     'command_topic': '/cmd_vel', 'image_transport': 'raw'}
SIM_EPISODE_TOPIC = '/episode_events'
WORLDS = ('overhead', 'first_person')


@dataclass
class PlannedNode:
    """One node: executable, node name, params file, parameter overrides, remappings."""

    executable: str
    name: str
    params_file: str
    overrides: Dict[str, object] = field(default_factory=dict)
    remaps: Dict[str, str] = field(default_factory=dict)


def _section(params_file: str, node: str) -> Dict[str, object]:
    """Return the ``ros__parameters`` of ``node`` in ``params_file`` ({} if none)."""
    with open(params_file, encoding='utf-8') as handle:
        data = yaml.safe_load(handle) or {}
    for key in (node, f'/{node}'):
        params = (data.get(key) or {}).get('ros__parameters')
        if isinstance(params, dict):
            return params
    return {}


def _integer(name: str, value: str) -> int:
    if not value.isdigit():
        raise ValueError(f'{name}: invalid value {value!r} (an integer >= 0)')
    return int(value)


def record_nodes(arguments: Dict[str, str], default_params_file: str) -> List[PlannedNode]:
    """Return the nodes to start for ``arguments``; raise ``ValueError`` naming a bad one."""
    args = dict(ARGUMENTS)
    for key, value in arguments.items():
        if key not in ARGUMENTS:
            raise ValueError(f'unknown argument {key!r} (valid: {", ".join(ARGUMENTS)})')
        args[key] = str(value)
    use_sim = args['use_sim'].lower()
    if use_sim not in ('true', 'false'):
        raise ValueError(f"use_sim: invalid value {args['use_sim']!r} (valid: true, false)")
    params_file = args['params_file'] or default_params_file
    if not os.path.isfile(params_file):
        raise ValueError(f'params_file: no such file: {params_file}')
    recorder_file = _section(params_file, 'recorder')
    overrides = {k: args[k] for k in RECORDER_ARGUMENTS if args[k]}
    nodes = []
    if use_sim == 'true':
        sim_file = _section(params_file, 'sim_world')
        if args['world'] and args['world'] not in WORLDS:
            raise ValueError(f"world: invalid value {args['world']!r} (valid: "
                             f'{", ".join(WORLDS)})')
        effective = {**RECORDER_DEFAULTS, **recorder_file, **overrides}
        if effective['image_transport'] != 'raw':
            raise ValueError('use_sim: the simulated world publishes raw images; set the '
                             "recorder's image_transport to raw")
        episode_topic = args['episode_topic'] or recorder_file.get('episode_topic') or \
            SIM_EPISODE_TOPIC
        overrides['episode_topic'] = episode_topic
        overrides.setdefault('command_type', sim_file.get('cmd_type', 'twist'))
        overrides.setdefault('image_qos_reliability',
                             sim_file.get('image_qos_reliability', 'best_effort'))
        sim = {'world': args['world'],
               'episodes': args['episodes'] and _integer('episodes', args['episodes']),
               'seed': args['seed'] and _integer('seed', args['seed'])}
        nodes.append(PlannedNode(
            'sim_world', 'sim_world', params_file,
            overrides={k: v for k, v in sim.items() if v != ''},
            remaps={'~/image_raw': effective['image_topic'],
                    '~/instruction': effective['instruction_topic'],
                    '~/episode_events': episode_topic,
                    'cmd_vel': effective['command_topic']}))
    elif any(args[k] for k in ('world', 'episodes', 'seed')):
        raise ValueError('world, episodes and seed set the simulated world: give '
                         'use_sim:=true')
    nodes.append(PlannedNode('recorder', 'recorder', params_file, overrides=overrides))
    return nodes
