# Copyright 2026 The vla_fusion_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
The keys that params files (``--params-file``) set in a node's own sections.

rcl applies a params file's sections to every node whose name they match and quietly ignores
keys the node never declares. A misspelled key in a node's own section (``max_linaer: 0.1``)
then leaves the built-in default in force while the operator believes the file's value. This
module finds those keys so the node can refuse to start with the list.

A node's *own* sections are those whose name is exactly its fully qualified name
(``fusion_node:`` and ``/fusion_node:`` both name ``/fusion_node``; nested namespace keys are
joined). Wildcard sections (``/**:``, ``/*/fusion_node:``) serve several nodes, so a key there
that this node does not declare may well belong to another one: they are not checked.
"""

import difflib
from typing import Dict, Iterable, List, Sequence, Tuple

import yaml

PARAMETERS_KEY = 'ros__parameters'


def params_file_paths(argv: Sequence[str]) -> List[str]:
    """Return the ``--params-file`` paths given inside ``--ros-args`` sections of ``argv``."""
    paths, in_ros, tokens = [], False, list(argv)
    for i, token in enumerate(tokens):
        if token == '--ros-args':
            in_ros = True
        elif token == '--':
            in_ros = False
        elif in_ros and token == '--params-file' and i + 1 < len(tokens):
            paths.append(tokens[i + 1])
    return paths


def _flatten(params: dict, prefix: str = '') -> Iterable[str]:
    for key, value in params.items():
        name = f'{prefix}{key}'
        if isinstance(value, dict):
            yield from _flatten(value, name + '.')
        else:
            yield name


def _sections(data: dict, path: Tuple[str, ...] = ()) -> Iterable[Tuple[str, dict]]:
    """Yield ``(node name, parameters)`` for every ``ros__parameters`` block in ``data``."""
    for key, value in data.items():
        if not isinstance(value, dict):
            continue
        if key == PARAMETERS_KEY:
            name = '/' + '/'.join(part.strip('/') for part in path if part.strip('/'))
            yield name, value
        else:
            yield from _sections(value, path + (str(key),))


def own_keys(path: str, node_name: str) -> List[str]:
    """
    Return the parameter keys that the file at ``path`` sets in ``node_name``'s own sections.

    ``node_name`` is the fully qualified name (``/fusion_node``). A file that cannot be read
    or parsed yields nothing: rcl has reported it already, or will.
    """
    try:
        with open(path, encoding='utf-8') as handle:
            data = yaml.safe_load(handle)
    except (OSError, yaml.YAMLError):
        return []
    if not isinstance(data, dict):
        return []
    keys = []
    for name, params in _sections(data):
        if '*' not in name and name == node_name:
            keys += [k for k in _flatten(params) if k not in keys]
    return keys


def unknown_keys(argv: Sequence[str], node_name: str,
                 known: Iterable[str]) -> Dict[str, List[str]]:
    """Return ``{params file: [keys]}`` of own-section keys that are not in ``known``."""
    known = set(known)
    found = {}
    for path in params_file_paths(argv):
        unknown = [key for key in own_keys(path, node_name) if key not in known]
        if unknown:
            found[path] = unknown
    return found


def describe_unknown(found: Dict[str, List[str]], node_name: str, known: Iterable[str]) -> str:
    """One line naming every unknown key, its file, and the nearest valid names."""
    known = sorted(set(known))
    parts, hints = [], []
    for path, keys in found.items():
        parts.append(f'{path}: {", ".join(keys)}')
        for key in keys:
            hints += difflib.get_close_matches(key, known, n=1)
    hint = f' (did you mean {", ".join(hints)}?)' if hints else ''
    return (f'unknown parameters in the section of {node_name} of params file '
            f'{"; ".join(parts)}{hint}; `ros2 param list {node_name}` lists the valid names')
