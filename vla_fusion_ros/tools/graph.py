# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Start the fusion graph without ``launch``: the same nodes, parameters and remappings.

``ros2 launch vla_fusion_ros fusion.launch.py`` is the way on a ROS 2 install. Where the
``launch`` package cannot be installed (a laptop with PyPI wheels, CI), this module starts the
same graph from the same ``config/fusion.yaml`` as separate processes, each a colcon-installed
executable talking over DDS:

    python -m vla_fusion_ros.tools.graph use_sim:=true instruction:="go to the red circle"

It accepts the launch file's arguments in the same ``name:=value`` form, and stops every
node with SIGINT (as launch does) on Ctrl-C, or when one of them exits.

``--record`` starts the recording graph of ``record.launch.py`` instead (the nodes come from
:func:`vla_fusion_ros.ros.record_graph.record_nodes`, which the launch file uses too):

    python -m vla_fusion_ros.tools.graph --record output_dir:=bags
    python -m vla_fusion_ros.tools.graph --record use_sim:=true episodes:=300 output_dir:=bags
"""

import os
import sys
import time
from typing import Dict, List, Optional

from vla_fusion_ros.harness.executables import default_params_file, share_file
from vla_fusion_ros.harness.graph import Graph, NodeSpec
from vla_fusion_ros.ros.record_graph import record_nodes

#: The launch file's arguments and their defaults (launch/fusion.launch.py mirrors these).
LAUNCH_ARGUMENTS = {
    'params_file': '',          # '' = share/vla_fusion_ros/config/fusion.yaml
    'use_sim': 'false',
    'image_topic': '/camera/image_raw',
    'instruction': '',
    'device': 'cpu',
    'checkpoint': '',
    'output_type': 'twist',
    'world': '',                # with use_sim: overhead | first_person ('' = the YAML's)
}


def fusion_graph(arguments: Optional[Dict[str, str]] = None) -> List[NodeSpec]:
    """Return the nodes ``fusion.launch.py`` starts for the same ``arguments``."""
    args = dict(LAUNCH_ARGUMENTS)
    for key, value in (arguments or {}).items():
        if key not in LAUNCH_ARGUMENTS:
            raise ValueError(f'unknown argument {key!r} (valid: {", ".join(LAUNCH_ARGUMENTS)})')
        args[key] = value
    if args['use_sim'] not in ('true', 'false'):
        raise ValueError(f"use_sim: invalid value {args['use_sim']!r} (valid: true, false)")
    params = args['params_file'] or default_params_file()
    if not os.path.isfile(params):   # rcl would start each node on built-in defaults or fail
        raise ValueError(f'params_file: no such file: {params}')
    remap = {'~/image_raw': args['image_topic']}
    nodes = []
    if args['world'] not in ('', 'overhead', 'first_person'):
        raise ValueError(f"world: invalid value {args['world']!r} (valid: overhead, "
                         'first_person)')
    checkpoint = args['checkpoint']
    if args['use_sim'] == 'true':
        world = {'world': args['world']} if args['world'] else {}
        nodes.append(NodeSpec('sim_camera', 'sim_camera', params, overrides=world,
                              remaps=dict(remap)))
    if args['world'] and not checkpoint:
        checkpoint = share_file('models', f'{args["world"]}.safetensors')
    nodes.append(NodeSpec('fusion_node', 'fusion_node', params, overrides={
        'instruction': args['instruction'], 'device': args['device'],
        'checkpoint': checkpoint, 'output_type': args['output_type']},
        remaps=dict(remap)))
    return nodes


def record_graph(arguments: Optional[Dict[str, str]] = None) -> List[NodeSpec]:
    """Return the nodes ``record.launch.py`` starts for the same ``arguments``."""
    return [NodeSpec(n.executable, n.name, n.params_file, n.overrides, n.remaps)
            for n in record_nodes(arguments or {}, share_file('config', 'record.yaml'))]


def parse_launch_arguments(argv: List[str]) -> Dict[str, str]:
    """Parse ``name:=value`` arguments, as ``ros2 launch`` takes them."""
    parsed = {}
    for item in argv:
        if ':=' not in item:
            raise ValueError(f'argument {item!r} is not of the form name:=value')
        key, value = item.split(':=', 1)
        parsed[key] = value
    return parsed


def main(argv=None) -> int:
    """Run the graph until Ctrl-C."""
    argv = list(sys.argv[1:] if argv is None else argv)
    plan = fusion_graph
    if argv[:1] == ['--record']:
        plan, argv = record_graph, argv[1:]
    from vla_fusion_ros.ros import dds
    dds.use_profile()  # config/fastdds.xml for the nodes it starts, unless one is set already
    try:
        graph = Graph(plan(parse_launch_arguments(argv)), console=True).start()
    except (ValueError, FileNotFoundError) as exc:
        print(f'graph: {exc}', file=sys.stderr)
        return 2
    try:
        while all(code is None for code in graph.poll().values()):
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    codes = graph.stop()
    return max(codes.values(), default=0)


if __name__ == '__main__':
    sys.exit(main())
