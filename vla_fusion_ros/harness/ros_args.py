# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""Command-line ``--ros-args`` for a node: name, parameters file, parameters, remappings."""

from typing import Dict, List, Mapping, Optional


def format_param(value) -> str:
    """
    Format a parameter value for ``-p name:=value``.

    Strings are YAML-quoted, so that '' and words such as 'on' stay strings (as launch_ros's
    ParameterValue keeps them).
    """
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, (list, tuple)):
        return '[' + ','.join(format_param(v) for v in value) + ']'
    return str(value)


def ros_args(node_name: Optional[str] = None, params_file: Optional[str] = None,
             params: Optional[Mapping[str, object]] = None,
             remaps: Optional[Dict[str, str]] = None) -> List[str]:
    """Return ``['--ros-args', ...]`` as ``ros2 run`` (or launch) would pass them."""
    args = ['--ros-args']
    if node_name:
        args += ['-r', f'__node:={node_name}']
    if params_file:
        args += ['--params-file', params_file]
    for key, value in (params or {}).items():
        args += ['-p', f'{key}:={format_param(value)}']
    for src, dst in (remaps or {}).items():
        args += ['-r', f'{src}:={dst}']
    return args
